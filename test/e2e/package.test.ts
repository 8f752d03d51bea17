// The package as a user gets it: `npm pack`, then installed into a fresh project on Node 20 (this
// process) and Node 24 (from PyPI, see scripts/node24.sh), each with its own npm, from the npm cache.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { COLLECTOR, ROOT, tempDir } from '../../scripts/lib/processes.js';

const run = promisify(execFile);
const devDependencies = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickstart = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('\n## Quickstart\n')))?.[1];

/** A Node installation: the binary and the npm that came with it. */
function nodeAt(node: string) {
  const npmCli = join(dirname(node), '..', 'lib/node_modules/npm/bin/npm-cli.js');
  // The package's bin and npm's own scripts start with `#!/usr/bin/env node`: this Node comes first.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env['PATH']}`, NODE_TEST_CONTEXT: undefined, npm_config_update_notifier: 'false' };
  return {
    npm: (args: string[], cwd: string) => run(node, [npmCli, ...args], { cwd, env, timeout: 300_000 }),
    exec: (file: string, args: string[], cwd: string) => run(file, args, { cwd, env, timeout: 120_000 }),
  };
}

async function node24(): Promise<string> {
  if (process.env['NODE24']) return process.env['NODE24'];
  const { stdout } = await run('bash', [join(ROOT, 'scripts/node24.sh')]);
  return stdout.trim();
}

describe('npm pack, installed into a fresh project', () => {
  let tarball: string;

  before(async () => {
    assert.ok(quickstart, 'the README has a ```ts block under ## Quickstart');
    const out = tempDir('pack');
    // prepack builds dist/ (tsc) first.
    const { stdout } = await run('npm', ['pack', '--pack-destination', out, '--json'], { cwd: ROOT, timeout: 300_000 });
    tarball = join(out, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  });

  it('ships a LICENSE, the sources its maps point to, and what the commands need', async () => {
    const unpacked = tempDir('unpacked');
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = new Set(stdout.split('\n').map((line) => line.replace(/^package\//, '')));
    for (const file of ['LICENSE', 'dist/src/cli/main.js', 'scripts/build-collector.sh', 'collector-config/manifest.yaml', 'collector-config/lock/go.sum', 'collector-config/gateway.yaml']) {
      assert.ok(files.has(file), `${file} is in the package`);
    }
    const maps = [...files].filter((file) => file.endsWith('.js.map'));
    assert.ok(maps.length > 20);
    assert.ok(![...files].some((file) => file.startsWith('test/') || file.startsWith('.collector/')));
    assert.match(readFileSync(join(unpacked, 'package/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
    assert.equal((JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8')) as { license: string }).license, 'Apache-2.0');
    // Every source a map names is in the package, at the path the map gives relative to itself
    // (a stale dist/ file of a deleted source would fail here: the build starts from an empty dist/).
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(unpacked, 'package', map), 'utf8')) as { sources: string[] };
      for (const source of sources) assert.ok(files.has(join(dirname(map), source)), `${map} -> ${source}`);
    }
  });

  for (const version of ['20', '24'] as const) {
    it(`on Node ${version}: installs without npm warnings, runs otel-audit, compiles the Quickstart, explains a misspelled action`, async () => {
      const node = version === '20' ? process.execPath : await node24();
      const project = nodeAt(node);
      assert.match((await project.exec(node, ['--version'], ROOT)).stdout, new RegExp(`^v${version}\\.`));
      const dir = tempDir(`package-node${version}`);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, type: 'module' }));

      // From the npm cache where it can (--prefer-offline), the registry for anything missing.
      const installed = await project.npm(
        ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `typescript@${devDependencies['typescript']}`, `@types/node@${devDependencies['@types/node']}`],
        dir,
      );
      // This machine's npmrc may carry a setting npm does not know (npm passes it on to scripts as an npm_config_ variable, hence env); any other warning is ours.
      const warnings = (installed.stdout + installed.stderr).split('\n').filter((line) => /^npm warn/i.test(line) && !/Unknown (user|env|global) config/.test(line));
      assert.deepEqual(warnings, [], 'npm install printed warnings');
      const installedPackage = join(dir, 'node_modules/otel-audit');
      assert.ok(existsSync(join(installedPackage, 'LICENSE')));
      // The peer dependency: one @opentelemetry/api, the application's.
      assert.ok(existsSync(join(dir, 'node_modules/@opentelemetry/api/package.json')));
      assert.ok(!existsSync(join(installedPackage, 'node_modules/@opentelemetry/api')));

      const help = await project.exec(join(dir, 'node_modules/.bin/otel-audit'), ['--help'], dir);
      assert.match(help.stdout, /^otel-audit <command> \[options\]/);
      assert.match(help.stdout, /\n {2}collector +build the otelcol-audit Collector distribution/);

      assert.equal(await compileIn(project, dir, 'quickstart.ts', quickstart!), '');

      const misspelled = quickstart!.replace("audit.logEvent('document.create'", "audit.logEvent('document.creat'");
      assert.notEqual(misspelled, quickstart);
      const errors = await compileIn(project, dir, 'misspelled.ts', misspelled);
      assert.match(errors, /misspelled\.ts\(\d+,\d+\): error TS2345: Argument of type '"document\.creat"' is not assignable to parameter of type '"document\.creat is not an action of this catalog; valid actions: document\.create"'/);
      assert.equal(errors.trim().split('\n').length, 1, errors);

      if (version === '20') {
        // The Collector build of the installed package uses the shipped manifest, lock and script:
        // with the binary built from the repository's, it finds nothing to rebuild.
        const out = tempDir('package-collector');
        symlinkSync(COLLECTOR, join(out, 'otelcol-audit'));
        copyFileSync(join(dirname(COLLECTOR), 'build.sha256'), join(out, 'build.sha256'));
        const build = await project.exec(join(dir, 'node_modules/.bin/otel-audit'), ['collector', 'build', '--out', out], dir);
        assert.match(build.stdout, /otelcol-audit is up to date with the manifest/);
      }
    });
  }
});

/** Writes `file` and compiles it alone, with the settings of a strict ESM TypeScript project; returns the diagnostics. */
async function compileIn(project: ReturnType<typeof nodeAt>, dir: string, file: string, source: string): Promise<string> {
  writeFileSync(join(dir, file), source);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], noEmit: true }, files: [file] }));
  try {
    await project.exec(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

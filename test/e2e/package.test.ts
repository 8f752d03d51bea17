// The package as a user gets it: `npm pack`, then installed into a fresh application beside the
// OpenTelemetry SDK (`@opentelemetry/sdk-node`) of each line an application may be on, with each
// supported Node (22 and 24, from PyPI: scripts/node.sh) and its own npm. Where our peer range
// admits the line, the install is silent and the README Quickstart runs with that SDK tracing,
// against the real Collector; where it does not, npm refuses the install outright.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startOtlpReceiver } from '../helpers/gateway.js';
import { headingSlugs, linksOf } from '../helpers/markdown.js';
import { readTrail } from '../../src/integrity/trail.js';
import { importGraph } from '../helpers/import-graph.js';
import { COLLECTOR, freePort, ROOT, startHecReceiver, tempDir, track, waitFor, type RunningProcess } from '../helpers/processes.js';

const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; peerDependencies: Record<string, string> };
const { devDependencies } = packageJson;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickstart = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('\n## Quickstart\n')))?.[1];

/**
 * The OpenTelemetry JS lines, as `npm install @opentelemetry/sdk-node` gives them: the current one
 * (the logs API inside `@opentelemetry/api` 1.10, Node >= 22.15) and the one before it; and an
 * application with no SDK at all (otel-audit's types must not need one).
 */
const LINES: readonly Line[] = [
  { name: '3.x', sdkNode: '0.301.2', api: '1.10.0' },
  { name: '2.x', sdkNode: '0.223.0', api: '1.9.1' },
  { name: 'no SDK', sdkNode: undefined, api: '1.10.0' },
];
interface Line {
  readonly name: string;
  readonly sdkNode: string | undefined;
  readonly api: string;
}

/** Whether `version` lies in our peer range of @opentelemetry/api (a `>=A <B` range). */
function admitted(version: string): boolean {
  const range = packageJson.peerDependencies['@opentelemetry/api'] ?? '';
  const bounds = /^>=(\d+\.\d+\.\d+) <(\d+\.\d+\.\d+)$/.exec(range);
  assert.ok(bounds, `the peer range of @opentelemetry/api is ">=A <B" (got "${range}")`);
  const key = (v: string) => v.split('.').reduce((sum, part) => sum * 1000 + Number(part), 0);
  return key(version) >= key(bounds[1]!) && key(version) < key(bounds[2]!);
}

/** A Node installation: the binary and the npm that came with it. */
function nodeAt(given: string) {
  // The installation's own directory, not a directory of links to it (scripts/node.sh --bin): npm is beside it.
  const node = realpathSync(given);
  const npmCli = join(dirname(node), '..', 'lib/node_modules/npm/bin/npm-cli.js');
  // The package's bin and npm's own scripts start with `#!/usr/bin/env node`: this Node comes first.
  // No OTEL_* variable of the machine reaches the application.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env['PATH']}`, NODE_TEST_CONTEXT: undefined, npm_config_update_notifier: 'false' };
  for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];
  return {
    node,
    env,
    npm: (args: string[], cwd: string) => run(node, [npmCli, ...args], { cwd, env, timeout: 300_000 }),
    exec: (file: string, args: string[], cwd: string) => run(file, args, { cwd, env, timeout: 120_000 }),
  };
}

async function nodeOf(major: '22' | '24'): Promise<string> {
  const given = process.env[`NODE${major}`];
  if (given) return given;
  const { stdout } = await run('bash', [join(ROOT, 'scripts/node.sh'), major]);
  return stdout.trim();
}

/** npm's lines that warn (this machine's npmrc may carry a setting npm does not know: not ours). */
const warningsOf = (output: string): string[] => output.split('\n').filter((line) => /warn|ERESOLVE|EBADENGINE/i.test(line) && !/Unknown (user|env|global) config/.test(line));

describe('npm pack, installed into a fresh application', () => {
  let tarball: string;
  let receiver: RunningProcess;
  let receiverPort: number;
  let received: string;

  before(async () => {
    assert.ok(quickstart, 'the README has a ```ts block under ## Quickstart');
    const out = tempDir('pack');
    // prepack builds dist/ (tsc) first.
    const { stdout } = await run('npm', ['pack', '--pack-destination', out, '--json'], { cwd: ROOT, timeout: 300_000 });
    tarball = join(out, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    // The real Collector: an OTLP receiver writing every record it receives to a file.
    receiverPort = await freePort();
    received = join(tempDir('package-received'), 'received.jsonl');
    receiver = await startOtlpReceiver(receiverPort, received, 'package-test-receiver');
  });
  after(() => receiver?.stop());

  it('ships a LICENSE, the sources its maps point to, and what the commands need', async () => {
    const unpacked = tempDir('unpacked');
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = new Set(stdout.split('\n').map((line) => line.replace(/^package\//, '')));
    for (const file of [
      'LICENSE',
      'dist/src/cli/main.js',
      'dist/src/catalog/catalogs/auth/index.js',
      'dist/examples/express/server.js',
      'examples/express/app.ts',
      'scripts/build-collector.sh',
      'collector-config/manifest.yaml',
      'collector-config/lock/go.sum',
      'collector-config/gateway.yaml',
      // The Collector is built with our own exporter: its sources, not its tests.
      'collector/losslessexporter/exporter.go',
      'collector/losslessexporter/go.mod',
      'collector/losslessexporter/go.sum',
    ]) {
      assert.ok(files.has(file), `${file} is in the package`);
    }
    assert.ok(![...files].some((file) => file.endsWith('_test.go')));
    const maps = [...files].filter((file) => file.endsWith('.js.map'));
    assert.ok(maps.length > 20);
    assert.ok(![...files].some((file) => file.startsWith('test/') || file.startsWith('.collector/')));
    assert.match(readFileSync(join(unpacked, 'package/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
    const shipped = JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8')) as { license: string; engines: { node: string }; scripts: Record<string, string> };
    assert.equal(shipped.license, 'Apache-2.0');
    assert.equal(shipped.engines.node, '>=22.15');
    // Nothing of ours runs at install time.
    assert.deepEqual(Object.keys(shipped.scripts).filter((name) => /install/.test(name)), []);
    // Every source a map names is in the package, at the path the map gives relative to itself
    // (a stale dist/ file of a deleted source would fail here: the build starts from an empty dist/).
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(unpacked, 'package', map), 'utf8')) as { sources: string[] };
      for (const source of sources) assert.ok(files.has(join(dirname(map), source)), `${map} -> ${source}`);
    }
  });

  it('every link of the shipped README and docs resolves inside the package, or to the repository (whose files it names exist)', async () => {
    const unpacked = tempDir('links');
    await run('tar', ['-xzf', tarball, '-C', unpacked]);
    const root = join(unpacked, 'package');
    const files = new Set((await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean).map((line) => line.replace(/^package\//, '')));
    const shipped = (path: string) => files.has(path) || [...files].some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`));
    const tracked = new Set((await run('git', ['ls-files'], { cwd: ROOT })).stdout.split('\n').filter(Boolean));
    const inRepository = (path: string) => tracked.has(path) || [...tracked].some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`));
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository: { url: string }; homepage: string; bugs: string };
    assert.equal(manifest.repository.url, `git+${REPOSITORY}.git`);
    assert.equal(manifest.homepage, `${REPOSITORY}#readme`);
    assert.equal(manifest.bugs, `${REPOSITORY}/issues`);

    // Every shipped document: the README, the guides in docs/, the example's and the topology's READMEs.
    const markdown = [...files].filter((file) => file.endsWith('.md'));
    for (const file of ['README.md', 'docs/library.md', 'docs/events.md', 'examples/express/README.md', 'collector-config/topologies/gateway-pool-kafka/README.md']) {
      assert.ok(markdown.includes(file), `${file} is shipped: ${markdown.join(', ')}`);
    }
    const problems: string[] = [];
    let checked = 0;
    for (const file of markdown) {
      for (const link of linksOf(readFileSync(join(root, file), 'utf8'))) {
        checked++;
        const [target = '', anchor] = link.split('#');
        const repositoryPath = new RegExp(`^${REPOSITORY}/(?:blob|tree)/main/(.+)$`).exec(target)?.[1];
        if (repositoryPath !== undefined) {
          if (!inRepository(repositoryPath)) problems.push(`${file}: ${link} names no file of the repository`);
        } else if (/^https?:\/\//.test(target)) {
          if (target.startsWith('https://github.com/otel-audit/') && target !== REPOSITORY) problems.push(`${file}: ${link} is not a ${REPOSITORY}/blob/main/ link`);
        } else {
          const path = target === '' ? file : normalize(join(dirname(file), decodeURIComponent(target)));
          if (!shipped(path)) problems.push(`${file}: ${link} is not in the package`);
          else if (anchor !== undefined && path.endsWith('.md') && !headingSlugs(readFileSync(join(root, path), 'utf8')).has(anchor)) problems.push(`${file}: ${link}: ${path} has no heading #${anchor}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 100, `${checked} links checked`);
  });

  it('the current OpenTelemetry line (api 1.10) is within the peer range', () => {
    assert.ok(admitted(LINES[0]!.api), packageJson.peerDependencies['@opentelemetry/api']);
  });

  it("a new user's first hour, on Node 24: npm install, npx otel-audit gateway to the Splunk stand-in and an archive, the shipped Express example, a login; verify --exclude-test on both copies", async (t) => {
    const project = nodeAt(await nodeOf('24'));
    const dir = freshApplication('package-first-hour');
    // Splunk is there before the user starts.
    const hecPort = await freePort();
    const hecFile = join(tempDir('first-hour-hec'), 'hec-received.jsonl');
    const hec = await startHecReceiver(hecPort, hecFile, 'first-hour-hec');
    writeFileSync(join(dir, 'hec-token'), 'first-hour-hec-token\n', { mode: 0o600 });
    const running: RunningProcess[] = [];
    const started = (command: string[], env: NodeJS.ProcessEnv, name: string) => {
      const child = spawn(project.node, command, { cwd: dir, env: { ...project.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const tracked = track(child, name);
      running.push(tracked);
      return { child, process: tracked, exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
    };
    const npx = (args: string[]) => [join(dirname(project.node), '..', 'lib/node_modules/npm/bin/npm-cli.js'), 'exec', '--', ...args];
    const timings: [string, number][] = [];
    let gatewayPid = 0;
    const start = Date.now();
    const mark = (what: string) => timings.push([what, Date.now() - start]);
    try {
      const installed = await project.npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `express@${devDependencies['express']}`], dir);
      assert.deepEqual(warningsOf(installed.stderr), [], installed.stderr);
      mark('npm install');

      const gatewayPort = await freePort();
      // The Collector as a user who has one runs it (a first build, `otel-audit collector build`, takes
      // minutes and is not part of this measure; the test of `collector build` above shows the reuse).
      const gateway = started(
        npx(['otel-audit', 'gateway', '--archive', './audit', '--splunk', `http://127.0.0.1:${hecPort}`, '--splunk-token-file', './hec-token', '--port', String(gatewayPort), '--grpc-port', '0', '--collector', COLLECTOR]),
        {},
        'npx otel-audit gateway',
      );
      await waitFor('the gateway to say where it listens', () => gateway.process.output().includes('  stop  ') || gateway.child.exitCode !== null, 120_000);
      const endpoint = /OTLP\/HTTP +(\S+)/.exec(gateway.process.output())?.[1];
      assert.equal(endpoint, `http://127.0.0.1:${gatewayPort}/v1/logs`, gateway.process.output());
      // What the gateway says to stop it: its own process, under npx.
      gatewayPid = Number(/kill -TERM (\d+)/.exec(gateway.process.output())?.[1]);
      assert.ok(gatewayPid > 0);
      mark('gateway running');

      // The README's next step: doctor checks the gateway with a test event (verify leaves it out below).
      const doctor = await project.exec(join(dir, 'node_modules/.bin/otel-audit'), ['doctor', '--endpoint', endpoint], dir);
      assert.match(doctor.stdout, /^ok +round trip: test event /m);

      const appPort = await freePort();
      const app = started(['node_modules/otel-audit/dist/examples/express/server.js'], { OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: endpoint, PORT: String(appPort), AUDIT_SPOOL_DIR: join(dir, 'audit-spool') }, 'express example');
      await waitFor('the example to listen', () => app.process.output().includes('listening on') || app.child.exitCode !== null, 60_000);
      let cookie = '';
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`http://127.0.0.1:${appPort}${path}`, { method, headers: { 'content-type': 'application/json', cookie }, ...(body ? { body: JSON.stringify(body) } : {}) });
        cookie = response.headers.get('set-cookie')?.split(';')[0] ?? cookie;
        await response.arrayBuffer();
        return response.status;
      };
      const statuses = [
        await call('POST', '/login', { email: 'flapjack@example.com', password: 'guess' }),
        await call('POST', '/login', { email: 'flapjack@example.com', password: 'correct horse battery staple' }),
        await call('POST', '/notes', { title: 'first hour' }),
        await call('POST', '/logout'),
      ];
      assert.deepEqual(statuses, [401, 200, 201, 200]);
      const events = () => hecEvents(hecFile, 'notes-example');
      await waitFor('the first event at the Splunk stand-in', () => events().length > 0, 60_000);
      mark('first event at the Splunk stand-in');
      await waitFor('every event at the Splunk stand-in', () => events().length >= 4, 60_000);
      const flapjack = { type: 'user', user: { id: 146, email: 'flapjack@example.com', name: 'Flapjack Toasty' } };
      assert.deepEqual(
        events().map((event) => [event.action, event.actor]),
        [
          ['user.login_failed', { type: 'guest' }],
          ['user.login', flapjack],
          ['note.create', flapjack],
          ['user.logout', flapjack],
        ],
      );

      // The application stops (its last checkpoint), then the gateway: both copies are complete.
      app.child.kill('SIGTERM');
      assert.equal(await app.exited, 0, app.process.output());
      await waitFor("the application's last checkpoint at the Splunk stand-in", () => hecEvents(hecFile, 'notes-example', true).some((event) => event.action === 'audit.checkpoint'), 30_000);
      process.kill(gatewayPid, 'SIGINT');
      assert.equal(await gateway.exited, 0, gateway.process.output());
      assert.match(gateway.process.output(), /otel-audit gateway: stopped/);
      for (const copy of [join(dir, 'audit/audit.zst'), hecFile]) {
        const verified = await project.exec(project.node, npx(['otel-audit', 'verify', '--exclude-test', copy]), dir);
        assert.match(verified.stdout, /complete and intact/, verified.stdout);
        assert.match(verified.stdout, /left out \(--exclude-test\)/, 'the doctor test event was there, and left out');
      }
      for (const [what, millis] of timings) t.diagnostic(`${what}: ${(millis / 1000).toFixed(1)} s after the start of npm install`);
    } finally {
      // npm exec does not pass a signal on: the gateway is stopped by its own process id.
      if (gatewayPid && existsSync(`/proc/${gatewayPid}`)) process.kill(gatewayPid, 'SIGTERM');
      for (const child of running.reverse()) await child.stop();
      await hec.stop();
    }
  });

  for (const major of ['24', '22'] as const) {
    for (const line of LINES) {
      const title = `Node ${major}, OpenTelemetry ${line.name} (${line.sdkNode ? `sdk-node ${line.sdkNode}, ` : ''}api ${line.api})`;
      if (!admitted(line.api)) {
        it(`${title}: outside the peer range, npm refuses the install (ERESOLVE), never half-installs`, async () => {
          const project = nodeAt(await nodeOf(major));
          const dir = freshApplication(`package-node${major}-${line.name.replace(/\W+/g, '-')}`);
          const refused = await project.npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...sdkOf(line)], dir).then(
            () => undefined,
            (error: { stderr: string }) => error.stderr,
          );
          assert.ok(refused !== undefined, 'npm install failed');
          assert.match(refused, /ERESOLVE/);
          assert.match(refused, /peer @opentelemetry\/api@"[^"]+" from otel-audit/);
        });
        continue;
      }
      it(`${title}: installs silently, require() and import work, the Quickstart compiles and runs${line.sdkNode ? ' with the SDK tracing' : ''}`, async () => {
        const project = nodeAt(await nodeOf(major));
        assert.match((await project.exec(project.node, ['--version'], ROOT)).stdout, new RegExp(`^v${major}\\.`));
        const dir = freshApplication(`package-node${major}-${line.name.replace(/\W+/g, '-')}`);

        // From the npm cache where it can (--prefer-offline), the registry for anything missing.
        const installed = await project.npm(
          ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...sdkOf(line), `typescript@${devDependencies['typescript']}`, `@types/node@${devDependencies['@types/node']}`],
          dir,
        );
        // No ERESOLVE, no EBADENGINE, no peer warning: nothing but the counts.
        assert.deepEqual(warningsOf(installed.stderr), [], `npm install warned:\n${installed.stderr}`);
        assert.deepEqual(warningsOf(installed.stdout), [], `npm install warned:\n${installed.stdout}`);
        const installedPackage = join(dir, 'node_modules/otel-audit');
        assert.ok(existsSync(join(installedPackage, 'LICENSE')));
        // One @opentelemetry/api in the whole tree, the application's: its SDK's context and
        // providers are the ones otel-audit sees.
        const apis = installedCopies(join(dir, 'node_modules'), '@opentelemetry/api');
        assert.deepEqual(apis, [join(dir, 'node_modules/@opentelemetry/api/package.json')]);
        assert.equal((JSON.parse(readFileSync(apis[0]!, 'utf8')) as { version: string }).version, line.api);

        const help = await project.exec(join(dir, 'node_modules/.bin/otel-audit'), ['--help'], dir);
        assert.match(help.stdout, /^otel-audit <command> \[options\]/);
        assert.match(help.stdout, /\n {2}collector +build the otelcol-audit Collector distribution/);

        // require() of the ESM package (Node >= 22.12 loads ES modules synchronously), its entry points.
        writeFileSync(
          join(dir, 'require-check.cjs'),
          "const audit = require('otel-audit');\nconst { gristCatalog } = require('otel-audit/catalogs/grist');\nconst admin = require('otel-audit/admin');\nconsole.log(typeof audit.createAuditLogger, Object.keys(gristCatalog.actions).length, typeof admin.startAdmin);\n",
        );
        assert.equal((await project.exec(project.node, ['require-check.cjs'], dir)).stdout.trim(), 'function 40 function');
        // The core entry, as installed, loads none of the Admin Panel (its own entry: otel-audit/admin).
        const core = importGraph(join(installedPackage, 'dist/src/index.js'));
        assert.ok(core.size > 20, `the walk found ${core.size} modules`);
        assert.deepEqual([...core.keys()].filter((file) => file.includes('/dist/src/admin/')), []);

        assert.equal(await compileIn(project, dir, 'quickstart.ts', quickstart!), '');
        const misspelled = quickstart!.replace("audit.logEvent('document.create'", "audit.logEvent('document.creat'");
        assert.notEqual(misspelled, quickstart);
        const errors = await compileIn(project, dir, 'misspelled.ts', misspelled);
        assert.match(errors, /misspelled\.ts\(\d+,\d+\): error TS2345: Argument of type '"document\.creat"' is not assignable to parameter of type '"document\.creat is not an action of this catalog; did you mean document\.create\?"'/);
        assert.equal(errors.trim().split('\n').length, 1, errors);

        await runQuickstart(project, dir, `http://127.0.0.1:${receiverPort}/v1/logs`, received, line.sdkNode !== undefined);

        if (major === '24' && line === LINES[0]) {
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
  }
});

const REPOSITORY = 'https://github.com/otel-audit/otel-audit';

/** The targets of a Markdown document's links and images, outside code blocks and code spans. */
/**
 * An empty ESM application. npm 11 (Node 24's) asks each application to decide on its dependencies'
 * install scripts: the SDK's protobufjs has one (a version notice), which this application declines
 * (otel-audit has none: the first test checks).
 */
function freshApplication(name: string): string {
  const dir = tempDir(name);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, type: 'module', allowScripts: { protobufjs: false } }));
  return dir;
}

/** What an application on `line` installs: the SDK, if any, and, pinned, the API. */
const sdkOf = (line: Line): string[] => [...(line.sdkNode ? [`@opentelemetry/sdk-node@${line.sdkNode}`] : []), `@opentelemetry/api@${line.api}`];

/** Every installed copy of package `name` under `nodeModules`, nested node_modules included: their package.json paths. */
function installedCopies(nodeModules: string, name: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    if (existsSync(join(dir, name, 'package.json'))) found.push(join(dir, name, 'package.json'));
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const packages = entry.name.startsWith('@') ? readdirSync(join(dir, entry.name)).map((inner) => join(dir, entry.name, inner)) : [join(dir, entry.name)];
      for (const installed of packages) if (existsSync(join(installed, 'node_modules'))) visit(join(installed, 'node_modules'));
    }
  };
  visit(nodeModules);
  return found.sort();
}

/**
 * The README Quickstart as an application runs it: its endpoint, signing key and spool directory
 * pointed at this test's (the Collector's OTLP receiver, a fresh Ed25519 key, a temporary
 * directory). With `tracing`, inside a request span of the application's own OpenTelemetry SDK
 * (NodeSDK, spans printed by its console exporter): each audit record must carry that span's trace
 * id; without, none may carry one. The Quickstart's SIGTERM handler must shut it down cleanly,
 * with nothing reported to its onError.
 */
async function runQuickstart(project: ReturnType<typeof nodeAt>, dir: string, endpoint: string, received: string, tracing: boolean): Promise<void> {
  const keyFile = join(dir, 'audit-ed25519.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const replacements: [RegExp, string][] = [
    [/endpoint: '[^']*'/, `endpoint: ${JSON.stringify(endpoint)}`],
    [/'\/run\/secrets\/audit-ed25519\.pem'/, JSON.stringify(keyFile)],
    [/spoolDir: '[^']*'/, `spoolDir: ${JSON.stringify(join(dir, 'audit-spool'))}`],
  ];
  let source = quickstart!;
  for (const [pattern, value] of replacements) {
    assert.match(source, pattern, 'the Quickstart still has what the test points elsewhere');
    source = source.replace(pattern, value);
  }
  // A marker of this run in the records: the receiver's file holds every run's.
  const runId = `run-${randomUUID()}`;
  assert.equal(await compileIn(project, dir, 'run-quickstart.ts', source, 'build'), '');
  const start = tracing
    ? [
        "import { trace } from '@opentelemetry/api';",
        "import { NodeSDK } from '@opentelemetry/sdk-node';",
        'new NodeSDK().start();',
        '// Alive until the Quickstart exits on SIGTERM.',
        'setInterval(() => undefined, 60_000);',
        "await trace.getTracer('fresh-app').startActiveSpan('GET /documents', async (span) => {",
        '  console.log(`active trace ${span.spanContext().traceId}`);',
        "  await import('./build/run-quickstart.js');",
        '  span.end();',
        '});',
      ]
    : ['setInterval(() => undefined, 60_000);', "await import('./build/run-quickstart.js');"];
  writeFileSync(join(dir, 'start.mjs'), [...start, "console.log('quickstart ran');", ''].join('\n'));
  const child = spawn(project.node, ['start.mjs'], {
    cwd: dir,
    env: { ...project.env, AUDIT_TOKEN: 'package-test-token', OTEL_SERVICE_NAME: runId, OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app = track(child, 'quickstart');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor('the Quickstart to run', () => app.output().includes('quickstart ran') || child.exitCode !== null, 60_000);
    const records = () => recordsOf(received, runId).filter((record) => record.eventName !== 'audit.checkpoint');
    await waitFor('both audit records at the Collector', () => records().length >= 2, 30_000);
    assert.deepEqual(records().map((record) => record.eventName).sort(), ['document.create', 'user.delete_api_key']);
    if (tracing) {
      const traceId = /active trace ([0-9a-f]{32})/.exec(app.output())?.[1];
      assert.ok(traceId, app.output());
      assert.deepEqual(records().map((record) => record.traceId), [traceId, traceId]);
      // Traces on: the SDK exported the request span the records point to.
      await waitFor('the span exported by the console exporter', () => app.output().includes(`traceId: '${traceId}'`), 30_000);
    } else {
      assert.deepEqual(records().map((record) => record.traceId ?? ''), ['', '']);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, app.output());
    assert.equal(stderr, '', 'nothing reached onError (console.error) or a warning');
  } finally {
    await app.stop();
  }
}

/** The audit events (log bodies) of `service` that the HEC stand-in received, in order (its fields carry the service); checkpoints only when asked. */
function hecEvents(path: string, service: string, checkpoints = false): { action: string; actor: unknown }[] {
  if (!existsSync(path)) return [];
  return readTrail(path)
    .filter((record) => record.attributes['service.name'] === service)
    .map((record) => record.body as { action: string; actor: unknown })
    .filter((body) => checkpoints || body.action !== 'audit.checkpoint')
    .map(({ action, actor }) => ({ action, actor }));
}

/** The log records of an OTLP/JSON file (the Collector's file exporter, one request per line) whose resource has `service.name` `service`. */
function recordsOf(path: string, service: string): { eventName?: string; traceId?: string }[] {
  if (!existsSync(path)) return [];
  type Value = { stringValue?: string };
  type Request = { resourceLogs?: { resource?: { attributes?: { key: string; value: Value }[] }; scopeLogs?: { logRecords?: { eventName?: string; traceId?: string }[] }[] }[] };
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => (JSON.parse(line) as Request).resourceLogs ?? [])
    .filter((logs) => logs.resource?.attributes?.some((a) => a.key === 'service.name' && a.value.stringValue === service))
    .flatMap((logs) => (logs.scopeLogs ?? []).flatMap((scope) => scope.logRecords ?? []));
}

/**
 * Writes `file` and compiles it alone, with the settings of a strict ESM TypeScript project;
 * returns the diagnostics. With `outDir`, emits JavaScript there.
 */
async function compileIn(project: ReturnType<typeof nodeAt>, dir: string, file: string, source: string, outDir?: string): Promise<string> {
  writeFileSync(join(dir, file), source);
  const emit = outDir ? { outDir } : { noEmit: true };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], ...emit }, files: [file] }));
  try {
    await project.exec(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

// otel-audit emit's edges: --timeout bounds the whole command against a gateway that is down or
// hangs, the reason printed once; a usage error is one line; a TypeScript catalog loads through tsx
// (checked with the compiled command, as a package user runs it: no TypeScript loader of its own).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';
import { ROOT } from '../helpers/processes.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

const run = promisify(execFile);

async function command(args: string[], main = join(ROOT, 'src/cli/main.ts')): Promise<{ code: number; stdout: string; stderr: string; millis: number }> {
  const started = Date.now();
  const loader = main.endsWith('.ts') ? ['--import', 'tsx'] : [];
  try {
    const { stdout, stderr } = await run(process.execPath, [...loader, main, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr, millis: Date.now() - started };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, millis: Date.now() - started };
  }
}

describe('otel-audit emit --timeout', () => {
  it('bounds the whole command against a gateway that is down or hangs, and prints the reason once', async () => {
    // What starting the command costs here (tsx, imports), measured, so that the bound is the timeout's.
    const idle = await command(['--help']);
    const hanging = createServer(() => undefined); // accepts connections, never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      for (const [endpoint, reason] of [
        [`http://127.0.0.1:${await freePort()}/v1/logs`, /ECONNREFUSED/],
        [`http://127.0.0.1:${(hanging.address() as { port: number }).port}/v1/logs`, /./],
      ] as const) {
        const result = await command(['emit', 'document.create', '--endpoint', endpoint, '--timeout', '3000']);
        assert.equal(result.code, 3, result.stderr);
        assert.ok(result.millis < idle.millis + 3000 + 1000, `${result.millis} ms (starting takes ${idle.millis} ms)`);
        const lines = result.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0]!, /^not delivered within 3000 ms: /);
        assert.match(lines[0]!, reason);
      }
    } finally {
      hanging.close();
    }
  });

  it('a usage error is one line and where the help is', async () => {
    for (const args of [['emit', 'document.create', '--no-such-flag'], ['emit'], ['emit', 'document.create', '--timeout', 'soon'], ['emit', 'document.create', '--catalog', 'missing.ts']]) {
      const result = await command(args);
      assert.equal(result.code, 2);
      assert.deepEqual(result.stderr.trimEnd().split('\n').slice(1), ['see otel-audit emit --help'], result.stderr);
      assert.match(result.stderr, /^otel-audit emit: \S/);
    }
    const unknown = await command(['frobnicate']);
    assert.deepEqual([unknown.code, unknown.stderr], [2, 'otel-audit: unknown command "frobnicate"\nsee otel-audit --help\n']);
  });
});

describe('a TypeScript catalog (--catalog ./src/catalog.ts)', () => {
  // The command compiled to JavaScript, as the package ships it, inside the repository so that its imports resolve.
  const build = join(ROOT, 'node_modules/.cache/otel-audit-emit-test');
  const app = join(build, 'app');

  before(async () => {
    rmSync(build, { recursive: true, force: true });
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', build, '--declaration', 'false', '--sourceMap', 'false'], { cwd: ROOT });
    mkdirSync(app, { recursive: true });
    // An application's catalog: TypeScript importing TypeScript by its .js name, as tsc wants it.
    writeFileSync(join(app, 'details.ts'), `import { z } from 'zod';\nexport const login: z.ZodType<{ method: 'password' | 'sso' }> = z.strictObject({ method: z.enum(['password', 'sso']) });\n`);
    writeFileSync(
      join(app, 'catalog.ts'),
      `import { defineCatalog } from '../src/index.js';\nimport { login } from './details.js';\nexport const catalog = defineCatalog({ 'user.login': { description: 'A user logged in.', scopes: ['installation'], details: login, sample: { method: 'sso' } } });\n`,
    );
  });
  after(() => rmSync(build, { recursive: true, force: true }));

  it('emit loads it through tsx and sends its sample', async () => {
    const listener = await startOtlpListener();
    const result = await command(['emit', 'user.login', '--catalog', join(app, 'catalog.ts'), '--endpoint', listener.url], join(build, 'src/cli/main.js'));
    await listener.close();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^acknowledged: user\.login /);
    assert.deepEqual((listener.records[0]!.body as { details: unknown }).details, { method: 'sso' });
  });

  it('a TypeScript catalog that exports none is named as such', async () => {
    const empty = mkdtempSync(join(app, 'empty-'));
    writeFileSync(join(empty, 'catalog.ts'), 'export const nothing: number = 1;\n');
    const result = await command(['emit', 'user.login', '--catalog', join(empty, 'catalog.ts')], join(build, 'src/cli/main.js'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /catalog\.ts exports no catalog/);
  });
});

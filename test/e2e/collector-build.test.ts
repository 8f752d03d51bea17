// otel-audit collector build and npm run collector:build: the real build with Go and the
// Collector's builder (what `npm run collector:build` installed into .collector/bin), and the
// message without Go.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/processes.js';

const run = promisify(execFile);

describe('otel-audit collector build', () => {
  it('builds otelcol-audit from the shipped manifest and lock into --out, without contradictory output; then keeps it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'otel-audit-collector-'));
    // The builder tool installed by npm run collector:build (CI runs it first): no second download.
    cpSync(join(ROOT, '.collector/bin'), join(out, 'bin'), { recursive: true });
    const built = await cli(['collector', 'build', '--out', out]);
    assert.equal(built.code, 0, built.stdout + built.stderr);
    assert.match(built.stdout, new RegExp(`built ${out}/otelcol-audit in \\d+ s`));
    assert.doesNotMatch(built.stdout + built.stderr, /source codes only|will not be compiled/i);
    const { stdout: version } = await run(join(out, 'otelcol-audit'), ['--version']);
    assert.match(version, /^otelcol-audit version /);
    const again = await cli(['collector', 'build', '--out', out]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /is up to date with the manifest/);
  });

  it('without Go, fails (3) saying what to install; a wrong subcommand is a usage error (2)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'otel-audit-collector-'));
    const noGo = await cli(['collector', 'build', '--out', out], { PATH: '/usr/bin:/bin' });
    assert.equal(noGo.code, 3);
    assert.match(noGo.stderr, /the Go toolchain is required to build otelcol-audit/);
    assert.ok(!existsSync(join(out, 'otelcol-audit')));
    assert.equal((await cli(['collector', 'make'])).code, 2);
  });
});

describe('npm run collector:build', () => {
  it('fails with a clear message when Go is missing', async () => {
    try {
      await run('bash', [join(ROOT, 'scripts/build-collector.sh')], { env: { PATH: '/usr/bin:/bin' } });
      assert.fail('the build should fail without Go');
    } catch (error) {
      const e = error as { code: number; stderr: string };
      assert.equal(e.code, 1);
      assert.match(e.stderr, /the Go toolchain is required to build otelcol-audit/);
    }
  });
});

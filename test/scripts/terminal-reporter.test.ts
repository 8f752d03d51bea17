import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the sample file (one pass, one failure) the way scripts/test.sh does, with the given reporter flags. */
function runSample(reporterFlags: string[]): { status: number | null; stdout: string } {
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const { status, stdout } = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporterFlags, 'test/fixtures/reporter-sample.ts'], { cwd: ROOT, env, encoding: 'utf8' });
  return { status, stdout };
}

describe('test output', () => {
  it('in a terminal: a dot per test, the failure in full, then the counts on one line', () => {
    const { status, stdout } = runSample(['--test-reporter=./scripts/terminal-reporter.mjs']);
    assert.equal(status, 1);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], '.X');
    assert.match(stdout, /Failed tests:\n\n✖ fails on purpose/);
    assert.match(lines.at(-1)!, /^2 tests: 1 passed, 1 failed, 0 cancelled, 0 skipped, 0 todo \(\d+\.\d s\)$/);
    assert.doesNotMatch(stdout, /^ok 1 - passes/m);
  });

  it('in CI (not a terminal): TAP, ending with the counts of the runner', () => {
    const { status, stdout } = runSample(['--test-reporter=tap']);
    assert.equal(status, 1);
    assert.match(stdout, /^# tests 2\n# suites 0\n# pass 1\n# fail 1\n/m);
  });
});

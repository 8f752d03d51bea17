// The Go tests of our Collector component (collector/losslessexporter), run by `go test` and
// reported here test by test, so that the suite's counts include them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/processes.js';

interface GoEvent {
  readonly Action: string;
  readonly Test?: string;
  readonly Output?: string;
  readonly Elapsed?: number;
}

const dir = join(ROOT, 'collector/losslessexporter');
// -race: the exporter runs its queue consumers, retries and re-drive loop concurrently.
const run = spawnSync('go', ['test', '-race', '-count=1', '-json', './...'], { cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, GOFLAGS: '-mod=mod', GOSUMDB: 'off' } });
const events: GoEvent[] = run.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line) as GoEvent);
const outputOf = (test: string) => events.filter((e) => e.Test === test && e.Output).map((e) => e.Output).join('');
// Top-level tests only: a subtest's result is part of its parent's.
const results = events.filter((e) => e.Test && !e.Test.includes('/') && (e.Action === 'pass' || e.Action === 'fail'));

describe('collector/losslessexporter (go test)', () => {
  it('ran', () => {
    if (run.error || results.length === 0) throw new Error(`go test did not run: ${run.error?.message ?? ''}\n${run.stderr}\n${run.stdout.slice(-4000)}`);
  });
  for (const result of results) {
    it(result.Test!, () => {
      if (result.Action === 'fail') throw new Error(outputOf(result.Test!));
    });
  }
});

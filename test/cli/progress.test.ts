// Long commands say how far they are (issue 25, item 4): a line on stderr when it is a terminal,
// nothing when it is piped or the command prints JSON. The line itself with a stand-in stream and
// clock; then otel-audit verify of a large copy under a real pseudo-terminal (script(1)) and piped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { progress, type ProgressStream } from '../../src/cli/progress.js';
import { streamTrail } from '../../src/integrity/trail.js';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/processes.js';
import { syntheticTrail, writeOtlpJsonLines } from '../helpers/synthetic-trail.js';

const run = promisify(execFile);
const CLEAR_LINE = '\r\x1b[K';

function terminal(isTTY = true): ProgressStream & { text: string } {
  return {
    isTTY,
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

describe('the progress line', () => {
  it('draws nothing when stderr is not a terminal, or when the command prints JSON', () => {
    for (const [stream, json] of [
      [terminal(false), false],
      [terminal(true), true],
    ] as const) {
      let now = 0;
      const line = progress({ label: 'verify', unit: 'bytes', total: 100, json, stream, now: () => now });
      now = 5000;
      line.update(50);
      line.above('a finding\n', stream);
      line.finish();
      assert.equal(line.active, false);
      assert.equal(stream.text, 'a finding\n', 'only the command\'s own text');
    }
  });

  it('says what is done of how much, the rate and the time left, at most five times a second', () => {
    const stream = terminal();
    let now = 0;
    const line = progress({ label: 'verify', unit: 'bytes', total: 4 * 2 ** 20, stream, now: () => now });
    now = 100;
    line.update(2 ** 20);
    assert.equal(stream.text.length, 0, 'not before 200 ms');
    now = 1000;
    line.update(2 ** 20);
    assert.equal(stream.text, `${CLEAR_LINE}verify: 1.0 MiB of 4.0 MiB (25%), 1.0 MiB/s, 0:03 left`);
    now = 1100;
    line.update(2 * 2 ** 20);
    assert.equal(stream.text.split(CLEAR_LINE).length, 2, 'not redrawn within 200 ms');
    line.finish();
    assert.ok(stream.text.endsWith(CLEAR_LINE), 'the line is cleared for the result');
  });

  it('counts records, with a total learned late or none', () => {
    const stream = terminal();
    let now = 0;
    const line = progress({ label: 're-drive', unit: 'records', stream, now: () => now });
    now = 2000;
    line.update(3000);
    assert.equal(stream.text, `${CLEAR_LINE}re-drive: 3,000 records, 1,500 records/s`);
    now = 4000;
    line.update(6000, 12_000);
    assert.ok(stream.text.endsWith(`${CLEAR_LINE}re-drive: 6,000 of 12,000 records (50%), 1,500 records/s, 0:04 left`), stream.text);
    line.finish();
  });

  it("writes the command's own lines above it and draws it again", () => {
    const stream = terminal();
    let now = 0;
    const line = progress({ label: 'replay', unit: 'records', stream, now: () => now });
    now = 1000;
    line.update(10);
    line.above('one refused\n', stream);
    assert.equal(stream.text, `${CLEAR_LINE}replay: 10 records, 10 records/s${CLEAR_LINE}one refused\n${CLEAR_LINE}replay: 10 records, 10 records/s`);
    line.finish();
  });
});

describe('otel-audit verify of a large copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-progress-'));
  const copy = join(dir, 'copy.jsonl');
  writeOtlpJsonLines(copy, syntheticTrail({ runs: [{ events: 20_000 }] }));

  it('reads the whole file: the last position reported is its size', () => {
    let last = 0;
    let calls = 0;
    for (const record of streamTrail(copy, { onRead: (bytes) => ((last = bytes), calls++) })) void record;
    assert.equal(last, statSync(copy).size);
    assert.ok(calls > 1, `${calls} reports`);
  });

  it('shows progress on a terminal, and the same verdict', async () => {
    // script(1) runs the command with a pseudo-terminal as its stdout and stderr, as a person's shell does.
    const command = [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', copy].map((arg) => `'${arg}'`).join(' ');
    const { stdout } = await run('script', ['-qec', command, '/dev/null'], { cwd: ROOT, maxBuffer: 16 * 2 ** 20 });
    assert.match(stdout, /\r\x1b\[Kverify: [\d.]+ [KM]iB of [\d.]+ MiB \(\d+%\)/, 'a progress line');
    assert.match(stdout, /complete and intact/);
  });

  it('prints nothing but the verdict when piped, and with --json', async () => {
    const piped = await cli(['verify', copy]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    assert.doesNotMatch(piped.stdout, /\x1b/);
    const json = await run('script', ['-qec', [process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', '--json', copy].map((arg) => `'${arg}'`).join(' '), '/dev/null'], { cwd: ROOT, maxBuffer: 16 * 2 ** 20 });
    assert.doesNotMatch(json.stdout, /\x1b\[K/, 'no progress line with --json, even on a terminal');
    assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, true);
  });
});

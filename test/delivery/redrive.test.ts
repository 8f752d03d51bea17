// `otel-audit spool --redrive` is safe: it holds the dead-letter file's lock while it works (an
// application appends only under that lock), keeps the lines it cannot read, and removes only what
// the collector accepted whole.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { countDeadLetters } from '../../src/delivery/dead-letters.js';
import { createAuditLogger } from '../../src/index.js';
import { otlpStatus, partialSuccess, startOtlpListener, type Answer } from '../helpers/otlp-listener.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uids = (records: { attributes: Record<string, unknown> }[]) => records.map((r) => String(r.attributes['log.record.uid']));
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const rejection: Answer = { status: 400, body: otlpStatus(3, 'schema mismatch') };
const lettersIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const idsIn = (file: string) => lettersIn(file).flatMap((line) => {
  try {
    return [(JSON.parse(line) as { id: string }).id];
  } catch {
    return [];
  }
});

function redrive(dir: string, endpoint: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'spool', dir, '--redrive', '--endpoint', endpoint], { encoding: 'utf8' }).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({ stdout: error.stdout, stderr: error.stderr, code: error.code }),
  );
}

/** A spool whose slot-0000 holds `count` dead letters; the logger that wrote them still runs (it holds the slot). */
async function deadLettered(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-redrive-'));
  const rejecting = await startOtlpListener(() => rejection);
  const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: rejecting.url, spoolDir: dir, retry: fastRetry, onError: () => undefined });
  const ids = [];
  for (let i = 0; i < count; i++) ids.push(audit.logEvent('document.create', { details: details(`dl${i}`) }));
  await audit.flush({ timeoutMillis: 10_000 });
  return { dir, audit, rejecting, ids, file: join(dir, 'slot-0000', 'dead-letters.ndjson') };
}

describe('otel-audit spool --redrive is safe', () => {
  it('letters the running application dead-letters while a redrive works are kept: the application appends only under the lock the redrive holds', async () => {
    const { dir, audit, rejecting, ids, file } = await deadLettered(5);
    assert.deepEqual(idsIn(file), ids);
    // Slow answers: the redrive takes about 2 s.
    const accepting = await startOtlpListener(() => ({ status: 200, delayMillis: 400 }));
    const running = redrive(dir, accepting.url);
    // Once the redrive has read the file and sends its first letter:
    while (accepting.requests.length === 0) await tick(20);
    const later = Array.from({ length: 3 }, (_, i) => audit.logEvent('document.create', { details: details(`later${i}`) }));
    const { stdout, code } = await running;
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown();
    await Promise.all([rejecting.close(), accepting.close()]);
    assert.equal(code, 0, stdout);
    assert.deepEqual(uids(accepting.records), ids, 'the five redriven');
    assert.deepEqual(idsIn(file).sort(), [...later].sort(), 'the three dead-lettered meanwhile are in the file');
  });

  it('keeps the lines it cannot read (reported), and removes only what was accepted', async () => {
    const { dir, audit, rejecting, ids, file } = await deadLettered(2);
    await audit.shutdown();
    await rejecting.close();
    appendFileSync(file, '{"time":"2026-01-01T00:00:00Z","reason":"dead_letter","record":\n');
    appendFileSync(file, 'not json at all\n');
    const accepting = await startOtlpListener();
    const { stdout, stderr, code } = await redrive(dir, accepting.url);
    await accepting.close();
    assert.equal(code, 3, 'incomplete: two lines could not be sent');
    assert.match(stdout, /2 of 2 dead letter\(s\) accepted/);
    assert.match(stderr, /line\(s\) 3, 4 cannot be read; kept in the file/);
    assert.deepEqual(uids(accepting.records), ids);
    assert.deepEqual(lettersIn(file), ['{"time":"2026-01-01T00:00:00Z","reason":"dead_letter","record":', 'not json at all']);
  });

  it('a partial success is not an acceptance: that letter stays', async () => {
    const { dir, audit, rejecting, ids, file } = await deadLettered(3);
    await audit.shutdown();
    await rejecting.close();
    const partial = await startOtlpListener((_, records) =>
      uids(records).includes(ids[1]!) ? { status: 200, body: partialSuccess(1, 'still too long'), keep: false } : { status: 200 },
    );
    const { stderr, code } = await redrive(dir, partial.url);
    await partial.close();
    assert.equal(code, 3);
    assert.match(stderr, /partial success, 1 rejected: still too long/);
    assert.deepEqual(idsIn(file), [ids[1]]);
  });
});

describe('counting the dead letters a file holds (for pending())', () => {
  it('equals the non-empty lines, for 300 random files of random bytes across chunk boundaries; 0 without a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-count-'));
    let seed = 25;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let bytesTried = 0;
    for (let i = 0; i < 300; i++) {
      const size = random(4) === 0 ? random(200_000) : random(300);
      const bytes = Buffer.alloc(size);
      // Mostly text with newlines (runs of them too), some raw bytes.
      for (let j = 0; j < size; j++) bytes[j] = random(10) === 0 ? 0x0a : random(20) === 0 ? random(256) : 0x61 + random(26);
      const file = join(dir, `letters-${i}.ndjson`);
      writeFileSync(file, bytes);
      bytesTried += size;
      const expected = bytes.toString('latin1').split('\n').filter((line) => line !== '').length;
      assert.equal(countDeadLetters(file), expected, `file ${i} (${size} bytes)`);
    }
    assert.equal(countDeadLetters(join(dir, 'none.ndjson')), 0);
    assert.equal(countDeadLetters(dir), 0, 'a directory is no file of letters');
    assert.ok(bytesTried > 1_000_000, `${bytesTried} bytes tried`);
  });
});

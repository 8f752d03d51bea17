// The spool's memory stays flat through a long outage: a simulated 6-hour outage at 200 events/s
// (4,320,000 events, each its own commit group, as events of separate requests are) with the
// injected clock and a file system that keeps no data (the disk is not what is measured). Run in a
// child process with --expose-gc, so that heap figures are exact and other tests do not disturb them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

const HOURS = 6;
const EVENTS_PER_SECOND = 200;
/** Heap growth allowed over the whole outage: what does not depend on its length (segment bookkeeping, JIT). */
const HEAP_BOUND_BYTES = 8 * 1024 * 1024;

const script = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem } from './src/delivery/file-system.ts';
import { openSpool } from './src/delivery/spool/slots.ts';
import { linkHeader, SpooledHead } from './src/integrity/spooled-head.ts';

const events = ${HOURS} * 3600 * ${EVENTS_PER_SECOND};
const stepMillis = 1000 / ${EVENTS_PER_SECOND};
// Writes are counted, not kept: the spool's own bookkeeping is what is measured.
const fs = { ...nodeFileSystem, write: async (_fd, _data, _offset, length) => length, fdatasync: async () => undefined };
const spool = openSpool(mkdtempSync(join(tmpdir(), 'otel-audit-outage-')), {
  fs, maxSegmentBytes: 16 * 1024 * 1024, maxMemoryRecords: 20000, recoveryMillis: 1000,
  onCorrupt: () => undefined, onWriteFailure: (e) => { throw e; }, onOverflow: () => { throw new Error('overflow'); }, onCommit: () => undefined,
  head: (streamId) => new SpooledHead(streamId),
});
const bytes = Buffer.alloc(120, 7);
const start = Date.UTC(2026, 0, 1);
const sample = () => { globalThis.gc(); const m = process.memoryUsage(); return { heap: m.heapUsed, rss: m.rss }; };
const figures = [];
let before;
for (let i = 0; i < events; i++) {
  spool.append({ bytes, at: start + Math.floor(i * stepMillis), header: linkHeader({ seq: i + 1, hash: (i + 1).toString(16).padStart(64, '0') }), ordinal: i + 1 });
  await spool.committed();
  if (i === 10000) before = sample();
  if ((i + 1) % (events / ${HOURS}) === 0) figures.push({ hour: (i + 1) / (events / ${HOURS}), ...sample() });
}
const oldest = spool.oldestPendingAt();
await spool.close();
process.stdout.write(JSON.stringify({ before, figures, pending: spool.pending, oldest, start }));
`;

describe('spool memory through a long outage', () => {
  it(`${HOURS} hours at ${EVENTS_PER_SECOND} events/s, one commit group each, nothing acknowledged: heap growth under ${HEAP_BOUND_BYTES / 1024 / 1024} MiB, the oldest pending age still exact`, () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=2048', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 570_000 });
    const { before, figures, pending, oldest, start } = JSON.parse(out) as {
      before: { heap: number; rss: number };
      figures: { hour: number; heap: number; rss: number }[];
      pending: number;
      oldest: number;
      start: number;
    };
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(`spool through a ${HOURS}-hour outage (${figures.length} samples): after 10,000 events heap ${mib(before.heap)} MiB, rss ${mib(before.rss)} MiB`);
    for (const f of figures) console.log(`  hour ${f.hour}: heap ${mib(f.heap)} MiB (+${mib(f.heap - before.heap)}), rss ${mib(f.rss)} MiB (+${mib(f.rss - before.rss)})`);
    assert.equal(pending, HOURS * 3600 * EVENTS_PER_SECOND);
    assert.equal(oldest, start, 'the oldest pending event is the first one');
    const growth = figures.at(-1)!.heap - before.heap;
    assert.ok(growth < HEAP_BOUND_BYTES, `heap grew by ${mib(growth)} MiB`);
  });
});

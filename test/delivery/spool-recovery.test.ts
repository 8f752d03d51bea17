// The spool's recovery paths, table-tested on the Spool itself through an injected file system:
// a fault at each step of writing (ENOSPC, EIO on write or fdatasync, EMFILE when a segment
// opens), torn tails, an acknowledgement in the middle of a segment, rotation. After each case:
// every record comes back exactly once, in seq order, and a reopened slot continues the chain.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { QueuedRecord } from '../../src/delivery/queue.js';
import type { SpoolCorruptionError } from '../../src/delivery/spool/format.js';
import { inspectSlot } from '../../src/delivery/spool/inspect.js';
import type { Spool } from '../../src/delivery/spool/queue.js';
import { openSpool } from '../../src/delivery/spool/slots.js';
import { nodeFileSystem } from '../../src/delivery/file-system.js';
import { linkHeader, linkOfHeader, SpooledHead } from '../../src/integrity/spooled-head.js';
import { faultyFs, type Faults } from '../helpers/faulty-fs.js';

const limits = { maxRecords: 7, maxBytes: 1024 * 1024 };
const hashOf = (seq: number) => seq.toString(16).padStart(64, '0');
const record = (seq: number, size = 50): QueuedRecord => ({ bytes: Buffer.alloc(size, seq % 251), at: 1_700_000_000_000 + seq, header: linkHeader({ seq, hash: hashOf(seq) }), ordinal: seq });
const seqOf = (r: QueuedRecord) => linkOfHeader(r.header).seq;
const tick = () => new Promise((resolve) => setImmediate(resolve));

function open(dir: string, faults: Faults, maxSegmentBytes = 4096, maxMemoryRecords = 1000) {
  const injected = faultyFs(faults);
  const events = { committed: [] as number[], failures: [] as string[], corrupt: [] as SpoolCorruptionError[], overflow: [] as number[] };
  // The writer (a chain's stand-in): its head is the last record it appended, the one read back until then.
  let appended = 0;
  let head: SpooledHead | undefined;
  const spool = openSpool(dir, {
    fs: injected.fs,
    maxSegmentBytes,
    maxMemoryRecords,
    recoveryMillis: 20,
    onCorrupt: (error) => events.corrupt.push(error),
    onWriteFailure: (error) => events.failures.push((error as NodeJS.ErrnoException).code ?? error.message),
    onOverflow: (records) => events.overflow.push(...records.map(seqOf)),
    onCommit: (records) => events.committed.push(...records.map(seqOf)),
    head: (streamId) => {
      const keeper = new SpooledHead(streamId);
      keeper.follow({ persistentHead: () => (appended === 0 ? keeper.recovered : { streamId, seq: appended, hash: hashOf(appended) }) });
      return (head = keeper);
    },
  });
  const append = (seq: number, size?: number): boolean => {
    appended = seq;
    return spool.append(record(seq, size));
  };
  return { spool, events, violations: injected.violations, recoveredHead: head!.recovered, append };
}

/** Reads every batch, acknowledging each, until nothing is left; returns the seqs in order. */
async function drain(spool: Spool): Promise<number[]> {
  const seqs: number[] = [];
  for (let guard = 0; spool.hasUnsent && guard < 10_000; guard++) {
    const batch = await spool.next(limits);
    if (!batch) continue;
    seqs.push(...batch.records.map(seqOf));
    batch.ack();
  }
  return seqs;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Case {
  name: string;
  /** The fault, set after `before` records were committed and cleared after `during` more were appended. */
  fault: Faults;
  before: number;
  during: number;
  size?: number;
}

const cases: Case[] = [
  { name: 'ENOSPC on write', fault: { write: 'ENOSPC' }, before: 10, during: 10 },
  { name: 'EIO on write and fdatasync', fault: { write: 'EIO' }, before: 3, during: 25 },
  { name: 'EMFILE when the next segment opens (rotation)', fault: { open: 'EMFILE', openMatch: /\.seg$/ }, before: 20, during: 60, size: 400 },
  { name: 'EROFS when the next segment opens, at the very first rotation', fault: { open: 'EROFS', openMatch: /\.seg$/ }, before: 0, during: 30, size: 400 },
];

describe('spool recovery (table)', () => {
  for (const c of cases) {
    it(`${c.name}: records wait in memory in order, go back to disk, are read once each in seq order; the reopened slot continues`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
      const faults: Faults = {};
      const { spool, events, violations, append } = open(dir, faults);
      let seq = 0;
      for (let i = 0; i < c.before; i++) append(++seq, c.size);
      await spool.committed();
      Object.assign(faults, c.fault);
      for (let i = 0; i < c.during; i++) {
        append(++seq, c.size);
        if (i % 5 === 4) await tick();
      }
      await spool.committed();
      assert.deepEqual([...new Set(events.failures)], [Object.values(c.fault).find((v) => typeof v === 'string')], 'the failure was seen, with its code');
      assert.equal(spool.healthy, false);
      for (const key of Object.keys(c.fault)) delete faults[key as keyof Faults];
      await new Promise((resolve) => setTimeout(resolve, 100)); // recovery runs every 20 ms
      await spool.committed();
      assert.equal(spool.healthy, true);
      assert.deepEqual([...new Set(events.committed)].sort((a, b) => a - b), range(1, seq), 'every record durable once the disk works');
      assert.deepEqual(await drain(spool), range(1, seq));
      assert.deepEqual(events.overflow, []);
      await spool.close();
      assert.deepEqual(violations, []);

      const reopened = open(dir, {});
      assert.equal(reopened.recoveredHead.seq, seq, 'the head survives');
      assert.equal(reopened.recoveredHead.hash, hashOf(seq));
      assert.equal(reopened.spool.replayed, 0, 'everything was acknowledged');
      await reopened.spool.close();
    });
  }

  it('an acknowledgement in the middle of a segment, then a crash: the next process replays exactly the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const { spool, append } = open(dir, {}, 1 << 20);
    for (let seq = 1; seq <= 30; seq++) append(seq);
    await spool.committed();
    const first = await spool.next({ maxRecords: 12, maxBytes: 1 << 20 });
    first!.ack();
    await spool.next({ maxRecords: 5, maxBytes: 1 << 20 }); // handed out, never acknowledged: the crash
    await spool.close();
    const next = open(dir, {}, 1 << 20);
    assert.equal(next.spool.replayed, 18);
    assert.deepEqual(await drain(next.spool), range(13, 30));
    await next.spool.close();
  });

  it('a torn tail after a crash mid-write: the intact records are replayed, the damage reported with segment and offset, the head is the last intact record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const { spool, append } = open(dir, {}, 1 << 20);
    for (let seq = 1; seq <= 9; seq++) append(seq);
    await spool.committed();
    await spool.close();
    const slot = join(dir, 'slot-0000');
    const segment = readdirSync(slot).filter((n) => n.endsWith('.seg')).sort().at(-1)!;
    appendFileSync(join(slot, segment), Buffer.from([200, 0, 0, 0, 9, 9]));
    const next = open(dir, {}, 1 << 20);
    assert.equal(next.events.corrupt.length, 1);
    assert.match(next.events.corrupt[0]!.message, new RegExp(`${segment} at offset \\d+: torn frame`));
    assert.equal(next.recoveredHead.seq, 9);
    assert.deepEqual(await drain(next.spool), range(1, 9));
    await next.spool.close();
  });

  it('damaged frames in the middle of a segment: the records after each are kept (resynchronised on the next frame whose checksum holds), each damage reported once with segment and offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const { spool, append } = open(dir, {}, 1 << 20);
    for (let seq = 1; seq <= 30; seq++) append(seq, 60);
    await spool.committed();
    await spool.close();
    const slot = join(dir, 'slot-0000');
    const segment = readdirSync(slot).filter((n) => n.endsWith('.seg')).sort().at(-1)!;
    const path = join(slot, segment);
    const bytes = readFileSync(path);
    // Frames of 9 + 44 + 60 bytes after the HEAD frame: record n starts at head + (n - 1) * 113.
    const head = bytes.length - 30 * 113;
    const frameOf = (seq: number) => head + (seq - 1) * 113;
    bytes[frameOf(8) + 9 + 44 + 10] = 0xff - bytes[frameOf(8) + 9 + 44 + 10]!; // a changed byte in record 8's payload: its checksum fails
    bytes.writeUInt32LE(0x7fffffff, frameOf(15)); // record 15's length: nonsense, pointing far past the end
    bytes.fill(0, frameOf(21) + 3, frameOf(23) + 20); // records 21 and 22 and the header of 23 zeroed
    writeFileSync(path, bytes);
    const inspection = inspectSlot(nodeFileSystem, slot);
    assert.equal(inspection.corrupt, 3, 'three damaged regions');
    assert.equal(inspection.pending, 25);

    const next = open(dir, {}, 1 << 20);
    assert.deepEqual(
      next.events.corrupt.map((e) => e.message.replace(/.*\//, '')),
      [`${segment} at offset ${frameOf(8)}: checksum mismatch (113 bytes skipped)`, `${segment} at offset ${frameOf(15)}: torn frame (2147483647 bytes announced, ${bytes.length - frameOf(15) - 9} present) (113 bytes skipped)`, `${segment} at offset ${frameOf(21)}: checksum mismatch (339 bytes skipped)`],
    );
    assert.equal(next.spool.replayed, 25);
    assert.deepEqual(await drain(next.spool), range(1, 30).filter((seq) => ![8, 15, 21, 22, 23].includes(seq)));
    assert.equal(next.recoveredHead.seq, 30);
    await next.spool.close();
  });

  it('rotation: old segments are deleted once acknowledged, the write segment never; the head stays recoverable when all was acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const { spool, append } = open(dir, {}, 4096);
    // One commit group per tick: a group is written whole, so rotation happens between groups.
    for (let seq = 1; seq <= 100; seq++) {
      append(seq, 300);
      if (seq % 5 === 0) await spool.committed();
    }
    const slot = join(dir, 'slot-0000');
    assert.ok(readdirSync(slot).filter((n) => n.endsWith('.seg')).length > 5);
    assert.deepEqual(await drain(spool), range(1, 100));
    await spool.close();
    assert.equal(readdirSync(slot).filter((n) => n.endsWith('.seg')).length, 1);
    const next = open(dir, {}, 4096);
    assert.deepEqual({ seq: next.recoveredHead.seq, replayed: next.spool.replayed }, { seq: 100, replayed: 0 });
    await next.spool.close();
  });

  it('a recovery write that fails while new records arrive: what the memory bound cannot hold is reported, nothing vanishes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const faults: Faults = { asyncWrite: 'EIO', asyncDelayMillis: 30 };
    const { spool, events, append } = open(dir, faults, 4096, 10);
    let seq = 0;
    for (let i = 0; i < 10; i++) append(++seq);
    await spool.committed();
    // Recovery tries every 20 ms and its write takes 30 ms to fail: some of these land while it is out.
    const refused: number[] = [];
    for (let i = 0; i < 20; i++) {
      if (!append(++seq)) refused.push(seq); // the caller reports those (queue_full)
      await new Promise((resolve) => setTimeout(resolve, 7));
    }
    delete faults.asyncWrite;
    await new Promise((resolve) => setTimeout(resolve, 200));
    await spool.committed();
    const kept = await drain(spool);
    assert.ok(events.overflow.length > 0, 'records taken in while the recovery write was out, beyond the bound, are reported');
    assert.deepEqual([...kept, ...events.overflow, ...refused].sort((a, b) => a - b), range(1, seq), 'every record kept, reported or refused to its caller');
    await spool.close();
  });

  it('an export that ends after the spool closed acknowledges nothing: no error, no deletion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-recovery-'));
    const { spool, append } = open(dir, {}, 4096);
    for (let seq = 1; seq <= 40; seq++) {
      append(seq, 300);
      if (seq % 5 === 0) await spool.committed();
    }
    const batch = await spool.next({ maxRecords: 100, maxBytes: 1 << 20 }); // the whole first segment: its ack would delete it
    await spool.close();
    assert.doesNotThrow(() => batch!.ack());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = open(dir, {}, 4096);
    assert.equal(next.spool.replayed, 40, 'the late acknowledgement changed nothing: the next process sends them all');
    await next.spool.close();
  });
});

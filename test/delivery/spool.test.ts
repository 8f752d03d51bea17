// The durable spool: fsync before logEventOrThrow resolves, replay after a restart with the same
// records, slots for several writers, damaged tails, and a disk that fails (injected through the
// file-system adapter: ENOSPC, EIO, EMFILE, without root or tmpfs).
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, createAuditLogger, type AuditError } from '../../src/index.js';
import { nodeFileSystem, type FileSystem } from '../../src/delivery/file-system.js';
import { tryLockSlot, type SlotLock } from '../../src/delivery/spool/lock.js';
import { createAuditLoggerWith } from '../../src/logger.js';
import { freePort } from '../helpers/ports.js';
import { otlpStatus, startOtlpListener, type ReceivedRecord } from '../helpers/otlp-listener.js';
import { faultyFs, type Faults } from '../helpers/faulty-fs.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uid = (r: ReceivedRecord) => String(r.attributes['log.record.uid']);
const seqOf = (r: ReceivedRecord) => Number(r.attributes['audit.seq']);
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };
const spoolDir = () => mkdtempSync(join(tmpdir(), 'otel-audit-spool-'));
const slot0 = (dir: string) => join(dir, 'slot-0000');
const segments = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.seg'));
const downEndpoint = async () => `http://127.0.0.1:${await freePort()}/v1/logs`;
const tick = (millis = 0) => new Promise((resolve) => setTimeout(resolve, millis));

describe('spool', () => {
  it('logEventOrThrow resolves once the event is fdatasynced in the spool, with the collector down', async () => {
    const dir = spoolDir();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: await downEndpoint(), spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const id = await audit.logEventOrThrow('document.create', { details: details('durable') });
    const onDisk = segments(slot0(dir)).map((name) => readFileSync(join(slot0(dir), name)).toString('latin1')).join('');
    assert.ok(onDisk.includes(id), 'the event is in a segment file');
    assert.equal(audit.stats().spooledEvents, 1);
    assert.equal(audit.stats().exported, 0);
    assert.deepEqual(await audit.shutdown({ timeoutMillis: 200 }), { undelivered: 1, keptInSpool: 1 });
  });

  it('replays what a stopped process left, byte for byte, and continues the chain without a gap', async () => {
    const dir = spoolDir();
    const port = await freePort();
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const ids = [];
    for (let i = 0; i < 100; i++) ids.push(await first.logEventOrThrow('document.create', { details: details(`r${i}`) }));
    await first.shutdown({ timeoutMillis: 300 });
    assert.equal(first.stats().dropped, 0, 'a spool keeps what shutdown could not deliver');

    const listener = await startOtlpListener(undefined, port);
    const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: assert.fail });
    assert.equal(second.stats().replayed, 100);
    const next = second.logEvent('document.create', { details: details('after-restart') });
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    assert.deepEqual(listener.records.map(uid), [...ids, next]);
    assert.deepEqual(listener.records.map(seqOf), Array.from({ length: 101 }, (_, i) => i + 1));
    assert.equal(new Set(listener.records.map((r) => r.attributes['audit.stream.id'])).size, 1, 'one stream across the restart');
    for (let i = 1; i < listener.records.length; i++) {
      assert.equal(listener.records[i]!.attributes['audit.prev_hash'], listener.records[i - 1]!.attributes['audit.hash']);
    }
    // The first process's records were sent as it encoded them: its resource is the second's, its timestamps its own.
    assert.ok(listener.records.slice(0, 100).every((r) => BigInt(r.observedTimeUnixNano) < BigInt(listener.records[100]!.observedTimeUnixNano)));
    assert.deepEqual(segments(slot0(dir)).length, 1, 'acknowledged segments are deleted');
  });

  it('two loggers on one spool directory take a slot each: two streams, nothing shared', async () => {
    const dir = spoolDir();
    const listener = await startOtlpListener();
    const a = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, onError: assert.fail });
    const b = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, onError: assert.fail });
    for (let i = 0; i < 20; i++) {
      await a.logEventOrThrow('document.create', { details: details(`a${i}`) });
      await b.logEventOrThrow('document.create', { details: details(`b${i}`) });
    }
    await Promise.all([a.shutdown(), b.shutdown()]);
    await listener.close();
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('slot-')).sort(), ['slot-0000', 'slot-0001']);
    const streams = new Map<unknown, number[]>();
    for (const record of listener.records) streams.set(record.attributes['audit.stream.id'], [...(streams.get(record.attributes['audit.stream.id']) ?? []), seqOf(record)]);
    assert.equal(streams.size, 2);
    for (const seqs of streams.values()) assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('a slot another process creates and locks in the moment between this one listing and locking it is left to it: this one takes the next', async () => {
    const dir = spoolDir();
    const listener = await startOtlpListener();
    let racer: SlotLock | undefined;
    // Cluster workers start together: the other one creates slot-0000 and takes it just before this one does.
    const fs: FileSystem = {
      ...nodeFileSystem,
      mkdirSync: (path, mode) => {
        if (path === slot0(dir) && !racer) {
          mkdirSync(path, { mode });
          racer = tryLockSlot(path);
        }
        return nodeFileSystem.mkdirSync(path, mode);
      },
    };
    const errors: AuditError[] = [];
    const audit = createAuditLoggerWith({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, onError: (error) => errors.push(error) }, { fs, now: Date.now });
    await audit.logEventOrThrow('document.create', { details: details('raced') });
    await audit.shutdown();
    racer?.release();
    await listener.close();
    assert.ok(racer, 'the other process held slot-0000');
    assert.deepEqual(errors, []);
    assert.equal(audit.stats().spooledEvents, 1, 'the event went through the spool, not the in-memory queue');
    assert.ok(segments(join(dir, 'slot-0001')).length > 0, 'in slot-0001');
  });

  it('skips a damaged record at the tail with a report naming segment and offset, and delivers every intact record', async () => {
    const dir = spoolDir();
    const port = await freePort();
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await first.logEventOrThrow('document.create', { details: details(`c${i}`) }));
    await first.shutdown({ timeoutMillis: 200 });
    const [segment] = segments(slot0(dir));
    const path = join(slot0(dir), segment!);
    const bytes = readFileSync(path);
    // Alter one byte of the last record (its checksum no longer matches), then add a torn write.
    const at = bytes.lastIndexOf(Buffer.from('c19'));
    bytes[at + 2] = 'X'.charCodeAt(0);
    writeFileSync(path, bytes);
    appendFileSync(path, Buffer.from([0x40, 0, 0, 0, 1, 2, 3]));

    const errors: AuditError[] = [];
    const listener = await startOtlpListener(undefined, port);
    const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: (e) => errors.push(e) });
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.deepEqual(listener.records.map(uid), ids.slice(0, 19));
    const report = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'spool_corrupt');
    assert.ok(report, 'reported');
    assert.match(report.message, new RegExp(`${segment} at offset \\d+: checksum mismatch`));
    assert.equal(second.stats().corrupted, 1);
  });

  it('a spool directory that cannot be created is reported; events go through the in-memory queue', async () => {
    const base = spoolDir();
    writeFileSync(join(base, 'a-file'), 'not a directory');
    const errors: AuditError[] = [];
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: join(base, 'a-file', 'spool'), onError: (e) => errors.push(e) });
    const id = await audit.logEventOrThrow('document.create', { details: details('no-spool') });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.ok(errors.some((e) => e instanceof AuditDeliveryError && e.reason === 'spool_unavailable' && e.message.includes('ENOTDIR')));
    assert.deepEqual(listener.records.map(uid), [id]);
  });

  it('spool directory, slot and files are private: 0700 and 0600', async () => {
    const dir = join(spoolDir(), 'spool');
    const listener = await startOtlpListener(() => ({ status: 400, body: otlpStatus(3, 'refused by test') }));
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: () => undefined });
    await audit.logEventOrThrow('document.create', { details: details('private') }).catch(() => undefined);
    await audit.shutdown({ timeoutMillis: 5000 });
    await listener.close();
    const mode = (path: string) => statSync(path).mode & 0o777;
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(slot0(dir)), 0o700);
    const files = readdirSync(slot0(dir));
    assert.ok(files.includes('dead-letters.ndjson') && files.includes('stream.json') && files.some((n) => n.endsWith('.seg')), files.join());
    for (const name of files) assert.equal(mode(join(slot0(dir), name)), 0o600, name);
  });
});

/** A logger over an injected file system, with the collector at `endpoint`. */
function withFaults(faults: Faults, dir: string, endpoint: string, errors: AuditError[], extra: object = {}) {
  const injected = faultyFs(faults);
  const audit = createAuditLoggerWith(
    { catalog: gristCatalog, checkpoints: false, endpoint, spoolDir: dir, timeoutMillis: 300, retry: fastRetry, onError: (e) => errors.push(e), ...extra },
    { fs: injected.fs, now: Date.now },
  );
  return { audit, ...injected };
}

describe('a disk that fails (injected through the file-system adapter)', () => {
  for (const code of ['ENOSPC', 'EIO']) {
    it(`${code}: reported once; events wait in memory in order, go back to the spool when it works, are delivered with their seqs in call order; a restart reissues no seq`, async () => {
      const dir = spoolDir();
      const port = await freePort();
      const faults: Faults = {};
      const errors: AuditError[] = [];
      const first = withFaults(faults, dir, `http://127.0.0.1:${port}/v1/logs`, errors);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await first.audit.logEventOrThrow('document.create', { details: details(`before-${i}`) }));
      faults.write = code;
      for (let i = 0; i < 10; i++) ids.push(first.audit.logEvent('document.create', { details: details(`during-${i}`) }));
      await tick(100);
      const failing = errors.filter((e) => e instanceof AuditDeliveryError && e.reason === 'spool_unavailable');
      assert.equal(failing.length, 1, 'reported once');
      assert.match(failing[0]!.message, new RegExp(code));
      assert.equal(first.audit.stats().spooledEvents, 10);
      delete faults.write;
      await tick(1500); // the spool tries again every second
      assert.equal(first.audit.stats().spooledEvents, 20, 'the events kept in memory went back into the spool');
      ids.push(await first.audit.logEventOrThrow('document.create', { details: details('after') }));
      await first.audit.shutdown({ timeoutMillis: 100 });
      assert.equal(first.audit.stats().dropped, 0);
      assert.deepEqual(first.violations, []);

      const listener = await startOtlpListener(undefined, port);
      const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: assert.fail });
      ids.push(second.logEvent('document.create', { details: details('restarted') }));
      await second.shutdown({ timeoutMillis: 10_000 });
      await listener.close();
      // Several exports in flight (one per segment here) may arrive in either order: the seqs give the order.
      const bySeq = [...listener.records].sort((a, b) => seqOf(a) - seqOf(b));
      assert.deepEqual(bySeq.map(uid), ids, 'in the order of seq, nothing lost, nothing twice');
      assert.deepEqual(bySeq.map(seqOf), Array.from({ length: 22 }, (_, i) => i + 1), 'no seq reissued after the restart');
    });
  }

  it('records handed out from memory during the failure are delivered; shutdown while the disk still fails reports what nothing could keep', async () => {
    const dir = spoolDir();
    const listener = await startOtlpListener();
    const faults: Faults = {};
    const errors: AuditError[] = [];
    const { audit } = withFaults(faults, dir, listener.url, errors);
    await audit.logEventOrThrow('document.create', { details: details('ok') });
    faults.write = 'EIO';
    const delivered = await audit.logEventOrThrow('document.create', { details: details('from-memory') });
    assert.ok(listener.records.some((r) => uid(r) === delivered), 'acknowledged by the collector while the disk failed');
    // Later events go straight to memory (the spool is known to be broken) and are sent all the same.
    const later = await audit.logEventOrThrow('document.create', { details: details('later') });
    assert.ok(listener.records.some((r) => uid(r) === later));
    await listener.close();
    const stranded = audit.logEvent('document.create', { details: details('stranded') });
    const result = await audit.shutdown({ timeoutMillis: 300 });
    assert.equal(result.undelivered, 1);
    assert.equal(result.keptInSpool, 0);
    const lost = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'shutdown_pending');
    assert.equal(lost?.count, 1);
    assert.ok(lost?.records?.[0]?.includes(stranded));
    assert.equal(audit.stats().dropped, 1);
  });

  it('EMFILE when a new segment opens: the current fd stays in use, nothing is written to a descriptor the spool does not hold', async () => {
    const dir = spoolDir();
    const listener = await startOtlpListener();
    const faults: Faults = {};
    const errors: AuditError[] = [];
    const injected = withFaults(faults, dir, listener.url, errors, { maxSegmentBytes: 64 * 1024 });
    const big = 'y'.repeat(4000);
    faults.open = 'EMFILE';
    faults.openMatch = /\.seg$/;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(injected.audit.logEvent('document.create', { details: { document: { id: `emfile-${i}`, name: big } } }));
    await tick(100);
    delete faults.open;
    await tick(1500);
    for (let i = 40; i < 45; i++) ids.push(await injected.audit.logEventOrThrow('document.create', { details: details(`later-${i}`) }));
    await injected.audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.deepEqual(injected.violations, []);
    assert.ok(errors.some((e) => e instanceof AuditDeliveryError && e.reason === 'spool_unavailable' && /EMFILE/.test(e.message)));
    assert.deepEqual(listener.records.map(uid), ids);
  });

  it('a read error of the spool (EIO) is reported and retried: the process does not die, everything is delivered', async () => {
    const dir = spoolDir();
    const listener = await startOtlpListener();
    const errors: AuditError[] = [];
    const { audit } = withFaults({ read: 'EIO', readTimes: 3 }, dir, listener.url, errors);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await audit.logEventOrThrow('document.create', { details: details(`eio-${i}`) }));
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown();
    await listener.close();
    assert.ok(errors.filter((e) => e instanceof AuditDeliveryError && e.reason === 'spool_unavailable' && /cannot read the spool \(EIO/.test(e.message)).length >= 1);
    assert.deepEqual(listener.records.map(uid), ids);
  });

  it('new segments, stream.json and the new slot are followed by an fsync of their directory', async () => {
    const dir = join(spoolDir(), 'spool');
    const listener = await startOtlpListener();
    const { audit, directorySyncs } = withFaults({}, dir, listener.url, [], { maxSegmentBytes: 64 * 1024 });
    for (let i = 0; i < 30; i++) await audit.logEventOrThrow('document.create', { details: { document: { id: `f${i}`, name: 'z'.repeat(4000) } } });
    await audit.shutdown();
    await listener.close();
    assert.ok(directorySyncs.includes(dir), 'the spool directory, after the slot was created');
    const slotSyncs = directorySyncs.filter((path) => path === slot0(dir)).length;
    // stream.json, the first segment, and at least one rotation.
    assert.ok(slotSyncs >= 3, `${slotSyncs} fsyncs of the slot directory`);
  });
});

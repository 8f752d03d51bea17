// The durable spool: fsync before logEventOrThrow resolves, replay after a restart with the same
// records, a damaged tail, a directory that cannot be written, a disk that fills up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, createAuditLogger, type AuditError } from '../../src/index.js';
import { freePort } from '../../scripts/lib/ports.js';
import { startOtlpListener, type ReceivedRecord } from '../helpers/otlp-listener.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uid = (r: ReceivedRecord) => String(r.attributes['log.record.uid']);
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };
const spoolDir = () => mkdtempSync(join(tmpdir(), 'otel-audit-spool-'));
const segments = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.seg'));


describe('spool', () => {
  it('logEventOrThrow resolves once the event is fsynced in the spool, with the collector down', async () => {
    const dir = spoolDir();
    const port = await freePort();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: assert.fail });
    const id = await audit.logEventOrThrow('document.create', { details: details('durable') });
    const onDisk = segments(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('');
    assert.ok(onDisk.includes(id), 'the event is in a segment file');
    assert.equal(audit.stats().spooledEvents, 1);
    assert.equal(audit.stats().exported, 0);
    await audit.shutdown({ timeoutMillis: 200 }).catch(() => undefined);
  });

  it('replays what a stopped process left, unchanged, and continues the chain without a gap', async () => {
    const dir = spoolDir();
    const port = await freePort();
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const ids = [];
    for (let i = 0; i < 100; i++) ids.push(await first.logEventOrThrow('document.create', { details: details(`r${i}`) }));
    await first.shutdown({ timeoutMillis: 300 }).catch(() => undefined);
    assert.equal(first.stats().dropped, 0, 'a spool keeps what shutdown could not deliver');

    const listener = await startOtlpListener(undefined, port);
    const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: assert.fail });
    assert.equal(second.stats().replayed, 100);
    const next = second.logEvent('document.create', { details: details('after-restart') });
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    assert.deepEqual(listener.records.map(uid), [...ids, next]);
    const seqs = listener.records.map((r) => r.attributes['audit.seq']);
    assert.deepEqual(seqs, Array.from({ length: 101 }, (_, i) => i + 1));
    const streams = new Set(listener.records.map((r) => r.attributes['audit.stream.id']));
    assert.equal(streams.size, 1, 'one stream across the restart');
    for (let i = 1; i < listener.records.length; i++) {
      assert.equal(listener.records[i]!.attributes['audit.prev_hash'], listener.records[i - 1]!.attributes['audit.hash']);
    }
    assert.deepEqual(segments(dir).length, 1, 'acknowledged segments are deleted');
  });

  it('skips a torn and a corrupted record at the tail with a clear report, and delivers every intact record', async () => {
    const dir = spoolDir();
    const port = await freePort();
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await first.logEventOrThrow('document.create', { details: details(`c${i}`) }));
    await first.shutdown({ timeoutMillis: 200 }).catch(() => undefined);
    const [segment] = segments(dir);
    const path = join(dir, segment!);
    const lines = readFileSync(path, 'utf8').split('\n');
    // Alter one byte of the last record (its checksum no longer matches), then a torn write.
    lines[19] = lines[19]!.replace('c19', 'c1X');
    writeFileSync(path, lines.join('\n'));
    appendFileSync(path, '0badc0de {"t":[1,2],"a":{"log.record.uid":"to');

    const errors: AuditError[] = [];
    const listener = await startOtlpListener(undefined, port);
    const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: (e) => errors.push(e) });
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.deepEqual(listener.records.map(uid), ids.slice(0, 19));
    const report = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'spool_corrupt');
    assert.ok(report, 'reported');
    assert.equal(report.count, 2);
    assert.match(report.message, new RegExp(segment!));
    assert.equal(second.stats().corrupted, 2);
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

  describe('a disk that fills up', () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'otel-audit-full-'));
    // A 256 KiB tmpfs: a real ENOSPC from the kernel (the tests run as root, as CI does).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
    after(() => execFileSync('umount', [mountPoint]));

    it('is reported loudly; events go to memory meanwhile; nothing is lost; the process keeps running', async () => {
      const dir = join(mountPoint, 'spool');
      mkdirSync(dir);
      const port = await freePort();
      const errors: AuditError[] = [];
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: (e) => errors.push(e) });
      const big = 'x'.repeat(1000);
      const ids = [];
      for (let i = 0; i < 600; i++) {
        ids.push(audit.logEvent('document.create', { details: { document: { id: `full-${i}`, name: big } } }));
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      const full = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'spool_unavailable');
      assert.ok(full, 'disk full reported');
      assert.match(full.message, /ENOSPC/);
      const stats = audit.stats();
      assert.ok(stats.spooledEvents > 0 && stats.spooledEvents < 600, `some spooled (${stats.spooledEvents}), not all`);

      const listener = await startOtlpListener(undefined, port);
      await audit.flush({ timeoutMillis: 20_000 });
      await audit.shutdown();
      await listener.close();
      assert.deepEqual(listener.records.map(uid).sort(), [...ids].sort());
      assert.equal(audit.stats().dropped, 0);
    });
  });
});

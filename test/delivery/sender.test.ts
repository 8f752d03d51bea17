// Wire details of delivery against a small in-test OTLP endpoint: status codes, Retry-After,
// splitting on permanent rejections, dead letters, bounds, flush and shutdown accounting.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, createAuditLogger, FlushTimeoutError, type AuditError } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';
import { otlpStatus, startOtlpListener } from '../helpers/otlp-listener.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uids = (records: { attributes: Record<string, unknown> }[]) => records.map((r) => String(r.attributes['log.record.uid']));
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };


describe('retries', () => {
  it('honours 503 and 429 with Retry-After, then delivers everything once', async () => {
    const listener = await startOtlpListener((n) =>
      n === 0 ? { status: 503, headers: { 'retry-after': '2' } } : n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, retry: fastRetry, onError: assert.fail });
    const ids = Array.from({ length: 20 }, (_, i) => audit.logEvent('document.create', { details: details(`d${i}`) }));
    await audit.shutdown({ timeoutMillis: 20_000 });
    await listener.close();
    const [first, second, third] = listener.requests;
    assert.deepEqual(listener.requests.map((r) => r.status).slice(0, 3), [503, 429, 200]);
    assert.ok(second!.at - first!.at >= 1900, `waited ${second!.at - first!.at} ms after Retry-After: 2`);
    assert.ok(third!.at - second!.at >= 900, `waited ${third!.at - second!.at} ms after Retry-After: 1`);
    assert.deepEqual(uids(listener.records).sort(), [...ids].sort());
    assert.equal(audit.stats().exported, 20);
  });

  it('keeps retrying while the collector is unreachable, and delivers when it comes up', async () => {
    const port = await freePort();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 500, retry: fastRetry, onError: (e) => errors.push(e) });
    const ids = Array.from({ length: 5 }, (_, i) => audit.logEvent('document.create', { details: details(`u${i}`) }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(audit.stats().exported, 0);
    assert.ok(audit.stats().retried > 0, 'retried while down');
    const listener = await startOtlpListener(undefined, port);
    await audit.flush({ timeoutMillis: 20_000 });
    await audit.shutdown();
    await listener.close();
    assert.deepEqual(uids(listener.records).sort(), [...ids].sort());
    assert.deepEqual(errors, []);
  });
});

describe('permanent rejections', () => {
  for (const status of [400, 413]) {
    it(`on ${status}, splits the batch, delivers the rest, and dead-letters exactly the rejected records with the reason`, async () => {
      const poisoned = new Set<string>();
      const listener = await startOtlpListener((_, records) =>
        records.some((r) => poisoned.has(String(r.attributes['log.record.uid']))) ? { status, body: status === 400 ? otlpStatus(3, 'rejected by test') : 'rejected by test' } : { status: 200 },
      );
      const dir = mkdtempSync(join(tmpdir(), 'otel-audit-dead-'));
      const deadLetterFile = join(dir, 'dead.ndjson');
      const errors: AuditError[] = [];
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, deadLetterFile, retry: fastRetry, onError: (e) => errors.push(e) });
      const ids = Array.from({ length: 50 }, (_, i) => {
        const id = audit.logEvent('document.create', { details: details(`p${i}`) });
        if (i === 7 || i === 31) poisoned.add(id);
        return id;
      });
      await audit.shutdown({ timeoutMillis: 20_000 });
      await listener.close();

      assert.deepEqual(uids(listener.records).sort(), ids.filter((id) => !poisoned.has(id)).sort());
      const dead = readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(dead.map((d) => d.id).sort(), [...poisoned].sort());
      for (const entry of dead) {
        assert.equal(entry.reason, 'dead_letter');
        assert.match(entry.error, new RegExp(`HTTP ${status}`));
      }
      const reports = errors.filter((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'dead_letter');
      assert.equal(reports.reduce((n, e) => n + e.count, 0), 2);
      const stats = audit.stats();
      assert.equal(stats.deadLettered, 2);
      assert.equal(stats.exported, 48);
      assert.equal(stats.pending, 0);
    });
  }

  it('a partial success (200 naming rejected records) is split down like a 400: the rejected record is dead-lettered, none is lost', async () => {
    const poisoned = new Set<string>();
    const listener = await startOtlpListener((_, records) =>
      records.some((r) => poisoned.has(String(r.attributes['log.record.uid'])))
        ? { status: 200, body: JSON.stringify({ partialSuccess: { rejectedLogRecords: '1', errorMessage: 'field too long' } }) }
        : { status: 200 },
    );
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-partial-'));
    const deadLetterFile = join(dir, 'dead.ndjson');
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, protocol: 'http/json', deadLetterFile, retry: fastRetry, onError: () => undefined });
    const ids = Array.from({ length: 20 }, (_, i) => {
      const id = audit.logEvent('document.create', { details: details(`q${i}`) });
      if (i === 13) poisoned.add(id);
      return id;
    });
    await audit.shutdown({ timeoutMillis: 20_000 });
    await listener.close();
    const dead = readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(dead.map((d) => d.id), [...poisoned]);
    assert.match(dead[0].error, /partial success, 1 rejected: field too long/);
    assert.deepEqual([...new Set(uids(listener.records))].sort(), [...ids].sort(), 'every other record arrived (some more than once, identical)');
    assert.equal(audit.stats().deadLettered, 1);
  });

  it('without a dead-letter file, the rejected record travels in the onError report', async () => {
    const listener = await startOtlpListener(() => ({ status: 400, body: otlpStatus(3, 'rejected by test') }));
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    const id = audit.logEvent('document.create', { details: details('alone') });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const report = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'dead_letter');
    assert.ok(report?.records?.[0]?.includes(id));
  });

  it('with a retry limit, gives up on a batch into the dead-letter file, counted', async () => {
    const listener = await startOtlpListener(() => ({ status: 503 }));
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-dead-'));
    const errors: AuditError[] = [];
    const audit = createAuditLogger({
      catalog: gristCatalog,
      checkpoints: false,
      endpoint: listener.url,
      timeoutMillis: 300,
      deadLetterFile: join(dir, 'dead.ndjson'),
      retry: { ...fastRetry, maxElapsedMillis: 500 },
      onError: (e) => errors.push(e),
    });
    audit.logEvent('document.create', { details: details('given-up') });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.equal(audit.stats().deadLettered, 1);
    assert.ok(errors.some((e) => e instanceof AuditDeliveryError && e.reason === 'retry_exhausted'));
    assert.match(readFileSync(join(dir, 'dead.ndjson'), 'utf8'), /"reason":"retry_exhausted"/);
  });
});

describe('bounds and deadlines without a spool', () => {
  it('reports and counts every event beyond the in-memory bound', async () => {
    const port = await freePort();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, maxQueueRecords: 10, timeoutMillis: 200, retry: fastRetry, onError: (e) => errors.push(e) });
    for (let i = 0; i < 15; i++) audit.logEvent('document.create', { details: details(`b${i}`) });
    await assert.rejects(audit.logEventOrThrow('document.create', { details: details('over') }), (e: unknown) => e instanceof AuditDeliveryError && e.reason === 'queue_full');
    assert.equal(audit.stats().dropped, 6);
    assert.equal(errors.filter((e) => e instanceof AuditDeliveryError && e.reason === 'queue_full').length, 6);
    await audit.shutdown({ timeoutMillis: 100 }).catch(() => undefined);
  });

  it('flush rejects at its deadline with the number still pending; shutdown counts what it could not deliver', async () => {
    const port = await freePort();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 200, retry: fastRetry, onError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) audit.logEvent('document.create', { details: details(`f${i}`) });
    await assert.rejects(audit.flush({ timeoutMillis: 300 }), (e: unknown) => e instanceof FlushTimeoutError && e.pending === 3);
    assert.deepEqual(await audit.shutdown({ timeoutMillis: 300 }), { undelivered: 3, keptInSpool: 0 });
    const report = errors.find((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === 'shutdown_pending');
    assert.equal(report?.count, 3);
    assert.equal(report?.records?.length, 3);
    assert.equal(audit.stats().dropped, 3);
    assert.equal(audit.stats().pending, 0);
    // Shutdown runs once: a second call returns the same outcome.
    assert.deepEqual(await audit.shutdown(), { undelivered: 3, keptInSpool: 0 });
  });
});

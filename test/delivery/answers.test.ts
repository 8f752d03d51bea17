// Answers are classified by what they are, not only by their status: a 2xx that is not an OTLP
// response is a refusal (kept, retried, reported), a 400 that carries no OTLP Status is a refusal,
// a partial success belongs to its own request. Through the public API, against small listeners.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, createAuditLogger, type AuditError } from '../../src/index.js';
import { otlpStatus, partialSuccess, startOtlpListener, type Answer } from '../helpers/otlp-listener.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uids = (records: { attributes: Record<string, unknown> }[]) => records.map((r) => String(r.attributes['log.record.uid']));
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };
const reasons = (errors: AuditError[], reason: string) => errors.filter((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === reason);
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

describe('a 2xx that is not an OTLP response', () => {
  it('200 with the body "\\n\\n" as protobuf (the issue\'s repro) leaves the event loop running: refused, reported, never counted as delivered', async () => {
    // In a child process: on a decoder that reads past the end, the event loop never turns again.
    const listener = await startOtlpListener(() => ({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: '\n\n' }));
    const script = `
      import { createAuditLogger } from './src/index.ts';
      import { gristCatalog } from './src/catalog/catalogs/grist/index.ts';
      const reports = [];
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: ${JSON.stringify(listener.url)}, retry: { initialDelayMillis: 50, maxDelayMillis: 100 }, onError: (e) => reports.push(e.message) });
      audit.logEvent('document.create', { details: { document: { id: 'd', name: 'n' } } });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      setTimeout(async () => {
        clearInterval(timer);
        const stats = audit.stats();
        await audit.shutdown({ timeoutMillis: 100 });
        process.stdout.write(JSON.stringify({ ticks, exported: stats.exported, refused: stats.refused, reports }));
      }, 1000);`;
    const started = Date.now();
    const outcome = await new Promise<{ out: string; error: Error | null }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 20_000, encoding: 'utf8' }, (error, out) => resolve({ out, error })),
    );
    await listener.close();
    assert.equal(outcome.error, null, `the child did not finish by itself (${Date.now() - started} ms): the event loop hung`);
    const result = JSON.parse(outcome.out) as { ticks: number; exported: number; refused: number; reports: string[] };
    assert.ok(result.ticks >= 50, `a 10 ms timer fired ${result.ticks} times in 1 s`);
    assert.equal(result.exported, 0, 'not delivered');
    assert.ok(result.refused >= 1, 'counted as refused');
    assert.match(result.reports.join('\n'), /collector_refused: .*not an OTLP response.*answered at http:\/\/127\.0\.0\.1:\d+\/v1\/logs/);
  });

  it('200 text/html to everything (the application\'s own web server): refused and reported with what answered; delivered once the endpoint is right', async () => {
    let fixed = false;
    const listener = await startOtlpListener(() => (fixed ? { status: 200 } : { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><html><body>Welcome</body></html>', keep: false }));
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, retry: fastRetry, onError: (e) => errors.push(e) });
    const ids = Array.from({ length: 10 }, (_, i) => audit.logEvent('document.create', { details: details(`h${i}`) }));
    await tick(600);
    assert.equal(audit.stats().exported, 0, 'an HTML page is not an acknowledgement');
    assert.equal(audit.stats().pending, 10);
    const refused = reasons(errors, 'collector_refused');
    assert.equal(refused.length, 1, 'reported once per streak');
    assert.match(refused[0]!.message, /an HTML page \(text\/html\) answered at http:\/\/127\.0\.0\.1:\d+\/v1\/logs with HTTP 200: is this the OTLP endpoint\?/);
    fixed = true;
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown();
    await listener.close();
    assert.deepEqual(uids(listener.records).sort(), [...ids].sort());
    assert.equal(audit.stats().deadLettered, 0);
  });
});

describe('a 400 that is not an OTLP Status', () => {
  it('a proxy answering 400 with an HTML page for 1.5 s dead-letters nothing: every event is delivered when it recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-waf-'));
    const until = Date.now() + 1500;
    const listener = await startOtlpListener(() =>
      Date.now() < until ? { status: 400, headers: { 'content-type': 'text/html' }, body: '<html><head><title>400 Bad Request</title></head><body>Request blocked</body></html>' } : { status: 200 },
    );
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: (e) => errors.push(e) });
    const ids = Array.from({ length: 300 }, (_, i) => audit.logEvent('document.create', { details: details(`w${i}`) }));
    await audit.flush({ timeoutMillis: 15_000 });
    await audit.shutdown();
    await listener.close();
    assert.equal(audit.stats().deadLettered, 0);
    assert.equal(existsSync(join(dir, 'slot-0000', 'dead-letters.ndjson')), false);
    assert.deepEqual([...new Set(uids(listener.records))].sort(), [...ids].sort());
    assert.match(reasons(errors, 'collector_refused')[0]?.message ?? '', /HTTP 400 .*an HTML page \(text\/html\).*not an OTLP Status/);
  });

  it('a 400 carrying an OTLP Status is a record rejection: the record is dead-lettered with the Status message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-status-'));
    const poisoned = new Set<string>();
    const listener = await startOtlpListener((_, records) =>
      records.some((r) => poisoned.has(String(r.attributes['log.record.uid']))) ? { status: 400, body: otlpStatus(3, 'log record body exceeds the limit') } : { status: 200 },
    );
    const deadLetterFile = join(dir, 'dead.ndjson');
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, deadLetterFile, retry: fastRetry, onError: () => undefined });
    const ids = Array.from({ length: 40 }, (_, i) => {
      const id = audit.logEvent('document.create', { details: details(`s${i}`) });
      if (i === 17) poisoned.add(id);
      return id;
    });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const dead = readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; error: string; status: number });
    assert.deepEqual(dead.map((d) => d.id), [...poisoned]);
    assert.equal(dead[0]!.status, 400);
    assert.equal(dead[0]!.error, 'HTTP 400: log record body exceeds the limit');
    assert.deepEqual(uids(listener.records).sort(), ids.filter((id) => !poisoned.has(id)).sort());
  });
});

describe('413: too large', () => {
  it('an HTML 413 (nginx) splits the batch until the requests pass; one record still refused is dead-lettered as too large', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-413-'));
    const nginx413 = { status: 413, headers: { 'content-type': 'text/html' }, body: '<html><head><title>413 Request Entity Too Large</title></head></html>' };
    const big = new Set<string>();
    const listener = await startOtlpListener((_, records) => (records.length > 4 || records.some((r) => big.has(String(r.attributes['log.record.uid']))) ? nginx413 : { status: 200 }));
    const deadLetterFile = join(dir, 'dead.ndjson');
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, deadLetterFile, retry: fastRetry, onError: () => undefined });
    const ids = Array.from({ length: 30 }, (_, i) => {
      const id = audit.logEvent('document.create', { details: details(i === 9 ? 'x'.repeat(5000) : `t${i}`) });
      if (i === 9) big.add(id);
      return id;
    });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const dead = readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; error: string; status: number });
    assert.deepEqual(dead.map((d) => d.id), [...big]);
    assert.match(dead[0]!.error, /^HTTP 413: too large for http:\/\/127\.0\.0\.1:\d+\/v1\/logs \(one record of \d+ bytes\)/);
    assert.deepEqual(uids(listener.records).sort(), ids.filter((id) => !big.has(id)).sort());
  });
});

describe('a batch that keeps failing while smaller ones pass is split', () => {
  it('a 503 naming a size limit: split at once, and one record still too large is dead-lettered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-503-'));
    const tooLarge = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'kafka: Message was too large, server rejected it to avoid allocation error (max_message_bytes)' };
    const listener = await startOtlpListener((_, records) => (records.length > 3 ? tooLarge : { status: 200 }));
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, deadLetterFile: join(dir, 'dead.ndjson'), retry: fastRetry, onError: () => undefined });
    const ids = Array.from({ length: 25 }, (_, i) => audit.logEvent('document.create', { details: details(`k${i}`) }));
    await audit.flush({ timeoutMillis: 5000 });
    await audit.shutdown();
    await listener.close();
    assert.deepEqual(uids(listener.records).sort(), [...ids].sort());
    assert.ok(listener.requests.filter((r) => r.status === 503).length <= 12, `${listener.requests.filter((r) => r.status === 503).length} refused requests: split at the first answer, not after retries`);
  });

  it('a poisoned batch that resets the connection while other exports succeed is split after 3 failures; it holds back nothing behind it', async () => {
    const poisoned = new Set<string>();
    const listener = await startOtlpListener((_, records) => (records.some((r) => poisoned.has(String(r.attributes['log.record.uid']))) ? { status: 0, reset: true } : { status: 200 }));
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, maxBatchRecords: 10, retry: fastRetry, onError: (e) => errors.push(e) });
    const ids = Array.from({ length: 100 }, (_, i) => {
      const id = audit.logEvent('document.create', { details: details(`z${i}`) });
      if (i === 3) poisoned.add(id);
      return id;
    });
    await tick(3000);
    const delivered = new Set(uids(listener.records));
    await audit.shutdown({ timeoutMillis: 200 });
    await listener.close();
    assert.deepEqual(ids.filter((id) => !delivered.has(id)), [...poisoned], 'only the poisoned record is left; the rest of its batch and every batch behind it arrived');
  });
});

describe('a partial success belongs to its own request', () => {
  it('8 exports in flight; partial successes answered at once, pages that say nothing of it answered later: exactly the rejected records are dead-lettered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-partial-'));
    const poisoned = new Set<string>();
    // A partial success comes back at once; the other requests of the first 60 get a page that
    // says nothing of partial success, 100 ms later, while partial successes of other requests
    // arrive. Kept by the listener: only a partial success taken for another request's (one shared
    // slot) can make a clean record look rejected.
    const listener = await startOtlpListener((n, records): Answer => {
      const rejected = records.filter((r) => poisoned.has(String(r.attributes['log.record.uid']))).length;
      if (rejected > 0) return { status: 200, body: partialSuccess(rejected, 'attribute value too long', true), keep: false };
      return n < 60 ? { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>OK</html>', delayMillis: 100, keep: true } : { status: 200 };
    });
    const deadLetterFile = join(dir, 'dead.ndjson');
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, protocol: 'http/json', maxBatchRecords: 5, maxConcurrentExports: 8, deadLetterFile, retry: fastRetry, onError: () => undefined });
    const ids = Array.from({ length: 80 }, (_, i) => {
      const id = audit.logEvent('document.create', { details: details(`p${i}`) });
      if (i % 9 === 4) poisoned.add(id);
      return id;
    });
    await audit.shutdown({ timeoutMillis: 15_000 });
    await listener.close();
    const dead = existsSync(deadLetterFile) ? readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id) : [];
    assert.deepEqual(dead.filter((id) => !poisoned.has(id)), [], 'no clean record dead-lettered');
    assert.deepEqual(dead.sort(), [...poisoned].sort(), 'exactly the rejected records');
    assert.deepEqual(uids(listener.records).filter((id) => poisoned.has(id)), [], 'no rejected record counted as delivered');
    assert.deepEqual([...new Set(uids(listener.records))].sort(), ids.filter((id) => !poisoned.has(id)).sort());
  });
});

// Deadlines and reports mean what they say: shutdown resolves by its deadline whatever the
// collector does, an outage is reported on time and says how long it lasted, and the retry
// settings shape the wire (the sender owns every retry; the transport makes one request per attempt).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, createAuditLogger, type AuditError } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';
import { startOtlpListener, type Answer } from '../helpers/otlp-listener.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const reasons = (errors: AuditError[], reason: string) => errors.filter((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === reason);
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** What shutdown may take beyond its deadline: the last turns of the event loop, closing the spool (an fdatasync). */
const SHUTDOWN_MARGIN_MILLIS = 100;

/** A TCP listener that accepts and resets every connection, recording when each came. */
async function resettingListener() {
  const times: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    times.push(Date.now());
    sockets.add(socket);
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/logs`, times, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Collector = { url: string; close: () => Promise<void> };
const collectors: Record<string, () => Promise<Collector>> = {
  down: async () => ({ url: `http://127.0.0.1:${await freePort()}/v1/logs`, close: async () => undefined }),
  refusing: () => startOtlpListener(() => ({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'unauthorized' })),
  failing: () => startOtlpListener(() => ({ status: 503 })),
  hanging: () => startOtlpListener(() => ({ status: 200, hang: true })),
  resetting: resettingListener,
};

describe('shutdown({ timeoutMillis }) resolves by its deadline', () => {
  const timings: string[] = [];
  after(() => console.log(`shutdown({ timeoutMillis: 1000 }) took:\n  ${timings.join('\n  ')}`));
  for (const [name, start] of Object.entries(collectors)) {
    for (const spool of [false, true]) {
      it(`collector ${name}, ${spool ? 'with a spool' : 'memory queue'}: within 1000 + ${SHUTDOWN_MARGIN_MILLIS} ms, nothing lost silently`, async () => {
        const collector = await start();
        const errors: AuditError[] = [];
        // The default per-attempt timeout (10 s) and backoff: a shutdown must not wait for them.
        const audit = createAuditLogger({ catalog: gristCatalog, endpoint: collector.url, ...(spool ? { spoolDir: mkdtempSync(join(tmpdir(), 'otel-audit-deadline-')) } : {}), onError: (e) => errors.push(e) });
        for (let i = 0; i < 50; i++) audit.logEvent('document.create', { details: details(`${name}${i}`) });
        await tick(300); // exports are out, or backing off
        const started = Date.now();
        const result = await audit.shutdown({ timeoutMillis: 1000 });
        const took = Date.now() - started;
        timings.push(`${name}, ${spool ? 'spool' : 'memory'}: ${took} ms`);
        await collector.close();
        assert.ok(took <= 1000 + SHUTDOWN_MARGIN_MILLIS, `took ${took} ms`);
        assert.ok(took >= 990, `resolved early, at ${took} ms, with ${result.undelivered} undelivered`);
        // 50 events, the start checkpoint and the final one.
        assert.equal(result.undelivered, 52);
        if (spool) assert.equal(result.keptInSpool, 52);
        else assert.equal(reasons(errors, 'shutdown_pending').reduce((n, e) => n + e.count, 0), 52);
      });
    }
  }
});

describe('an outage is reported within a second of outage.reportAfterMillis, and says how long it lasted', () => {
  for (const name of ['hanging', 'down'] as const) {
    it(`collector ${name}: collector_unreachable 1-2 s after the first attempt, "for 1 s"`, async () => {
      const collector = await collectors[name]!();
      const reports: { at: number; message: string }[] = [];
      const started = Date.now();
      const audit = createAuditLogger({
        catalog: gristCatalog,
        checkpoints: false,
        endpoint: collector.url,
        outage: { reportAfterMillis: 1000 },
        onError: (e) => {
          if (e instanceof AuditDeliveryError && e.reason === 'collector_unreachable') reports.push({ at: Date.now() - started, message: e.message });
        },
      });
      audit.logEvent('document.create', { details: details(name) });
      await tick(2500);
      await audit.shutdown({ timeoutMillis: 100 });
      await collector.close();
      console.log(`collector ${name}, reportAfterMillis 1000: ${reports.map((r) => `at ${r.at} ms "${r.message}"`).join('; ')}`);
      assert.equal(reports.length, 1, JSON.stringify(reports));
      assert.ok(reports[0]!.at >= 1000 && reports[0]!.at <= 2000, `reported at ${reports[0]!.at} ms`);
      assert.match(reports[0]!.message, /has not accepted an export for 1 s/);
    });
  }
});

describe('retry settings shape the wire', () => {
  /** The wait before attempt n+1 is drawn from [ceiling/2, ceiling], ceiling = min(maxDelayMillis, initialDelayMillis * 2^n). */
  function checkBackoff(times: number[], initial: number, max: number): string[] {
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    return gaps.flatMap((gap, n) => {
      const ceiling = Math.min(max, initial * 2 ** n);
      // Late by a little (timers, the request itself), never early.
      return gap >= ceiling / 2 - 5 && gap <= ceiling + 150 ? [] : [`attempt ${n + 2} came ${gap} ms after the one before (expected ${ceiling / 2}-${ceiling} ms)`];
    });
  }

  it('retry: { maxDelayMillis: 2000 } against a collector answering 503: one request per attempt, spaced by the documented backoff', async () => {
    const listener = await startOtlpListener(() => ({ status: 503 }));
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, retry: { maxDelayMillis: 2000 }, onError: () => undefined });
    audit.logEvent('document.create', { details: details('backoff') });
    await tick(9000);
    await audit.shutdown({ timeoutMillis: 100 });
    await listener.close();
    const times = listener.requests.map((r) => r.at);
    console.log(`attempts against a 503 listener (ms after the first): ${times.map((t) => t - times[0]!).join(', ')}`);
    assert.ok(times.length >= 6 && times.length <= 10, `${times.length} attempts in 9 s`);
    assert.deepEqual(checkBackoff(times, 500, 2000), []);
  });

  it('retry: { maxDelayMillis: 2000 } against a listener that resets every connection: the same spacing', async () => {
    const listener = await resettingListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, retry: { maxDelayMillis: 2000 }, onError: () => undefined });
    audit.logEvent('document.create', { details: details('reset') });
    await tick(9000);
    await audit.shutdown({ timeoutMillis: 100 });
    await listener.close();
    const times = listener.times;
    console.log(`attempts against a resetting listener (ms after the first): ${times.map((t) => t - times[0]!).join(', ')}`);
    assert.ok(times.length >= 6 && times.length <= 10, `${times.length} attempts in 9 s`);
    assert.deepEqual(checkBackoff(times, 500, 2000), []);
  });

  it('Retry-After as an HTTP date is honoured as the next wait, beyond maxDelayMillis', async () => {
    const answers: Answer[] = [];
    const listener = await startOtlpListener((n) => {
      const answer: Answer = n === 0 ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2500).toUTCString() } } : { status: 200 };
      answers.push(answer);
      return answer;
    });
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, retry: { initialDelayMillis: 50, maxDelayMillis: 200 }, onError: () => undefined });
    audit.logEvent('document.create', { details: details('date') });
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown();
    await listener.close();
    const [first, second] = listener.requests;
    // An HTTP date has whole seconds: the wait is 1.5-2.5 s.
    assert.ok(second!.at - first!.at >= 1500, `waited ${second!.at - first!.at} ms`);
  });
});

// What the delivery promises at its edges: refusals that are configuration (401/403/404/415) are
// retried and reported, never dead-lettered; what is sent is what was validated; options are
// checked at creation; shutdown and what follows it are defined; an outage is reported; dead
// letters can be sent again.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, AuditOptionsError, createAuditLogger, defineCatalog, FlushTimeoutError, type AuditError, type AuditInfo } from '../../src/index.js';
import { DEFAULTS } from '../../src/options.js';
import { freePort } from '../helpers/ports.js';
import { otlpStatus, startOtlpListener } from '../helpers/otlp-listener.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const uids = (records: { attributes: Record<string, unknown> }[]) => records.map((r) => String(r.attributes['log.record.uid']));
const fastRetry = { initialDelayMillis: 50, maxDelayMillis: 200 };
const reasons = (errors: AuditError[], reason: string) => errors.filter((e): e is AuditDeliveryError => e instanceof AuditDeliveryError && e.reason === reason);
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

describe('refusals that are configuration, not content', () => {
  for (const status of [401, 403, 404, 415]) {
    it(`HTTP ${status}: retried with backoff and reported (collector_refused, counted), never dead-lettered; delivered once fixed`, async () => {
      let fixed = false;
      const listener = await startOtlpListener(() => (fixed ? { status: 200 } : { status }));
      const dir = mkdtempSync(join(tmpdir(), 'otel-audit-refused-'));
      const errors: AuditError[] = [];
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: (e) => errors.push(e) });
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push(await audit.logEventOrThrow('document.create', { details: details(`x${i}`) }));
      await tick(600);
      assert.ok(audit.stats().refused >= 2, `refused ${audit.stats().refused}`);
      assert.equal(audit.stats().deadLettered, 0);
      const refused = reasons(errors, 'collector_refused');
      assert.equal(refused.length, 1, 'the same refusal is reported once, not on every attempt');
      assert.match(refused[0]!.message, new RegExp(`HTTP ${status}`));
      if (status === 404) assert.match(refused[0]!.message, /\/v1\/logs/);
      fixed = true;
      await audit.flush({ timeoutMillis: 10_000 });
      await audit.shutdown();
      await listener.close();
      assert.deepEqual([...new Set(uids(listener.records))].sort(), [...ids].sort());
      assert.equal(existsSync(join(dir, 'slot-0000', 'dead-letters.ndjson')), false);
    });
  }
});

describe('what is sent is what was validated', () => {
  const catalog = defineCatalog({
    'invoice.pay': {
      description: 'An invoice was paid.',
      scopes: ['site'],
      // Not strict: unknown keys are stripped by zod, and must not travel.
      details: z.object({ invoice: z.object({ id: z.string().transform((s) => s.toUpperCase()), currency: z.string().default('EUR') }) }),
      sample: { invoice: { id: 'inv_1', currency: 'USD' } },
    },
    'invoice.schedule': {
      description: 'An invoice was scheduled.',
      scopes: ['site'],
      details: z.object({ at: z.date() }),
      sample: { at: new Date(0) },
    },
    'invoice.count': {
      description: 'Invoices were counted.',
      scopes: ['site'],
      details: z.object({ total: z.bigint() }),
      sample: { total: 1n },
    },
  });

  it('zod output: unknown keys stripped, transforms and defaults applied; a Date or bigint output is a counted, reported drop', async () => {
    const listener = await startOtlpListener();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    audit.logEvent('invoice.pay', { details: { invoice: { id: 'inv_9', password: 'hunter2' } as never } });
    audit.logEvent('invoice.schedule', { details: { at: new Date() } });
    audit.logEvent('invoice.count', { details: { total: 12n } });
    await assert.rejects(audit.logEventOrThrow('invoice.schedule', { details: { at: new Date() } }), (e: unknown) => e instanceof AuditDeliveryError && e.reason === 'unserializable');
    await audit.shutdown();
    await listener.close();
    assert.equal(listener.records.length, 1);
    assert.deepEqual((listener.records[0]!.body as { details: unknown }).details, { invoice: { id: 'INV_9', currency: 'EUR' } });
    assert.equal(reasons(errors, 'unserializable').length, 2);
    assert.equal(audit.stats().dropped, 3);
    assert.equal(audit.stats().emitted, 1);
  });
});

describe('options are validated once, at creation, with the option named', () => {
  const cases: [string, object, RegExp][] = [
    ['maxBatchBytes: 0', { maxBatchBytes: 0 }, /option maxBatchBytes must be a whole number of at least 1024/],
    ['maxBatchRecords: 0', { maxBatchRecords: 0 }, /option maxBatchRecords must be a whole number of at least 1/],
    ['checkpoints.intervalMillis: 0', { checkpoints: { intervalMillis: 0 } }, /option checkpoints.intervalMillis must be a whole number of at least 100/],
    ['maxConcurrentExports: 31', { maxConcurrentExports: 31 }, /option maxConcurrentExports must be a whole number from 1 to 30/],
    ['retry.maxDelayMillis below the initial delay', { retry: { initialDelayMillis: 1000, maxDelayMillis: 10 } }, /option retry.maxDelayMillis/],
    ['endpoint without a scheme', { endpoint: 'gateway:4318' }, /option endpoint must be an http\(s\) URL/],
    ['invalidEvents', { invalidEvents: 'keep' }, /option invalidEvents must be 'deliver' or 'drop'/],
    ['signingKey that is not Ed25519', { checkpoints: { signingKey: 'not a key' } }, /option checkpoints.signingKey must be an Ed25519 private key/],
    ['headers with a number', { headers: { 'x-n': 1 } }, /option headers.x-n must be a string/],
  ];
  for (const [name, options, message] of cases) {
    it(name, () => {
      assert.throws(() => createAuditLogger({ catalog: gristCatalog, ...options } as never), (e: unknown) => e instanceof AuditOptionsError && message.test(e.message));
    });
  }

  it("the option table of docs/library.md states the defaults of the one table in src/options.ts", () => {
    const library = readFileSync(new URL('../../docs/library.md', import.meta.url), 'utf8');
    const row = (option: string) => library.split('\n').find((line) => line.startsWith(`| \`${option}\``)) ?? '';
    const number = (n: number) => n.toLocaleString('en-US').replace(/,/g, '');
    assert.match(row('maxQueueRecords'), new RegExp(`\\| ${number(DEFAULTS.maxQueueRecords)} \\|`));
    assert.match(row('maxBatchRecords'), new RegExp(`\\| ${number(DEFAULTS.maxBatchRecords)} \\|`));
    assert.match(row('maxBatchBytes'), new RegExp(`\\| ${number(DEFAULTS.maxBatchBytes)} \\|`));
    assert.match(row('maxConcurrentExports'), new RegExp(`\\| ${DEFAULTS.maxConcurrentExports} \\|`));
    assert.match(row('maxSegmentBytes'), new RegExp(`\\| ${number(DEFAULTS.maxSegmentBytes)} \\|`));
    assert.match(row('retry'), new RegExp(`initialDelayMillis: ${DEFAULTS.retryInitialDelayMillis}, maxDelayMillis: ${DEFAULTS.retryMaxDelayMillis}, maxElapsedMillis: Infinity`));
    assert.match(row('outage'), new RegExp(`reportAfterMillis: ${DEFAULTS.outageReportAfterMillis}, repeatEveryMillis: ${DEFAULTS.outageRepeatEveryMillis}`));
    assert.match(row('checkpoints'), new RegExp(`intervalMillis: ${DEFAULTS.checkpointIntervalMillis}`));
    assert.match(row('invalidEvents'), new RegExp(`'${DEFAULTS.invalidEvents}'`));
    assert.ok(row('endpoint').includes(`\`${DEFAULTS.endpoint}\``), row('endpoint'));
    assert.match(row('timeoutMillis'), new RegExp(`, else ${DEFAULTS.timeoutMillis} \\|`));
    assert.match(row('compression'), new RegExp(`, else \`${DEFAULTS.compression}\` \\|`));
    assert.match(row('protocol'), new RegExp(`, else \`${DEFAULTS.protocol}\` \\|`));
  });
});

describe('shutdown, and what comes after it', () => {
  it('after shutdown: flush settles at once, logEvent neither advances the chain nor counts as emitted, logEventOrThrow rejects as logger_shut_down', async () => {
    const port = await freePort();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 200, retry: fastRetry, onError: (e) => errors.push(e) });
    audit.logEvent('document.create', { details: details('before') });
    await audit.shutdown({ timeoutMillis: 200 });
    const emitted = audit.stats().emitted;
    const settled = await Promise.race([audit.flush().then(() => 'resolved', (e: unknown) => (e instanceof FlushTimeoutError ? 'rejected' : 'other')), tick(1000).then(() => 'still waiting')]);
    assert.notEqual(settled, 'still waiting');
    audit.logEvent('document.create', { details: details('after') });
    await assert.rejects(audit.logEventOrThrow('document.create', { details: details('after') }), (e: unknown) => e instanceof AuditDeliveryError && e.reason === 'logger_shut_down');
    assert.equal(audit.stats().emitted, emitted);
    assert.equal(reasons(errors, 'logger_shut_down').length, 2);
    assert.equal(audit.stats().dropped, 3, 'the one shutdown could not deliver, and the two logged after it');
  });

  it('events logged while shutdown drains go into the spool and are delivered by the next process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-draining-'));
    const port = await freePort();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 200, retry: fastRetry, onError: () => undefined });
    const ids = [audit.logEvent('document.create', { details: details('queued') })];
    const closing = audit.shutdown({ timeoutMillis: 500 });
    ids.push(audit.logEvent('document.create', { details: details('while-draining') }));
    const result = await closing;
    assert.deepEqual(result, { undelivered: 2, keptInSpool: 2 });
    assert.equal(audit.stats().dropped, 0);
    const listener = await startOtlpListener(undefined, port);
    const next = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, onError: assert.fail });
    await next.shutdown();
    await listener.close();
    assert.deepEqual(uids(listener.records), ids);
  });

  it("the README's SIGTERM example exits without an unhandled rejection while the collector is down", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-sigterm-'));
    const script = `
      import { createAuditLogger } from './src/index.ts';
      import { gristCatalog } from './src/catalog/catalogs/grist/index.ts';
      const audit = createAuditLogger({ catalog: gristCatalog, endpoint: 'http://127.0.0.1:${port}/v1/logs', timeoutMillis: 200, onError: () => {} });
      audit.logEvent('document.create', { details: { document: { id: 'd', name: 'n' } } });
      process.on('SIGTERM', async () => {
        await audit.shutdown({ timeoutMillis: 500 }); // what is left stays in the spool for the next start
        process.exit(0);
      });
      process.kill(process.pid, 'SIGTERM');
      setInterval(() => {}, 1000);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
    assert.equal(out, '');
  });
});

describe('an outage is reported', () => {
  it('collector_unreachable after the configured time, then at intervals, and collector_recovered once; the oldest pending age is in stats()', async () => {
    const port = await freePort();
    const errors: AuditError[] = [];
    const infos: AuditInfo[] = [];
    const audit = createAuditLogger({
      catalog: gristCatalog,
      checkpoints: false,
      endpoint: `http://127.0.0.1:${port}/v1/logs`,
      timeoutMillis: 100,
      retry: { initialDelayMillis: 20, maxDelayMillis: 50 },
      outage: { reportAfterMillis: 300, repeatEveryMillis: 400 },
      onError: (e) => errors.push(e),
      onInfo: (i) => infos.push(i),
    });
    const id = audit.logEvent('document.create', { details: details('waiting') });
    await tick(200);
    assert.equal(reasons(errors, 'collector_unreachable').length, 0, 'not before reportAfterMillis');
    await tick(900);
    const reports = reasons(errors, 'collector_unreachable');
    assert.ok(reports.length >= 2, `${reports.length} reports`);
    assert.match(reports[0]!.message, /1 event\(s\) pending, the oldest \d+ s old/);
    assert.ok(audit.stats().oldestPendingAgeMillis >= 1000, `${audit.stats().oldestPendingAgeMillis} ms`);
    const listener = await startOtlpListener(undefined, port);
    await audit.flush({ timeoutMillis: 10_000 });
    // Information, not an error: onInfo is told, onError is not.
    assert.deepEqual(infos.map((i) => i.reason), ['collector_recovered']);
    assert.ok(errors.every((e) => (e as { reason?: string }).reason !== 'collector_recovered'));
    assert.equal(audit.stats().oldestPendingAgeMillis, 0);
    await audit.shutdown();
    await listener.close();
    assert.deepEqual(uids(listener.records), [id]);
  });
});

describe('otel-audit spool --redrive', () => {
  /** Five events the collector refused with 400, dead-lettered; then the collector accepts. */
  async function deadLettered() {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-redrive-'));
    let accept = false;
    const listener = await startOtlpListener(() => (accept ? { status: 200 } : { status: 400, body: otlpStatus(3, 'schema mismatch') }));
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: () => undefined });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await audit.logEventOrThrow('document.create', { details: details(`dl${i}`) }));
    await audit.shutdown();
    accept = true;
    return { dir, listener, ids, file: join(dir, 'slot-0000', 'dead-letters.ndjson') };
  }

  async function redrive(dir: string, endpoint: string): Promise<string> {
    const root = new URL('../..', import.meta.url).pathname;
    // Asynchronously: the listener answers from this process.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'spool', dir, '--redrive', '--endpoint', endpoint], { encoding: 'utf8' });
    return stdout;
  }

  it('sends the dead letters again after the configuration is fixed: once each, in order, removing those accepted', async () => {
    const { dir, listener, ids, file } = await deadLettered();
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 5);
    const out = await redrive(dir, listener.url);
    await listener.close();
    assert.match(out, /5 of 5 dead letter\(s\) accepted/);
    assert.deepEqual(uids(listener.records), ids, 'once each, in order');
    assert.equal(existsSync(file), false, 'nothing left to redrive');
  });

  it('sends them in the order of the chain where the file holds them in the order the answers came (several exports in flight)', async () => {
    const { dir, listener, ids, file } = await deadLettered();
    writeFileSync(file, readFileSync(file, 'utf8').trim().split('\n').reverse().map((line) => `${line}\n`).join(''));
    await redrive(dir, listener.url);
    await listener.close();
    assert.deepEqual(uids(listener.records), ids, 'in the order of seq');
  });
});

describe('a dead-letter file that cannot be written', () => {
  it('keeps the refused record queued (reported), and dead-letters it once the file can be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-dlq-'));
    const listener = await startOtlpListener(() => ({ status: 400, body: otlpStatus(3, 'refused by test') }));
    const errors: AuditError[] = [];
    const deadLetterFile = join(dir, 'not-yet', 'dead.ndjson');
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: join(dir, 'spool'), deadLetterFile, retry: fastRetry, onError: (e) => errors.push(e) });
    const id = await audit.logEventOrThrow('document.create', { details: details('refused') });
    await tick(500);
    assert.equal(audit.stats().deadLettered, 0);
    assert.equal(audit.stats().pending, 1, 'still queued, not acknowledged away');
    assert.ok(reasons(errors, 'spool_unavailable').some((e) => /cannot write .*dead\.ndjson.*stay queued/.test(e.message)));
    mkdirSync(join(dir, 'not-yet'));
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown();
    await listener.close();
    assert.equal(audit.stats().deadLettered, 1);
    assert.match(readFileSync(deadLetterFile, 'utf8'), new RegExp(id));
  });
});

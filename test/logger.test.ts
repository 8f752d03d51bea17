import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import {
  AuditDeliveryError,
  AuditValidationError,
  createAuditLogger,
  currentAuditContext,
  runWithAuditContext,
  type AuditError,
  type AuditInfo,
  type AuditLogger,
  type AuditReport,
} from '../src/index.js';
import { nodeFileSystem } from '../src/delivery/file-system.js';
import { emptyStats } from '../src/delivery/stats.js';
import { createAuditLoggerWith } from '../src/logger.js';
import { freePort } from './helpers/ports.js';
import { sampleEvent } from './helpers/fixtures.js';
import { otlpStatus, startOtlpListener } from './helpers/otlp-listener.js';

const details = { document: { id: 'doc-1', name: 'Plan' } };

/** Deterministic generator of hostile inputs: every kind the issue names, mixed. */
function* malformedInputs(count: number): Generator<[unknown, unknown]> {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic['self'] = cyclic;
  class Document {
    constructor(readonly id: string) {}
  }
  const hostile = Object.defineProperty({}, 'name', { enumerable: true, get: () => { throw new Error('getter explodes'); } });
  const huge = 'x'.repeat(1_000_000);
  const oddUnicode = '\ud800 lone surrogate, \u0000 nul, \u202e rtl, 🧇';
  const kinds: ((i: number) => [unknown, unknown])[] = [
    (i) => ['document.create', { details: { document: { id: i, name: 'n' } } }],
    () => ['document.create', { details: { document: { id: 'x' } } }],
    () => ['document.create', { details: {} }],
    () => ['document.create', {}],
    () => ['document.create', undefined],
    () => ['document.create', null],
    () => ['document.create', 42],
    () => ['document.create', { details: { document: { id: huge, name: oddUnicode } }, actor: { type: 'user' } }],
    () => ['document.create', { details: { document: cyclic } }],
    (i) => ['document.create', { details: { document: new Document(`d${i}`) } }],
    () => ['document.create', { details: { document: hostile } }],
    () => ['config.create', { details: { config: { id: 1, key: 'k', value: cyclic } } }],
    () => ['config.create', { details: { config: { id: 1, key: 'k', value: new Map([[1, 2]]) } } }],
    () => ['config.create', { details: { config: { id: 1n, key: Symbol('k'), value: () => 1 } } }],
    () => ['no.such_action', { details }],
    () => [undefined, { details }],
    () => [{ toString: () => { throw new Error('no string'); } }, { details }],
    () => ['document.create', { details, actor: { type: 'robot' } }],
    () => ['document.create', { details, context: { ip_address: 'not-an-ip', user_agent: 7 } }],
    () => ['document.create', { details: { document: { id: 'a', name: 'b', extra: true } } }],
  ];
  for (let i = 0; i < count; i++) yield kinds[i % kinds.length]!(i);
}

describe('logEvent with bad input', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());

  it('never throws; each of 1,000 malformed events is reported and delivered flagged invalid', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    const ids: string[] = [];
    for (const [action, props] of malformedInputs(1000)) {
      ids.push(audit.logEvent(action as 'document.create', props as never));
    }
    await audit.flush({ timeoutMillis: 20_000 });
    await audit.shutdown();

    const validationErrors = errors.filter((e): e is AuditValidationError => e instanceof AuditValidationError);
    assert.equal(validationErrors.length, 1000, `every event reported (others: ${errors.filter((e) => !(e instanceof AuditValidationError)).map((e) => e.message).join(' | ')})`);
    assert.deepEqual(new Set(validationErrors.map((e) => e.eventId)), new Set(ids));
    const received = new Map(listener.records.map((r) => [r.attributes['log.record.uid'], r]));
    for (const id of ids) {
      const record = received.get(id);
      assert.ok(record, `event ${id} delivered`);
      assert.equal(record.attributes['audit.invalid'], true);
      assert.ok(JSON.parse(String(record.attributes['audit.validation.issues'])).length > 0);
    }
    assert.equal(listener.records.length, 1000);
    const stats = audit.stats();
    assert.equal(stats.invalid, 1000);
    assert.equal(stats.emitted, 1000);
    assert.equal(stats.exported, 1000);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.pending, 0);
  });

  it('names the failing field path in the message', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    audit.logEvent('document.create', { details: { document: { id: 5, name: 'n' } } } as never);
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.match(errors[0]!.message, /details\.document\.id: Invalid input: expected string, received number/);
  });

  it('with invalidEvents: drop, counts and reports each invalid event and sends none of them', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, invalidEvents: 'drop', onError: (e) => errors.push(e) });
    const before = listener.records.length;
    for (const [action, props] of malformedInputs(100)) audit.logEvent(action as 'document.create', props as never);
    const validId = audit.logEvent('document.create', { details });
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.equal(errors.filter((e) => e instanceof AuditValidationError).length, 100);
    assert.equal(errors.filter((e) => e instanceof AuditDeliveryError && e.reason === 'invalid_dropped').length, 100);
    assert.equal(audit.stats().dropped, 100);
    assert.deepEqual(listener.records.slice(before).map((r) => r.attributes['log.record.uid']), [validId]);
  });

  it('survives an onError hook that throws', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: () => { throw new Error('hook bug'); } });
    assert.doesNotThrow(() => audit.logEvent('document.create', { details: null } as never));
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.equal(audit.stats().exported, 1);
  });
});

describe('logEventOrThrow', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());

  it('rejects an invalid event with AuditValidationError carrying the issues, and sends nothing', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: () => undefined });
    const before = listener.records.length;
    await assert.rejects(
      audit.logEventOrThrow('document.create', { details: { document: { id: 'x' } } } as never),
      (error: unknown) => {
        assert.ok(error instanceof AuditValidationError);
        assert.deepEqual(error.issues.map((i) => i.path), ['details.document.name']);
        assert.match(error.message, /details\.document\.name/);
        return true;
      },
    );
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.equal(listener.records.length, before);
    // Rejected before it was emitted: counted apart from the invalid events that were kept.
    assert.equal(audit.stats().rejected, 1);
    assert.equal(audit.stats().invalid, 0);
    assert.equal(audit.stats().emitted, 0);
  });

  it('resolves with the id once the collector acknowledged the event (no spool)', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
    const id = await audit.logEventOrThrow('document.create', { details });
    assert.ok(listener.records.some((r) => r.attributes['log.record.uid'] === id));
    await audit.shutdown();
  });
});

describe('actor and context', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());

  it('come from the request context; explicit values win, context merged field by field', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
    const ids = await runWithAuditContext({ actor: sampleEvent.actor, context: sampleEvent.context }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return [
        audit.logEvent('document.create', { details }),
        audit.logEvent('document.create', { details, actor: { type: 'system' }, context: { session_id: 'explicit' } }),
      ];
    });
    const outside = audit.logEvent('document.create', { details });
    await audit.shutdown({ timeoutMillis: 10_000 });
    const body = (id: string) => listener.records.find((r) => r.attributes['log.record.uid'] === id)!.body as typeof sampleEvent;
    assert.deepEqual(body(ids[0]!).actor, sampleEvent.actor);
    assert.deepEqual(body(ids[0]!).context, sampleEvent.context);
    assert.deepEqual(body(ids[1]!).actor, { type: 'system' });
    assert.deepEqual(body(ids[1]!).context, { ...sampleEvent.context, session_id: 'explicit' });
    assert.deepEqual(body(outside).actor, { type: 'unknown' });
    assert.deepEqual(body(outside).context, {});
  });
});

describe('logEvent chains and encodes after the caller\'s synchronous code', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());
  const received = (id: string) => listener.records.find((r) => r.attributes['log.record.uid'] === id)!;

  it('in call order, across logEvent, logEventOrThrow and checkpoints; stats() counts them at once', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: { intervalMillis: 60_000 }, endpoint: listener.url, onError: assert.fail });
    const first = [audit.logEvent('document.create', { details }), audit.logEvent('document.create', { details })];
    assert.equal(audit.stats().emitted, 2);
    const third = audit.logEvent('document.create', { details });
    const fourth = await audit.logEventOrThrow('document.create', { details });
    const fifth = audit.logEvent('document.create', { details });
    await audit.shutdown({ timeoutMillis: 10_000 });
    const seqs = [...first, third, fourth, fifth].map((id) => Number(received(id).attributes['audit.seq']));
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    const final = listener.records.filter((r) => r.attributes['audit.action'] === 'audit.checkpoint').at(-1)!;
    assert.deepEqual((final.body as { details: { seq: number; final: boolean } }).details, { ...(final.body as { details: object }).details, seq: 5, final: true }, 'the final checkpoint covers every event');
  });

  it('what the caller changes after the call is not what is sent (nor what the chain hashed)', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
    const document = { id: 'doc-7', name: 'as logged' };
    const config = { id: 3, key: 'theme', value: { colours: ['blue'] } };
    const documentId = audit.logEvent('document.create', { details: { document } });
    // jsonValue hands the caller's object through zod: such an event is copied in the call.
    const configId = audit.logEvent('config.create', { details: { config } });
    document.name = 'changed afterwards';
    config.value.colours.push('red');
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.equal((received(documentId).body as { details: { document: typeof document } }).details.document.name, 'as logged');
    assert.deepEqual((received(configId).body as { details: { config: typeof config } }).details.config.value, { colours: ['blue'] });
  });

  it('a synchronous burst as long as maxQueueRecords is kept whole and in order', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, maxQueueRecords: 100, onError: (e) => errors.push(e) });
    const ids = Array.from({ length: 100 }, () => audit.logEvent('document.create', { details }));
    assert.equal(audit.stats().pending, 100);
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(ids.map((id) => Number(received(id).attributes['audit.seq'])), ids.map((_, i) => i + 1));
  });
});

describe('events waiting to be chained, at the edges', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());

  it('shutdown keeps every event logged while it drains, however many wait', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, spoolDir: mkdtempSync(join(tmpdir(), 'otel-audit-pending-')), onError: (e) => errors.push(e) });
    const ids = [audit.logEvent('document.create', { details })];
    // The collector is unreachable: the shutdown drains until its deadline, and events keep coming until just before it.
    const done = audit.shutdown({ timeoutMillis: 500 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (let i = 0; i < 15_000; i++) ids.push(audit.logEvent('document.create', { details }));
    const result = await done;
    assert.deepEqual(errors.filter((e) => e instanceof AuditDeliveryError && e.reason !== 'collector_unreachable'), []);
    assert.equal(result.keptInSpool, ids.length);
    assert.equal(audit.stats().dropped, 0);
  });

  it("an error hook is called after the drain, in the event's own request context; an event it logs waits for the next turn", async () => {
    const seen: string[] = [];
    const audit: AuditLogger<typeof gristCatalog> = createAuditLogger({
      catalog: gristCatalog,
      checkpoints: false,
      endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`,
      maxQueueRecords: 3,
      onError: (e) => {
        if (!(e instanceof AuditDeliveryError) || e.reason !== 'queue_full' || seen.length >= 20) return;
        seen.push(String((currentAuditContext()?.actor as { user?: { id?: string } } | undefined)?.user?.id));
        // A hook that logs for every error it gets: each of its events fills no queue either.
        audit.logEvent('document.create', { details });
      },
    });
    const as = (id: string) => ({ actor: { type: 'user' as const, user: { id, email: `${id}@example.com`, name: id } } });
    runWithAuditContext(as('alice'), () => [1, 2, 3].forEach(() => audit.logEvent('document.create', { details })));
    runWithAuditContext(as('bob'), () => audit.logEvent('document.create', { details }));
    // flush chains what waits first (stats() only reads).
    void audit.flush({ timeoutMillis: 1 }).catch(() => undefined);
    assert.deepEqual(seen, ['bob'], "Bob's event was refused (the queue holds Alice's three), and only it so far");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(seen.length, 20, 'the hook went on, a turn at a time');
    await audit.shutdown({ timeoutMillis: 100 });
  });

  it('an optional field left undefined is absent, not a reason to drop the event, in every action', async () => {
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    const context = { session_id: undefined, user_agent: 'test' };
    const ids = [
      audit.logEvent('document.create', { context, details }),
      audit.logEvent('config.create', { context, details: { config: { id: 1, key: 'theme', value: 'dark' } } }),
    ];
    await audit.shutdown({ timeoutMillis: 10_000 });
    assert.deepEqual(errors, []);
    for (const id of ids) assert.deepEqual((listener.records.find((r) => r.attributes['log.record.uid'] === id)!.body as { context: object }).context, { user_agent: 'test' });
  });
});

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fastRetry = { initialDelayMillis: 20, maxDelayMillis: 50 };

describe('reports: typed by reason, with a level; information apart', () => {
  afterEach(() => diag.disable());

  it('each reason carries its own fields and level: collector_refused, dead_letter, queue_full', async () => {
    let refusing = true;
    const listener = await startOtlpListener((_, records) =>
      refusing ? { status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized' } : records.some((r) => (r.body as { details?: { document?: { id?: string } } }).details?.document?.id === 'poison') ? { status: 400, body: otlpStatus(3, 'bad record') } : { status: 200 },
    );
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-reports-'));
    const reports: AuditReport[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, retry: fastRetry, onError: (r) => reports.push(r) });
    audit.logEvent('document.create', { details });
    await tick(300);
    refusing = false;
    audit.logEvent('document.create', { details: { document: { id: 'poison', name: 'x' } } });
    await audit.flush({ timeoutMillis: 10_000 });
    await audit.shutdown({ timeoutMillis: 5000 });
    await listener.close();

    const refused = reports.find((r) => r.reason === 'collector_refused');
    assert.ok(refused?.reason === 'collector_refused', reports.map((r) => r.message).join('\n'));
    assert.equal(refused.level, 'warn');
    assert.equal(refused.status, 401);
    assert.equal(refused.url, listener.url);
    assert.match(refused.answer, /HTTP 401/);
    assert.equal(refused.count, 1);

    const dead = reports.find((r) => r.reason === 'dead_letter');
    assert.ok(dead?.reason === 'dead_letter', reports.map((r) => r.message).join('\n'));
    assert.equal(dead.level, 'error');
    assert.equal(dead.count, 1);
    assert.equal(dead.status, 400);
    assert.equal(dead.why, 'HTTP 400: bad record');
    assert.equal(dead.file, join(dir, 'slot-0000', 'dead-letters.ndjson'));
    assert.equal(dead.records, undefined, 'the file keeps them');
    assert.ok(dead instanceof AuditDeliveryError);
    assert.deepEqual(audit.pending().deadLetters, { file: dead.file, count: 1 });

    const port = await freePort();
    const full: AuditReport[] = [];
    const small = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, maxQueueRecords: 1, onError: (r) => full.push(r) });
    small.logEvent('document.create', { details });
    small.logEvent('document.create', { details });
    await small.shutdown({ timeoutMillis: 100 });
    const dropped = full.find((r) => r.reason === 'queue_full');
    assert.ok(dropped?.reason === 'queue_full', full.map((r) => r.message).join('\n'));
    assert.equal(dropped.level, 'error');
    assert.equal(dropped.count, 1);
    assert.equal(dropped.records?.length, 1);
  });

  it('information (a replayed backlog) goes to onInfo and to diag at info, never to onError nor to process warnings', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-info-'));
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 100, onError: () => undefined });
    first.logEvent('document.create', { details });
    first.logEvent('document.create', { details });
    assert.equal((await first.shutdown({ timeoutMillis: 200 })).keptInSpool, 2);

    const seen = { error: [] as string[], warn: [] as string[], info: [] as string[] };
    const keep = (level: keyof typeof seen) => (namespace: string, message: unknown) => void (namespace === 'otel-audit' && seen[level].push(String(message)));
    diag.setLogger({ error: keep('error'), warn: keep('warn'), info: keep('info'), debug: () => undefined, verbose: () => undefined }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => void (warning.code === 'OTEL_AUDIT' && warnings.push(warning.message));
    process.on('warning', onWarning);
    const infos: AuditInfo[] = [];
    const errors: AuditReport[] = [];
    try {
      const listener = await startOtlpListener();
      const next = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, spoolDir: dir, onError: (r) => errors.push(r), onInfo: (i) => infos.push(i) });
      await next.flush({ timeoutMillis: 10_000 });
      await next.shutdown();
      await listener.close();
      // Without onInfo: diag only (the default onError, a process warning, is never given information).
      const quiet = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 100 });
      quiet.logEvent('document.create', { details });
      await quiet.shutdown({ timeoutMillis: 200 });
      const again = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 100 });
      await again.shutdown({ timeoutMillis: 200 });
      await tick(20); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(errors, []);
    assert.equal(infos.length, 1, JSON.stringify(infos));
    const replayed = infos[0]!;
    assert.ok(replayed.reason === 'backlog_replayed');
    assert.deepEqual({ ...replayed, message: undefined }, { level: 'info', reason: 'backlog_replayed', slot: join(dir, 'slot-0000'), count: 2, adopted: false, message: undefined });
    assert.ok(!(replayed instanceof Error), 'information is not an error');
    assert.equal(seen.info.filter((line) => /2 event\(s\) an earlier process left/.test(line)).length, 1, seen.info.join('\n'));
    assert.equal(seen.info.filter((line) => /1 event\(s\) an earlier process left/.test(line)).length, 1, 'the quiet logger said it to diag');
    assert.deepEqual(warnings, [], 'no process warning for information');
  });
});

describe('stats() reads, pending() lists what waits', () => {
  it('stats() chains nothing: events waiting to be chained are counted as emitted and pending, and no report is given by reading', async () => {
    const reports: AuditReport[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, maxQueueRecords: 3, onError: (r) => reports.push(r) });
    audit.logEvent('document.create', { details });
    audit.logEvent('document.create', { details });
    await tick(20);
    // Two in the memory queue (the collector is down), room for one more; two wait to be chained.
    audit.logEvent('document.create', { details });
    audit.logEvent('document.create', { details: { document: { id: 7 } } } as never);
    const stats = audit.stats();
    assert.equal(stats.emitted, 4);
    assert.equal(stats.pending, 4);
    assert.equal(stats.invalid, 1, 'counted at the call');
    assert.deepEqual(reports.map((r) => r.reason), ['invalid_event'], 'reading chained nothing (chaining would find the queue full)');
    assert.equal(audit.pending().unchained, 2);
    await tick(20);
    assert.equal(audit.pending().unchained, 0, "chained after the caller's synchronous code");
    assert.deepEqual(reports.map((r) => r.reason), ['invalid_event', 'queue_full']);
    assert.equal(audit.stats().emitted, 4);
    assert.equal(audit.stats().pending, 3);
    assert.equal(audit.stats().dropped, 1);
    await audit.shutdown({ timeoutMillis: 100 });
  });

  it('invalid counts invalid events kept (flagged or dropped by configuration), rejected those logEventOrThrow refused', async () => {
    const listener = await startOtlpListener();
    for (const invalidEvents of ['deliver', 'drop'] as const) {
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, invalidEvents, onError: () => undefined });
      audit.logEvent('document.create', { details: { document: { id: 1 } } } as never);
      await assert.rejects(audit.logEventOrThrow('document.create', { details: { document: { id: 2 } } } as never), AuditValidationError);
      await audit.shutdown({ timeoutMillis: 5000 });
      const { invalid, rejected, emitted, dropped } = audit.stats();
      assert.deepEqual({ invalid, rejected, emitted, dropped }, invalidEvents === 'deliver' ? { invalid: 1, rejected: 1, emitted: 1, dropped: 0 } : { invalid: 1, rejected: 1, emitted: 0, dropped: 1 }, invalidEvents);
    }
    await listener.close();
  });

  it('pending(): count, oldest, events waiting to be chained, each spool slot with its count and oldest, dead letters; equal to stats()', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-pending-report-'));
    // A clock that runs (deadlines need it), an hour behind, that the test moves forward.
    let offset = -3_600_000;
    const clock = () => Date.now() + offset;
    const down = { catalog: gristCatalog, checkpoints: false as const, endpoint: `http://127.0.0.1:${port}/v1/logs`, spoolDir: dir, timeoutMillis: 100, retry: fastRetry, onError: () => undefined };
    // A backlog in slot-0000, left free: the next logger takes it as its own; a second one runs beside it in slot-0001.
    const earlier = createAuditLoggerWith(down, { fs: nodeFileSystem, now: clock });
    const loggedAt = clock();
    earlier.logEvent('document.create', { details });
    await earlier.shutdown({ timeoutMillis: 100 });
    offset += 60_000;
    const audit = createAuditLoggerWith(down, { fs: nodeFileSystem, now: clock });
    const beside = createAuditLoggerWith(down, { fs: nodeFileSystem, now: clock });
    for (let i = 0; i < 3; i++) audit.logEvent('document.create', { details });
    const oldestAt = new Date(loggedAt).toISOString();
    /** An age measured now: at least the time the test moved the clock, within what running took. */
    const isAge = (age: number | undefined, least: number) => age !== undefined && age >= least && age < least + 5000;
    const before = audit.pending();
    assert.equal(before.count, 4);
    assert.equal(before.unchained, 3);
    assert.equal(before.oldest?.at, oldestAt);
    assert.ok(isAge(before.oldest?.ageMillis, 60_000), String(before.oldest?.ageMillis));
    await tick(50);
    offset += 1000;
    const waiting = audit.pending();
    assert.equal(waiting.unchained, 0);
    assert.equal(waiting.count, 4);
    assert.equal(waiting.oldest?.at, oldestAt);
    assert.ok(isAge(waiting.oldest?.ageMillis, 61_000), String(waiting.oldest?.ageMillis));
    assert.equal(waiting.slots.length, 1);
    const [own] = waiting.slots;
    assert.deepEqual({ ...own, oldest: undefined }, { dir: join(dir, 'slot-0000'), own: true, writable: true, count: 4, oldest: undefined });
    assert.deepEqual(own!.oldest, waiting.oldest);
    assert.deepEqual(waiting.deadLetters, { file: join(dir, 'slot-0000', 'dead-letters.ndjson'), count: 0 });
    const stats = audit.stats();
    assert.equal(stats.pending, waiting.count);
    assert.ok(isAge(stats.oldestPendingAgeMillis, 61_000));
    assert.deepEqual(beside.pending().slots.map((slot) => [slot.dir, slot.count]), [[join(dir, 'slot-0001'), 0]]);
    assert.equal(beside.pending().oldest, undefined);
    await Promise.all([audit.shutdown({ timeoutMillis: 100 }), beside.shutdown({ timeoutMillis: 100 })]);
  });

  it('pending() without a spool: no slots, the count in memory, dead letters attached to reports', async () => {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, onError: () => undefined });
    audit.logEvent('document.create', { details });
    await tick(20);
    const waiting = audit.pending();
    assert.equal(waiting.count, 1);
    assert.deepEqual(waiting.slots, []);
    assert.deepEqual(waiting.deadLetters, { file: undefined, count: 0 });
    await audit.shutdown({ timeoutMillis: 100 });
  });
});

describe('severity', () => {
  it('an invalid event goes out as WARN (13), a valid one as INFO (9)', async () => {
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: () => undefined });
    const valid = audit.logEvent('document.create', { details });
    const invalid = audit.logEvent('document.create', { details: { document: { id: 1 } } } as never);
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const severity = (id: string) => {
      const record = listener.records.find((r) => r.attributes['log.record.uid'] === id)!;
      return [record.severityNumber, record.severityText];
    };
    assert.deepEqual(severity(valid), [9, 'INFO']);
    assert.deepEqual(severity(invalid), [13, 'WARN']);
  });
});

describe("the library guide's tables of counters and reasons (docs/library.md)", () => {
  const readme = readFileSync(new URL('../docs/library.md', import.meta.url), 'utf8');
  /** The first column's names of the table that follows `heading` (each `name` in backquotes; several per cell allowed). */
  const namesOfTable = (header: string): string[] => {
    const lines = readme.split('\n');
    const start = lines.indexOf(header);
    assert.ok(start >= 0, `a table headed ${header}`);
    const names: string[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      const cell = line.split('|')[1]!;
      // The names in backquotes before any parenthesis ("`invalid_event` (`AuditValidationError`)").
      names.push(...[...cell.split('(')[0]!.matchAll(/`([a-zA-Z_]+)`/g)].map((m) => m[1]!));
    }
    return names;
  };

  it('lists every stats() counter, and only those', () => {
    const counters = [...Object.keys(emptyStats()), 'oldestPendingAgeMillis'];
    assert.deepEqual(namesOfTable('| counter | what it counts |').sort(), counters.sort());
    // A counter is a field of what stats() returns.
    assert.deepEqual(Object.keys(createAuditLogger({ catalog: gristCatalog, checkpoints: false, onError: () => undefined, onInfo: () => undefined }).stats()).sort(), counters.sort());
  });

  it('lists every report reason with its level, and only those', () => {
    // Complete by type: a reason missing here, or one that does not exist, does not compile.
    const levels = {
      invalid_event: 'warn',
      invalid_dropped: 'error',
      unserializable: 'error',
      queue_full: 'error',
      dead_letter: 'error',
      retry_exhausted: 'error',
      collector_refused: 'warn',
      collector_unreachable: 'warn',
      spool_unavailable: 'warn',
      spool_corrupt: 'error',
      shutdown_pending: 'error',
      logger_shut_down: 'error',
      resource_ignored: 'warn',
      checkpoint_failed: 'error',
      log_failed: 'error',
      collector_recovered: 'info',
      backlog_replayed: 'info',
      default_endpoint: 'info',
    } as const satisfies { readonly [R in AuditReport['reason'] | AuditInfo['reason']]: (AuditReport | AuditInfo) extends infer U ? (U extends { reason: R; level: infer L } ? L : never) : never };
    const rows = readme.split('\n').filter((line) => /^\| `[a-z_]+`( \(`[A-Za-z]+`\))? \| (error|warn|info) \|/.test(line));
    const documented = Object.fromEntries(rows.map((line) => [/`([a-z_]+)`/.exec(line)![1]!, line.split('|')[2]!.trim()]));
    assert.deepEqual(documented, levels);
  });
});

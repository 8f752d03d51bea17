import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import {
  AuditDeliveryError,
  AuditValidationError,
  createAuditLogger,
  currentAuditContext,
  runWithAuditContext,
  type AuditError,
  type AuditLogger,
} from '../src/index.js';
import { freePort } from './helpers/ports.js';
import { sampleEvent } from './helpers/fixtures.js';
import { startOtlpListener } from './helpers/otlp-listener.js';

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
    assert.equal(audit.stats().invalid, 1);
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
    audit.stats();
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

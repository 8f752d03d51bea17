import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, logs, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { ATTR } from '../../src/attributes.js';
import { encodeLogRecord } from '../../src/record/encoder.js';
import { createOtlpTransport } from '../../src/delivery/otlp-http.js';
import type { OtlpProtocol } from '../../src/delivery/transport.js';
import { resolveExportOptions } from '../../src/options.js';
import { createAuditLogger } from '../../src/index.js';
import { siteIdOf, toLogRecord } from '../../src/record/mapping.js';
import { linkHeader } from '../../src/integrity/spooled-head.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

const link = { streamId: 'stream-1', seq: 7, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) };

describe('toLogRecord', () => {
  it('an invalid event (with issues) is a warning: severity WARN (13), so that a SIEM alerts on it', () => {
    const record = toLogRecord(sampleEvent, { observedAt: 1, link, issues: [{ path: 'details', message: 'bad' }] });
    assert.equal(record.severityNumber, 13);
    assert.equal(record.severityText, 'WARN');
    assert.equal(record.attributes['audit.invalid'], true);
  });

  it('maps the sample event: eventName, severity, times, body and every attribute', () => {
    const record = toLogRecord(sampleEvent, { observedAt: 1_731_477_652_000, link });
    assert.equal(record.eventName, 'document.create');
    assert.equal(record.severityNumber, 9);
    assert.equal(record.severityText, 'INFO');
    assert.equal(record.timestamp, Date.parse('2024-11-13T06:00:51.518Z'));
    assert.equal(record.observedTimestamp, 1_731_477_652_000);
    assert.equal(record.body, sampleEvent);
    assert.deepEqual(record.attributes, {
      'log.record.uid': '806ed0d9-7d25-4df2-9a6c-f7d2f6b8dba6',
      'audit.action': 'document.create',
      'audit.actor.type': 'user',
      'user.id': '146',
      'user.email': 'flapjack@example.com',
      'user.full_name': 'Flapjack Toasty',
      'client.address': '39.139.42.243',
      'user_agent.original': sampleEvent.context.user_agent,
      'session.id': 'ixVo6maPbcgd1vvoj93teT',
      'audit.site.id': '42',
      'audit.site.name': 'Grist Labs',
      'audit.site.domain': 'gristlabs',
      'audit.stream.id': 'stream-1',
      'audit.seq': 7,
      'audit.prev_hash': 'a'.repeat(64),
      'audit.hash': 'b'.repeat(64),
    });
  });

  it('maps a login to user.name and the display name to user.full_name (semantic conventions)', () => {
    const actor = { type: 'user' as const, user: { id: 'admin', email: 'ops@example.com', name: 'Ops Team', login: 'ops' } };
    const { attributes } = toLogRecord({ ...sampleEvent, actor }, { observedAt: 0 });
    assert.equal(attributes['user.name'], 'ops');
    assert.equal(attributes['user.full_name'], 'Ops Team');
    assert.equal(attributes['user.id'], 'admin');
  });

  it("is a log record the OpenTelemetry API's logger.emit() takes (severity a plain number: SeverityNumber.INFO)", () => {
    const record = toLogRecord(sampleEvent, { observedAt: 0 });
    assert.equal(record.severityNumber, 9);
    // Type-checked against @opentelemetry/api's LogRecord by `tsc` (npm test); the no-op logger takes it at run time.
    logs.getLogger('otel-audit-test').emit(record);
  });

  it("maps a site link to audit.site.seq, prev_hash and hash beside the stream's, for the site audit.site.id names", () => {
    const site = { site: '42', seq: 3, prevHash: 'c'.repeat(64), hash: 'd'.repeat(64) };
    const { attributes } = toLogRecord(sampleEvent, { observedAt: 1, link: { ...link, site } });
    assert.deepEqual(
      [attributes[ATTR.siteId], attributes[ATTR.siteSeq], attributes[ATTR.sitePrevHash], attributes[ATTR.siteHash], attributes[ATTR.seq]],
      ['42', 3, 'c'.repeat(64), 'd'.repeat(64), 7],
    );
    assert.equal(siteIdOf(sampleEvent), '42', 'a numeric site id as its digits, as audit.site.id carries it');
    const withoutSite = toLogRecord(sampleEvent, { observedAt: 1, link }).attributes;
    for (const name of [ATTR.siteSeq, ATTR.sitePrevHash, ATTR.siteHash]) assert.equal(withoutSite[name], undefined);
  });

  it('omits absent values instead of sending empty strings', () => {
    const record = toLogRecord(
      { ...sampleEvent, actor: { type: 'system' }, context: { user_agent: '', site: { id: 3 } } },
      { observedAt: 0 },
    );
    assert.deepEqual(record.attributes, {
      'log.record.uid': sampleEvent.id,
      'audit.action': 'document.create',
      'audit.actor.type': 'system',
      'audit.site.id': '3',
    });
  });

  it('flags an invalid event with its issues', () => {
    const record = toLogRecord(sampleEvent, { observedAt: 0, issues: [{ path: 'details.document.id', message: 'bad' }] });
    assert.equal(record.attributes?.[ATTR.invalid], true);
    assert.deepEqual(JSON.parse(String(record.attributes?.[ATTR.validationIssues])), [{ path: 'details.document.id', message: 'bad' }]);
  });
});

for (const protocol of ['http/protobuf', 'http/json'] as OtlpProtocol[]) {
  describe(`the sample event on the wire (${protocol})`, () => {
    let listener: Awaited<ReturnType<typeof startOtlpListener>>;
    before(async () => (listener = await startOtlpListener()));
    after(() => listener.close());

    it('the record encoded once at emit decodes (independent decoder) to eventName, every attribute, and a body deep-equal to sample-event.json', async () => {
      const observedAt = Date.parse('2024-11-13T06:00:52.000Z');
      const expected = toLogRecord(sampleEvent, { observedAt, link });
      const bytes = encodeLogRecord({
        timestamp: Number(expected.timestamp),
        observedTimestamp: observedAt,
        severityNumber: 9,
        severityText: 'INFO',
        eventName: 'document.create',
        body: sampleEvent,
        attributes: expected.attributes as Record<string, string | number | boolean>,
      });
      const transport = createOtlpTransport(resolveExportOptions({ endpoint: listener.url, protocol }), { resource: { 'service.name': 'wire-test' }, scope: { name: 'otel-audit', version: '0.0.0' } });
      const outcome = await transport.send([{ bytes, at: observedAt, header: linkHeader(link), ordinal: 1 }], new AbortController().signal);
      await transport.shutdown();
      assert.deepEqual(outcome, { kind: 'ack' });

      assert.equal(listener.requests[0]?.contentType, protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      assert.equal(listener.records.length, 1);
      const [received] = listener.records;
      assert.deepEqual(received!.body, sampleEvent);
      assert.equal(received!.eventName, 'document.create');
      assert.equal(received!.severityNumber, 9);
      assert.equal(received!.timeUnixNano, '1731477651518000000');
      assert.equal(received!.observedTimeUnixNano, '1731477652000000000');
      assert.deepEqual(received!.attributes, expected.attributes);
      assert.equal(received!.resource['service.name'], 'wire-test');
    });
  });
}

describe('createAuditLogger on the wire', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  before(async () => (listener = await startOtlpListener()));
  after(() => listener.close());

  it('fills id and timestamp, keeps the canonical shape, sets the resource from OTEL_* variables, carries the active span', async () => {
    process.env['OTEL_SERVICE_NAME'] = 'from-env';
    process.env['OTEL_RESOURCE_ATTRIBUTES'] = 'deployment.environment.name=test,service.version=9.9.9';
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, serviceName: 'from-code', serviceVersion: '1.0.0', onError: assert.fail });
    delete process.env['OTEL_SERVICE_NAME'];
    delete process.env['OTEL_RESOURCE_ATTRIBUTES'];
    // What a tracing SDK registers in an instrumented application.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    const before = Date.now();
    const id = context.with(trace.setSpan(context.active(), span), () =>
      audit.logEvent('document.create', { actor: sampleEvent.actor, context: sampleEvent.context, details: { document: { id: '4cq1mNTkQmEF5KsUVGiy6H', name: 'Untitled document' } } }),
    );
    await audit.shutdown({ timeoutMillis: 10_000 });
    context.disable();
    const [received] = listener.records;
    assert.ok(received);
    const body = received.body as typeof sampleEvent;
    assert.equal(body.id, id);
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(body.timestamp) >= before - 1 && Date.parse(body.timestamp) <= Date.now());
    assert.deepEqual(body, { ...sampleEvent, id, timestamp: body.timestamp });
    assert.equal(received.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(received.spanId, 'b7ad6b7169203331');
    assert.equal(received.resource['service.name'], 'from-env');
    assert.equal(received.resource['service.version'], '9.9.9');
    assert.equal(received.resource['deployment.environment.name'], 'test');
    assert.equal(typeof received.resource['service.instance.id'], 'string');
    assert.equal(typeof received.resource['host.name'], 'string');
  });
});

describe('the audit stream\'s OTEL_AUDIT_EXPORTER_OTLP_* variables', () => {
  it('endpoint, headers and protocol come from the environment when no option is given', async () => {
    const listener = await startOtlpListener();
    const saved = { ...process.env };
    process.env['OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT'] = listener.url;
    process.env['OTEL_AUDIT_EXPORTER_OTLP_HEADERS'] = 'authorization=Bearer from-env,x-tenant=acme';
    process.env['OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL'] = 'http/json';
    try {
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, onError: assert.fail });
      audit.logEvent('document.create', { details: { document: { id: 'env', name: 'from env' } } });
      await audit.shutdown({ timeoutMillis: 10_000 });
    } finally {
      process.env = saved;
      await listener.close();
    }
    const [request] = listener.requests;
    assert.equal(request?.contentType, 'application/json');
    assert.equal(request?.headers['authorization'], 'Bearer from-env');
    assert.equal(request?.headers['x-tenant'], 'acme');
    assert.equal(listener.records.length, 1);
  });

  it('an unsupported protocol is refused at creation, with a clear message naming the option', () => {
    assert.throws(() => createAuditLogger({ catalog: gristCatalog, protocol: 'grpc' as never }), /option protocol must be 'http\/protobuf' or 'http\/json', not "grpc"/);
  });
});

// otel-audit inside an application that has its own OpenTelemetry: the global MeterProvider it
// registered (the SDK's own), and its diag logger.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { diag, DiagLogLevel, metrics, type DiagLogger } from '@opentelemetry/api';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import type { AuditError } from '../src/errors.js';
import { createAuditLogger } from '../src/index.js';
import { OnDemandReader } from './helpers/metric-reader.js';
import { startOtlpListener } from './helpers/otlp-listener.js';

/** otel-audit's counters as a reader collects them, by metric name. */
async function auditMetrics(reader: MetricReader): Promise<Record<string, unknown>> {
  const { resourceMetrics } = await reader.collect();
  return Object.fromEntries(
    resourceMetrics.scopeMetrics
      .filter((scope) => scope.scope.name === 'otel-audit')
      .flatMap((scope) => scope.metrics)
      .map((metric) => [metric.descriptor.name, metric.dataPoints[0]?.value]),
  );
}

/** Logs one valid and one invalid event to a local listener, then shuts down. */
async function logTwo(options: { meterProvider?: MeterProvider; onError?: (error: AuditError) => void; invalidEvents?: 'drop' }): Promise<void> {
  const listener = await startOtlpListener();
  try {
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: () => undefined, ...options });
    audit.logEvent('document.create', { details: { document: { id: 'm', name: 'metrics' } } });
    audit.logEvent('document.create', { details: { document: { id: 'm' } } } as never);
    await audit.shutdown({ timeoutMillis: 10_000 });
  } finally {
    await listener.close();
  }
}

describe('the global MeterProvider', () => {
  afterEach(() => metrics.disable());

  it("gets the counters when the application registered one and no meterProvider option is given (the SDK's own provider)", async () => {
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    assert.equal(metrics.setGlobalMeterProvider(provider), true);
    await logTwo({});
    const values = await auditMetrics(reader);
    assert.equal(values['otel_audit.emitted'], 2);
    assert.equal(values['otel_audit.invalid'], 1);
    assert.equal(values['otel_audit.exported'], 2);
    assert.equal(values['otel_audit.pending'], 0);
    await provider.shutdown();
  });

  it('two loggers in one process: one data point each, told apart by audit.stream.id', async () => {
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    const listener = await startOtlpListener();
    const first = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
    const second = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
    first.logEvent('document.create', { details: { document: { id: 'a', name: 'first' } } });
    first.logEvent('document.create', { details: { document: { id: 'b', name: 'first' } } });
    second.logEvent('document.create', { details: { document: { id: 'c', name: 'second' } } });
    await Promise.all([first.shutdown({ timeoutMillis: 10_000 }), second.shutdown({ timeoutMillis: 10_000 })]);
    await listener.close();
    const streamOf = (name: string): string => {
      const record = listener.records.find((r) => (r.body as { details: { document: { name: string } } }).details.document.name === name);
      return String(record?.attributes['audit.stream.id']);
    };
    const { resourceMetrics } = await reader.collect();
    const emitted = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'otel_audit.emitted')!;
    const byStream = Object.fromEntries(emitted.dataPoints.map((point) => [String(point.attributes['audit.stream.id']), point.value]));
    assert.notEqual(streamOf('first'), streamOf('second'));
    assert.deepEqual(byStream, { [streamOf('first')]: 2, [streamOf('second')]: 1 });
    await provider.shutdown();
  });

  it('the meterProvider option wins over the global one', async () => {
    const globalReader = new OnDemandReader();
    const globalProvider = new MeterProvider({ readers: [globalReader] });
    metrics.setGlobalMeterProvider(globalProvider);
    const ownReader = new OnDemandReader();
    const own = new MeterProvider({ readers: [ownReader] });
    await logTwo({ meterProvider: own });
    assert.equal((await auditMetrics(ownReader))['otel_audit.emitted'], 2);
    assert.deepEqual(await auditMetrics(globalReader), {});
    await Promise.all([own.shutdown(), globalProvider.shutdown()]);
  });
});

describe('diag', () => {
  afterEach(() => diag.disable());

  /** A diag logger that keeps otel-audit's lines by level. */
  function recordingDiag(): Record<'error' | 'warn' | 'info', string[]> {
    const seen = { error: [] as string[], warn: [] as string[], info: [] as string[] };
    const keep = (level: keyof typeof seen) => (namespace: string, message: unknown) => void (namespace === 'otel-audit' && seen[level].push(String(message)));
    const logger: DiagLogger = { error: keep('error'), warn: keep('warn'), info: keep('info'), debug: () => undefined, verbose: () => undefined };
    diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    return seen;
  }

  it('every report also goes to diag (an invalid event: warn; a drop: error), and onError still gets each', async () => {
    const seen = recordingDiag();
    const reports: string[] = [];
    await logTwo({ invalidEvents: 'drop', onError: (error) => reports.push(error.message) });
    assert.equal(reports.length, 2, reports.join('\n'));
    assert.deepEqual(seen.warn, [reports[0]]);
    assert.match(seen.warn[0]!, /^invalid audit event "document\.create"/);
    assert.deepEqual(seen.error, [reports[1]]);
    assert.match(seen.error[0]!, /^invalid_dropped: /);
  });

  it('the default onError, a process warning, stays beside diag', async () => {
    const seen = recordingDiag();
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url });
    const warned = once(process, 'warning');
    audit.logEvent('document.create', { details: { document: { id: 'm' } } } as never);
    const [warning] = (await warned) as [Error & { code?: string }];
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.equal(warning.name, 'AuditValidationError');
    assert.equal(warning.code, 'OTEL_AUDIT');
    assert.deepEqual(seen.warn, [warning.message]);
  });

  it('a diag logger that throws changes nothing: the event is delivered, onError is told', async () => {
    // Throws on our lines (the OTLP exporter package the transport uses writes lines of its own, and fails an export when they throw).
    const thrower = (namespace: string) => {
      if (namespace === 'otel-audit') throw new Error('diag logger broke');
    };
    diag.setLogger({ error: thrower, warn: thrower, info: thrower, debug: thrower, verbose: thrower }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    const reports: string[] = [];
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (error) => reports.push(error.message) });
    audit.logEvent('document.create', { details: { document: { id: 'm' } } } as never);
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    assert.equal(reports.length, 1, reports.join('\n'));
    assert.equal(listener.records.length, 1);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

/** A reader that collects on demand. */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('delivery metrics', () => {
  it('publishes the counters through the application meter provider', async () => {
    const listener = await startOtlpListener();
    const reader = new OnDemandReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, meterProvider, onError: () => undefined });
    audit.logEvent('document.create', { details: { document: { id: 'm', name: 'metrics' } } });
    audit.logEvent('document.create', { details: { document: { id: 'm' } } } as never);
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const { resourceMetrics } = await reader.collect();
    const values = Object.fromEntries(
      resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric.dataPoints[0]?.value]),
    );
    assert.equal(values['otel_audit.emitted'], 2);
    assert.equal(values['otel_audit.invalid'], 1);
    assert.equal(values['otel_audit.exported'], 2);
    assert.equal(values['otel_audit.dropped'], 0);
    assert.equal(values['otel_audit.pending'], 0);
    await meterProvider.shutdown();
  });
});

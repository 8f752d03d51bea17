import type { MeterProvider, Observable } from '@opentelemetry/api';
import type { DeliveryStats } from './stats.js';

const COUNTERS: readonly (keyof DeliveryStats)[] = ['emitted', 'invalid', 'rejected', 'spooledEvents', 'spooledBytes', 'replayed', 'exported', 'retried', 'refused', 'deadLettered', 'dropped', 'corrupted'];

/**
 * Publishes the delivery counters as OpenTelemetry metrics (`otel_audit.<name>`, observable, read
 * only when the meter collects: nothing is done per event), each data point carrying
 * `audit.stream.id`: a process may run several loggers against the application's one global
 * MeterProvider. One batch callback takes one snapshot per collection. It stays registered after
 * the logger's shutdown: the application's own last export (its SDK's shutdown) still reads the
 * final counts.
 */
export function publishStats(meterProvider: MeterProvider, stats: () => DeliveryStats, version: string, streamId: string): void {
  const meter = meterProvider.getMeter('otel-audit', version);
  const attributes = { 'audit.stream.id': streamId };
  const counters = COUNTERS.map((name) => ({
    name,
    instrument: meter.createObservableCounter(`otel_audit.${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, { unit: name === 'spooledBytes' ? 'By' : '{event}' }),
  }));
  const pending = meter.createObservableUpDownCounter('otel_audit.pending', { unit: '{event}', description: 'accepted and not yet acknowledged, dead-lettered or dropped' });
  const oldestPendingAge = meter.createObservableGauge('otel_audit.oldest_pending_age', { unit: 'ms', description: 'age of the oldest event not yet acknowledged by the collector' });
  const observables: Observable[] = [...counters.map((counter) => counter.instrument), pending, oldestPendingAge];
  const observe = (result: { observe(observable: Observable, value: number, attributes: Record<string, string>): void }): void => {
    const snapshot = stats();
    for (const { name, instrument } of counters) result.observe(instrument, snapshot[name], attributes);
    result.observe(pending, snapshot.pending, attributes);
    result.observe(oldestPendingAge, snapshot.oldestPendingAgeMillis, attributes);
  };
  meter.addBatchObservableCallback(observe, observables);
}

import type { MeterProvider } from '@opentelemetry/api';
import type { DeliveryStats } from './stats.js';

const COUNTERS: readonly (keyof DeliveryStats)[] = ['emitted', 'invalid', 'spooledEvents', 'spooledBytes', 'replayed', 'exported', 'retried', 'refused', 'deadLettered', 'dropped', 'corrupted'];

/**
 * Publishes the delivery counters as OpenTelemetry metrics (`otel_audit.<name>`, observable, read
 * only when the meter collects: nothing is done per event).
 */
export function publishStats(meterProvider: MeterProvider, stats: () => DeliveryStats, version: string): void {
  const meter = meterProvider.getMeter('otel-audit', version);
  for (const name of COUNTERS) {
    const unit = name === 'spooledBytes' ? 'By' : '{event}';
    meter.createObservableCounter(`otel_audit.${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, { unit }).addCallback((result) => result.observe(stats()[name]));
  }
  meter.createObservableUpDownCounter('otel_audit.pending', { unit: '{event}', description: 'accepted and not yet acknowledged, dead-lettered or dropped' }).addCallback((result) => result.observe(stats().pending));
  meter
    .createObservableGauge('otel_audit.oldest_pending_age', { unit: 'ms', description: 'age of the oldest event not yet acknowledged by the collector' })
    .addCallback((result) => result.observe(stats().oldestPendingAgeMillis));
}

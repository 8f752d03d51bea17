import { diag } from '@opentelemetry/api';
import { AuditDeliveryError, AuditValidationError, type AuditError, type DeliveryFailureReason } from './errors.js';

/**
 * Every report also goes to OpenTelemetry's `diag`, where an instrumented application looks for
 * its SDK's own troubles. `diag` does nothing until the application sets a logger
 * (`diag.setLogger`), so this costs nothing otherwise; the component logger finds the one set at
 * the time of each call, so a logger set after `createAuditLogger` is used too.
 */
const auditDiag = diag.createComponentLogger({ namespace: 'otel-audit' });

/** Delivery reports of events lost, or gone out of the normal way for good (the rest are kept and retried). */
const LOST: ReadonlySet<DeliveryFailureReason> = new Set(['queue_full', 'dead_letter', 'retry_exhausted', 'spool_corrupt', 'invalid_dropped', 'unserializable', 'shutdown_pending', 'logger_shut_down']);

/**
 * An invalid event (kept, flagged) and an event kept for a retry are warnings; one lost or set
 * aside, and anything unexpected, an error; a collector back after an outage, information.
 */
function levelOf(error: AuditError): 'info' | 'warn' | 'error' {
  if (error instanceof AuditValidationError) return 'warn';
  if (!(error instanceof AuditDeliveryError)) return 'error';
  if (error.reason === 'collector_recovered') return 'info';
  return LOST.has(error.reason) ? 'error' : 'warn';
}

/** Writes one report to `diag`: the message only (records an `AuditDeliveryError` carries stay out of log lines). Never throws. */
export function reportToDiag(error: AuditError): void {
  try {
    auditDiag[levelOf(error)](error.message);
  } catch {
    // A diag logger that throws must not turn a report into a crash.
  }
}

import { diag } from '@opentelemetry/api';
import type { AuditInfo, AuditReport } from './errors.js';

/**
 * Every report also goes to OpenTelemetry's `diag`, where an instrumented application looks for
 * its SDK's own troubles. `diag` does nothing until the application sets a logger
 * (`diag.setLogger`), so this costs nothing otherwise; the component logger finds the one set at
 * the time of each call, so a logger set after `createAuditLogger` is used too.
 */
const auditDiag = diag.createComponentLogger({ namespace: 'otel-audit' });

/** Writes one report to `diag` at the report's own level: the message only (records a report carries stay out of log lines). Never throws. */
export function reportToDiag(report: AuditReport | AuditInfo): void {
  try {
    auditDiag[report.level](report.message);
  } catch {
    // A diag logger that throws must not turn a report into a crash.
  }
}

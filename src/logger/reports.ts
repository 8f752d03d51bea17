import { diag } from '@opentelemetry/api';
import { runInAuditContext, type RequestAuditContext } from '../context/request-context.js';
import type { AuditInfo, AuditReport } from '../errors.js';

/**
 * Every report also goes to OpenTelemetry's `diag`, where an instrumented application looks for
 * its SDK's own troubles. `diag` does nothing until the application sets a logger
 * (`diag.setLogger`), so this costs nothing otherwise; the component logger finds the one set at
 * the time of each call, so a logger set after `createAuditLogger` is used too.
 */
const auditDiag = diag.createComponentLogger({ namespace: 'otel-audit' });

/** Without `onError`: a process warning. */
function warnProcess(report: AuditReport): void {
  process.emitWarning(report.message, { type: report.name, code: 'OTEL_AUDIT' });
}

/**
 * Where reports go: each to `diag` at its own level (the message only: records a report carries
 * stay out of log lines), then problems (`error`, `warn`) to `onError` and information to `onInfo`.
 * A hook or a diag logger that throws is ignored: reporting never throws into the caller.
 *
 * A report raised while an event that waited is chained (`whileChaining`) is held until the end of
 * the drain (`giveHeld`) and given in that event's request context, so that a hook reading the
 * request context sees the request that logged the event.
 */
export class ReportRouter {
  readonly #onError: (report: AuditReport) => void;
  readonly #onInfo: ((info: AuditInfo) => void) | undefined;
  /** The request context of the waiting event being chained, while one is. */
  #chaining: { readonly request: RequestAuditContext | undefined } | undefined;
  readonly #held: { report: AuditReport | AuditInfo; request: RequestAuditContext | undefined }[] = [];
  #givingHeld = false;

  /** Information goes to diag only unless `onInfo` is given; problems to a process warning unless `onError` is. */
  constructor(onError: ((report: AuditReport) => void) | undefined, onInfo: ((info: AuditInfo) => void) | undefined) {
    this.#onError = onError ?? warnProcess;
    this.#onInfo = onInfo;
  }

  /** Gives a report now. */
  give(report: AuditReport | AuditInfo): void {
    try {
      auditDiag[report.level](report.message);
    } catch {
      // A diag logger that throws must not turn a report into a crash.
    }
    try {
      if (report.level !== 'info') this.#onError(report);
      else this.#onInfo?.(report);
    } catch {
      // A failing hook must not turn logging into a crash.
    }
  }

  /** Gives a report now, or, while a waiting event is chained, after the drain. */
  report(report: AuditReport | AuditInfo): void {
    if (this.#chaining) this.#held.push({ report, request: this.#chaining.request });
    else this.give(report);
  }

  /** Runs the chaining of a waiting event logged in `request`: what it reports is held. */
  whileChaining(request: RequestAuditContext | undefined, chain: () => void): void {
    this.#chaining = { request };
    try {
      chain();
    } finally {
      this.#chaining = undefined;
    }
  }

  /** True while held reports are given: an event a hook logs then waits for the next turn (a hook that logs on every error cannot loop in the call). */
  get givingHeld(): boolean {
    return this.#givingHeld;
  }

  /** Gives the held reports in order, each in its event's request context. One delivery at a time: reports a hook's own logging raises join this loop. */
  giveHeld(): void {
    if (this.#givingHeld) return;
    this.#givingHeld = true;
    try {
      for (let next = this.#held.shift(); next; next = this.#held.shift()) {
        const { report, request } = next;
        runInAuditContext(request, () => this.give(report));
      }
    } finally {
      this.#givingHeld = false;
    }
  }
}

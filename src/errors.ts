import type { ValidationIssue } from './record/mapping.js';

/**
 * How much a report matters. `error`: events lost or set aside (dropped, dead-lettered, skipped as
 * damaged), or something unexpected; `warn`: events kept but late, flagged or held in memory;
 * `info`: nothing is wrong (`onInfo`, never `onError`).
 */
export type ReportLevel = 'error' | 'warn' | 'info';

/** Base class of every error otel-audit reports through `onError` or rejects a promise with. */
export class AuditError extends Error {
  override readonly name: string = 'AuditError';
}

/**
 * An event did not match its schema (reason `invalid_event`). `issues` name each failing field by
 * its dotted path. A warning: the event is delivered flagged `audit.invalid`, or, with
 * `invalidEvents: 'drop'`, its loss is the `invalid_dropped` error reported right after.
 */
export class AuditValidationError extends AuditError {
  override readonly name = 'AuditValidationError';
  readonly reason = 'invalid_event';
  readonly level = 'warn';
  constructor(
    readonly action: string,
    readonly eventId: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    const where = issues.map((issue) => `${issue.path || '(event)'}: ${issue.message}`).join('; ');
    super(`invalid audit event "${action}" (${eventId}): ${where}`);
  }
}

/**
 * What each delivery report carries besides `reason`, `level`, `message` and `count`, by reason.
 * `count` is always how many events the report is about; `records` (JSON: event and attributes)
 * is set only where no file keeps them.
 */
export interface DeliveryReportFields {
  /** The in-memory queue (or the memory tail of a spool that cannot be written) was at its bound: `count` events dropped. */
  readonly queue_full: { readonly records: readonly string[] | undefined };
  /** The collector rejected records for good (a 400 with an OTLP Status, a 413, a partial success): `count` events set aside, in `file`, or attached as `records` when there is none. */
  readonly dead_letter: DeadLetterFields;
  /** `retry.maxElapsedMillis` ran out: `count` events set aside like dead letters. */
  readonly retry_exhausted: DeadLetterFields;
  /**
   * What answered at `url` refused the export for a reason of configuration (HTTP 401, 403, 404,
   * 415, a 400 without an OTLP Status, a redirect), or is not an OTLP collector (a 2xx that is not
   * an OTLP response). `answer` says what answered, in words. The `count` pending events are kept
   * and retried, never dead-lettered.
   */
  readonly collector_refused: { readonly status: number | undefined; readonly url: string; readonly answer: string };
  /** No export has been accepted for `downMillis` (repeated every `outage.repeatEveryMillis`): `count` events pending, the oldest `oldestPendingAgeMillis` old. */
  readonly collector_unreachable: { readonly url: string; readonly downMillis: number; readonly oldestPendingAgeMillis: number; readonly lastFailure: string };
  /**
   * The spool (or the dead-letter file) at `path` could not be opened, written or read (disk full,
   * not writable, EIO): `count` events wait in memory, in order, until it works again.
   */
  readonly spool_unavailable: { readonly path: string; readonly operation: 'open' | 'read' | 'write' | 'adopt' | 'dead_letter' };
  /** A damaged region (torn write, bad checksum) of `segment`, from `offset`, `skippedBytes` long, was skipped up to the next intact record. */
  readonly spool_corrupt: { readonly segment: string; readonly offset: number; readonly skippedBytes: number };
  /** An invalid event was dropped because `invalidEvents: 'drop'`. */
  readonly invalid_dropped: { readonly eventId: string; readonly action: string };
  /** The validated event is not JSON data (a `Date`, a `bigint`, a cycle...): dropped. */
  readonly unserializable: { readonly eventId: string; readonly action: string };
  /** Shutdown ended with `count` events neither delivered nor kept on disk: dropped. */
  readonly shutdown_pending: { readonly records: readonly string[] };
  /** An event was logged after `shutdown()` stopped taking events: not kept. */
  readonly logger_shut_down: { readonly eventId: string | undefined; readonly records: readonly string[] | undefined };
}

interface DeadLetterFields {
  /** The dead-letter file, or undefined when there is none and the records travel in `records`. */
  readonly file: string | undefined;
  /** The HTTP status of the answer that refused them, when there was one. */
  readonly status: number | undefined;
  /** The collector's reason, as written in each dead letter. */
  readonly why: string;
  /** The records (JSON: event and attributes) when there is no file. */
  readonly records: readonly string[] | undefined;
}

/** Why delivery could not go the normal way (see `DeliveryReportFields` for each). Each is counted in `stats()`. */
export type DeliveryFailureReason = keyof DeliveryReportFields;

/** Events lost or set aside are errors; events kept for a retry, or held in memory, are warnings. */
const DELIVERY_LEVEL: { readonly [R in DeliveryFailureReason]: 'error' | 'warn' } = {
  queue_full: 'error',
  dead_letter: 'error',
  retry_exhausted: 'error',
  collector_refused: 'warn',
  collector_unreachable: 'warn',
  spool_unavailable: 'warn',
  spool_corrupt: 'error',
  invalid_dropped: 'error',
  unserializable: 'error',
  shutdown_pending: 'error',
  logger_shut_down: 'error',
};

/** A delivery report; `DeliveryReport<R>` is the one of reason `R` with its own fields typed. */
export class AuditDeliveryError<R extends DeliveryFailureReason = DeliveryFailureReason> extends AuditError {
  override readonly name = 'AuditDeliveryError';
  readonly level: 'error' | 'warn';
  /** The affected records (JSON: event and attributes), when no file keeps them. */
  readonly records: readonly string[] | undefined;
  constructor(
    readonly reason: R,
    message: string,
    /** How many events this report is about. */
    readonly count: number,
    fields: DeliveryReportFields[R],
    cause?: unknown,
  ) {
    super(`${reason}: ${message}`, { cause });
    this.records = undefined;
    Object.assign(this, fields);
    this.level = DELIVERY_LEVEL[reason];
  }
}

export type DeliveryReport<R extends DeliveryFailureReason = DeliveryFailureReason> = R extends DeliveryFailureReason ? AuditDeliveryError<R> & DeliveryReportFields[R] : never;

/** A delivery report of reason `reason` with its fields, typed as such. */
export function deliveryReport<R extends DeliveryFailureReason>(reason: R, message: string, count: number, fields: DeliveryReportFields[R], cause?: unknown): DeliveryReport<R> {
  return new AuditDeliveryError(reason, message, count, fields, cause) as unknown as DeliveryReport<R>;
}

/** What each of the logger's own reports carries, by reason. */
export interface LoggerReportFields {
  /** A malformed `OTEL_RESOURCE_ATTRIBUTES` was ignored whole (warn). */
  readonly resource_ignored: { readonly variable: 'OTEL_RESOURCE_ATTRIBUTES' };
  /** A checkpoint could not be written (error): `otel-audit verify` will see the stream's silence. */
  readonly checkpoint_failed: { readonly checkpoint: 'start' | 'periodic' | 'final' };
  /** `logEvent` met something unexpected (error); the event was not kept. */
  readonly log_failed: { readonly eventId: string; readonly action: string };
}

export type LoggerReportReason = keyof LoggerReportFields;

const LOGGER_LEVEL: { readonly [R in LoggerReportReason]: 'error' | 'warn' } = { resource_ignored: 'warn', checkpoint_failed: 'error', log_failed: 'error' };

/** A problem of the logger itself or of its environment, not of one event's delivery. */
export class AuditLoggerError<R extends LoggerReportReason = LoggerReportReason> extends AuditError {
  override readonly name = 'AuditLoggerError';
  readonly level: 'error' | 'warn';
  constructor(
    readonly reason: R,
    message: string,
    fields: LoggerReportFields[R],
    cause?: unknown,
  ) {
    super(message, { cause });
    Object.assign(this, fields);
    this.level = LOGGER_LEVEL[reason];
  }
}

export type LoggerReport<R extends LoggerReportReason = LoggerReportReason> = R extends LoggerReportReason ? AuditLoggerError<R> & LoggerReportFields[R] : never;

export function loggerReport<R extends LoggerReportReason>(reason: R, message: string, fields: LoggerReportFields[R], cause?: unknown): LoggerReport<R> {
  return new AuditLoggerError(reason, message, fields, cause) as unknown as LoggerReport<R>;
}

/**
 * What `onError` receives: one of these, told apart by `reason` (TypeScript narrows on it, each
 * reason with its own fields), each an `AuditError` (`instanceof` works too), at `level` `error`
 * or `warn`.
 */
export type AuditReport = AuditValidationError | DeliveryReport | LoggerReport;

/** What each piece of information carries, by reason. */
export interface InfoFields {
  /** The collector accepts exports again after an outage that was reported (`collector_unreachable`) and lasted `downMillis`. */
  readonly collector_recovered: { readonly url: string; readonly downMillis: number };
  /** `count` events an earlier process left in spool slot `slot` are delivered by this one: its own slot at start, or a free slot's it adopted (`adopted`). */
  readonly backlog_replayed: { readonly slot: string; readonly count: number; readonly adopted: boolean };
  /** No endpoint option and no `OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT`: events go to the local gateway's default `endpoint`. */
  readonly default_endpoint: { readonly endpoint: string };
}

export type InfoReason = keyof InfoFields;

/** What `onInfo` receives: nothing is wrong. Plain data, not an error; told apart by `reason`. */
export type AuditInfo = { [R in InfoReason]: { readonly level: 'info'; readonly reason: R; readonly message: string } & InfoFields[R] }[InfoReason];

export function info<R extends InfoReason>(reason: R, message: string, fields: InfoFields[R]): Extract<AuditInfo, { reason: R }> {
  return Object.freeze({ level: 'info', reason, message, ...fields }) as unknown as Extract<AuditInfo, { reason: R }>;
}

/** `flush()` or `shutdown()` reached its deadline; `pending` events were not yet acknowledged. */
export class FlushTimeoutError extends AuditError {
  override readonly name = 'FlushTimeoutError';
  constructor(readonly pending: number, timeoutMillis: number) {
    super(`${pending} audit event(s) not acknowledged by the collector within ${timeoutMillis} ms`);
  }
}

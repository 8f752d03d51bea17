import type { ValidationIssue } from './record.js';

/** Base class of every error otel-audit reports through `onError` or rejects a promise with. */
export class AuditError extends Error {
  override readonly name: string = 'AuditError';
}

/** An event did not match its schema. `issues` name each failing field by its dotted path. */
export class AuditValidationError extends AuditError {
  override readonly name = 'AuditValidationError';
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
 * Why delivery could not go the normal way, or what it wants an operator to know. Each is counted in `stats()`.
 * - `queue_full`: the in-memory queue was at its bound; the event was dropped (`dropped`).
 * - `dead_letter`: the collector rejected a record (a 400 with an OTLP Status, a 413, a partial
 *   success); it went to the dead-letter file (`deadLettered`).
 * - `retry_exhausted`: a configured retry limit ran out; the records went to the dead-letter file.
 * - `collector_refused`: what answered refused the export for a reason of configuration (HTTP 401,
 *   403, 404, 415, a 400 without an OTLP Status, a redirect), or is not an OTLP collector at all (a
 *   2xx that is not an OTLP response: an HTML page, garbage); the message names what answered. The
 *   events are kept and retried, never dead-lettered (`refused`).
 * - `collector_unreachable`: no export has succeeded for `outage.reportAfterMillis`; repeated every
 *   `outage.repeatEveryMillis` while it lasts (`oldestPendingAgeMillis` tells how far behind).
 * - `collector_recovered`: the collector accepts exports again after a reported outage.
 * - `spool_unavailable`: the spool directory could not be opened, written or read (disk full, not
 *   writable, EIO); events wait in memory, in order, and go back to the spool when it works again.
 * - `spool_corrupt`: a damaged region (torn write, bad checksum) was found in the spool and skipped up to the next intact record (`corrupted`).
 * - `invalid_dropped`: an invalid event was dropped because `invalidEvents: 'drop'` (`dropped`).
 * - `unserializable`: the validated event is not JSON data (a `Date`, a `bigint`, a cycle...): dropped (`dropped`).
 * - `shutdown_pending`: shutdown ended with events neither delivered nor kept on disk (`dropped`).
 * - `logger_shut_down`: an event was logged after `shutdown()` completed (`dropped`).
 */
export type DeliveryFailureReason =
  | 'queue_full'
  | 'dead_letter'
  | 'retry_exhausted'
  | 'collector_refused'
  | 'collector_unreachable'
  | 'collector_recovered'
  | 'spool_unavailable'
  | 'spool_corrupt'
  | 'invalid_dropped'
  | 'unserializable'
  | 'shutdown_pending'
  | 'logger_shut_down';

export class AuditDeliveryError extends AuditError {
  override readonly name = 'AuditDeliveryError';
  constructor(
    readonly reason: DeliveryFailureReason,
    message: string,
    /** How many events this report covers. */
    readonly count: number,
    options?: {
      cause?: unknown;
      /** The affected records (JSON: event and attributes), when no file keeps them. */
      records?: readonly string[];
    },
  ) {
    super(`${reason}: ${message}`, { cause: options?.cause });
    this.records = options?.records;
  }

  readonly records: readonly string[] | undefined;
}

/** `flush()` or `shutdown()` reached its deadline; `pending` events were not yet acknowledged. */
export class FlushTimeoutError extends AuditError {
  override readonly name = 'FlushTimeoutError';
  constructor(readonly pending: number, timeoutMillis: number) {
    super(`${pending} audit event(s) not acknowledged by the collector within ${timeoutMillis} ms`);
  }
}

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
 * Why delivery could not go the normal way. Every reason is also counted in `stats()`.
 * - `queue_full`: the in-memory queue was at its bound; the event was dropped.
 * - `dead_letter`: the collector rejected a record permanently; it went to the dead-letter file.
 * - `retry_exhausted`: a configured retry limit ran out; the records went to the dead-letter file.
 * - `spool_unavailable`: the spool directory could not be opened or written (disk full, not
 *   writable); events go to the in-memory queue until it works again.
 * - `spool_corrupt`: a damaged record (torn write, bad checksum) was found in the spool and skipped.
 * - `invalid_dropped`: an invalid event was dropped because `invalidEvents: 'drop'`.
 * - `shutdown_pending`: shutdown's deadline passed with events not delivered and no spool to keep them.
 */
export type DeliveryFailureReason =
  | 'queue_full'
  | 'dead_letter'
  | 'retry_exhausted'
  | 'spool_unavailable'
  | 'spool_corrupt'
  | 'invalid_dropped'
  | 'shutdown_pending';

export class AuditDeliveryError extends AuditError {
  override readonly name = 'AuditDeliveryError';
  constructor(
    readonly reason: DeliveryFailureReason,
    message: string,
    /** How many events this report covers. */
    readonly count: number,
    options?: {
      cause?: unknown;
      /** The affected log records as stored (JSON), when no dead-letter file keeps them. */
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

/** Counters of the delivery pipeline's own health, since the logger was created. */
export interface DeliveryStats {
  /** Events passed to `logEvent`/`logEventOrThrow` and emitted (valid or flagged invalid). */
  readonly emitted: number;
  /** Events that failed validation (delivered flagged, rejected, or dropped as configured). */
  readonly invalid: number;
  /** Events written durably to the spool, and their bytes on disk. */
  readonly spooledEvents: number;
  readonly spooledBytes: number;
  /** Events left in the spool by an earlier process and re-sent by this one. */
  readonly replayed: number;
  /** Events acknowledged by the collector. */
  readonly exported: number;
  /** Export attempts that failed and were retried. */
  readonly retried: number;
  /** Export attempts the collector refused for a reason of configuration (401, 403, 404, 415, ...): retried, never dead-lettered. */
  readonly refused: number;
  /** Events the collector rejected permanently, kept in the dead-letter file. */
  readonly deadLettered: number;
  /** Events lost: queue at its bound, invalid events dropped by configuration, or not delivered by shutdown without a spool. Each was reported to `onError`. */
  readonly dropped: number;
  /** Damaged spool records skipped (torn writes, bad checksums). */
  readonly corrupted: number;
  /** Events accepted and not yet acknowledged, dead-lettered or dropped. */
  readonly pending: number;
  /** Age of the oldest pending event, in ms (0 when none is pending): how far behind the collector is. */
  readonly oldestPendingAgeMillis: number;
}

/** The counters the pipeline increments (the rest is computed when read). */
export type MutableStats = { -readonly [K in Exclude<keyof DeliveryStats, 'oldestPendingAgeMillis'>]: DeliveryStats[K] };

export function emptyStats(): MutableStats {
  return {
    emitted: 0,
    invalid: 0,
    spooledEvents: 0,
    spooledBytes: 0,
    replayed: 0,
    exported: 0,
    retried: 0,
    refused: 0,
    deadLettered: 0,
    dropped: 0,
    corrupted: 0,
    pending: 0,
  };
}

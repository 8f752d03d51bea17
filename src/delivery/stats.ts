/**
 * Counters of the delivery pipeline's own health, since the logger was created. Each says what the
 * README's `stats()` table says (a test checks the table against these names). "Records" are
 * events and checkpoints; "events" are the application's events only.
 */
export interface DeliveryStats {
  /** Events taken by `logEvent`/`logEventOrThrow` to be sent (valid, or invalid and flagged), those waiting to be chained included; checkpoints are not counted. */
  readonly emitted: number;
  /** Invalid events that were kept (delivered flagged `audit.invalid`) or dropped with `invalidEvents: 'drop'`; not those `logEventOrThrow` rejected (`rejected`). */
  readonly invalid: number;
  /** Invalid events `logEventOrThrow` rejected before emitting them: never sent, never counted as emitted or invalid. */
  readonly rejected: number;
  /** Records written durably to the spool, and their bytes on disk. */
  readonly spooledEvents: number;
  readonly spooledBytes: number;
  /** Records left in the spool by an earlier process (its own slot at start, or adopted slots) and taken over by this one. */
  readonly replayed: number;
  /** Records acknowledged by the collector. */
  readonly exported: number;
  /** Export attempts that failed and were retried. */
  readonly retried: number;
  /** Export attempts the collector refused for a reason of configuration (401, 403, 404, 415, ...): retried, never dead-lettered. */
  readonly refused: number;
  /** Records the collector rejected for good, set aside: in the dead-letter file, or attached to the report without one. */
  readonly deadLettered: number;
  /**
   * Events lost: the queue at its bound, invalid events dropped by configuration, schema output that
   * is not JSON, not delivered by shutdown without a spool, logged after shutdown. Each was reported
   * to `onError` (or, for `logEventOrThrow`, told by its rejection).
   */
  readonly dropped: number;
  /** Damaged regions of the spool skipped (torn writes, bad checksums): one per region, whatever it held. */
  readonly corrupted: number;
  /** Records accepted and not yet acknowledged, dead-lettered or dropped, and events waiting to be chained. */
  readonly pending: number;
  /** Age of the oldest pending record or event, in ms (0 when none is pending): how far behind the collector is. */
  readonly oldestPendingAgeMillis: number;
}

/** The counters the pipeline increments (the rest is computed when read). */
export type MutableStats = { -readonly [K in Exclude<keyof DeliveryStats, 'oldestPendingAgeMillis'>]: DeliveryStats[K] };

export function emptyStats(): MutableStats {
  return {
    emitted: 0,
    invalid: 0,
    rejected: 0,
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

/** When the oldest of some records was emitted, and how long ago. */
export interface Oldest {
  /** Emit time, ISO 8601. */
  readonly at: string;
  readonly ageMillis: number;
}

export function oldestOf(at: number | undefined, now: number): Oldest | undefined {
  return at === undefined ? undefined : { at: new Date(at).toISOString(), ageMillis: Math.max(0, now - at) };
}

/** One spool slot this logger delivers. */
export interface PendingSlot {
  /** The slot's directory. */
  readonly dir: string;
  /** This logger's own slot (its stream); the others are free slots whose backlog it adopted. */
  readonly own: boolean;
  /** False while the slot's disk cannot be written (its records wait in memory, in order). */
  readonly writable: boolean;
  /** Records kept in the slot and not yet acknowledged. */
  readonly count: number;
  readonly oldest: Oldest | undefined;
}

/** What waits, for an application's health endpoint: `audit.pending()`. Read from what the logger already knows: no I/O. */
export interface PendingReport {
  /** Records and events not yet acknowledged, dead-lettered or dropped: `stats().pending`. */
  readonly count: number;
  /** The oldest of them (`stats().oldestPendingAgeMillis` is its age). */
  readonly oldest: Oldest | undefined;
  /** Of `count`, the events `logEvent` validated that wait to be chained (a turn or two of the event loop). */
  readonly unchained: number;
  /** With a spool: each slot this logger delivers, its own first. Without one: empty (the rest of `count` is in the memory queue). */
  readonly slots: readonly PendingSlot[];
  /** Dead letters: those the file held when the logger started plus those it set aside since (a redrive by another process shows at the next start); without a file, those attached to reports. */
  readonly deadLetters: { readonly file: string | undefined; readonly count: number };
}

import { deliveryReport, info, type AuditInfo, type AuditReport } from '../errors.js';
import type { ExportOutcome } from './answer.js';
import { backoffDelay, sleep, type RetryOptions } from './backoff.js';
import type { Batch, BatchLimits, QueuedRecord, RecordQueue } from './queue.js';
import type { MutableStats } from './stats.js';
import type { Transport } from './transport.js';

/** A batch of more than one record that failed this many times in a row, while other exports were accepted since it was first sent, is split: it may be what fails. */
const SPLIT_AFTER_FAILURES = 3;
/** The longest Retry-After honoured (beyond maxDelayMillis, which bounds the sender's own backoff): a date a year ahead must not stall the stream for a year. */
const RETRY_AFTER_MAX_MILLIS = 10 * 60_000;
/**
 * An export left without an answer this long (and at least `outage.reportAfterMillis`) is evidence
 * of an outage like a failure is: a hanging collector is reported before the attempt times out.
 */
const NO_ANSWER_EVIDENCE_MILLIS = 1000;

/** What the sender does with records it gives up on, and when it may say an outage is long. */
export interface SenderOptions {
  readonly queue: RecordQueue;
  /** The spool directory, when the queue is a spool (for the report of a read that fails). */
  readonly spoolDir: string | undefined;
  readonly transport: Transport;
  readonly limits: BatchLimits;
  readonly maxConcurrentExports: number;
  /** Records handed out and not yet acknowledged that may wait behind a batch still being retried. */
  readonly maxHeldRecords: number;
  readonly retry: Required<RetryOptions>;
  /** Report an outage once no export was accepted for this long, then at `repeatEveryMillis`. */
  readonly outage: { readonly reportAfterMillis: number; readonly repeatEveryMillis: number };
  readonly now: () => number;
  readonly stats: MutableStats;
  readonly report: (report: AuditReport | AuditInfo) => void;
  /** Keeps records the collector will never accept; resolves true once they are safe (or reported, with no file to keep them), false when they could not be kept now. */
  readonly deadLetter: (records: readonly QueuedRecord[], reason: 'dead_letter' | 'retry_exhausted', why: string, status: number | undefined) => Promise<boolean>;
  /** Records acknowledged (or dead-lettered), in queue order. */
  readonly onSettled: (records: readonly QueuedRecord[]) => void;
}

interface InFlight {
  readonly batch: Batch;
  done: boolean;
}

/** The HTTP status, as the dead-letter reason starts with it. */
const withStatus = (status: number | undefined, message: string): string => `${status ? `HTTP ${status}: ` : ''}${message}`;

/**
 * Takes batches from the queue and sends them, `maxConcurrentExports` at a time; acknowledges them
 * to the queue in the order they were taken (a spool segment goes only when every record before
 * its end is acknowledged). The one owner of retries: the transport makes one request per attempt,
 * classified once (answer.ts), and the sender decides:
 * - `ack`: done. `partial` / `rejection`: split in halves down to the records at fault, which are
 *   dead-lettered with the reason (a 413 or a size limit: "too large").
 * - `refusal` / `outage`: kept, retried with backoff (Retry-After honoured), without a time limit
 *   unless configured; refusals reported once per streak, outages after `outage.reportAfterMillis`
 *   from the first unanswered attempt. A batch that keeps failing while others pass is split, so
 *   one oversized or poisoned batch does not hold back the records behind it.
 */
export class Sender {
  readonly #o: SenderOptions;
  readonly #inFlight: InFlight[] = [];
  /** Records in `#inFlight`. */
  #held = 0;
  /** Exports under way (including their retries). */
  #active = 0;
  readonly #stop = new AbortController();
  #pumping = false;
  #wakeScheduled = false;
  #readFailures = 0;
  #idle: (() => void) | undefined;
  /** Exports the collector accepted: a batch that fails while this grows is the problem, not the collector. */
  #accepted = 0;

  /** Since when no export was accepted: the start of the first attempt after the last acceptance. */
  #waitingSince: number | undefined;
  /** A failure was seen since `#waitingSince`; its message, for the report. */
  #lastFailure: string | undefined;
  /** Start times of the attempts waiting for an answer. */
  readonly #attemptsOut = new Set<{ readonly at: number }>();
  #outageTimer: NodeJS.Timeout | undefined;
  #nextOutageReport = 0;
  #outageReported = false;
  /** The last refusal reported, so that the same refusal is not reported on every attempt. */
  #lastRefusal: { message: string; at: number } | undefined;

  constructor(options: SenderOptions) {
    this.#o = options;
  }

  /** New records may be ready: send them, once the current tick has added what it will (one batch, not one per record). */
  wake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (
        !this.#stop.signal.aborted &&
        this.#active < this.#o.maxConcurrentExports &&
        (this.#inFlight.length === 0 || this.#held < this.#o.maxHeldRecords) &&
        this.#o.queue.hasUnsent
      ) {
        let batch: Batch | undefined;
        try {
          batch = await this.#o.queue.next(this.#o.limits);
          this.#readFailures = 0;
        } catch (error) {
          // A spool that cannot be read (ENOENT, EMFILE, EIO) must not take the application down: report, back off, retry.
          this.#o.report(deliveryReport('spool_unavailable', `cannot read the spool (${(error as Error).message}); retrying`, 0, { path: this.#o.spoolDir ?? '', operation: 'read' }, error));
          await sleep(backoffDelay(this.#readFailures++, this.#o.retry), this.#stop.signal);
          continue;
        }
        if (!batch) continue;
        const entry: InFlight = { batch, done: false };
        this.#inFlight.push(entry);
        this.#held += batch.records.length;
        void this.#send(entry);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #send(entry: InFlight): Promise<void> {
    this.#active++;
    try {
      if (!(await this.#deliver(entry.batch.records))) return; // stopped: the records stay queued
      entry.done = true;
      // Acknowledge in hand-out order: a batch that finished early waits for the ones before it.
      while (this.#inFlight[0]?.done) {
        const done = this.#inFlight.shift()!;
        this.#held -= done.batch.records.length;
        done.batch.ack();
        this.#o.onSettled(done.batch.records);
      }
    } finally {
      this.#active--;
      if (this.#active === 0) this.#idle?.();
    }
    void this.#pump();
  }

  /** One attempt: the transport's answer, with the outage clock kept. */
  async #attempt(records: readonly QueuedRecord[]): Promise<ExportOutcome> {
    const attempt = { at: this.#o.now() };
    this.#attemptsOut.add(attempt);
    if (this.#waitingSince === undefined) {
      this.#waitingSince = attempt.at;
      this.#nextOutageReport = attempt.at + this.#o.outage.reportAfterMillis;
      this.#scheduleOutageCheck(this.#nextOutageReport);
    }
    try {
      return await this.#o.transport.send(records, this.#stop.signal);
    } finally {
      this.#attemptsOut.delete(attempt);
    }
  }

  /** Sends until every record is acknowledged or dead-lettered (true), or the sender stops (false). */
  async #deliver(records: readonly QueuedRecord[]): Promise<boolean> {
    const started = this.#o.now();
    let failures = 0;
    const acceptedBefore = this.#accepted;
    for (let attempt = 0; ; attempt++) {
      if (this.#stop.signal.aborted) return false;
      const outcome = await this.#attempt(records);
      // Stopped while the request was out: whatever the answer, the queue is closed; the records stay in it.
      if (this.#stop.signal.aborted) return false;
      switch (outcome.kind) {
        case 'ack':
          this.#accepted++;
          this.#answered();
          this.#o.stats.exported += records.length;
          return true;
        case 'partial':
        case 'rejection': {
          // The collector answered: not an outage. A partial success names no record: split like a
          // 400 (the accepted ones arrive again, as identical copies).
          this.#answered();
          if (records.length > 1) return this.#split(records);
          const status = outcome.kind === 'rejection' ? outcome.status : undefined;
          const why =
            outcome.kind === 'partial'
              ? `partial success, ${outcome.rejected} rejected: ${outcome.message || 'no reason given'}`
              : withStatus(status, outcome.tooLarge ? `${outcome.message} (one record of ${records[0]!.bytes.length} bytes)` : outcome.message);
          if (await this.#o.deadLetter(records, 'dead_letter', why, status)) return true;
          // It could not be kept now: keep the record and try the whole way again later.
          await sleep(backoffDelay(attempt, this.#o.retry), this.#stop.signal);
          continue;
        }
        case 'refusal':
        case 'outage': {
          this.#failed(outcome);
          if (outcome.kind === 'outage' && outcome.tooLarge) {
            if (records.length > 1) return this.#split(records);
            const why = `${outcome.message} (one record of ${records[0]!.bytes.length} bytes: too large)`;
            if (await this.#o.deadLetter(records, 'dead_letter', why, outcome.status)) return true;
          }
          // The halves go out side by side: the one that is not at fault is not held back by the other.
          if (records.length > 1 && ++failures >= SPLIT_AFTER_FAILURES && this.#accepted > acceptedBefore) return this.#split(records, true);
          this.#o.stats.retried++;
          if (this.#o.now() - started >= this.#o.retry.maxElapsedMillis && (await this.#o.deadLetter(records, 'retry_exhausted', withStatus(outcome.status, outcome.message), outcome.status))) {
            return true;
          }
          await sleep(this.#delay(attempt, outcome), this.#stop.signal);
        }
      }
    }
  }

  /** The halves one after the other, in order (dead letters in order), or side by side. */
  async #split(records: readonly QueuedRecord[], sideBySide = false): Promise<boolean> {
    const half = Math.ceil(records.length / 2);
    const [first, second] = [records.slice(0, half), records.slice(half)];
    if (sideBySide) return (await Promise.all([this.#deliver(first), this.#deliver(second)])).every(Boolean);
    return (await this.#deliver(first)) && this.#deliver(second);
  }

  /** The backoff, or the server's Retry-After when it asks for longer (up to RETRY_AFTER_MAX_MILLIS). */
  #delay(attempt: number, outcome: ExportOutcome): number {
    const backoff = backoffDelay(attempt, this.#o.retry);
    const asked = outcome.kind === 'outage' ? outcome.retryAfterMillis : undefined;
    return asked === undefined ? backoff : Math.max(backoff, Math.min(asked, RETRY_AFTER_MAX_MILLIS));
  }

  #failed(outcome: Extract<ExportOutcome, { kind: 'refusal' | 'outage' }>): void {
    const now = this.#o.now();
    this.#lastFailure = outcome.message;
    if (outcome.kind === 'refusal') {
      this.#o.stats.refused++;
      const last = this.#lastRefusal;
      if (!last || last.message !== outcome.message || now - last.at >= this.#o.outage.repeatEveryMillis) {
        this.#lastRefusal = { message: outcome.message, at: now };
        const pending = this.#o.queue.pending;
        this.#o.report(
          deliveryReport('collector_refused', `${outcome.message}; ${pending} event(s) are kept and retried, never dead-lettered for this`, pending, {
            status: outcome.status,
            url: this.#o.transport.target,
            answer: outcome.message,
          }),
        );
      }
    }
    this.#checkOutage();
  }

  #scheduleOutageCheck(at: number): void {
    clearTimeout(this.#outageTimer);
    this.#outageTimer = setTimeout(() => this.#checkOutage(), Math.max(0, at - this.#o.now()));
    this.#outageTimer.unref();
  }

  /**
   * Reports an outage when it is due (`reportAfterMillis` after the first unanswered attempt, then
   * every `repeatEveryMillis`) and there is evidence: a failure, or an attempt left without an answer.
   */
  #checkOutage(): void {
    if (this.#waitingSince === undefined || this.#stop.signal.aborted) return;
    const now = this.#o.now();
    if (now < this.#nextOutageReport) return this.#scheduleOutageCheck(this.#nextOutageReport);
    let oldestAttempt: number | undefined;
    for (const attempt of this.#attemptsOut) if (oldestAttempt === undefined || attempt.at < oldestAttempt) oldestAttempt = attempt.at;
    const unanswered = oldestAttempt !== undefined && now - oldestAttempt >= Math.max(this.#o.outage.reportAfterMillis, NO_ANSWER_EVIDENCE_MILLIS);
    if (this.#lastFailure === undefined && !unanswered) {
      // No evidence yet: look again when the oldest attempt has waited long enough (a failure looks at once).
      if (oldestAttempt !== undefined) this.#scheduleOutageCheck(oldestAttempt + Math.max(this.#o.outage.reportAfterMillis, NO_ANSWER_EVIDENCE_MILLIS));
      return;
    }
    const down = now - this.#waitingSince;
    const what = this.#lastFailure ?? `no answer for ${Math.round((now - oldestAttempt!) / 1000)} s`;
    const oldest = this.#o.queue.oldestPendingAt();
    const oldestPendingAgeMillis = oldest === undefined ? 0 : Math.max(0, now - oldest);
    const pending = this.#o.queue.pending;
    this.#o.report(
      deliveryReport(
        'collector_unreachable',
        `the collector has not accepted an export for ${Math.round(down / 1000)} s (${what}); ${pending} event(s) pending, the oldest ${Math.round(oldestPendingAgeMillis / 1000)} s old`,
        pending,
        { url: this.#o.transport.target, downMillis: down, oldestPendingAgeMillis, lastFailure: what },
      ),
    );
    this.#outageReported = true;
    this.#nextOutageReport = now + this.#o.outage.repeatEveryMillis;
    this.#scheduleOutageCheck(this.#nextOutageReport);
  }

  /** The collector answered (accepted, or rejected records): the outage clock stops. */
  #answered(): void {
    if (this.#waitingSince === undefined) return;
    const down = this.#o.now() - this.#waitingSince;
    this.#waitingSince = undefined;
    this.#lastFailure = undefined;
    this.#lastRefusal = undefined;
    clearTimeout(this.#outageTimer);
    if (this.#outageReported) {
      this.#outageReported = false;
      this.#o.report(info('collector_recovered', `the collector accepts exports again after ${Math.round(down / 1000)} s`, { url: this.#o.transport.target, downMillis: down }));
    }
  }

  /** Stops taking and retrying batches, ending the attempts under way; resolves when the exports have ended, or after `graceMillis`. */
  async stop(graceMillis: number): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#outageTimer);
    if (this.#active === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.#idle = resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMillis);
      }),
    ]);
    clearTimeout(timer);
  }
}

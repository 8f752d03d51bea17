import { AuditDeliveryError, type AuditError } from '../errors.js';
import { backoffDelay, sleep, type RetryOptions } from './backoff.js';
import type { Batch, BatchLimits, QueuedRecord, RecordQueue } from './queue.js';
import type { MutableStats } from './stats.js';
import type { Transport } from './transport.js';

/** 400 and 413 only: the request's content is at fault, so splitting isolates the records to dead-letter. */
const RECORD_REJECTIONS = new Set([400, 413]);
/** Other 4xx (but 408 and 429) are the collector's or the client's configuration: retried and reported, never dead-lettered. */
const isRefusal = (status: number | undefined): boolean => status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429 && !RECORD_REJECTIONS.has(status);

/** What the sender does with records it gives up on, and when it may say an outage is long. */
export interface SenderOptions {
  readonly queue: RecordQueue;
  readonly transport: Transport;
  readonly limits: BatchLimits;
  readonly maxConcurrentExports: number;
  readonly retry: Required<RetryOptions>;
  /** Report an outage once the collector has failed every attempt for this long, then at `repeatEveryMillis`. */
  readonly outage: { readonly reportAfterMillis: number; readonly repeatEveryMillis: number };
  readonly now: () => number;
  readonly stats: MutableStats;
  readonly report: (error: AuditError) => void;
  /** Keeps records the collector will never accept; resolves true once they are safe (or reported, with no file to keep them), false when the file could not be written. */
  readonly deadLetter: (records: readonly QueuedRecord[], reason: 'dead_letter' | 'retry_exhausted', why: string, status: number | undefined) => Promise<boolean>;
  /** Records acknowledged (or dead-lettered), in queue order. */
  readonly onSettled: (records: readonly QueuedRecord[]) => void;
}

interface InFlight {
  readonly batch: Batch;
  done: boolean;
}

/**
 * Takes batches from the queue and sends them, `maxConcurrentExports` at a time; acknowledges them
 * to the queue in the order they were taken (a spool segment goes only when every record before
 * its end is acknowledged). Backs off and retries without a time limit unless configured;
 * splits a batch the collector rejects (400/413) down to the records at fault; reports refusals
 * (401, 403, 404, ...) and long outages without ever dropping for them.
 */
export class Sender {
  readonly #o: SenderOptions;
  readonly #inFlight: InFlight[] = [];
  readonly #stop = new AbortController();
  #pumping = false;
  #readFailures = 0;
  /** Since when every attempt failed; undefined while the collector answers. */
  #failingSince: number | undefined;
  #lastOutageReport: number | undefined;
  /** The last refusal reported, so that the same refusal is not reported on every attempt. */
  #lastRefusal: { status: number; at: number } | undefined;
  #idle: (() => void) | undefined;

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

  #wakeScheduled = false;

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#stop.signal.aborted && this.#inFlight.length < this.#o.maxConcurrentExports && this.#o.queue.hasUnsent) {
        let batch: Batch | undefined;
        try {
          batch = await this.#o.queue.next(this.#o.limits);
          this.#readFailures = 0;
        } catch (error) {
          // A spool that cannot be read (ENOENT, EMFILE, EIO) must not take the application down: report, back off, retry.
          this.#o.report(new AuditDeliveryError('spool_unavailable', `cannot read the spool (${(error as Error).message}); retrying`, 0, { cause: error }));
          await sleep(backoffDelay(this.#readFailures++, this.#o.retry), this.#stop.signal);
          continue;
        }
        if (!batch) continue;
        const entry: InFlight = { batch, done: false };
        this.#inFlight.push(entry);
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
        done.batch.ack();
        this.#o.onSettled(done.batch.records);
      }
    } finally {
      this.#active--;
      if (this.#active === 0) this.#idle?.();
    }
    void this.#pump();
  }

  /** Exports under way (including their retries). */
  #active = 0;

  /**
   * Sends until every record is acknowledged or dead-lettered (true), or the sender stops (false).
   */
  async #deliver(records: readonly QueuedRecord[]): Promise<boolean> {
    const started = this.#o.now();
    for (let attempt = 0; ; attempt++) {
      if (this.#stop.signal.aborted) return false;
      const result = await this.#o.transport.send(records);
      // Stopped while the request was out: whatever the answer, the queue is closed; the records stay in it.
      if (this.#stop.signal.aborted) return false;
      if (result.ok && result.rejected === 0) {
        this.#recovered();
        this.#o.stats.exported += records.length;
        return true;
      }
      // A partial success names no record: split like a 400 (the accepted ones arrive again, as identical copies).
      const partial = result.ok;
      const status = result.ok ? undefined : result.status;
      const error = result.ok ? new Error(`partial success, ${result.rejected} rejected: ${result.message || 'no reason given'}`) : result.error;
      if (partial || (status !== undefined && RECORD_REJECTIONS.has(status))) {
        this.#recovered();
        if (records.length === 1) {
          if (await this.#o.deadLetter(records, 'dead_letter', `${status ? `HTTP ${status}: ` : ''}${error.message}`, status)) return true;
          // The dead-letter file could not be written: keep the record and try the whole way again later.
          await sleep(backoffDelay(attempt, this.#o.retry), this.#stop.signal);
          continue;
        }
        const half = Math.ceil(records.length / 2);
        return (await this.#deliver(records.slice(0, half))) && this.#deliver(records.slice(half));
      }
      this.#failed(status, error);
      this.#o.stats.retried++;
      if (this.#o.now() - started >= this.#o.retry.maxElapsedMillis && (await this.#o.deadLetter(records, 'retry_exhausted', `${status ? `HTTP ${status}: ` : ''}${error.message}`, status))) {
        return true;
      }
      await sleep(backoffDelay(attempt, this.#o.retry), this.#stop.signal);
    }
  }

  #failed(status: number | undefined, error: Error): void {
    const now = this.#o.now();
    this.#failingSince ??= now;
    if (isRefusal(status)) {
      this.#o.stats.refused++;
      const last = this.#lastRefusal;
      if (!last || last.status !== status || now - last.at >= this.#o.outage.repeatEveryMillis) {
        this.#lastRefusal = { status: status!, at: now };
        const hint = status === 404 ? ' (the OTLP logs path is /v1/logs: check the endpoint URL)' : status === 401 || status === 403 ? ' (check the token or credentials)' : '';
        this.#o.report(
          new AuditDeliveryError('collector_refused', `the collector refused the export with HTTP ${status}${hint}: ${error.message}; events are kept and retried, not dead-lettered`, this.#o.queue.pending, { cause: error }),
        );
      }
    }
    const down = now - this.#failingSince;
    if (down >= this.#o.outage.reportAfterMillis && (this.#lastOutageReport === undefined || now - this.#lastOutageReport >= this.#o.outage.repeatEveryMillis)) {
      this.#lastOutageReport = now;
      const oldest = this.#o.queue.oldestPendingAt();
      this.#o.report(
        new AuditDeliveryError(
          'collector_unreachable',
          `the collector has not accepted an export for ${Math.round(down / 1000)} s (${status ? `HTTP ${status}` : error.message}); ${this.#o.queue.pending} event(s) pending, the oldest ${oldest === undefined ? 0 : Math.round((now - oldest) / 1000)} s old`,
          this.#o.queue.pending,
          { cause: error },
        ),
      );
    }
  }

  #recovered(): void {
    if (this.#failingSince === undefined) return;
    const down = this.#o.now() - this.#failingSince;
    this.#failingSince = undefined;
    this.#lastRefusal = undefined;
    if (this.#lastOutageReport !== undefined) {
      this.#lastOutageReport = undefined;
      this.#o.report(new AuditDeliveryError('collector_recovered', `the collector accepts exports again after ${Math.round(down / 1000)} s`, 0));
    }
  }

  /** Stops taking and retrying batches; resolves when the exports in flight have ended, or after `graceMillis`. */
  async stop(graceMillis: number): Promise<void> {
    this.#stop.abort();
    if (this.#active === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => (this.#idle = resolve)),
      sleep(graceMillis, new AbortController().signal),
    ]);
  }
}

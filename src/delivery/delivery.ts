import { join } from 'node:path';
import { deliveryReport, FlushTimeoutError, info, type AuditInfo, type AuditReport } from '../errors.js';
import { sleep, type RetryOptions } from './backoff.js';
import { appendDeadLetters, countDeadLetters, deadLetterOf, DeadLettersLockedError } from './dead-letters.js';
import type { FileSystem } from './file-system.js';
import { MemoryQueue } from './memory-queue.js';
import { CompositeQueue, type QueuedRecord, type RecordQueue } from './queue.js';
import { decodeLogRecord } from '../record/decoder.js';
import { Sender } from './sender.js';
import { DEAD_LETTERS_FILE, type HeadKeeper } from './spool/format.js';
import type { Spool, SpoolOptions } from './spool/queue.js';
import { openSlot, openSpool, orphanedSlots, SpoolOpenError } from './spool/slots.js';
import { oldestOf, type MutableStats, type PendingSlot } from './stats.js';
import type { Transport } from './transport.js';

/** The delivery settings, resolved (see options.ts for their defaults and meaning). */
export interface DeliverySettings {
  readonly spoolDir: string | undefined;
  readonly maxQueueRecords: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly maxSegmentBytes: number;
  readonly maxConcurrentExports: number;
  readonly deadLetterFile: string | undefined;
  readonly retry: Required<RetryOptions>;
  readonly outage: { readonly reportAfterMillis: number; readonly repeatEveryMillis: number };
  readonly spoolRecoveryMillis: number;
}

/** How a shutdown ended. */
export interface ShutdownResult {
  /** Events not acknowledged by the collector when shutdown ended. */
  readonly undelivered: number;
  /** Of those, kept in the spool for the next start (the rest were dropped and reported). */
  readonly keptInSpool: number;
}

/** The writer's head that each spool slot keeps: the own slot's follows the writer; an adopted one's is only read back. */
export interface SlotHeads {
  own(streamId: string): HeadKeeper;
  adopted(streamId: string): HeadKeeper;
}

/** How often a logger with a spool looks for slots whose backlog no process delivers. */
const ADOPT_EVERY_MILLIS = 30_000;

interface Deferred {
  resolve(): void;
  reject(error: Error): void;
}

/** The records as JSON (event and attributes), for a report when no file keeps them. */
const readable = (records: readonly QueuedRecord[]): string[] =>
  records.map((record) => {
    const decoded = decodeLogRecord(record.bytes);
    return JSON.stringify({ event: decoded.body, attributes: decoded.attributes });
  });

/**
 * Everything between an encoded record and the collector: the queue (the spool, or the bounded
 * memory queue), the sender, the waiters of `logEventOrThrow`, `flush` and `shutdown`. Every
 * record ends delivered, dead-lettered, kept in the spool, or counted and reported as dropped.
 */
export class Delivery {
  readonly #settings: DeliverySettings;
  readonly #stats: MutableStats;
  readonly #report: (report: AuditReport | AuditInfo) => void;
  readonly #transport: Transport;
  readonly #now: () => number;
  readonly #spool: Spool | undefined;
  readonly #memory: MemoryQueue | undefined;
  readonly #queue: RecordQueue;
  readonly #sender: Sender;
  readonly #deadLetterFile: string | undefined;
  readonly #heads: SlotHeads;
  readonly #waiters = new Map<number, Deferred>();
  #flushWaiters: { target: number; resolve(): void; reject(error: Error): void }[] = [];
  #nextOrdinal = 0;
  #accepted = 0;
  #settled = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  #spoolFailing = false;
  #shutdown: Promise<ShutdownResult> | undefined;
  #closed = false;

  constructor(options: {
    settings: DeliverySettings;
    transport: Transport;
    stats: MutableStats;
    report: (report: AuditReport | AuditInfo) => void;
    fs: FileSystem;
    now: () => number;
    /** One given slot of the spool directory instead of the lowest free one. */
    slot?: string | undefined;
    /** The writer's head of the own slot and of each adopted one, which the spool keeps (see `HeadKeeper`). */
    heads: SlotHeads;
  }) {
    const { settings } = options;
    this.#settings = settings;
    this.#stats = options.stats;
    this.#report = options.report;
    this.#transport = options.transport;
    this.#now = options.now;
    this.#heads = options.heads;
    this.#spool = settings.spoolDir === undefined ? undefined : this.#openSpool(settings.spoolDir, options.fs, options.slot);
    this.#memory = this.#spool ? undefined : new MemoryQueue(settings.maxQueueRecords);
    this.#queue = this.#spool ? new CompositeQueue(this.#spool, (queue) => void (queue as Spool).close()) : this.#memory!;
    this.#deadLetterFile = settings.deadLetterFile ?? (this.#spool ? join(this.#spool.dir, DEAD_LETTERS_FILE) : undefined);
    this.#deadLettersAtStart = this.#deadLetterFile ? countDeadLetters(this.#deadLetterFile) : 0;
    if (this.#spool) {
      this.#backlog(this.#spool, false);
      this.#spoolLocation = { fs: options.fs, dir: settings.spoolDir! };
    }
    this.#sender = new Sender({
      queue: this.#queue,
      spoolDir: this.#spool ? settings.spoolDir : undefined,
      transport: this.#transport,
      limits: { maxRecords: settings.maxBatchRecords, maxBytes: settings.maxBatchBytes },
      maxConcurrentExports: settings.maxConcurrentExports,
      maxHeldRecords: settings.maxQueueRecords,
      retry: settings.retry,
      outage: settings.outage,
      now: this.#now,
      stats: this.#stats,
      report: this.#report,
      deadLetter: (records, reason, why, status) => this.#deadLetter(records, reason, why, status),
      onSettled: (records) => this.#settled_(records),
    });
    this.#sender.wake();
    if (this.#spool) {
      this.#adoptOrphans();
      this.#adoptTimer = setInterval(() => this.#adoptOrphans(), ADOPT_EVERY_MILLIS);
      this.#adoptTimer.unref();
    }
  }

  #spoolLocation: { fs: FileSystem; dir: string } | undefined;
  #adoptTimer: NodeJS.Timeout | undefined;

  /** Dead letters the dead-letter file held when this logger started. */
  readonly #deadLettersAtStart: number;

  /** Records left by an earlier process in `slot`: pending until delivered. */
  #backlog(slot: Spool, adopted: boolean): void {
    const count = slot.replayed;
    if (count === 0) return;
    this.#accepted += count;
    this.#stats.replayed += count;
    this.#stats.pending += count;
    this.#report(info('backlog_replayed', `${count} event(s) an earlier process left in ${slot.dir} are delivered by this one`, { slot: slot.dir, count, adopted }));
  }

  /** Delivers the backlog of free slots that no process took over (see `orphanedSlots`). */
  #adoptOrphans(): void {
    if (!this.#spool || !this.#spoolLocation || this.#closed) return;
    const { fs, dir: spoolDir } = this.#spoolLocation;
    try {
      for (const dir of orphanedSlots(fs, spoolDir, this.#spool.dir)) {
        const adopted = openSlot(dir, { ...this.#spoolOptionsFor(fs), head: (streamId) => this.#heads.adopted(streamId) });
        if (!adopted) continue; // another process was faster
        if (adopted.pending === 0) {
          void adopted.close(); // delivered meanwhile by whoever held it
          continue;
        }
        this.#backlog(adopted, true);
        (this.#queue as CompositeQueue).adopt(adopted);
        this.#sender.wake();
      }
    } catch (error) {
      this.#report(deliveryReport('spool_unavailable', `cannot deliver the backlog of another slot (${(error as Error).message}); retrying later`, 0, { path: spoolDir, operation: 'adopt' }, error));
    }
  }

  #spoolOptionsFor(fs: FileSystem): Omit<SpoolOptions, 'head'> {
    return {
      fs,
      maxSegmentBytes: this.#settings.maxSegmentBytes,
      maxMemoryRecords: this.#settings.maxQueueRecords,
      recoveryMillis: this.#settings.spoolRecoveryMillis,
      onCorrupt: (error) => {
        this.#stats.corrupted++;
        this.#report(deliveryReport('spool_corrupt', `${error.message}; intact records are kept`, 1, { segment: error.segment, offset: error.offset, skippedBytes: error.skippedBytes }, error));
      },
      onWriteFailure: (error, count) => {
        if (this.#spoolFailing) return;
        this.#spoolFailing = true;
        this.#report(
          deliveryReport('spool_unavailable', `cannot write the spool (${error.message}); ${count} event(s) and the ones after them wait in memory, in order, until it works again`, count, { path: this.#spool?.dir ?? this.#settings.spoolDir ?? '', operation: 'write' }, error),
        );
      },
      onOverflow: (records) => this.#drop('queue_full', records, `the spool cannot be written and its memory queue is full (${this.#settings.maxQueueRecords} events)`),
      onCommit: (records, bytes) => {
        this.#spoolFailing = false;
        this.#stats.spooledEvents += records.length;
        this.#stats.spooledBytes += bytes;
        this.#resolveWaiters(records);
        this.#sender.wake();
      },
    };
  }

  #openSpool(dir: string, fs: FileSystem, slot: string | undefined): Spool | undefined {
    try {
      // Only the own slot is written to: adopted ones are delivered, never appended to.
      const spoolOptions = { ...this.#spoolOptionsFor(fs), head: (streamId: string) => this.#heads.own(streamId) };
      if (slot === undefined) return openSpool(dir, spoolOptions);
      const spool = openSlot(slot, spoolOptions);
      if (!spool) throw new SpoolOpenError(`spool slot ${slot} is held by a running process`);
      return spool;
    } catch (error) {
      const why = error instanceof SpoolOpenError ? error.message : `cannot open spool directory ${dir} (${(error as Error).message})`;
      this.#report(deliveryReport('spool_unavailable', `${why}; using the in-memory queue`, 0, { path: slot ?? dir, operation: 'open' }, error));
      return undefined;
    }
  }

  /** True once shutdown has completed: nothing more is accepted. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Emit time of the oldest record accepted and not yet acknowledged, dead-lettered or dropped. */
  oldestPendingAt(): number | undefined {
    return this.#queue.oldestPendingAt();
  }

  /** What waits in each spool slot (the own one first, then the adopted ones) and the dead letters: what the queues already know, no I/O. */
  waiting(now: number): { slots: PendingSlot[]; deadLetters: { file: string | undefined; count: number } } {
    const slots: PendingSlot[] = [];
    if (this.#spool) {
      const spools = [this.#spool, ...((this.#queue as CompositeQueue).adopted as Spool[])];
      for (const spool of spools) {
        slots.push({ dir: spool.dir, own: spool === this.#spool, writable: spool.healthy, count: spool.pending, oldest: oldestOf(spool.oldestPendingAt(), now) });
      }
    }
    return { slots, deadLetters: { file: this.#deadLetterFile, count: this.#deadLettersAtStart + this.#stats.deadLettered } };
  }

  /** Takes an encoded record and its writer's header (see `QueuedRecord`); returns its ordinal, or 0 when it could not be kept (reported). */
  accept(bytes: Uint8Array, at: number, header: Uint8Array): number {
    const record: QueuedRecord = { bytes, at, header, ordinal: ++this.#nextOrdinal };
    if (this.#closed) {
      this.#drop('logger_shut_down', [record], 'the logger is shut down; the event was not kept', false);
      return 0;
    }
    if (!this.#queue.append(record)) {
      this.#drop('queue_full', [record], `the in-memory queue is full (${this.#settings.maxQueueRecords} events)`, false);
      return 0;
    }
    this.#accepted++;
    this.#stats.pending++;
    // Coalesced per tick. Committed spool records wake it again; records the spool keeps in memory while its disk fails need this one.
    this.#sender.wake();
    return record.ordinal;
  }

  /** Resolves when the record is durable: fdatasynced in the spool, or acknowledged by the collector. */
  whenDurable(ordinal: number): Promise<void> {
    this.#holdProcess();
    return new Promise((resolve, reject) => this.#waiters.set(ordinal, { resolve, reject }));
  }

  /** A caller awaits: keep the process alive (every other timer is unref'd) until it has its answer. */
  #holdProcess(): void {
    this.#keepAlive ??= setInterval(() => this.#releaseProcessIfIdle(), 1000);
  }

  #releaseProcessIfIdle(): void {
    if (this.#waiters.size > 0 || this.#flushWaiters.length > 0 || (this.#shutdown && !this.#closed)) return;
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  #resolveWaiters(records: readonly QueuedRecord[]): void {
    if (this.#waiters.size === 0) return;
    for (const record of records) {
      const waiter = this.#waiters.get(record.ordinal);
      if (!waiter) continue;
      this.#waiters.delete(record.ordinal);
      waiter.resolve();
    }
  }

  #rejectWaiters(records: readonly QueuedRecord[], error: Error): void {
    if (this.#waiters.size === 0) return;
    for (const record of records) {
      const waiter = this.#waiters.get(record.ordinal);
      if (!waiter) continue;
      this.#waiters.delete(record.ordinal);
      waiter.reject(error);
    }
  }

  /** Acknowledged or dead-lettered, in queue order. */
  #settled_(records: readonly QueuedRecord[]): void {
    this.#resolveWaiters(records);
    this.#settle(records.length);
  }

  #settle(count: number): void {
    this.#settled += count;
    this.#stats.pending -= count;
    if (this.#flushWaiters.length === 0) return;
    const done = this.#flushWaiters.filter((waiter) => waiter.target <= this.#settled);
    this.#flushWaiters = this.#flushWaiters.filter((waiter) => waiter.target > this.#settled);
    for (const waiter of done) waiter.resolve();
  }

  /** Counts and reports records that are lost; `accepted` says whether they were counted as pending. */
  #drop(reason: 'queue_full' | 'shutdown_pending' | 'logger_shut_down', records: readonly QueuedRecord[], why: string, accepted = true): void {
    this.#stats.dropped += records.length;
    const lost = readable(records);
    const error = reason === 'logger_shut_down' ? deliveryReport(reason, why, records.length, { eventId: undefined, records: lost }) : deliveryReport(reason, why, records.length, { records: lost });
    this.#rejectWaiters(records, error);
    if (accepted) this.#settle(records.length);
    this.#report(error);
  }

  /**
   * Writes records the collector refused for good to the dead-letter file (or, with none, attaches
   * them to the report). False when the file cannot be written: the records stay queued.
   */
  async #deadLetter(records: readonly QueuedRecord[], reason: 'dead_letter' | 'retry_exhausted', why: string, status: number | undefined): Promise<boolean> {
    let where = 'attached to this report';
    let attached: string[] | undefined;
    if (this.#deadLetterFile) {
      try {
        const time = new Date(this.#now());
        await appendDeadLetters(this.#deadLetterFile, records.map((record) => deadLetterOf(record, reason, why, status, time)));
      } catch (error) {
        // A redrive holds the file: the records wait for it, quietly (an operator is at work).
        if (error instanceof DeadLettersLockedError) return false;
        this.#report(
          deliveryReport('spool_unavailable', `cannot write ${this.#deadLetterFile} (${(error as Error).message}); ${records.length} refused event(s) stay queued and are tried again`, records.length, { path: this.#deadLetterFile, operation: 'dead_letter' }, error),
        );
        return false;
      }
      where = `kept in ${this.#deadLetterFile} (otel-audit spool --redrive sends them again)`;
    } else attached = readable(records);
    this.#stats.deadLettered += records.length;
    const error = deliveryReport(reason, `${records.length} event(s) not accepted by the collector (${why}); ${where}`, records.length, { file: this.#deadLetterFile, status, why, records: attached });
    this.#rejectWaiters(records, error);
    this.#report(error);
    return true;
  }

  /** Resolves when every record accepted before the call is acknowledged or dead-lettered; rejects at the deadline. */
  flush(timeoutMillis: number): Promise<void> {
    const target = this.#accepted;
    if (this.#settled >= target) return Promise.resolve();
    if (this.#closed) return Promise.reject(new FlushTimeoutError(target - this.#settled, 0));
    this.#holdProcess();
    return new Promise((resolve, reject) => {
      const waiter = {
        target,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error: Error) => (clearTimeout(timer), reject(error)),
      };
      const timer = setTimeout(() => {
        this.#flushWaiters = this.#flushWaiters.filter((other) => other !== waiter);
        reject(new FlushTimeoutError(target - this.#settled, timeoutMillis));
      }, timeoutMillis);
      timer.unref();
      this.#flushWaiters.push(waiter);
    });
  }

  /**
   * Delivers until everything is acknowledged or the deadline passes (events logged meanwhile are
   * accepted as usual), then stops. What is left stays in the spool for the next start; without
   * one (or when the spool cannot take it), it is counted as dropped and reported. Runs once; never rejects.
   */
  shutdown(timeoutMillis: number, handOver: () => void = () => undefined): Promise<ShutdownResult> {
    this.#shutdown ??= this.#close(timeoutMillis, handOver);
    return this.#shutdown;
  }

  /** `handOver` gives what the caller still holds (events waiting to be chained) to `accept`: before each check, and last, right before closing. */
  async #close(timeoutMillis: number, handOver: () => void): Promise<ShutdownResult> {
    this.#holdProcess();
    const deadline = this.#now() + timeoutMillis;
    // Until the deadline or until nothing is pending, including what is logged while draining.
    handOver();
    while (this.#settled < this.#accepted && this.#now() < deadline) {
      await this.flush(Math.max(1, deadline - this.#now())).catch(() => undefined);
      handOver();
    }
    this.#closed = true;
    clearInterval(this.#adoptTimer);
    // Ends the attempts under way (their records stay queued) and waits for them, within the deadline.
    await this.#sender.stop(Math.max(0, deadline - this.#now()));
    const undelivered = this.#accepted - this.#settled;
    let kept = 0;
    if (this.#spool) {
      // Adopted slots keep what they did not deliver, for whoever opens them next.
      for (const adopted of (this.#queue as CompositeQueue).adopted) await (adopted as Spool).close();
      const lost = await this.#spool.close();
      if (lost.length > 0) this.#drop('shutdown_pending', lost, `shutdown ended with ${lost.length} event(s) that the spool could not take (it cannot be written)`);
      kept = this.#accepted - this.#settled;
    } else {
      const leftovers = this.#memory!.drain();
      if (leftovers.length > 0) this.#drop('shutdown_pending', leftovers, `shutdown ended with ${leftovers.length} event(s) undelivered and no spool to keep them`);
    }
    // A custom exporter's shutdown may wait for its own requests: not beyond the deadline.
    await Promise.race([this.#transport.shutdown().catch(() => undefined), sleep(Math.max(0, deadline - this.#now()), new AbortController().signal)]);
    for (const waiter of this.#flushWaiters) waiter.reject(new FlushTimeoutError(waiter.target - this.#settled, timeoutMillis));
    this.#flushWaiters = [];
    this.#releaseProcessIfIdle();
    return { undelivered, keptInSpool: kept };
  }
}

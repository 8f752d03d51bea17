import * as fs from 'node:fs';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';
import { AuditDeliveryError, FlushTimeoutError, type AuditError } from '../errors.js';
import type { ChainHead } from '../integrity/chain.js';
import { backoffDelay, sleep, type RetryOptions } from './backoff.js';
import { decodeRecord, encodeRecord } from './encoding.js';
import { MemoryQueue, type QueuedRecord } from './memory-queue.js';
import { Spool, type SpoolBatch } from './spool.js';
import type { MutableStats } from './stats.js';

/** How events are kept and sent. The options type is the documentation: see each field. */
export interface DeliveryOptions {
  /**
   * Directory of the durable spool. Recommended in production: an event is on disk (fsynced)
   * before `logEventOrThrow` resolves, and survives a crash or restart until the collector
   * acknowledged it. Without it, events wait in a bounded in-memory queue.
   * @default undefined (in-memory queue)
   * @example '/var/lib/myapp/audit-spool'
   */
  readonly spoolDir?: string;
  /** Bound of the in-memory queue; an event beyond it is dropped, counted and reported. @default 20000 */
  readonly maxQueueRecords?: number;
  /** Records per export request. @default 512 */
  readonly maxBatchRecords?: number;
  /** Bytes of spool read per export request (a larger single record is still sent whole). @default 1048576 */
  readonly maxBatchBytes?: number;
  /** A spool segment file is closed past this size; acknowledged segments are deleted. @default 16777216 */
  readonly maxSegmentBytes?: number;
  /**
   * NDJSON file for records the collector will never accept (HTTP 400/413 after splitting the batch
   * down to the one record), with the reason.
   * @default '<spoolDir>/dead-letters.ndjson' with a spool; otherwise the records travel in the `onError` report
   */
  readonly deadLetterFile?: string;
  /** Backoff between export attempts. */
  readonly retry?: RetryOptions;
}

interface Deferred {
  resolve(): void;
  reject(error: Error): void;
}

interface PendingBatch {
  readonly items: QueuedRecord[];
  readonly spool?: SpoolBatch;
}

const SPOOL_RECOVERY_MILLIS = 5000;

/** The HTTP status of a failed export, when it had one. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** 4xx other than 408/429 will fail the same way again: split the batch, dead-letter the culprit. */
function isPermanent(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The audit-grade log record processor: every record is serialized at emit, kept (spool or
 * bounded memory) until the collector acknowledges it, retried without a time limit, and either
 * delivered, dead-lettered with its reason, or counted and reported as dropped. Never silent.
 */
export class AuditLogRecordProcessor implements LogRecordProcessor {
  readonly #exporter: LogRecordExporter;
  readonly #resource: Resource;
  readonly #scope: InstrumentationScope;
  readonly #stats: MutableStats;
  readonly #report: (error: AuditError) => void;
  readonly #retry: Required<RetryOptions>;
  readonly #maxBatchRecords: number;
  readonly #maxBatchBytes: number;
  readonly #deadLetterFile: string | undefined;
  readonly #memory: MemoryQueue;
  readonly #spool: Spool | undefined;
  readonly #waiters = new Map<number, Deferred>();
  readonly #stop = new AbortController();
  #nextOrdinal = 0;
  #lastOrdinal = 0;
  #accepted = 0;
  #settled = 0;
  #flushWaiters: { target: number; resolve(): void }[] = [];
  #wakeSender: (() => void) | undefined;
  #workSignalled = false;
  #recoveryTimer: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #shutdown: Promise<void> | undefined;
  readonly #loop: Promise<void>;

  constructor(options: {
    exporter: LogRecordExporter;
    resource: Resource;
    scope: InstrumentationScope;
    stats: MutableStats;
    report: (error: AuditError) => void;
    delivery: DeliveryOptions;
  }) {
    const { delivery } = options;
    this.#exporter = options.exporter;
    this.#resource = options.resource;
    this.#scope = options.scope;
    this.#stats = options.stats;
    this.#report = options.report;
    this.#retry = {
      initialDelayMillis: delivery.retry?.initialDelayMillis ?? 500,
      maxDelayMillis: delivery.retry?.maxDelayMillis ?? 30_000,
      maxElapsedMillis: delivery.retry?.maxElapsedMillis ?? Infinity,
    };
    this.#maxBatchRecords = delivery.maxBatchRecords ?? 512;
    this.#maxBatchBytes = delivery.maxBatchBytes ?? 1024 * 1024;
    this.#memory = new MemoryQueue(delivery.maxQueueRecords ?? 20_000);
    this.#deadLetterFile =
      delivery.deadLetterFile ?? (delivery.spoolDir ? join(delivery.spoolDir, 'dead-letters.ndjson') : undefined);
    this.#spool = delivery.spoolDir ? this.#openSpool(delivery.spoolDir, delivery.maxSegmentBytes ?? 16 * 1024 * 1024) : undefined;
    if (this.#spool) {
      this.#accepted = this.#spool.replayed;
      this.#stats.replayed = this.#spool.replayed;
      this.#stats.pending = this.#spool.replayed;
    }
    this.#loop = this.#run();
  }

  #openSpool(dir: string, maxSegmentBytes: number): Spool | undefined {
    try {
      return new Spool(dir, {
        maxSegmentBytes,
        onCorrupt: (count, where) => {
          this.#stats.corrupted += count;
          this.#report(
            new AuditDeliveryError('spool_corrupt', `skipped ${count} damaged record(s) in ${where}; intact records are kept`, count),
          );
        },
        onCommit: (group, bytes) => {
          this.#stats.spooledEvents += group.length;
          this.#stats.spooledBytes += bytes;
          if (this.#waiters.size > 0) for (const record of group) this.#settleWaiter(record.ordinal);
          this.#signalWork();
        },
        onWriteFailure: (error, group) => this.#spoolFailed(error, group),
      });
    } catch (error) {
      this.#report(
        new AuditDeliveryError('spool_unavailable', `cannot open spool directory ${dir} (${(error as Error).message}); using the in-memory queue`, 0, { cause: error }),
      );
      return undefined;
    }
  }

  #signalWork(): void {
    this.#workSignalled = true;
    this.#wakeSender?.();
  }

  /** The chain head an earlier process left in the spool, so the stream continues without a gap. */
  get spooledHead(): ChainHead | undefined {
    return this.#spool?.head;
  }

  /** The ordinal of the last record accepted by `onEmit` (0 if it was dropped). */
  get lastOrdinal(): number {
    return this.#lastOrdinal;
  }

  onEmit(logRecord: SdkLogRecord): void {
    this.#lastOrdinal = 0;
    if (this.#shutdown) {
      this.#drop('shutdown_pending', 1, 'the logger is shut down; the event was not kept');
      return;
    }
    const record = { line: encodeRecord(logRecord), ordinal: ++this.#nextOrdinal };
    if (this.#spool?.healthy) this.#spool.append(record);
    else if (!this.#memory.push(record)) {
      this.#drop('queue_full', 1, `the in-memory queue is full (${this.#memory.maxRecords} events)`);
      return;
    }
    this.#lastOrdinal = record.ordinal;
    this.#accepted++;
    this.#stats.pending++;
    this.#signalWork();
  }

  /**
   * Resolves when the record is durable: fsynced in the spool, or, with no spool (or while the
   * spool cannot be written), acknowledged by the collector.
   */
  whenAccepted(ordinal: number): Promise<void> {
    // A caller is awaiting: keep the process alive (the retry timers are unref'd) until it has its answer.
    this.#keepAlive ??= setInterval(() => undefined, 60_000);
    return new Promise((resolve, reject) => this.#waiters.set(ordinal, { resolve, reject }));
  }

  #settleWaiter(ordinal: number, error?: Error): void {
    const waiter = this.#waiters.get(ordinal);
    if (!waiter) return;
    this.#waiters.delete(ordinal);
    if (this.#waiters.size === 0) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  #drop(reason: 'queue_full' | 'shutdown_pending', count: number, why: string, records?: readonly QueuedRecord[]): void {
    this.#stats.dropped += count;
    const error = new AuditDeliveryError(reason, why, count, {
      records: records?.map((record) => record.line),
    });
    for (const record of records ?? []) this.#settleWaiter(record.ordinal, error);
    this.#report(error);
  }

  #settle(count: number): void {
    this.#settled += count;
    this.#stats.pending -= count;
    if (this.#flushWaiters.length === 0) return;
    const done = this.#flushWaiters.filter((waiter) => waiter.target <= this.#settled);
    this.#flushWaiters = this.#flushWaiters.filter((waiter) => waiter.target > this.#settled);
    for (const waiter of done) waiter.resolve();
  }

  #spoolFailed(error: Error, group: QueuedRecord[]): void {
    if (!this.#recoveryTimer) {
      this.#report(
        new AuditDeliveryError(
          'spool_unavailable',
          `cannot write the spool (${error.message}); ${group.length} event(s) and the ones after them go to the in-memory queue until it works again`,
          group.length,
          { cause: error },
        ),
      );
      this.#recoveryTimer = setInterval(() => {
        if (this.#spool?.recover()) {
          clearInterval(this.#recoveryTimer);
          this.#recoveryTimer = undefined;
        }
      }, SPOOL_RECOVERY_MILLIS);
      this.#recoveryTimer.unref();
    }
    const overflow: QueuedRecord[] = [];
    for (const record of group) if (!this.#memory.push(record)) overflow.push(record);
    if (overflow.length > 0) {
      this.#drop('queue_full', overflow.length, `the in-memory queue is full (${this.#memory.maxRecords} events)`, overflow);
      this.#settle(overflow.length);
    }
    this.#signalWork();
  }

  async #nextBatch(): Promise<PendingBatch | undefined> {
    if (this.#spool?.hasUnsent) {
      const spool = await this.#spool.next(this.#maxBatchRecords, this.#maxBatchBytes);
      if (spool) return { items: spool.records, spool };
    }
    if (this.#memory.hasUnsent) return { items: this.#memory.take(this.#maxBatchRecords) };
    return undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      this.#workSignalled = false;
      const batch = await this.#nextBatch();
      if (!batch) {
        // Work may have arrived while #nextBatch was reading: only sleep when none did.
        if (!this.#workSignalled) await new Promise<void>((resolve) => (this.#wakeSender = resolve));
        this.#wakeSender = undefined;
        continue;
      }
      const delivered = await this.#deliver(batch.items);
      if (!delivered) return; // stopped mid-retry: the batch stays in the spool (or is counted at shutdown)
      if (batch.spool) this.#spool?.ack(batch.spool);
      else {
        this.#memory.ack(batch.items.length);
        if (this.#waiters.size > 0) for (const record of batch.items) this.#settleWaiter(record.ordinal);
      }
      this.#settle(batch.items.length);
    }
  }

  #export(records: ReadableLogRecord[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      try {
        this.#exporter.export(records, resolve);
      } catch (error) {
        resolve({ code: ExportResultCode.FAILED, error: error as Error });
      }
    });
  }

  /**
   * Sends until every record is acknowledged or dead-lettered (true), or shutdown stops it
   * (false). A permanent rejection splits the batch in halves to isolate the records at fault.
   */
  async #deliver(items: QueuedRecord[]): Promise<boolean> {
    const records = items.map((item) => decodeRecord(item.line, this.#resource, this.#scope));
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const result = await this.#export(records);
      if (result.code === ExportResultCode.SUCCESS) {
        this.#stats.exported += items.length;
        return true;
      }
      if (isPermanent(result.error)) {
        if (items.length === 1) {
          await this.#deadLetter(items, 'dead_letter', result.error);
          return true;
        }
        const half = Math.ceil(items.length / 2);
        return (await this.#deliver(items.slice(0, half))) && this.#deliver(items.slice(half));
      }
      if (this.#stop.signal.aborted) return false;
      this.#stats.retried++;
      if (Date.now() - started >= this.#retry.maxElapsedMillis) {
        await this.#deadLetter(items, 'retry_exhausted', result.error);
        return true;
      }
      await sleep(backoffDelay(attempt, this.#retry), this.#stop.signal);
      if (this.#stop.signal.aborted) return false;
    }
  }

  async #deadLetter(items: QueuedRecord[], reason: 'dead_letter' | 'retry_exhausted', cause: unknown): Promise<void> {
    const status = statusOf(cause);
    const why = `${status ? `HTTP ${status}: ` : ''}${(cause as Error | undefined)?.message ?? 'export failed'}`;
    this.#stats.deadLettered += items.length;
    let records: string[] | undefined = items.map((item) => item.line);
    if (this.#deadLetterFile) {
      const time = new Date().toISOString();
      const lines = items.map((item) => `{"time":${JSON.stringify(time)},"reason":${JSON.stringify(reason)},"error":${JSON.stringify(why)},"record":${item.line}}\n`);
      try {
        await fs.promises.appendFile(this.#deadLetterFile, lines.join(''), { flush: true });
        records = undefined;
      } catch (error) {
        this.#report(new AuditDeliveryError('dead_letter', `cannot write ${this.#deadLetterFile}: ${(error as Error).message}`, items.length, { cause: error }));
      }
    }
    const where = records ? 'attached to this report' : `kept in ${this.#deadLetterFile}`;
    const error = new AuditDeliveryError(reason, `${items.length} event(s) not accepted by the collector (${why}); ${where}`, items.length, { cause, records });
    for (const item of items) this.#settleWaiter(item.ordinal, error);
    this.#report(error);
  }

  /** Resolves when every record accepted before the call is acknowledged or dead-lettered. */
  forceFlush(options?: { timeoutMillis?: number }): Promise<void> {
    const timeoutMillis = options?.timeoutMillis ?? 30_000;
    const target = this.#accepted;
    if (this.#settled >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.#flushWaiters = this.#flushWaiters.filter((other) => other !== waiter);
        reject(new FlushTimeoutError(target - this.#settled, timeoutMillis));
      }, timeoutMillis);
      // Not unref'd, unlike every other timer here: a caller awaiting flush() must get its answer,
      // and the process stays alive (retrying) until then.
      this.#flushWaiters.push(waiter);
    });
  }

  /**
   * Flushes until the deadline, then stops. With a spool, what is not delivered stays on disk for
   * the next start; without one, it is counted as dropped and reported. Runs once.
   */
  shutdown(options?: { timeoutMillis?: number }): Promise<void> {
    this.#shutdown ??= this.#close(options?.timeoutMillis ?? 30_000);
    return this.#shutdown;
  }

  async #close(timeoutMillis: number): Promise<void> {
    let flushError: unknown;
    try {
      await this.forceFlush({ timeoutMillis });
    } catch (error) {
      flushError = error;
    }
    this.#stop.abort();
    this.#signalWork();
    clearInterval(this.#recoveryTimer);
    // An export in flight ends within the exporter's own timeout; do not wait on it past that.
    await Promise.race([this.#loop, sleep(1000, new AbortController().signal)]);
    await this.#spool?.close();
    const leftovers = this.#memory.drain();
    if (leftovers.length > 0) {
      this.#drop('shutdown_pending', leftovers.length, `shutdown reached its deadline with ${leftovers.length} event(s) undelivered and no spool to keep them`, leftovers);
      this.#settle(leftovers.length);
    }
    await this.#exporter.shutdown();
    if (flushError) throw flushError;
  }
}

import type { Batch, BatchLimits, QueuedRecord, RecordQueue } from './queue.js';

/**
 * The bounded in-memory queue: the queue when no spool is configured, and the spool's own tail
 * while its disk cannot be written. Records stay until acknowledged, so a failed batch is re-sent.
 */
export class MemoryQueue implements RecordQueue {
  #records: QueuedRecord[] = [];
  /** Index of the oldest unacknowledged record. */
  #head = 0;
  /** Records handed out after #head and not yet acknowledged. */
  #handedOut = 0;

  constructor(readonly maxRecords: number) {}

  get pending(): number {
    return this.#records.length - this.#head;
  }

  get hasUnsent(): boolean {
    return this.#head + this.#handedOut < this.#records.length;
  }

  oldestPendingAt(): number | undefined {
    return this.#records[this.#head]?.at;
  }

  append(record: QueuedRecord): boolean {
    if (this.pending >= this.maxRecords) return false;
    this.#records.push(record);
    return true;
  }

  next(limits: BatchLimits): Promise<Batch | undefined> {
    return Promise.resolve(this.take(limits));
  }

  /** Synchronous `next`: the records after the last batch handed out. */
  take(limits: BatchLimits): Batch | undefined {
    const start = this.#head + this.#handedOut;
    if (start >= this.#records.length) return undefined;
    let end = start;
    let bytes = 0;
    while (end < this.#records.length && end - start < limits.maxRecords) {
      const size = this.#records[end]!.bytes.length;
      if (end > start && bytes + size > limits.maxBytes) break;
      bytes += size;
      end++;
    }
    const records = this.#records.slice(start, end);
    this.#handedOut += records.length;
    return { records, ack: () => this.#ack(records.length) };
  }

  #ack(count: number): void {
    this.#head += count;
    this.#handedOut -= count;
    // Compact now and then instead of shifting on every ack.
    if (this.#head > 4096 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes the records not handed out yet (the spool writes them to disk when it works again). */
  takeUnsent(): QueuedRecord[] {
    const start = this.#head + this.#handedOut;
    return this.#records.splice(start);
  }

  /** Removes and returns everything unacknowledged (shutdown with nowhere to keep it). */
  drain(): QueuedRecord[] {
    const rest = this.#records.slice(this.#head);
    this.#records = [];
    this.#head = 0;
    this.#handedOut = 0;
    return rest;
  }
}

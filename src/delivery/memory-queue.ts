/** One queued record: its serialized form and the process-local order it was accepted in. */
export interface QueuedRecord {
  readonly line: string;
  readonly ordinal: number;
}

/**
 * The bounded in-memory queue: used when no spool is configured, and as the fallback while the
 * spool cannot be written. Records stay in it until acknowledged, so a failed batch is re-sent.
 */
export class MemoryQueue {
  #records: QueuedRecord[] = [];
  #head = 0;
  #handedOut = 0;

  constructor(readonly maxRecords: number) {}

  /** Records held (sent or not) and not yet acknowledged. */
  get size(): number {
    return this.#records.length - this.#head;
  }

  get hasUnsent(): boolean {
    return this.#head + this.#handedOut < this.#records.length;
  }

  /** False when the queue is at its bound: the caller reports and counts the loss. */
  push(record: QueuedRecord): boolean {
    if (this.size >= this.maxRecords) return false;
    this.#records.push(record);
    return true;
  }

  /** Hands out the next records not yet handed out, oldest first. */
  take(maxRecords: number): QueuedRecord[] {
    const start = this.#head + this.#handedOut;
    const batch = this.#records.slice(start, start + maxRecords);
    this.#handedOut += batch.length;
    return batch;
  }

  /** Acknowledges the oldest `count` handed-out records. */
  ack(count: number): void {
    this.#head += count;
    this.#handedOut -= count;
    // Compact now and then instead of shifting on every ack.
    if (this.#head > 4096 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Removes and returns everything (shutdown without a spool). */
  drain(): QueuedRecord[] {
    const rest = this.#records.slice(this.#head);
    this.#records = [];
    this.#head = 0;
    this.#handedOut = 0;
    return rest;
  }
}

/**
 * The record queue: one narrow interface, two implementations (the durable spool and the bounded
 * memory queue). The sender takes batches in order and acknowledges them in the same order; a
 * batch carries its own `ack()`, so the sender needs to know nothing of where records are kept.
 */

/** One audit record as every queue keeps it: encoded once, at emit (see record/encoder.ts). */
export interface QueuedRecord {
  /** The OTLP `LogRecord` bytes. */
  readonly bytes: Uint8Array;
  /** Emit time, ms since the epoch (the age of the oldest pending record is reported). */
  readonly at: number;
  /** Its writer's header, kept with it in the spool and read by no queue (the chain's link: see integrity/spooled-head.ts). */
  readonly header: Uint8Array;
  /** Process-local order of acceptance (0 for records an earlier process left in the spool). */
  readonly ordinal: number;
}

export interface BatchLimits {
  readonly maxRecords: number;
  /** A single record larger than this is still sent whole. */
  readonly maxBytes: number;
}

/** Records handed to the sender, oldest first. */
export interface Batch {
  readonly records: readonly QueuedRecord[];
  /** The collector accepted (or the sender dead-lettered) every record: forget them. Called in hand-out order. */
  ack(): void;
}

export interface RecordQueue {
  /** Keeps a record; false when it cannot (a bound is reached): the caller reports the loss. */
  append(record: QueuedRecord): boolean;
  /** Whether records wait to be handed out. */
  readonly hasUnsent: boolean;
  /** Records kept and not yet acknowledged (handed out or not). */
  readonly pending: number;
  /** Emit time of the oldest record not yet acknowledged. */
  oldestPendingAt(): number | undefined;
  /** The next records after the last batch handed out. May reject (a spool read error): the sender retries. */
  next(limits: BatchLimits): Promise<Batch | undefined>;
}

/**
 * The own queue first, then the backlogs of adopted queues (other streams: their order relative to
 * the own one does not matter). `onDrained` is told when an adopted queue has nothing pending left.
 */
export class CompositeQueue implements RecordQueue {
  readonly #adopted: RecordQueue[] = [];

  /** The adopted queues not drained yet. */
  get adopted(): readonly RecordQueue[] {
    return this.#adopted;
  }

  constructor(
    readonly own: RecordQueue,
    readonly onDrained: (queue: RecordQueue) => void,
  ) {}

  adopt(queue: RecordQueue): void {
    this.#adopted.push(queue);
  }

  append(record: QueuedRecord): boolean {
    return this.own.append(record);
  }

  get hasUnsent(): boolean {
    return this.own.hasUnsent || this.#adopted.some((queue) => queue.hasUnsent);
  }

  get pending(): number {
    return this.#adopted.reduce((sum, queue) => sum + queue.pending, this.own.pending);
  }

  oldestPendingAt(): number | undefined {
    let oldest = this.own.oldestPendingAt();
    for (const queue of this.#adopted) {
      const at = queue.oldestPendingAt();
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }

  async next(limits: BatchLimits): Promise<Batch | undefined> {
    if (this.own.hasUnsent) return this.own.next(limits);
    const queue = this.#adopted.find((candidate) => candidate.hasUnsent);
    const batch = await queue?.next(limits);
    if (!queue || !batch) return batch;
    return {
      records: batch.records,
      ack: () => {
        batch.ack();
        if (queue.pending === 0) {
          this.#adopted.splice(this.#adopted.indexOf(queue), 1);
          this.onDrained(queue);
        }
      },
    };
  }
}

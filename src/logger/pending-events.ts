/**
 * What `logEvent` has validated and captured, waiting to be chained and encoded after the
 * caller's synchronous code, in call order (the SDK's batch processor defers its serialization
 * the same way). Each event-loop turn (setImmediate) processes a batch, at least as many as
 * arrived since the turn before, so the spool's writes and the exports of earlier batches overlap
 * the encoding of the next and the backlog never outgrows one synchronous burst. At most `bound`
 * wait: the call that reaches it processes them all.
 *
 * `drain()` processes what waits now (whoever reads or extends the chain calls it first). What is
 * added while a drain runs (an error hook that logs) waits for the next one, and a drain entered
 * from inside a drain does nothing: the order stays the order of the calls.
 */
export class PendingEvents<T> {
  /** Processed slots are cleared at once (the events can be collected) and compacted away in halves. */
  #items: (T | undefined)[] = [];
  #head = 0;
  #scheduled = false;
  #draining = false;
  #leftAfterLastTurn = 0;

  constructor(
    private readonly process: (item: T) => void,
    private readonly onDrained: () => void,
    private readonly batch: number,
    private readonly bound: number,
  ) {}

  get #size(): number {
    return this.#items.length - this.#head;
  }

  /** How many wait. */
  get size(): number {
    return this.#size;
  }

  /** The first that waits (the oldest), if any. */
  get first(): T | undefined {
    return this.#items[this.#head];
  }

  /** Adds an item; the call that reaches the bound processes what waits, unless `lazily`. */
  add(item: T, lazily = false): void {
    this.#items.push(item);
    if (this.#size >= this.bound && !lazily) this.drain();
    else this.#schedule();
  }

  /** Processes, in order, up to `limit` of the items waiting when it starts. */
  drain(limit = Infinity): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      const stop = Math.min(this.#items.length, this.#head + limit);
      while (this.#head < stop) {
        const item = this.#items[this.#head]!;
        this.#items[this.#head++] = undefined;
        this.process(item);
      }
    } finally {
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      } else if (this.#head > this.#items.length / 2) {
        this.#items.splice(0, this.#head);
        this.#head = 0;
      }
      this.#draining = false;
    }
    this.onDrained();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#size === 0) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    this.drain(Math.max(this.batch, this.#size - this.#leftAfterLastTurn));
    this.#leftAfterLastTurn = this.#size;
  };
}

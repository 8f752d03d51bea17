/** Retry timing of the sender. */
export interface RetryOptions {
  /**
   * First wait after a failed export, in ms. Retry-After answers are honoured by the OTLP exporter
   * within its own timeout; this backoff applies between those rounds.
   * @default 500
   */
  readonly initialDelayMillis?: number;
  /** Longest wait between two attempts, in ms. @default 30000 */
  readonly maxDelayMillis?: number;
  /**
   * Give up on a batch after this long, moving it to the dead-letter file. `Infinity` retries
   * forever, which is what an audit trail wants: a long outage fills the spool, it loses nothing.
   * @default Infinity
   */
  readonly maxElapsedMillis?: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, so senders do not align. */
export function backoffDelay(attempt: number, options: Required<RetryOptions>): number {
  const ceiling = Math.min(options.maxDelayMillis, options.initialDelayMillis * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** A wait that shutdown can cut short; its timer never keeps the process alive. */
export function sleep(millis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, millis);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

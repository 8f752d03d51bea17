// How far a long command is (verify of a large copy, replay, the re-drives, the Collector build):
// one line on stderr, redrawn at most every REDRAW_MILLIS, with what is done (records or bytes), the
// rate and, when the total is known, the time left. Nothing at all when stderr is not a terminal
// (a pipe, a file, CI) or when the command prints JSON: what a program reads stays as it was.

/** What the line is drawn on: stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** What is being done, e.g. `verify` or `re-drive slot-0000`. */
  readonly label: string;
  /** What `update` counts; absent: nothing is counted, the line says how long it has been (redrawn each second). */
  readonly unit?: 'records' | 'bytes';
  /** How many there are in all, when known: the line then says the share done and the time left. */
  readonly total?: number;
  /** The command prints JSON (--json): no line, whatever stderr is. */
  readonly json?: boolean;
  /** @default process.stderr */
  readonly stream?: ProgressStream;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface Progress {
  /** Whether the line is drawn (stderr is a terminal, no --json). */
  readonly active: boolean;
  /** Where the work stands: `done` so far, of `total` when it is known only now. Redraws when the last drawing is old enough. */
  update(done: number, total?: number): void;
  /** Text the command writes while the line is shown (its own output): written above the line. */
  above(text: string, to: ProgressStream): void;
  /** Clears the line, for the command's result. */
  finish(): void;
}

/** At most five drawings a second: enough to see it move, little enough to cost nothing. */
const REDRAW_MILLIS = 200;
/** Back to the start of the line, and the rest of it erased. */
const CLEAR_LINE = '\r\x1b[K';

const NO_PROGRESS: Progress = { active: false, update: () => undefined, above: (text, to) => void to.write(text), finish: () => undefined };

export function progress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.json || stream.isTTY !== true) return NO_PROGRESS;
  const now = options.now ?? Date.now;
  const started = now();
  let done = 0;
  let total = options.total;
  let drawnAt = started;
  let shown = false;
  const draw = (): void => {
    drawnAt = now();
    stream.write(`${CLEAR_LINE}${line(options.label, options.unit, done, total, drawnAt - started)}`);
    shown = true;
  };
  const clear = (): void => {
    if (shown) stream.write(CLEAR_LINE);
    shown = false;
  };
  // Nothing counted: the elapsed time is all there is to show, once a second.
  const ticker = options.unit === undefined ? setInterval(draw, 1000) : undefined;
  ticker?.unref();
  return {
    active: true,
    update(value, newTotal) {
      done = value;
      total = newTotal ?? total;
      if (now() - drawnAt >= REDRAW_MILLIS) draw();
    },
    above(text, to) {
      const wasShown = shown;
      clear();
      to.write(text);
      if (wasShown) draw();
    },
    finish() {
      clearInterval(ticker);
      clear();
    },
  };
}

/** The line: `verify: 1.2 GiB of 3.4 GiB (35%), 85.3 MiB/s, 0:27 left`. */
function line(label: string, unit: ProgressOptions['unit'], done: number, total: number | undefined, elapsedMillis: number): string {
  if (unit === undefined) return `${label}: ${duration(elapsedMillis)}`;
  const amount = (n: number): string => (unit === 'bytes' ? bytes(n) : `${Math.round(n).toLocaleString('en-US')}`);
  const parts = [total === undefined ? `${amount(done)} ${unit === 'bytes' ? 'read' : 'records'}` : `${amount(done)} of ${amount(total)}${unit === 'records' ? ' records' : ''} (${Math.floor((100 * done) / Math.max(1, total))}%)`];
  const perSecond = elapsedMillis > 0 ? (done * 1000) / elapsedMillis : 0;
  if (perSecond > 0) {
    parts.push(`${amount(perSecond)}${unit === 'records' ? ' records' : ''}/s`);
    if (total !== undefined && total >= done) parts.push(`${duration(((total - done) / perSecond) * 1000)} left`);
  }
  return `${label}: ${parts.join(', ')}`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(value) : value.toFixed(1)} ${units[i]}`;
}

/** `m:ss`, or `h:mm:ss` past an hour. */
function duration(millis: number): string {
  const seconds = Math.max(0, Math.round(millis / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

// Health per destination from the Collector's own Prometheus metrics: events sent, failed to send
// and queued per exporter, sampled on an interval and kept for the last hour; the last error is
// the newest error or warning the Collector logged for that exporter. The Collector's counters
// start again from 0 whenever it reloads or restarts: each run has its own service.instance.id,
// its counts are the highest read of it (scraped, or pushed: the last push of a run comes as it
// shuts down, after its exporters stopped), and a destination's count is the sum over the runs.
// The totals are kept in a file of the state directory: a restart of the panel does not lose them.
import { existsSync, readFileSync } from 'node:fs';
import type { MetricsPush } from './metrics-push.js';
import { writeFileAtomic } from './state.js';

export interface ExporterSample {
  readonly at: number;
  readonly sent: number;
  readonly failed: number;
  readonly enqueueFailed: number;
  readonly queued: number;
  /** When the current refusal began (ms since the epoch), when the destination refuses. */
  readonly refusingSince?: number;
}

export type DestinationStatus = 'healthy' | 'delayed' | 'failing' | 'paused' | 'disabled' | 'unknown';

export interface DestinationHealth {
  readonly status: DestinationStatus;
  readonly sent: number;
  readonly failed: number;
  readonly queued: number;
  /** Since when the destination refuses exports (its events wait and are retried), when it does. */
  readonly refusingSince?: string;
  readonly lastError?: { readonly at: string; readonly message: string };
  /** One point per sample of the last hour: events sent since the previous sample, and queued. */
  readonly history: readonly { at: number; sent: number; queued: number }[];
}

const HOUR = 3_600_000;

/**
 * `name{labels} value` lines into exporter → metric → value: exporterhelper's (without
 * `otelcol_exporter_` and `_total`) and the lossless exporter's (`lossless_refusing`, ...).
 */
export function parseExporterMetrics(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of text.split('\n')) {
    const match = /^otelcol_(?:exporter_)?((?:lossless_)?[a-z_]+?)(?:_total)?\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const exporter = /(?:^|,)exporter="([^"]+)"/.exec(match[2]!)?.[1];
    if (!exporter) continue;
    const metrics = out.get(exporter) ?? {};
    metrics[match[1]!] = (metrics[match[1]!] ?? 0) + Number(match[3]);
    out.set(exporter, metrics);
  }
  return out;
}

/**
 * The newest error the exporter logged, from the Collector's console log (a failed export that
 * will be retried is logged at info level, with its error).
 */
export function lastErrorOf(log: string, exporter: string): { at: string; message: string } | undefined {
  const marker = `"otelcol.component.id": "${exporter}"`;
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes(marker) || !(/\t(error|warn)\t/.test(line) || line.includes('"error": "'))) continue;
    const [at, , , message] = line.split('\t');
    const detail = /"error": "((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    return { at: at ?? '', message: `${message ?? ''}${detail ? `: ${detail.replace(/\\"/g, '"')}` : ''}`.slice(0, 500) };
  }
  return undefined;
}

/** The cumulative counters of an exporter (queue_size is a gauge, read as it is). */
interface Counters {
  sent: number;
  failed: number;
  enqueueFailed: number;
}

const ZERO: Counters = { sent: 0, failed: 0, enqueueFailed: 0 };
const add = (a: Counters, b: Counters): Counters => ({ sent: a.sent + b.sent, failed: a.failed + b.failed, enqueueFailed: a.enqueueFailed + b.enqueueFailed });

/** The Collector's run (a reload starts a new one): `target_info`'s service.instance.id. */
function runOf(text: string): string | undefined {
  return /^target_info\{[^}]*service_instance_id="([^"]+)"/m.exec(text)?.[1];
}

/** How often the metrics are read while the Collector reloads (a run killed when stuck pushes nothing at the end). */
const RELOAD_POLL_MILLIS = 10;
/** A run that ended this long ago has had its last push: its counts are folded into the totals. */
const FOLD_AFTER_MILLIS = 60_000;
/** The run of readings without target_info: a counter lower than the last one means a new run. */
const UNNAMED_RUN = '';

const countersOf = (values: Readonly<Record<string, number>>): Counters => ({
  sent: values['sent_log_records'] ?? 0,
  failed: values['send_failed_log_records'] ?? 0,
  enqueueFailed: values['enqueue_failed_log_records'] ?? 0,
});
const highest = (a: Counters, b: Counters): Counters => ({ sent: Math.max(a.sent, b.sent), failed: Math.max(a.failed, b.failed), enqueueFailed: Math.max(a.enqueueFailed, b.enqueueFailed) });
const lower = (a: Counters, b: Counters) => a.sent < b.sent || a.failed < b.failed || a.enqueueFailed < b.enqueueFailed;

export class HealthMonitor {
  private readonly samples = new Map<string, ExporterSample[]>();
  /** Per exporter: the counts of runs folded in (and of earlier panels, from the totals file). */
  private readonly base: Map<string, Counters>;
  /** Per run, per exporter: the highest counts read of that run. */
  private readonly runs = new Map<string, { counters: Map<string, Counters>; endedAt?: number }>();
  private currentRun: string | undefined;
  /** Runs already folded into the base: a late reading of one changes nothing. */
  private readonly folded = new Set<string>();
  private reading: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private saved = '';

  /** @param totalsFile where the cumulative counts are kept between runs of the panel */
  constructor(
    private readonly metricsUrl: string,
    private readonly intervalMillis: number,
    private readonly totalsFile?: string,
  ) {
    this.base = totalsFile ? readTotals(totalsFile) : new Map();
  }

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.intervalMillis);
    this.timer.unref();
    void this.sample().catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A push of the Collector's metrics (see metrics-push.ts): counts of its run, the last one final. */
  pushed(push: MetricsPush): void {
    if (push.run === undefined) return;
    for (const [exporter, values] of push.exporters) this.observe(push.run, exporter, countersOf(values));
    this.save();
  }

  /** Runs a reload or restart of the Collector, reading its metrics before and all the while. */
  async aroundRestart<T>(restart: () => Promise<T>): Promise<T> {
    await this.sample().catch(() => undefined);
    let restarting = true;
    const polling = (async () => {
      while (restarting) {
        await this.sample().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, RELOAD_POLL_MILLIS));
      }
    })();
    try {
      return await restart();
    } finally {
      restarting = false;
      await polling;
      await this.sample().catch(() => undefined);
    }
  }

  /** Scrapes the Collector once and keeps a sample per exporter; returns the metrics as read. */
  sample(): Promise<Map<string, Record<string, number>>> {
    // One at a time, in order: the run read last is the one running.
    const reading = this.reading.then(() => this.scrape());
    this.reading = reading.catch(() => undefined);
    return reading;
  }

  private async scrape(): Promise<Map<string, Record<string, number>>> {
    const response = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const metrics = parseExporterMetrics(text);
    const run = runOf(text) ?? UNNAMED_RUN;
    const at = Date.now();
    if (this.folded.has(run)) return metrics;
    if (run !== this.currentRun && this.runs.get(run)?.endedAt === undefined) {
      if (this.currentRun !== undefined) this.runs.get(this.currentRun)!.endedAt ??= at;
      this.currentRun = run;
    }
    for (const [exporter, values] of metrics) {
      this.observe(run, exporter, countersOf(values));
      const list = this.samples.get(exporter) ?? [];
      const refusingSince = values['lossless_refusing'] ? (values['lossless_refusing_since_seconds'] ?? 0) * 1000 : undefined;
      list.push({ at, ...this.total(exporter), queued: values['queue_size'] ?? 0, ...(refusingSince !== undefined ? { refusingSince } : {}) });
      while (list.length && list[0]!.at < at - HOUR) list.shift();
      this.samples.set(exporter, list);
    }
    this.save();
    return metrics;
  }

  /** Sent so far by an exporter (cumulative), read now. */
  async sentNow(exporter: string): Promise<number> {
    await this.sample();
    return this.total(exporter).sent;
  }

  health(exporter: string, state: { enabled: boolean; paused: boolean }, log: string): DestinationHealth {
    const list = this.samples.get(exporter) ?? [];
    const totals = this.total(exporter);
    const lastError = lastErrorOf(log, exporter);
    const history = list.map((sample, i) => ({ at: sample.at, sent: i === 0 ? 0 : Math.max(0, sample.sent - list[i - 1]!.sent), queued: sample.queued }));
    const refusingSince = list.at(-1)?.refusingSince;
    const base = {
      sent: totals.sent,
      failed: totals.failed + totals.enqueueFailed,
      queued: list.at(-1)?.queued ?? 0,
      history,
      ...(lastError ? { lastError } : {}),
      ...(refusingSince !== undefined ? { refusingSince: new Date(refusingSince).toISOString() } : {}),
    };
    return { ...base, status: statusOf(list, state, lastError) };
  }

  private observe(run: string, exporter: string, reading: Counters): void {
    if (this.folded.has(run)) return;
    let entry = this.runs.get(run);
    if (!entry) this.runs.set(run, (entry = { counters: new Map() }));
    const previous = entry.counters.get(exporter);
    if (run === UNNAMED_RUN && previous && lower(reading, previous)) {
      this.base.set(exporter, add(this.base.get(exporter) ?? ZERO, previous));
      entry.counters.set(exporter, reading);
      return;
    }
    entry.counters.set(exporter, previous ? highest(previous, reading) : reading);
  }

  /** Earlier runs and panels, and every run seen. */
  private total(exporter: string): Counters {
    let total = this.base.get(exporter) ?? ZERO;
    for (const { counters } of this.runs.values()) total = add(total, counters.get(exporter) ?? ZERO);
    return total;
  }

  /** Folds runs that ended a while ago into the base, and writes the totals when they changed. */
  private save(): void {
    const now = Date.now();
    for (const [run, { counters, endedAt }] of this.runs) {
      if (endedAt === undefined || now - endedAt < FOLD_AFTER_MILLIS) continue;
      for (const [exporter, counts] of counters) this.base.set(exporter, add(this.base.get(exporter) ?? ZERO, counts));
      this.runs.delete(run);
      this.folded.add(run);
    }
    if (!this.totalsFile) return;
    const totals: Record<string, Counters> = {};
    const exporters = new Set([...this.base.keys(), ...[...this.runs.values()].flatMap(({ counters }) => [...counters.keys()])]);
    for (const exporter of exporters) totals[exporter] = this.total(exporter);
    const text = `${JSON.stringify(totals)}\n`;
    if (text === this.saved) return;
    writeFileAtomic(this.totalsFile, text);
    this.saved = text;
  }
}

/** The totals kept by an earlier run; a file that does not hold them is ignored (counting starts again). */
function readTotals(file: string): Map<string, Counters> {
  const totals = new Map<string, Counters>();
  if (!existsSync(file)) return totals;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return totals;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return totals;
  const count = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);
  for (const [exporter, value] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const counters = { sent: count(entry['sent']), failed: count(entry['failed']), enqueueFailed: count(entry['enqueueFailed']) };
    if (counters.sent !== undefined && counters.failed !== undefined && counters.enqueueFailed !== undefined) totals.set(exporter, counters as Counters);
  }
  return totals;
}

const RECENT = 60_000;

function statusOf(list: readonly ExporterSample[], state: { enabled: boolean; paused: boolean }, lastError: { at: string } | undefined): DestinationStatus {
  if (!state.enabled) return 'disabled';
  if (state.paused) return 'paused';
  const last = list.at(-1);
  if (!last) return 'unknown';
  // The lossless exporter says so: the destination refuses (a rotated token), its events wait.
  if (last.refusingSince !== undefined) return 'failing';
  const minuteAgo = list.find((s) => s.at >= last.at - RECENT) ?? last;
  const failedRecently = last.failed + last.enqueueFailed > minuteAgo.failed + minuteAgo.enqueueFailed;
  // A failed export that will be retried is not counted as failed: it shows as an error in the log
  // while events wait in the queue.
  const erroredRecently = lastError !== undefined && Date.parse(lastError.at) > last.at - RECENT;
  if (failedRecently || (erroredRecently && last.queued > 0)) return 'failing';
  const previous = list.at(-2);
  if (previous && last.queued > 0 && previous.queued > 0 && (last.sent === previous.sent || last.queued > previous.queued)) return 'delayed';
  return 'healthy';
}

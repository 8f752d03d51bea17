// Health per destination from the Collector's own Prometheus metrics: events sent, failed to send
// and queued per exporter, sampled on an interval and kept for the last hour; the last error is
// the newest error or warning the Collector logged for that exporter.

export interface ExporterSample {
  readonly at: number;
  readonly sent: number;
  readonly failed: number;
  readonly enqueueFailed: number;
  readonly queued: number;
}

export type DestinationStatus = 'healthy' | 'delayed' | 'failing' | 'paused' | 'disabled' | 'unknown';

export interface DestinationHealth {
  readonly status: DestinationStatus;
  readonly sent: number;
  readonly failed: number;
  readonly queued: number;
  readonly lastError?: { readonly at: string; readonly message: string };
  /** One point per sample of the last hour: events sent since the previous sample, and queued. */
  readonly history: readonly { at: number; sent: number; queued: number }[];
}

const HOUR = 3_600_000;

/** `name{labels} value` lines into exporter → metric (without `otelcol_exporter_` and `_total`) → value. */
export function parseExporterMetrics(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of text.split('\n')) {
    const match = /^otelcol_exporter_([a-z_]+?)(?:_total)?\{([^}]*)\}\s+(\S+)/.exec(line);
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

export class HealthMonitor {
  private readonly samples = new Map<string, ExporterSample[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metricsUrl: string,
    private readonly intervalMillis: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.intervalMillis);
    this.timer.unref();
    void this.sample().catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Scrapes the Collector once and keeps a sample per exporter. */
  async sample(): Promise<Map<string, Record<string, number>>> {
    const response = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) });
    const metrics = parseExporterMetrics(await response.text());
    const at = Date.now();
    for (const [exporter, values] of metrics) {
      const list = this.samples.get(exporter) ?? [];
      list.push({ at, sent: values['sent_log_records'] ?? 0, failed: values['send_failed_log_records'] ?? 0, enqueueFailed: values['enqueue_failed_log_records'] ?? 0, queued: values['queue_size'] ?? 0 });
      while (list.length && list[0]!.at < at - HOUR) list.shift();
      this.samples.set(exporter, list);
    }
    return metrics;
  }

  /** Sent so far by an exporter, read now (counters restart from 0 when the Collector reloads). */
  async sentNow(exporter: string): Promise<number> {
    return (await this.sample()).get(exporter)?.['sent_log_records'] ?? 0;
  }

  health(exporter: string, state: { enabled: boolean; paused: boolean }, log: string): DestinationHealth {
    const list = this.samples.get(exporter) ?? [];
    const last = list.at(-1);
    const lastError = lastErrorOf(log, exporter);
    const history = list.map((sample, i) => ({ at: sample.at, sent: i === 0 ? 0 : Math.max(0, sample.sent - list[i - 1]!.sent), queued: sample.queued }));
    const base = { sent: last?.sent ?? 0, failed: (last?.failed ?? 0) + (last?.enqueueFailed ?? 0), queued: last?.queued ?? 0, history, ...(lastError ? { lastError } : {}) };
    return { ...base, status: statusOf(list, state, lastError) };
  }
}

const RECENT = 60_000;

function statusOf(list: readonly ExporterSample[], state: { enabled: boolean; paused: boolean }, lastError: { at: string } | undefined): DestinationStatus {
  if (!state.enabled) return 'disabled';
  if (state.paused) return 'paused';
  const last = list.at(-1);
  if (!last) return 'unknown';
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

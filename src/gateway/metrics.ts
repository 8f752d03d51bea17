// What the gateway's own Prometheus metrics say of each destination: the exporterhelper's queue and
// counters, and lossless' refusal and dead-letter metrics (collector/losslessexporter). Read by
// `otel-audit doctor --gateway-metrics` and the Admin Panel's health.

/** One destination (a lossless exporter) as its metrics describe it. */
export interface DestinationMetrics {
  /** The exporter, as in the config: `lossless/splunk`. */
  readonly exporter: string;
  readonly sent: number;
  /** Records the queue refused because it was full (the gateway answered with an error, the client retried). */
  readonly enqueueFailed: number;
  readonly queued: number;
  readonly capacity: number | undefined;
  /** Whether the destination refuses exports now, and since when (ms since the epoch). */
  readonly refusingSince: number | undefined;
  readonly refusals: number;
  readonly deadLettered: number;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (the lines it needs; comments and unreadable lines are skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The lossless destinations of a gateway, from its metrics text. */
export function destinationMetrics(text: string): DestinationMetrics[] {
  const by = new Map<string, Record<string, number>>();
  for (const sample of parsePrometheusText(text)) {
    const exporter = sample.labels['exporter'];
    if (!exporter?.startsWith('lossless/')) continue;
    const metric = sample.name.replace(/^otelcol_/, '').replace(/_total$/, '');
    const values = by.get(exporter) ?? {};
    values[metric] = (values[metric] ?? 0) + sample.value;
    by.set(exporter, values);
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([exporter, values]) => ({
      exporter,
      sent: values['exporter_sent_log_records'] ?? 0,
      enqueueFailed: values['exporter_enqueue_failed_log_records'] ?? 0,
      queued: values['exporter_queue_size'] ?? 0,
      capacity: values['exporter_queue_capacity'],
      refusingSince: values['lossless_refusing'] ? (values['lossless_refusing_since_seconds'] ?? 0) * 1000 : undefined,
      refusals: values['lossless_refusals'] ?? 0,
      deadLettered: values['lossless_dead_lettered_log_records'] ?? 0,
    }));
}

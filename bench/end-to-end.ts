// 2. End to end: 100,000 events through the real Collector (local.yaml: fsynced persistent
// queues, the HEC stand-in behind it) and to a null sink, otel-audit against the raw
// OpenTelemetry SDK configured not to drop, 3 runs each, alternating. Arrivals are counted from
// the Collector's own metrics (otelcol_exporter_sent_log_records), never by reading files, and
// CPU time is measured per process (client, gateway, HEC receiver).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { DEFAULTS } from '../src/options.js';
import { toLogRecord } from '../src/record/mapping.js';
import { localPipeline, tempDir, waitFor } from '../test/helpers/processes.js';
import { fmt, median, ownCpuMillis, processCpuMillis, prometheusCounter, propsFor, spread, startNullSink, table } from './lib.js';

const OFFERED = 100_000;
const RUNS = 3;
/** The raw SDK's best shape here: 8 batch processors round robin = 8 exports in flight, 1000 per batch, queues that cannot drop. */
const RAW_EXPORTS_IN_FLIGHT = 8;

interface Run {
  readonly ackSeconds: number;
  readonly drainedSeconds?: number;
  readonly cpu: Record<string, number>;
}

type Client = (endpoint: string) => Promise<void>;

/** otel-audit as an application uses it: `logEvent` in a loop, then `flush`; validation, chain and (optionally) spool on. */
const otelAudit =
  (spool: boolean): Client =>
  async (endpoint) => {
    const spoolDir = spool ? mkdtempSync(join(tmpdir(), 'bench-e2e-spool-')) : undefined;
    const audit = createAuditLogger({
      catalog: gristCatalog,
      endpoint,
      spoolDir,
      maxQueueRecords: OFFERED * 2,
      checkpoints: false,
      onError: () => undefined,
    });
    for (let i = 0; i < OFFERED; i++) {
      const { action, props } = propsFor(i);
      audit.logEvent(action, props);
    }
    await audit.flush({ timeoutMillis: 600_000 });
    await audit.shutdown();
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  };

/** The raw SDK: the same records (body and attributes), no validation, no chain, nothing durable. */
const rawSdk: Client = async (endpoint) => {
  const providers = Array.from(
    { length: RAW_EXPORTS_IN_FLIGHT },
    () =>
      new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'bench-raw' }),
        processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: endpoint }), maxQueueSize: OFFERED, maxExportBatchSize: 1000, scheduledDelayMillis: 20 })],
      }),
  );
  const loggers = providers.map((provider) => provider.getLogger('raw'));
  for (let i = 0; i < OFFERED; i++) {
    const { action, props } = propsFor(i);
    const event = { id: crypto.randomUUID(), action, ...props, timestamp: new Date().toISOString() };
    loggers[i % RAW_EXPORTS_IN_FLIGHT]!.emit({ ...toLogRecord(event as never, { observedAt: Date.now() }), severityNumber: SeverityNumber.INFO });
  }
  await Promise.all(providers.map((provider) => provider.forceFlush()));
  await Promise.all(providers.map((provider) => provider.shutdown()));
};

/** Runs each contender RUNS times, alternating; `measure` wraps one run. */
async function alternate(contenders: [string, Client][], measure: (client: Client) => Promise<Run>): Promise<Map<string, Run[]>> {
  const runs = new Map<string, Run[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < RUNS; round++) for (const [name, client] of contenders) runs.get(name)!.push(await measure(client));
  return runs;
}

export async function endToEnd(): Promise<string> {
  const contenders: [string, Client][] = [
    ['raw SDK (8 batch processors, 1000/batch, protobuf)', rawSdk],
    ['otel-audit (spool, chain, validation)', otelAudit(true)],
    ['otel-audit (memory queue, chain, validation)', otelAudit(false)],
  ];

  // Through the Collector.
  const pipeline = await localPipeline(tempDir('bench-e2e'));
  const hec = await pipeline.startHec();
  const gateway = await pipeline.startGateway();
  const metrics = `http://127.0.0.1:${pipeline.ports.metrics}/metrics`;
  const sent = () => prometheusCounter(metrics, 'otelcol_exporter_sent_log_records', 'exporter="splunk_hec"');
  const throughCollector = await alternate(contenders, async (client) => {
    const before = await sent();
    const cpu = { client: ownCpuMillis(), gateway: processCpuMillis(gateway.child.pid!), hec: processCpuMillis(hec.child.pid!) };
    const started = performance.now();
    await client(pipeline.endpoint);
    const acknowledged = performance.now();
    await waitFor('the HEC exporter to send every event', async () => (await sent()) - before >= OFFERED, 600_000);
    const drained = performance.now();
    return {
      ackSeconds: (acknowledged - started) / 1000,
      drainedSeconds: (drained - started) / 1000,
      cpu: { client: ownCpuMillis() - cpu.client, gateway: processCpuMillis(gateway.child.pid!) - cpu.gateway, hec: processCpuMillis(hec.child.pid!) - cpu.hec },
    };
  });
  await pipeline.stopAll();

  // To a sink that answers 200 at once, in a process of its own.
  const sink = await startNullSink();
  const toNullSink = await alternate(contenders, async (client) => {
    const cpu = { client: ownCpuMillis(), sink: processCpuMillis(sink.pid) };
    const started = performance.now();
    await client(sink.url);
    return { ackSeconds: (performance.now() - started) / 1000, cpu: { client: ownCpuMillis() - cpu.client, sink: processCpuMillis(sink.pid) - cpu.sink } };
  });
  sink.stop();

  const rate = (runs: Run[], seconds: (run: Run) => number) => runs.map((run) => OFFERED / seconds(run));
  const perEvent = (runs: Run[], part: string) => fmt((1000 * median(runs.map((run) => run.cpu[part]!))) / OFFERED, 1);
  const base = (runs: Map<string, Run[]>) => median(rate(runs.get(contenders[0]![0])!, (run) => run.ackSeconds));
  return [
    '## 2. End to end: 100,000 events, otel-audit against the raw SDK',
    '',
    `${OFFERED.toLocaleString()} events per run, ${RUNS} runs per contender, alternating; medians, with the spread of the ${RUNS} runs. The raw SDK is set up not to drop (queues of ${OFFERED.toLocaleString()}) with ${RAW_EXPORTS_IN_FLIGHT} exports in flight of 1,000 records; otel-audit uses its defaults (${DEFAULTS.maxConcurrentExports} in flight, ${DEFAULTS.maxBatchRecords.toLocaleString()} per batch) with validation and the hash chain on. Acknowledged: the client's own flush resolved (every export answered 200). Drained: the Collector's HEC exporter reported every event sent (\`otelcol_exporter_sent_log_records\`). CPU: ms of CPU time per 1,000 events, per process.`,
    '',
    '### Through otelcol-audit (local.yaml: fsynced persistent queues) into the HEC receiver',
    '',
    table(
      ['client', 'acknowledged events/s', 'spread', 'vs raw SDK', 'drained events/s', 'CPU client', 'CPU gateway', 'CPU HEC receiver'],
      [...throughCollector].map(([name, runs]) => {
        const acked = rate(runs, (run) => run.ackSeconds);
        return [name, fmt(median(acked), 0), spread(acked), `${fmt(median(acked) / base(throughCollector))}×`, fmt(median(rate(runs, (run) => run.drainedSeconds!)), 0), perEvent(runs, 'client'), perEvent(runs, 'gateway'), perEvent(runs, 'hec')];
      }),
    ),
    '',
    '### To a null sink (200 at once, its own process)',
    '',
    table(
      ['client', 'delivered events/s', 'spread', 'vs raw SDK', 'CPU client', 'CPU sink'],
      [...toNullSink].map(([name, runs]) => {
        const acked = rate(runs, (run) => run.ackSeconds);
        return [name, fmt(median(acked), 0), spread(acked), `${fmt(median(acked) / base(toNullSink))}×`, perEvent(runs, 'client'), perEvent(runs, 'sink')];
      }),
    ),
    '',
  ].join('\n');
}

// 2. End to end: events per second delivered through the real Collector (local.yaml) into the
// Splunk HEC receiver, at the same offered load: ours, the raw SDK (BatchLogRecordProcessor + OTLP
// exporter), and one HTTP POST per event.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { readTrail } from '../src/integrity/trail.js';
import { toLogRecord } from '../src/record.js';
import { localPipeline, tempDir, waitFor } from '../scripts/lib/processes.js';
import { fmt, propsFor, table } from './lib.js';

const OFFERED = 20_000;

interface Result {
  name: string;
  offered: number;
  delivered: number;
  seconds: number;
}

export async function endToEnd(): Promise<string> {
  const pipeline = await localPipeline(tempDir('bench-e2e'));
  await pipeline.startHec();
  await pipeline.startGateway();
  const { endpoint } = pipeline;
  const hecOutput = pipeline.files.hec;
  const dir = tempDir('bench-e2e-spool');
  const received = () => new Set(existsSync(hecOutput) ? readTrail(hecOutput).map((r) => String((r.body as { id?: string }).id)) : []);
  /** Waits until `ids` stop arriving (all of them, or nothing new for 5 s); returns how many arrived and when the last did. */
  async function settle(ids: Set<string>, started: number): Promise<{ delivered: number; seconds: number }> {
    let last = -1;
    let lastChange = Date.now();
    let lastArrival = Date.now();
    await waitFor('delivery to settle', () => {
      const got = [...received()].filter((id) => ids.has(id)).length;
      if (got !== last) {
        last = got;
        lastChange = lastArrival = Date.now();
      }
      return got === ids.size || Date.now() - lastChange > 5000;
    }, 300_000);
    return { delivered: last, seconds: (lastArrival - started) / 1000 };
  }
  const results: Result[] = [];

  // Ours: logEvent as fast as the loop goes, spool on.
  {
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint, spoolDir: join(dir, 'spool'), checkpoints: false, onError: () => undefined });
    const started = Date.now();
    const ids = new Set<string>();
    for (let i = 0; i < OFFERED; i++) {
      const { action, props } = propsFor(i);
      ids.add(audit.logEvent(action, props));
    }
    await audit.flush({ timeoutMillis: 300_000 });
    results.push({ name: 'otel-audit (spool, logEvent)', offered: OFFERED, ...(await settle(ids, started)) });
    await audit.shutdown();
  }
  // The raw SDK with its defaults: BatchLogRecordProcessor (queue 2048) and the OTLP exporter.
  {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'bench-raw' }),
      processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: endpoint }) })],
    });
    const logger = provider.getLogger('raw');
    const started = Date.now();
    const ids = new Set<string>();
    for (let i = 0; i < OFFERED; i++) {
      const { action, props } = propsFor(i);
      const event = { id: crypto.randomUUID(), action, ...props, timestamp: new Date().toISOString() };
      ids.add(event.id);
      logger.emit({ ...toLogRecord(event as never, { observedAt: Date.now() }), severityNumber: SeverityNumber.INFO });
    }
    await provider.forceFlush();
    results.push({ name: 'raw SDK (BatchLogRecordProcessor defaults + OTLP exporter)', offered: OFFERED, ...(await settle(ids, started)) });
    await provider.shutdown();
  }
  // One HTTP POST per event (OTLP/JSON, 16 in flight), as some products stream audit events.
  {
    const started = Date.now();
    const ids = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < OFFERED) {
        const i = next++;
        const { action, props } = propsFor(i);
        const id = crypto.randomUUID();
        ids.add(id);
        const body = { id, action, ...props, timestamp: new Date().toISOString() };
        const kv = (value: unknown): unknown =>
          typeof value === 'string' ? { stringValue: value } : typeof value === 'number' ? (Number.isInteger(value) ? { intValue: value } : { doubleValue: value }) : typeof value === 'boolean' ? { boolValue: value } : value === null ? {} : Array.isArray(value) ? { arrayValue: { values: value.map(kv) } } : { kvlistValue: { values: Object.entries(value as object).map(([key, v]) => ({ key, value: kv(v) })) } };
        const request = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'per-event-post' }, logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: kv(body), attributes: [{ key: 'log.record.uid', value: { stringValue: id } }] }] }] }] };
        try {
          await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
        } catch {
          // a failed POST is simply lost: that is the baseline's behaviour
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    results.push({ name: 'one HTTP POST per event (16 in flight)', offered: OFFERED, ...(await settle(ids, started)) });
  }
  await pipeline.stopAll();

  return [
    '## 2. End to end: through otelcol-audit into the Splunk HEC receiver',
    '',
    `${OFFERED.toLocaleString()} events offered as fast as each client takes them, through collector-config/local.yaml (persistent queue, fsync) to the HEC receiver; delivered counted by event id at the receiver. Time: from the first event to the last arrival.`,
    '',
    table(
      ['client', 'delivered / offered', 'lost', 'seconds', 'delivered events/s'],
      results.map((r) => [r.name, `${r.delivered.toLocaleString()} / ${r.offered.toLocaleString()}`, (r.offered - r.delivered).toLocaleString(), fmt(r.seconds), fmt(r.delivered / r.seconds, 0)]),
    ),
    '',
  ].join('\n');
}

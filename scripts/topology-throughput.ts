// Throughput of the scale-out topology (collector-config/topologies/gateway-pool-kafka/) on this
// machine, with one and with two gateways and consumers. Not a test: run it by hand on a quiet
// machine (everything shares its cores: the applications, HAProxy, the gateways, Kafka, the
// consumers and the HEC stand-in), and read the figures as what that machine allows.
//   npx tsx scripts/topology-throughput.ts [events]        (default 40,000)
//
// Each tier is measured on its own:
//   ingest: four applications log every event as fast as they can; timed until the gateways have
//           acknowledged all of them and produced them to Kafka (their queues are empty);
//   drain:  only then do the consumers start, on that backlog; timed until every event is at the
//           HEC stand-in and in the archive.
import { cpus, loadavg } from 'node:os';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { tempDir, waitFor } from './lib/processes.js';
import { countDelivery, startTopology, watchCopies } from './lib/topology.js';

const TOTAL = Number(process.argv[2] ?? 40_000);
const APPLICATIONS = 4;

/** Events still in a gateway's persistent queue, from its own metrics. */
async function queued(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith('otelcol_exporter_queue_size') && l.includes('exporter="kafka"'));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

async function measure(nodes: number): Promise<string> {
  const topology = await startTopology(tempDir(`throughput-${nodes}`), { gateways: nodes, consumers: nodes, partitions: 4, deferConsumers: true });
  const load = loadavg()[0]!.toFixed(1);
  try {
    const loggers = Array.from({ length: APPLICATIONS }, (_, i) =>
      createAuditLogger({ catalog: gristCatalog, endpoint: topology.endpoint, serviceName: `application-${i + 1}`, maxQueueRecords: TOTAL, checkpoints: false }),
    );
    const ids: string[] = [];
    const ingestStart = Date.now();
    // In slices, so that the loggers' senders run while the applications log.
    while (ids.length < TOTAL) {
      for (let i = 0; i < 1000 && ids.length < TOTAL; i++) {
        ids.push(loggers[i % APPLICATIONS]!.logEvent('document.create', { details: { document: { id: `t${ids.length}`, name: 'throughput' } } }));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const loggedMillis = Date.now() - ingestStart;
    await Promise.all(loggers.map((logger) => logger.flush({ timeoutMillis: 300_000 })));
    const acknowledgedMillis = Date.now() - ingestStart;
    await waitFor(
      "the gateways' queues to be produced to Kafka",
      async () => (await Promise.all(topology.gatewayMetrics.map(queued))).every((size) => size === 0),
      300_000,
    );
    const producedMillis = Date.now() - ingestStart;
    await Promise.all(loggers.map((logger) => logger.shutdown()));

    const drainStart = Date.now();
    for (let i = 0; i < nodes; i++) await topology.startConsumer(i);
    const hec = watchCopies(topology.hecFiles, 1000);
    const archive = watchCopies(() => topology.archiveFiles, 1000);
    await waitFor('every event at the HEC stand-in', () => countDelivery(hec(), ids).missing === 0, 600_000);
    const hecMillis = Date.now() - drainStart;
    await waitFor('every event in the archive', () => countDelivery(archive(), ids).missing === 0, 600_000);
    const archiveMillis = Date.now() - drainStart;
    const rate = (millis: number) => `${Math.round(TOTAL / (millis / 1000)).toLocaleString('en')}/s`;
    return (
      `| ${nodes} | ${nodes} | ${load} | ${rate(loggedMillis)} | ${rate(acknowledgedMillis)} | ${rate(producedMillis)} | ` +
      `${rate(hecMillis)} | ${rate(archiveMillis)} | ${countDelivery(hec(), ids).duplicates} |`
    );
  } finally {
    await topology.stopAll();
  }
}

const rows: string[] = [];
for (const nodes of [1, 2]) rows.push(await measure(nodes));
process.stdout.write(
  [
    `${TOTAL.toLocaleString('en')} events from ${APPLICATIONS} applications, ${new Date().toISOString()}, ${cpus().length} cores (shared: load average at the start of each row)`,
    '| gateways | consumers | load | logged | acknowledged by gateways | produced to Kafka | drained to HEC | drained to archive | HEC duplicates |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
process.exit(0);

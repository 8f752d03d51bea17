// Throughput of the scale-out topology (collector-config/topologies/gateway-pool-kafka/) on this
// machine, with one and with two gateways and consumers. Not a test: run it by hand on a quiet
// machine (everything shares its cores: the applications, HAProxy, the gateways, Kafka, the
// consumers and the HEC stand-in), and read the figures as what that machine allows.
//   npx tsx scripts/topology-throughput.ts [events]        (default 40,000)
//
// Each tier is measured on its own:
//   ingest: four applications log every event as fast as they can; timed until the gateways have
//           acknowledged all of them (a gateway acknowledges once Kafka has the events);
//   drain:  only then do the consumers start, on that backlog; timed from the first event at a
//           destination until every event is there (the HEC stand-in; the archive).
import { cpus, loadavg } from 'node:os';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { tempDir, waitFor } from './lib/processes.js';
import { countDelivery, startTopology, watchCopies } from './lib/topology.js';

const TOTAL = Number(process.argv[2] ?? 40_000);
const APPLICATIONS = 4;

const perSecond = (events: number, millis: number): string => `${Math.round(events / (millis / 1000)).toLocaleString('en')}/s`;

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
    await Promise.all(loggers.map((logger) => logger.shutdown()));

    for (let i = 0; i < nodes; i++) await topology.startConsumer(i);
    // Timed from the first event at each destination (the consumers' start and first group join
    // left out; a rebalance when the second consumer joins is included), polled once a second.
    const hec = watchCopies(topology.hecFiles, 1000);
    const archive = watchCopies(() => topology.archiveFiles, 1000);
    /** Events per second after the first arrival (those in the first reading left out). */
    const drained = async (what: string, records: typeof hec): Promise<string> => {
      await waitFor(`the first event ${what}`, () => countDelivery(records(), ids).delivered > 0, 120_000);
      const first = Date.now();
      const atFirst = countDelivery(records(), ids).delivered;
      await waitFor(`every event ${what}`, () => countDelivery(records(), ids).missing === 0, 600_000);
      return perSecond(TOTAL - atFirst, Date.now() - first);
    };
    const [toHec, toArchive] = await Promise.all([drained('at the HEC stand-in', hec), drained('in the archive', archive)]);
    return (
      `| ${nodes} | ${nodes} | ${load} | ${perSecond(TOTAL, loggedMillis)} | ${perSecond(TOTAL, acknowledgedMillis)} | ` +
      `${toHec} | ${toArchive} | ${countDelivery(hec(), ids).duplicates} |`
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
    '| gateways | consumers | load | logged | acknowledged (in Kafka) | drained to HEC | drained to archive | HEC duplicates |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
process.exit(0);

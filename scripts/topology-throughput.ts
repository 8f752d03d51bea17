// Throughput of the scale-out topology (collector-config/topologies/gateway-pool-kafka/) on this
// machine, with one and with two gateways and consumers. Not a test: run it by hand on a quiet
// machine (everything shares its cores: the applications, HAProxy, the gateways, Kafka, the
// consumers and the HEC stand-in), and read the figures as what that machine allows.
//   npx tsx scripts/topology-throughput.ts [events] [requests in flight per application]
//   (defaults 40,000 and 1: one request in flight keeps each stream in order, see the README)
//
// Each tier is measured on its own:
//   ingest: four applications log every event as fast as they can; timed until the gateways have
//           acknowledged all of them (a gateway acknowledges once Kafka has the events);
//   drain:  only then do the consumers start, on that backlog; timed from the first event the
//           consumers export to a destination until the last (their own metrics), then every
//           event is counted at the HEC stand-in and in the archive.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { tempDir, waitFor, type RunningProcess } from '../test/helpers/processes.js';
import { countDelivery, readCopies, startTopology } from '../test/helpers/topology.js';

const TOTAL = Number(process.argv[2] ?? 40_000);
const IN_FLIGHT = Number(process.argv[3] ?? 1);
const APPLICATIONS = 4;

/** CPU seconds (user + system) each running part has used so far, by name, from /proc. */
function cpuSeconds(processes: readonly RunningProcess[]): Map<string, number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const used = new Map<string, number>();
  for (const { name, child } of processes) {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      used.set(name, (Number(fields[11]) + Number(fields[12])) / ticksPerSecond);
    } catch {
      used.set(name, 0); // exited
    }
  }
  return used;
}

/** CPU seconds a tier used between two readings (its processes' names start with `prefix`). */
function tierSeconds(before: Map<string, number>, after: Map<string, number>, prefix: string): number {
  let total = 0;
  for (const [name, seconds] of after) if (name.startsWith(prefix)) total += seconds - (before.get(name) ?? 0);
  return total;
}

const perSecond = (events: number, millis: number): string => `${Math.round(events / (millis / 1000)).toLocaleString('en')}/s`;

async function measure(nodes: number): Promise<string> {
  const topology = await startTopology(tempDir(`throughput-${nodes}`), { gateways: nodes, consumers: nodes, partitions: 4, deferConsumers: true });
  const load = loadavg()[0]!.toFixed(1);
  try {
    const loggers = Array.from({ length: APPLICATIONS }, (_, i) =>
      createAuditLogger({
        catalog: gristCatalog,
        endpoint: topology.endpoint,
        serviceName: `application-${i + 1}`,
        maxQueueRecords: TOTAL,
        maxConcurrentExports: IN_FLIGHT,
        checkpoints: false,
      }),
    );
    const ids: string[] = [];
    const atStart = cpuSeconds(topology.processes());
    const applicationsAtStart = process.cpuUsage();
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
    const atAcknowledged = cpuSeconds(topology.processes());
    const applicationsUsed = process.cpuUsage(applicationsAtStart);
    await Promise.all(loggers.map((logger) => logger.shutdown()));

    for (let i = 0; i < nodes; i++) await topology.startConsumer(i);
    const atConsumersUp = cpuSeconds(topology.processes());
    // Timed from the first event a consumer exported to a destination until the last (the
    // consumers' start and first group join left out; the rebalance when the second consumer joins
    // is included), from the consumers' own counters, read every 100 ms.
    const exported = async (exporter: string): Promise<number> => {
      let sum = 0;
      for (let i = 0; i < nodes; i++) {
        const text = await (await fetch(topology.consumerMetrics(i))).text();
        for (const line of text.split('\n')) {
          if (line.startsWith('otelcol_exporter_sent_log_records') && line.includes(`exporter="${exporter}"`)) sum += Number(line.split(' ').at(-1));
        }
      }
      return sum;
    };
    /** Events per second after the first export seen (those counted in that first reading left out). */
    const drained = async (exporter: string): Promise<string> => {
      let atFirst = 0;
      await waitFor(`the first export by ${exporter}`, async () => (atFirst = await exported(exporter)) > 0, 120_000);
      const first = Date.now();
      await waitFor(`every event exported by ${exporter}`, async () => (await exported(exporter)) >= TOTAL, 600_000);
      return perSecond(TOTAL - atFirst, Date.now() - first);
    };
    const [toHec, toArchive] = await Promise.all([drained('splunk_hec'), drained('file/archive')]);
    // The destinations' own copies, counted: nothing missing.
    const hec = readCopies(topology.hecFiles());
    const archive = readCopies(topology.archiveFiles);
    for (const [name, records] of [['HEC', hec], ['archive', archive]] as const) {
      const counts = countDelivery(records, ids);
      if (counts.missing > 0) throw new Error(`${name}: ${counts.missing} events missing`);
    }
    const atEnd = cpuSeconds(topology.processes());
    // Events per CPU second of each tier: what one fully used core of it would carry.
    const perCore = (seconds: number) => `${Math.round(TOTAL / seconds).toLocaleString('en')}/s (${seconds.toFixed(1)} s)`;
    return (
      `| ${nodes} | ${nodes} | ${load} | ${perCore((applicationsUsed.user + applicationsUsed.system) / 1e6)} | ${perSecond(TOTAL, loggedMillis)} | ${perSecond(TOTAL, acknowledgedMillis)} | ` +
      `${toHec} | ${toArchive} | ${countDelivery(hec, ids).duplicates} | ` +
      `${perCore(tierSeconds(atStart, atAcknowledged, 'gateway'))} | ${perCore(tierSeconds(atStart, atAcknowledged, 'kafka') + tierSeconds(atConsumersUp, atEnd, 'kafka'))} | ` +
      `${perCore(tierSeconds(atConsumersUp, atEnd, 'consumer'))} | ${perCore(tierSeconds(atConsumersUp, atEnd, 'hec'))} |`
    );
  } finally {
    await topology.stopAll();
  }
}

const rows: string[] = [];
for (const nodes of [1, 2]) rows.push(await measure(nodes));
process.stdout.write(
  [
    `${TOTAL.toLocaleString('en')} events from ${APPLICATIONS} applications (${IN_FLIGHT} request(s) in flight each), ${new Date().toISOString()}, ${cpus().length} cores (shared: load average at the start of each row)`,
    '| gateways | consumers | load | per application core (the four loggers of this process) | logged | acknowledged (in Kafka) | drained to HEC | drained to archive | HEC duplicates | per gateway core (CPU used) | per Kafka core | per consumer core (both groups) | per HEC stand-in core |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
process.exit(0);

// The gateway pool (collector-config/topologies/gateway-pool-kafka/) with a backlog, at the README's
// advised settings (one request in flight per application) and the library's other defaults
// (batches of up to 1,000 records and 2 MiB). A backlog makes full batches: 1,000 realistic events
// are about 1.2 MB of OTLP protobuf, over Kafka's 1 MB message limit. The gateway's lossless
// exporter splits such a batch into messages that fit, so no batch can wedge a stream.
// Also measures what the README's sizing needs: bytes per event in a request and in Kafka.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir, waitFor } from '../helpers/processes.js';
import { countDelivery, finalCheckpoints, startTopology, streamEvents, watchCopies, type Topology } from '../helpers/topology.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, verifyTrail, type AuditEvent, type AuditLogger } from '../../src/index.js';

const sample = JSON.parse(readFileSync(new URL('../fixtures/sample-event.json', import.meta.url), 'utf8')) as AuditEvent;
type Grist = typeof gristCatalog;

/** An event as the Quickstart logs it: a user, the request's context, a document. */
const quickstartEvent = (logger: AuditLogger<Grist>, i: number): string =>
  logger.logEvent('document.create', {
    actor: sample.actor,
    context: { ...sample.context, session_id: `session-${i % 97}` },
    details: { document: { id: `doc-${i}-${'x'.repeat(14)}`, name: `Quarterly plan ${i}`, workspace: { id: 97, name: 'Secret Plans' } } },
  });

/** Bytes of the topic's log segments (what Kafka stores, after the producer's zstd). */
function topicBytes(topology: Topology, dir: string): number {
  const data = join(dir, 'kafka/data');
  let bytes = 0;
  for (const partition of readdirSync(data).filter((name) => name.startsWith('audit-events-'))) {
    for (const file of readdirSync(join(data, partition)).filter((name) => name.endsWith('.log'))) bytes += statSync(join(data, partition, file)).size;
  }
  void topology;
  return bytes;
}

describe('gateway pool with a backlog', () => {
  const cleanup: { topology?: Topology; loggers: AuditLogger<Grist>[] } = { loggers: [] };
  after(async () => {
    await Promise.all(cleanup.loggers.map((logger) => logger.shutdown({ timeoutMillis: 1000 })));
    await cleanup.topology?.stopAll();
  });

  it('1,000 events logged at once (a batch over Kafka\'s message limit) are all delivered; bytes per event measured', async () => {
    const dir = tempDir('pool-batch');
    const topology = await startTopology(dir, { gateways: 1, consumers: 1 });
    cleanup.topology = topology;
    const spool = join(dir, 'spool');
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: topology.endpoint, serviceName: 'pool-batch', spoolDir: spool, maxConcurrentExports: 1, onError: () => undefined });
    cleanup.loggers.push(audit);
    const ids = Array.from({ length: 1000 }, (_, i) => quickstartEvent(audit, i));
    const kafkaBefore = topicBytes(topology, dir);
    await audit.flush({ timeoutMillis: 60_000 });
    const stats = audit.stats();
    assert.equal(stats.deadLettered, 0);
    const hec = watchCopies(topology.hecFiles);
    await waitFor('every event at the HEC destination', () => countDelivery(hec(), ids).missing === 0, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(countDelivery(hec(), ids))}\n${topology.output()}`);
    });
    // Spool frames: 9 bytes of frame header and 44 of record header around each OTLP LogRecord.
    const protobufPerEvent = stats.spooledBytes / stats.spooledEvents - 53;
    const kafkaPerEvent = (topicBytes(topology, dir) - kafkaBefore) / stats.spooledEvents;
    console.log(`pool sizing: ${protobufPerEvent.toFixed(0)} bytes per event as an OTLP LogRecord (a request of 1,000: ${((protobufPerEvent * 1000) / 1e6).toFixed(2)} MB); ${kafkaPerEvent.toFixed(0)} bytes per event in Kafka (the gateway's messages, zstd)`);
    assert.ok(protobufPerEvent * 1000 > 1_000_000, 'a full batch of these events is over the 1 MB message limit (else this test proves nothing)');
    await audit.shutdown();
    await topology.stopAll();
    cleanup.topology = undefined;
  });

  it('12,000 events at 1,500/s, a gateway and a consumer SIGKILLed and restarted: every event arrives', async () => {
    const dir = tempDir('pool-backlog');
    const topology = await startTopology(dir, { gateways: 2, consumers: 2 });
    cleanup.topology = topology;
    // Library defaults but the one request in flight the topology's README advises.
    const loggers = Array.from({ length: 4 }, (_, i) =>
      createAuditLogger({ catalog: gristCatalog, endpoint: topology.endpoint, serviceName: `pool-app-${i + 1}`, spoolDir: join(dir, `spool-${i + 1}`), maxConcurrentExports: 1, onError: () => undefined }),
    );
    cleanup.loggers.push(...loggers);
    const stream = streamEvents(loggers, 12_000, 1_500, quickstartEvent);
    await waitFor('a third of the stream', () => stream.ids.length >= 4_000, 60_000);
    // The consumer that archived events (it has partitions) and a gateway, down together for 5 s:
    // the applications' queues back up, and then send full batches.
    const victim = Math.max(0, topology.archiveFiles.findIndex((file) => { try { return statSync(file).size > 0; } catch { return false; } }));
    await Promise.all([topology.stopGateway(0, 'SIGKILL'), topology.stopConsumer(victim, 'SIGKILL')]);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await topology.startGateway(0);
    await topology.startConsumer(victim);
    await stream.done;
    await Promise.all(loggers.map((logger) => logger.flush({ timeoutMillis: 180_000 })));
    await Promise.all(loggers.map((logger) => logger.shutdown()));
    const hec = watchCopies(topology.hecFiles);
    const archive = watchCopies(() => topology.archiveFiles);
    const complete = (records: ReturnType<typeof hec>) => countDelivery(records, stream.ids).missing === 0 && finalCheckpoints(records) === loggers.length;
    await waitFor('every event at the HEC destination', () => complete(hec()), 180_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(countDelivery(hec(), stream.ids))}\n${topology.output()}`);
    });
    await waitFor('every event in the archive', () => complete(archive()), 180_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(countDelivery(archive(), stream.ids))}\n${topology.output()}`);
    });
    for (const [name, records] of [['hec', hec()], ['archive', archive()]] as const) {
      const counts = countDelivery(records, stream.ids);
      const report = verifyTrail(records, { ignoreOrder: name === 'archive' });
      console.log(`pool backlog → ${name}: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing}, duplicates ${counts.duplicates}, verify ${report.ok ? 'clean' : 'NOT clean'}`);
      assert.equal(counts.missing, 0);
      assert.ok(report.ok, JSON.stringify(report.streams.map((s) => ({ gaps: s.gaps, tampered: s.tampered.slice(0, 2) }))));
    }
    assert.deepEqual(loggers.map((logger) => logger.stats().deadLettered), [0, 0, 0, 0]);
  });
});

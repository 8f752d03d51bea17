// The scale-out topology (collector-config/topologies/gateway-pool-kafka/) under faults, every part
// real: applications (createAuditLogger) → HAProxy → two gateways → Kafka (KRaft, from Maven
// Central) → a consumer group of two Collectors → the HEC stand-in and the archive. Each test
// streams 16,000 events from four applications, injects one fault in the middle of the stream,
// then counts every event id at both destinations and runs verify on their copies.
//
// Identical at-least-once copies are information for verify (reported, not a failure); copies
// that differ would be tampering. Order is checked per stream on the HEC copy: a stream lives in
// one partition, read by one consumer at a time.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, verifyTrail, type AuditError, type AuditLogger, type VerifyReport } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/processes.js';
import {
  countDelivery,
  readCopies,
  finalCheckpoints,
  startTopology,
  streamEvents,
  watchCopies,
  type Topology,
  type TopologyOptions,
} from '../helpers/topology.js';

const APPLICATIONS = 4;
const TOTAL = 16_000;
const PER_SECOND = 2_000;
/** At-least-once bound: the events of three seconds of traffic (a commit interval of 1 s, a fetch and an export in flight). */
const DUPLICATE_BOUND = 3 * PER_SECOND;

type Grist = typeof gristCatalog;

/**
 * A fault, injected mid-stream (`ids`: the events logged so far, still growing); resolves with the
 * moment from which recovery is timed.
 */
type Fault = (running: { topology: Topology; loggers: readonly AuditLogger<Grist>[]; ids: readonly string[] }) => Promise<number>;

interface Cleanup {
  topology?: Topology;
  loggers: AuditLogger<Grist>[];
}

/** Short report of what verify found, for an assertion message. */
function findings(report: VerifyReport): string {
  return JSON.stringify({
    ok: report.ok,
    unchained: report.unchained,
    streams: report.streams.map((s) => ({ events: s.events, gaps: s.gaps, duplicates: s.duplicates.length, tampered: s.tampered.slice(0, 3), reordered: s.reordered.length, silences: s.silences })),
  });
}

/**
 * Runs one scenario: the topology, four applications streaming TOTAL events at PER_SECOND, the
 * fault at half the stream. Prints each destination's figures and checks them.
 */
async function scenario(name: string, options: TopologyOptions, fault: Fault, cleanup: Cleanup) {
  const dir = tempDir(`topology-${name}`);
  const topology = await startTopology(dir, options);
  cleanup.topology = topology;
  const errors: AuditError[] = [];
  const loggers = Array.from({ length: APPLICATIONS }, (_, i) =>
    createAuditLogger({
      catalog: gristCatalog,
      endpoint: topology.endpoint,
      serviceName: `application-${i + 1}`,
      // Large enough for the whole stream: the in-memory queue never drops here.
      maxQueueRecords: TOTAL,
      // One request in flight: requests in flight together can overtake each other on their way
      // to Kafka, and a stream keeps its order only if its requests reach Kafka in the order sent.
      maxConcurrentExports: 1,
      retry: { initialDelayMillis: 100, maxDelayMillis: 1000 },
      onError: (error) => errors.push(error),
    }),
  );
  cleanup.loggers.push(...loggers);
  const hec = watchCopies(topology.hecFiles);
  const archive = watchCopies(() => topology.archiveFiles);

  const stream = streamEvents(loggers, TOTAL, PER_SECOND, (logger, i) =>
    logger.logEvent('document.create', { details: { document: { id: `${name}-${i}`, name: `Document ${i}` } } }),
  );
  await waitFor('half of the stream', () => stream.ids.length >= TOTAL / 2, 60_000);
  const beforeFault = [...stream.ids];
  const recoveryStarts = await fault({ topology, loggers, ids: stream.ids });
  // Recovered: every event logged up to a second after the fault (the kill, or the failed part's
  // return) is at the HEC destination. A second's worth so that the events that had to go another
  // way (another gateway, another consumer) are among them.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, recoveryStarts + 1000 - Date.now())));
  const loggedByThen = [...stream.ids];
  await waitFor('the events logged up to a second after the fault at the HEC destination', () => countDelivery(hec(), loggedByThen).missing === 0, 120_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(countDelivery(hec(), loggedByThen))}\n${topology.output()}`);
    },
  );
  const recoveredMillis = Date.now() - recoveryStarts;

  await stream.done;
  await Promise.all(loggers.map((logger) => logger.flush({ timeoutMillis: 120_000 })));
  await Promise.all(loggers.map((logger) => logger.shutdown()));
  const ids = stream.ids;
  const complete = (records: ReturnType<typeof hec>) => countDelivery(records, ids).missing === 0 && finalCheckpoints(records) === APPLICATIONS;
  await waitFor('every event and final checkpoint at the HEC destination', () => complete(hec()), 120_000).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(countDelivery(hec(), ids))}\n${topology.output()}`);
  });
  await waitFor('every event and final checkpoint in the archive', () => complete(archive()), 120_000).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(countDelivery(archive(), ids))}\n${topology.output()}`);
  });

  const results = { hec: hec(), archive: archive() };
  for (const [destination, records] of Object.entries(results)) {
    const counts = countDelivery(records, ids);
    // The archive is the union of the consumers' files, concatenated: a stream whose partition
    // moved between consumers is in more than one file, so file order is not stream order there.
    const report = verifyTrail(records, { ignoreOrder: destination === 'archive' });
    const reordered = report.streams.reduce((sum, stream) => sum + stream.reordered.length, 0);
    console.log(
      `topology ${name} → ${destination}: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing}, duplicates ${counts.duplicates}, ` +
        `verify ${report.ok ? 'clean' : 'NOT clean'}${destination === 'hec' ? ` (${reordered} records out of stream order)` : ''}, time to recover ${(recoveredMillis / 1000).toFixed(1)} s`,
    );
    assert.equal(counts.missing, 0, `${destination}: first missing ${counts.firstMissing.join(', ')}`);
    assert.ok(counts.duplicates <= DUPLICATE_BOUND, `${destination}: ${counts.duplicates} duplicates, bound ${DUPLICATE_BOUND}`);
    assert.ok(report.ok, `${destination}: ${findings(report)}`);
    assert.equal(reordered, 0, `${destination}: ${findings(report)}`);
  }
  const stats = loggers.map((logger) => logger.stats());
  assert.deepEqual(
    stats.map((s) => s.dropped),
    loggers.map(() => 0),
  );
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
  );
  return { topology, ids, beforeFault };
}

/** What a scenario starts, stopped after its describe block, whether it passed or not. */
function stoppedAfterwards(): Cleanup {
  const cleanup: Cleanup = { loggers: [] };
  after(async () => {
    await Promise.all(cleanup.loggers.map((logger) => logger.shutdown({ timeoutMillis: 1000 })));
    await cleanup.topology?.stopAll();
  });
  return cleanup;
}

/** A delivery counter summed over the applications. */
const sumOf = (loggers: readonly AuditLogger<Grist>[], counter: 'exported' | 'retried'): number => loggers.reduce((sum, logger) => sum + logger.stats()[counter], 0);

describe('topology: one gateway SIGKILLed mid-stream', () => {
  const cleanup = stoppedAfterwards();

  it('the applications carry on through the other gateway; nothing is missing', async () => {
    let exportedWhileDown = 0;
    await scenario('gateway-kill', {}, async ({ topology, loggers }) => {
      const killedAt = Date.now();
      await topology.stopGateway(0, 'SIGKILL');
      const exportedAtKill = sumOf(loggers, 'exported');
      // Down for 3 s, as a supervisor (systemd Restart=always) would leave it.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      exportedWhileDown = sumOf(loggers, 'exported') - exportedAtKill;
      await topology.startGateway(0);
      return killedAt;
    }, cleanup);
    assert.ok(exportedWhileDown > 0, 'events were acknowledged (through the other gateway) while one was down');
  });
});

describe('topology: one consumer SIGKILLed mid-stream', () => {
  const cleanup = stoppedAfterwards();

  it('the group rebalances: the other consumer takes its partitions over from the last committed offsets', async () => {
    let victim = -1;
    const { topology, ids, beforeFault } = await scenario(
      'consumer-kill',
      {},
      async ({ topology }) => {
        // Each application's records go to the partition of its resource's hash (its stream id is
        // random): all four may land on one consumer's partitions (1 run in 16). The consumer
        // killed is one that archived events.
        victim = topology.archiveFiles.findIndex((file) => readCopies([file]).length > 0);
        assert.ok(victim >= 0, 'a consumer had partitions (it archived events) before the kill');
        const killedAt = Date.now();
        await topology.stopConsumer(victim, 'SIGKILL');
        return killedAt;
      },
      cleanup,
    );
    const survivor = readCopies([topology.archiveFiles[1 - victim]!]);
    const afterKill = ids.slice(beforeFault.length);
    assert.equal(countDelivery(survivor, afterKill).missing, 0, 'every event logged after the kill went through the surviving consumer');
  });
});

describe('topology: the Kafka broker SIGKILLed and restarted mid-stream', () => {
  const cleanup = stoppedAfterwards();

  it('the gateways answer 503 while the broker is down; the applications retry and deliver everything once it is back', async () => {
    let retriedWhileDown = 0;
    await scenario(
      'broker-restart',
      {},
      async ({ topology, loggers }) => {
        const killedAt = Date.now();
        await topology.kafka.stop('SIGKILL');
        const retriedAtKill = sumOf(loggers, 'retried');
        await topology.kafka.start();
        retriedWhileDown = sumOf(loggers, 'retried') - retriedAtKill;
        console.log(`topology broker-restart: the broker was down (killed, restarted, ready) for ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
        return Date.now();
      },
      cleanup,
    );
    assert.ok(retriedWhileDown > 0, 'the applications retried requests the gateways refused while the broker was down');
  });
});

describe('topology: the HEC destination down for longer than the consumers\' retry window', () => {
  const cleanup = stoppedAfterwards();

  const RETRY_WINDOW_SECONDS = 5;
  const OUTAGE_MILLIS = 12_000;

  it('the receiver retries past the exporter\'s window and commits nothing until HEC is back; the archive group keeps up meanwhile', async () => {
    let archivedDuringOutage = 0;
    let handedBack = false;
    await scenario(
      'destination-down',
      { splunkRetryWindow: `${RETRY_WINDOW_SECONDS}s` },
      async ({ topology, ids }) => {
        await topology.stopHec();
        const loggedBefore = ids.length;
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MILLIS));
        archivedDuringOutage = countDelivery(readCopies(topology.archiveFiles), ids.slice(loggedBefore)).delivered;
        handedBack = topology.archiveFiles.some((_, i) => topology.consumerOutput(i).includes('Backing off due to error from the next consumer'));
        await topology.startHec();
        return Date.now();
      },
      cleanup,
    );
    assert.ok(handedBack, `the HEC exporter gave up after its ${RETRY_WINDOW_SECONDS} s window and the receiver backed off`);
    assert.ok(archivedDuringOutage > 0, 'the archive consumer group delivered events logged during the HEC outage');
  });
});

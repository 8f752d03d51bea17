// gateway.yaml shut down (SIGTERM) in the middle of an outage, restarted, and the destinations back:
// every event reaches every destination, and the shutdown ends in bounded time. Twice: with Kafka
// reachable and the four other destinations down, then with every destination down. Real
// processes: otelcol-audit, the HEC receiver, rsyslogd, the OTLP stand-in for Elastic, Apache Kafka.
// With every broker unreachable, the Kafka exporter of v0.145.0 waits for one without a time limit
// (upstream #48140) and so does the shutdown: the SIGKILL a service manager sends after its grace
// period ends it, and the destinations below show that it loses nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { fileRecordUids, gatewayEnv, gatewayFiles, gatewayPorts, kafkaRecordUids, startOtlpReceiver, tally } from '../helpers/gateway.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

// What a service manager waits after SIGTERM before it sends SIGKILL: Kubernetes' default
// terminationGracePeriodSeconds (systemd's default TimeoutStopSec is 90 s).
const GRACE_MILLIS = 30_000;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** SIGTERM, then SIGKILL if the process is still there after the grace period, as a service manager does. */
async function terminate(process: RunningProcess): Promise<{ millis: number; byItself: boolean }> {
  const started = Date.now();
  const exited = new Promise<boolean>((resolve) => process.child.once('exit', () => resolve(true)));
  process.child.kill('SIGTERM');
  const byItself = await Promise.race([exited, sleep(GRACE_MILLIS).then(() => false)]);
  if (!byItself) await process.stop('SIGKILL');
  return { millis: Date.now() - started, byItself };
}

describe('gateway.yaml shut down during an outage', () => {
  const dir = tempDir('shutdown');
  const files = gatewayFiles(dir);
  const kafkaData = join(dir, 'kafka/data');
  const destinations: RunningProcess[] = [];
  const gateways: RunningProcess[] = [];
  let kafka: KafkaBroker | undefined;
  const sent: string[] = [];
  const shutdowns: { millis: number; byItself: boolean }[] = [];

  before(async () => {
    const ports = await gatewayPorts();
    kafka = await startKafka(join(dir, 'kafka'));
    const env = gatewayEnv(dir, ports, kafka.bootstrap);
    const startGateway = async () => {
      const gateway = await startCollector('gateway.yaml', env, `127.0.0.1:${ports.health}`, `gateway ${gateways.length + 1}`);
      gateways.push(gateway);
      return gateway;
    };
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`, checkpoints: false, onError: (error) => assert.fail(error) });
    const emit = async (tag: string) => {
      for (let i = 0; i < 200; i++) sent.push(audit.logEvent('document.create', { details: { document: { id: `${tag}-${i}`, name: 'sent before a shutdown' } } }));
      await audit.flush({ timeoutMillis: 30_000 });
      // Let the queues' consumers take the batches and start retrying them: the shutdown lands on
      // batches in flight, not only on batches still waiting in the queue.
      await sleep(3000);
    };

    // 1. Kafka up; Splunk, syslog and Elastic down.
    await startGateway();
    await emit('kafka-up');
    shutdowns.push(await terminate(gateways.at(-1)!));
    // 2. Every destination down.
    await startGateway();
    await kafka.stop();
    await emit('all-down');
    shutdowns.push(await terminate(gateways.at(-1)!));
    // 3. Restarted while still down; more events; then every destination comes back.
    await startGateway();
    await emit('after-restart');
    await audit.shutdown();
    destinations.push(await startHecReceiver(ports.hec, files.hec));
    destinations.push(await startRsyslog(ports.syslog, files.syslog));
    destinations.push(await startOtlpReceiver(ports.elastic, files.elastic, 'elastic stand-in'));
    await kafka.start();
    await waitFor(
      'every event at every destination',
      () => [files.hec, files.syslog, files.elastic, files.archive].every((file) => tally(sent, fileRecordUids(file)).missing.length === 0) && tally(sent, kafkaRecordUids(kafkaData, 'audit-events')).missing.length === 0,
      120_000,
    ).catch(() => undefined); // the assertions below name what is missing where
  });

  after(async () => {
    for (const process of [...gateways, ...destinations].reverse()) await process.stop();
    await kafka?.stop();
  });

  it('with Kafka reachable, SIGTERM stops the gateway by itself although four destinations are down', () => {
    const [first] = shutdowns;
    const second = shutdowns[1]!;
    console.log(`shutdown with Kafka up, HEC/syslog/Elastic down: ${first!.millis} ms, ${first!.byItself ? 'by itself' : 'SIGKILL after the grace period'}`);
    console.log(`shutdown with every destination down: ${second.millis} ms, ${second.byItself ? 'by itself' : 'SIGKILL after the grace period'}`);
    assert.equal(first!.byItself, true, `still running ${GRACE_MILLIS / 1000} s after SIGTERM:\n${gateways[0]!.output().slice(-3000)}`);
    assert.equal(gateways[0]!.child.exitCode, 0, 'a clean exit');
    assert.match(gateways[0]!.output(), /Shutdown complete/);
  });

  for (const [destination, held] of [
    ['Splunk HEC', () => fileRecordUids(files.hec)],
    ['archive', () => fileRecordUids(files.archive)],
    ['syslog', () => fileRecordUids(files.syslog)],
    ['Elastic (OTLP)', () => fileRecordUids(files.elastic)],
    ['Kafka', () => kafkaRecordUids(kafkaData, 'audit-events')],
  ] as const) {
    it(`${destination} holds every event sent before, between and after the shutdowns`, () => {
      const counts = tally(sent, held());
      console.log(`shutdowns, ${destination}: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing.length}, duplicates ${counts.duplicates}`);
      assert.deepEqual(counts.missing, []);
    });
  }

  it('"Dropping data" is logged only for batches the shutdown interrupted (they stay in the persistent queue and were delivered above)', () => {
    const lines = gateways.flatMap((gateway) => gateway.output().split('\n').filter((line) => line.includes('Dropping data')));
    console.log(`"Dropping data" lines: ${lines.length}, all "interrupted due to shutdown": ${lines.every((line) => line.includes('interrupted due to shutdown'))}`);
    for (const line of lines) assert.match(line, /interrupted due to shutdown/);
  });
});

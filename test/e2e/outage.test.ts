// No shipped pipeline drops during an outage longer than every timeout in it. gateway.yaml (Splunk
// HEC, archive, syslog, Elastic's OTLP intake, Kafka), local.yaml (Splunk HEC, archive) and
// examples/routing-by-action (security Splunk HEC, archive) run while every destination is down for
// OUTAGE_MILLIS; events keep coming during it; then the destinations start and each must hold every
// event id. (The other examples write only files.) Real processes throughout: otelcol-audit,
// the HEC receiver, rsyslogd, an OTLP receiver standing in for Elastic, Apache Kafka.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { fileRecordUids, gatewayEnv, gatewayFiles, gatewayPorts, kafkaRecordUids, startOtlpReceiver, tally } from '../../scripts/lib/gateway.js';
import { startKafka, type KafkaBroker } from '../../scripts/lib/kafka.js';
import { freePort, localPipeline, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../../scripts/lib/processes.js';

// 5.5 minutes: longer than every timeout in the shipped pipelines (exporter timeouts 10 s, retry
// intervals up to 30 s, memory_limiter 1 s) and than the 300 s after which an exporter's default
// retry gives up (max_elapsed_time, set to 0 in every shipped config), and three times the 90 s
// after which the elasticsearch exporter dropped.
const OUTAGE_MILLIS = 330_000;
const WAVE_EVERY_MILLIS = 30_000;
const EVENTS_PER_WAVE = 100;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

function logger(endpoint: string) {
  return createAuditLogger({ catalog: gristCatalog, endpoint, serviceName: 'outage-test', checkpoints: false, onError: (error) => assert.fail(error) });
}

/** One wave of events; `document.change_access` is an action routing-by-action sends to security. */
function wave(audit: ReturnType<typeof logger>, action: 'document.create' | 'document.change_access' = 'document.create'): string[] {
  return Array.from({ length: EVENTS_PER_WAVE }, () => audit.logEvent(action, { details: gristCatalog.actions[action].sample as never }));
}

describe(`every shipped pipeline through a ${OUTAGE_MILLIS / 1000} s outage of every destination`, () => {
  const dir = tempDir('outage');
  const running: RunningProcess[] = [];
  let kafka: KafkaBroker | undefined;
  let gateway: RunningProcess;
  /** The Collectors under test (not the stand-ins), whose logs must not say "Dropping data". */
  const collectors: RunningProcess[] = [];
  let local: Awaited<ReturnType<typeof localPipeline>>;
  const files = gatewayFiles(dir);
  const sent = { gateway: [] as string[], local: [] as string[], routing: [] as string[] };
  const routingFiles = { security: join(dir, 'routing/security.jsonl'), archive: join(dir, 'routing/archive.jsonl') };
  let kafkaData = '';
  let drainMillis = 0;

  before(async () => {
    const ports = await gatewayPorts();
    // Kafka starts once to fix its ports and data directory, then stays down for the outage.
    kafka = await startKafka(join(dir, 'kafka'));
    kafkaData = join(dir, 'kafka/data');
    await kafka.stop();
    gateway = await startCollector('gateway.yaml', gatewayEnv(dir, ports, kafka.bootstrap), `127.0.0.1:${ports.health}`, 'gateway');
    running.push(gateway);
    local = await localPipeline(join(dir, 'local'));
    await local.startGateway();
    const routingPorts = { otlp: await freePort(), health: await freePort(), hec: await freePort() };
    const routing = await startCollector(
      'examples/routing-by-action/config.yaml',
      {
        AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${routingPorts.otlp}`,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${routingPorts.health}`,
        AUDIT_STORAGE_DIR: join(dir, 'routing/queue'),
        AUDIT_ARCHIVE_PATH: routingFiles.archive,
        SECURITY_HEC_ENDPOINT: `http://127.0.0.1:${routingPorts.hec}/services/collector`,
        SECURITY_HEC_TOKEN: 'security-token',
      },
      `127.0.0.1:${routingPorts.health}`,
      'routing-by-action',
    );
    running.push(routing);
    collectors.push(gateway, routing);

    const toGateway = logger(`http://127.0.0.1:${ports.otlp}/v1/logs`);
    const toLocal = logger(local.endpoint);
    const toRouting = logger(`http://127.0.0.1:${routingPorts.otlp}/v1/logs`);
    const outageStart = Date.now();
    for (let n = 0; Date.now() - outageStart < OUTAGE_MILLIS; n++) {
      sent.gateway.push(...wave(toGateway));
      sent.local.push(...wave(toLocal));
      sent.routing.push(...wave(toRouting, 'document.change_access'));
      await Promise.all([toGateway, toLocal, toRouting].map((audit) => audit.flush({ timeoutMillis: 20_000 })));
      await sleep(Math.min(WAVE_EVERY_MILLIS, OUTAGE_MILLIS - (Date.now() - outageStart)));
    }
    await Promise.all([toGateway, toLocal, toRouting].map((audit) => audit.shutdown({ timeoutMillis: 20_000 })));
    assert.equal(toGateway.stats().exported, sent.gateway.length, 'the gateway acknowledged every event during the outage');
    assert.equal(toLocal.stats().exported, sent.local.length, 'local.yaml acknowledged every event during the outage');
    assert.equal(toRouting.stats().exported, sent.routing.length, 'routing-by-action acknowledged every event during the outage');

    const back = Date.now();
    running.push(await startHecReceiver(ports.hec, files.hec, 'hec (gateway)'));
    running.push(await startRsyslog(ports.syslog, files.syslog));
    running.push(await startOtlpReceiver(ports.elastic, files.elastic, 'elastic stand-in'));
    await kafka.start();
    await local.startHec();
    running.push(await startHecReceiver(routingPorts.hec, routingFiles.security, 'hec (security)'));
    await waitFor(
      'every event at every destination',
      () =>
        [files.hec, files.syslog, files.elastic, files.archive].every((file) => tally(sent.gateway, fileRecordUids(file)).missing.length === 0) &&
        tally(sent.gateway, kafkaRecordUids(kafkaData, 'audit-events')).missing.length === 0 &&
        [local.files.hec, local.files.archive].every((file) => tally(sent.local, fileRecordUids(file)).missing.length === 0) &&
        [routingFiles.security, routingFiles.archive].every((file) => tally(sent.routing, fileRecordUids(file)).missing.length === 0),
      180_000,
    ).catch(() => undefined); // the assertions below name what is missing where
    drainMillis = Date.now() - back;
  });

  after(async () => {
    for (const process of running.reverse()) await process.stop();
    await local?.stopAll();
    await kafka?.stop();
  });

  const pipelines: [string, () => { sent: string[]; held: string[] }][] = [
    ['gateway.yaml logs/splunk', () => ({ sent: sent.gateway, held: fileRecordUids(files.hec) })],
    ['gateway.yaml logs/archive', () => ({ sent: sent.gateway, held: fileRecordUids(files.archive) })],
    ['gateway.yaml logs/syslog', () => ({ sent: sent.gateway, held: fileRecordUids(files.syslog) })],
    ['gateway.yaml logs/elastic', () => ({ sent: sent.gateway, held: fileRecordUids(files.elastic) })],
    ['gateway.yaml logs/kafka', () => ({ sent: sent.gateway, held: kafkaRecordUids(kafkaData, 'audit-events') })],
    ['local.yaml logs/splunk', () => ({ sent: sent.local, held: fileRecordUids(local.files.hec) })],
    ['local.yaml logs/archive', () => ({ sent: sent.local, held: fileRecordUids(local.files.archive) })],
    ['routing-by-action logs/security', () => ({ sent: sent.routing, held: fileRecordUids(routingFiles.security) })],
    ['routing-by-action logs/in (archive)', () => ({ sent: sent.routing, held: fileRecordUids(routingFiles.archive) })],
  ];
  for (const [pipeline, copies] of pipelines) {
    it(`${pipeline} delivers every event sent during the outage`, () => {
      const { sent: ids, held } = copies();
      const counts = tally(ids, held);
      console.log(`outage ${OUTAGE_MILLIS / 1000} s, ${pipeline}: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing.length}, duplicates ${counts.duplicates}; all destinations drained ${(drainMillis / 1000).toFixed(1)} s after they started`);
      assert.ok(counts.sent >= (OUTAGE_MILLIS / WAVE_EVERY_MILLIS) * EVENTS_PER_WAVE, 'events were sent all through the outage');
      assert.deepEqual(counts.missing, []);
    });
  }

  it('no Collector logged "Dropping data"', () => {
    for (const process of [...collectors, ...local.running]) assert.doesNotMatch(process.output(), /Dropping data/, `${process.name}:\n${process.output().split('\n').filter((line) => line.includes('Dropping')).join('\n')}`);
  });
});

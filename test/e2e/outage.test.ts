// No shipped pipeline drops during an outage longer than every timeout in it. gateway.yaml (Splunk
// HEC, archive, syslog, Elastic's OTLP intake, Kafka), local.yaml (Splunk HEC, archive) and
// examples/routing-by-action (security Splunk HEC, archive) run while every destination is down for
// OUTAGE_MILLIS; events keep coming during it; then the destinations start and each must hold every
// event id. (The other examples write only files.) Real processes throughout: otelcol-audit,
// the HEC receiver, rsyslogd, an OTLP receiver standing in for Elastic, Apache Kafka.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileRecordUids, gatewayEnv, gatewayFiles, gatewayPorts, kafkaRecordUids, startOtlpReceiver, tally } from '../helpers/gateway.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { freePort, localPipeline, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { DRAIN_MILLIS, MIN_EVENTS_THROUGH_OUTAGE, OUTAGE_HOOK, OUTAGE_MILLIS, sendThroughOutage } from '../helpers/outage.js';

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

    [sent.gateway, sent.local, sent.routing] = await sendThroughOutage([
      { endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs` },
      { endpoint: local.endpoint },
      { endpoint: `http://127.0.0.1:${routingPorts.otlp}/v1/logs`, action: 'document.change_access' },
    ]);

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
      DRAIN_MILLIS,
    ).catch(() => undefined); // the assertions below name what is missing where
    drainMillis = Date.now() - back;
  }, OUTAGE_HOOK);

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
      assert.ok(counts.sent >= MIN_EVENTS_THROUGH_OUTAGE, 'events were sent all through the outage');
      assert.deepEqual(counts.missing, []);
    });
  }

  it('no Collector logged "Dropping data"', () => {
    for (const process of [...collectors, ...local.running]) assert.doesNotMatch(process.output(), /Dropping data/, `${process.name}:\n${process.output().split('\n').filter((line) => line.includes('Dropping')).join('\n')}`);
  });
});

// The routes that read Kafka, through an outage of their destination longer than every timeout in
// them, while events keep coming (Kafka itself is up: its own outage is outage.test.ts'):
// - examples/siem-formats/ecs-elasticsearch.yaml: gateway.yaml's topic, read by the route's own
//   consumer group into the `elasticsearch` exporter. Elasticsearch is first not there (refused
//   connections), then for the last third answers 503 to every request, as one does while it starts.
// - topologies/gateway-pool-kafka: the pool's gateway (behind HAProxy) into its topic, read by
//   consumer.yaml into Splunk HEC (down) and the archive.
// Then the destinations are back, and each must hold every event. Real processes: otelcol-audit,
// Apache Kafka, HAProxy, the HEC receiver; Elasticsearch's bulk API is the in-test stand-in (this
// machine cannot run Elasticsearch).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileRecordUids, gatewayEnv, gatewayPorts, tally } from '../helpers/gateway.js';
import { freePort, startCollector, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { startTopology, type Topology } from '../helpers/topology.js';
import { closeNow, documentEventIds, startElasticsearchBulkEndpoint, startUnavailableElasticsearch, type ElasticsearchBulkEndpoint } from '../helpers/elasticsearch-bulk.js';
import { DRAIN_MILLIS, MIN_EVENTS_THROUGH_OUTAGE, OUTAGE_HOOK, OUTAGE_MILLIS, sendThroughOutage } from '../helpers/outage.js';

/** gateway.yaml's topic here: the pool's consumers read their own (`audit-events`), in another encoding. */
const ECS_ROUTE_TOPIC = 'ecs-route-events';

const uidsOf = (files: readonly string[]) => files.flatMap(fileRecordUids);

describe(`the Kafka-fed routes through a ${OUTAGE_MILLIS / 1000} s outage of their destinations`, () => {
  const dir = tempDir('kafka-routes-outage');
  let topology: Topology | undefined;
  let gateway: RunningProcess | undefined;
  let elasticsearch: ElasticsearchBulkEndpoint | undefined;
  const sent = { elastic: [] as string[], pool: [] as string[] };
  let drainMillis = 0;
  let answered503 = 0;

  before(async () => {
    topology = await startTopology(join(dir, 'pool'), { gateways: 1, consumers: 1 });
    await topology.stopHec();
    await topology.kafka.createTopic(ECS_ROUTE_TOPIC, 4);
    const ports = await gatewayPorts();
    const elasticsearchPort = await freePort();
    gateway = await startCollector(
      ['gateway.yaml', 'formats/ecs.yaml', 'examples/siem-formats/ecs-elasticsearch.yaml'],
      gatewayEnv(dir, ports, topology.kafka.bootstrap, { KAFKA_TOPIC: ECS_ROUTE_TOPIC, ELASTICSEARCH_ENDPOINT: `http://127.0.0.1:${elasticsearchPort}` }),
      `127.0.0.1:${ports.health}`,
      'gateway + ecs-elasticsearch',
    );
    let starting: Promise<Server> | undefined;
    const startingTimer = setTimeout(() => {
      starting = startUnavailableElasticsearch(elasticsearchPort);
      void starting.then((server) => server.on('request', () => answered503++), () => undefined);
    }, (OUTAGE_MILLIS * 2) / 3);
    [sent.elastic, sent.pool] = await sendThroughOutage([{ endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs` }, { endpoint: topology.endpoint }]);
    clearTimeout(startingTimer);
    if (starting) await closeNow(await starting);

    const back = Date.now();
    elasticsearch = await startElasticsearchBulkEndpoint(elasticsearchPort);
    await topology.startHec();
    await waitFor(
      'every event at every destination',
      () =>
        tally(sent.elastic, documentEventIds(elasticsearch!.documents)).missing.length === 0 &&
        tally(sent.pool, uidsOf(topology!.hecFiles())).missing.length === 0 &&
        tally(sent.pool, uidsOf(topology!.archiveFiles)).missing.length === 0,
      DRAIN_MILLIS,
    ).catch(() => undefined); // the assertions below name what is missing where
    drainMillis = Date.now() - back;
  }, OUTAGE_HOOK);

  after(async () => {
    await gateway?.stop();
    await elasticsearch?.close();
    await topology?.stopAll();
  });

  const routes: [string, () => { sent: string[]; held: string[] }][] = [
    ['ecs-elasticsearch.yaml logs/elasticsearch', () => ({ sent: sent.elastic, held: documentEventIds(elasticsearch!.documents) })],
    ['gateway-pool-kafka consumer.yaml logs/splunk', () => ({ sent: sent.pool, held: uidsOf(topology!.hecFiles()) })],
    ['gateway-pool-kafka consumer.yaml logs/archive', () => ({ sent: sent.pool, held: uidsOf(topology!.archiveFiles) })],
  ];
  for (const [route, copies] of routes) {
    it(`${route} delivers every event sent during the outage`, () => {
      const { sent: ids, held } = copies();
      const counts = tally(ids, held);
      console.log(`outage ${OUTAGE_MILLIS / 1000} s, ${route}: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing.length}, duplicates ${counts.duplicates}; all destinations drained ${(drainMillis / 1000).toFixed(1)} s after they were back`);
      assert.ok(counts.sent >= MIN_EVENTS_THROUGH_OUTAGE, 'events were sent all through the outage');
      assert.deepEqual(counts.missing, []);
    });
  }

  it('the routes felt the outage, backed off and retried, and dropped nothing', () => {
    assert.ok(answered503 > 0, 'the exporter tried Elasticsearch while it answered 503');
    for (const [name, log] of [
      ['gateway + ecs-elasticsearch', gateway!.output()],
      ['consumer-1', topology!.consumerOutput(0)],
    ] as const) {
      assert.match(log, /Backing off due to error from the next consumer/, name);
      assert.doesNotMatch(log, /Dropping data|dropping log record|failed to index document|skipping due to message_marking/, name);
    }
  });
});

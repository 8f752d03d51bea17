// The Elasticsearch route (examples/siem-formats/ecs-elasticsearch.yaml: gateway.yaml's Kafka topic,
// read by the route's own consumer group into the `elasticsearch` exporter) through an Elasticsearch
// outage longer than every timeout in it, while events keep coming: first nothing listens (refused
// connections), then for the last third an Elasticsearch that answers 503 to every request, as one
// does while it starts. Then Elasticsearch is back, and it must hold every event. Real processes:
// otelcol-audit and Apache Kafka; Elasticsearch's bulk API is the in-test stand-in (this machine
// cannot run Elasticsearch).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gatewayEnv, gatewayPorts, tally } from '../../scripts/lib/gateway.js';
import { startKafka, type KafkaBroker } from '../../scripts/lib/kafka.js';
import { freePort, startCollector, tempDir, waitFor, type RunningProcess } from '../../scripts/lib/processes.js';
import { documentEventIds, startElasticsearchBulkEndpoint, type ElasticsearchBulkEndpoint } from '../helpers/elasticsearch-bulk.js';
import { MIN_EVENTS_THROUGH_OUTAGE, OUTAGE_MILLIS, sendThroughOutage } from '../helpers/outage.js';

/** Elasticsearch while it starts: every request answered 503, with the product header. */
function unavailableElasticsearch(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(503, { 'X-Elastic-Product': 'Elasticsearch', 'content-type': 'application/json' });
      response.end('{"error":{"type":"unavailable_shards_exception"},"status":503}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe(`ecs-elasticsearch.yaml through a ${OUTAGE_MILLIS / 1000} s Elasticsearch outage`, () => {
  const dir = tempDir('elasticsearch-outage');
  let kafka: KafkaBroker | undefined;
  let gateway: RunningProcess | undefined;
  let elasticsearch: ElasticsearchBulkEndpoint | undefined;
  let sent: string[] = [];
  let drainMillis = 0;
  let answered503 = 0;

  before(async () => {
    kafka = await startKafka(join(dir, 'kafka'));
    await kafka.createTopic('audit-events', 4);
    const ports = await gatewayPorts();
    const elasticsearchPort = await freePort();
    gateway = await startCollector(
      ['gateway.yaml', 'formats/ecs.yaml', 'examples/siem-formats/ecs-elasticsearch.yaml'],
      gatewayEnv(dir, ports, kafka.bootstrap, { ELASTICSEARCH_ENDPOINT: `http://127.0.0.1:${elasticsearchPort}` }),
      `127.0.0.1:${ports.health}`,
      'gateway + ecs-elasticsearch',
    );
    let starting: Server | undefined;
    const startingTimer = setTimeout(() => {
      void unavailableElasticsearch(elasticsearchPort).then((server) => {
        starting = server;
        server.on('request', () => answered503++);
      });
    }, (OUTAGE_MILLIS * 2) / 3);
    [sent] = await sendThroughOutage([{ endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs` }]);
    clearTimeout(startingTimer);
    await new Promise((resolve) => (starting ? starting.close(resolve) : resolve(undefined)));

    const back = Date.now();
    elasticsearch = await startElasticsearchBulkEndpoint(elasticsearchPort);
    await waitFor('every event in Elasticsearch', () => tally(sent, documentEventIds(elasticsearch!.documents)).missing.length === 0, 180_000).catch(
      () => undefined, // the assertions below name what is missing
    );
    drainMillis = Date.now() - back;
  });

  after(async () => {
    await gateway?.stop();
    await elasticsearch?.close();
    await kafka?.stop();
  });

  it('Elasticsearch holds every event sent during the outage', () => {
    const counts = tally(sent, documentEventIds(elasticsearch!.documents));
    console.log(
      `outage ${OUTAGE_MILLIS / 1000} s, ecs-elasticsearch.yaml logs/elasticsearch: sent ${counts.sent}, delivered ${counts.delivered}, missing ${counts.missing.length}, duplicates ${counts.duplicates}; 503 answers ${answered503}; drained ${(drainMillis / 1000).toFixed(1)} s after Elasticsearch was back`,
    );
    assert.ok(counts.sent >= MIN_EVENTS_THROUGH_OUTAGE, 'events were sent all through the outage');
    assert.deepEqual(counts.missing, []);
  });

  it('the route felt the outage, backed off and retried, and dropped nothing', () => {
    const log = gateway!.output();
    assert.ok(answered503 > 0, 'the exporter tried Elasticsearch while it answered 503');
    assert.match(log, /Backing off due to error from the next consumer/);
    assert.doesNotMatch(log, /Dropping data|dropping log record|failed to index document|skipping due to message_marking/);
  });
});

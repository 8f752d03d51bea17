// Sites sharded across two gateways (issue 24, item 5), as the README's "Many sites" section has a
// platform team do it: the gateway pool (HAProxy, its gateway writing the topic, a real Kafka) and
// two shards, each an Admin Panel whose gateway is gateway.yaml with
// topologies/gateway-pool-kafka/shard.yaml (its archive pipeline reads the topic with a consumer
// group of the shard's own) and which holds the destinations of half of the sites. Every site's
// copy holds exactly its site's site-scoped events and passes `verify --site`; each shard's
// gateway runs only its own sites' pipelines; the panels' own trails reach the topic through the
// pool, so a site's copy also holds the changes made to its destinations.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ATTR, inSiteCopy } from '../../src/attributes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { CONFIG, freePort, ROOT, startCollector, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { startLoadBalancerFor } from '../helpers/topology.js';
import { login, startTestAdmin } from '../helpers/admin.js';

const run = promisify(execFile);
const TOPIC = 'audit-events';
/** Which shard holds each site's destination: a table, as the README suggests for a start. */
const SHARD_OF = { acme: 0, globex: 1, initech: 0, umbrella: 1 } as const;
type Site = keyof typeof SHARD_OF;
const SITES = Object.keys(SHARD_OF) as Site[];
const APP = 'shards-e2e';

const isCheckpoint = (r: TrailRecord) => (r.body as { action?: string }).action === 'audit.checkpoint';
const idOf = (r: TrailRecord) => (r.body as { id: string }).id;
const records = (file: string): TrailRecord[] => (existsSync(file) ? readTrail(file) : []);
/** The application's stream (a HEC copy does not keep the resource: its stream id names it). */
let appStream = '';
const ofApp = (r: TrailRecord) => r.attributes[ATTR.streamId] === appStream;

describe('sites sharded across two gateways behind the gateway pool', { timeout: 10 * 60_000 }, () => {
  const dir = tempDir('site-shards');
  const running: RunningProcess[] = [];
  const shards: Awaited<ReturnType<typeof startTestAdmin>>[] = [];
  const hec = {} as Record<Site, { port: number; file: string }>;
  const sent = { all: [] as string[], site: Object.fromEntries(SITES.map((site) => [site, [] as string[]])) as Record<Site, string[]> };
  let kafka: KafkaBroker | undefined;
  let poolEndpoint = '';

  before(async () => {
    kafka = await startKafka(join(dir, 'kafka'));
    await kafka.createTopic(TOPIC, 4);
    const gatewayEnv = {
      AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${await freePort()}`,
      AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${await freePort()}`,
      AUDIT_METRICS_PORT: String(await freePort()),
      AUDIT_DEAD_LETTER_DIR: join(dir, 'pool-dead-letters'),
      KAFKA_BROKERS: kafka.bootstrap,
      KAFKA_TOPIC: TOPIC,
    };
    running.push(await startCollector('topologies/gateway-pool-kafka/gateway.yaml', gatewayEnv, gatewayEnv.AUDIT_HEALTH_ENDPOINT, 'pool gateway'));
    const balancer = await startLoadBalancerFor([gatewayEnv]);
    running.push(balancer.process);
    poolEndpoint = `http://127.0.0.1:${balancer.port}/v1/logs`;
    for (const site of SITES) {
      hec[site] = { port: await freePort(), file: join(dir, `${site}-siem.jsonl`) };
      running.push(await startHecReceiver(hec[site].port, hec[site].file, `${site}'s SIEM`));
    }
    // Each shard's panel, run as the README has it: the shard overlay, its own consumer group (the
    // panel hands the Collector what the base reads from its environment), its trail to the pool.
    for (const shard of [0, 1]) {
      const saved = { ...process.env };
      Object.assign(process.env, { KAFKA_BROKERS: kafka.bootstrap, KAFKA_TOPIC: TOPIC, AUDIT_SHARD_GROUP_ID: `shard-${shard}` });
      try {
        shards.push(
          await startTestAdmin({
            baseConfig: [CONFIG('gateway.yaml'), CONFIG('topologies/gateway-pool-kafka/shard.yaml')],
            trailEndpoint: poolEndpoint,
            checkpointIntervalMillis: 2000,
          }),
        );
      } finally {
        for (const name of ['KAFKA_BROKERS', 'KAFKA_TOPIC', 'AUDIT_SHARD_GROUP_ID']) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      }
    }
    for (const site of SITES) {
      const panel = shards[SHARD_OF[site]]!;
      const administrator = await login(panel.url, { token: panel.token });
      const created = await administrator.change('POST', '/api/destinations', {
        id: `${site}_siem`,
        name: `${site}'s SIEM`,
        type: 'splunk_hec',
        url: `http://127.0.0.1:${hec[site].port}/services/collector`,
        allowInsecure: true,
        token: `${site}-token`,
        site,
      });
      assert.equal(created.status, 201, created.text);
    }

    const audit = createAuditLogger({ catalog: gristCatalog, serviceName: APP, endpoint: poolEndpoint, checkpoints: { intervalMillis: 1000 }, onError: (error) => assert.fail(error) });
    for (let n = 0; n < 120; n++) {
      const site = SITES[n % SITES.length]!;
      const id = audit.logEvent('document.create', { actor: { type: 'system' }, context: { site: { id: site, name: `the ${site} site` } }, details: { document: { id: `doc-${n}`, name: `document ${n}` } } });
      sent.all.push(id);
      sent.site[site].push(id);
      // Installation-only, with a site in its context; and a site-scoped action without a site: no site's copy.
      if (n % 10 === 0) sent.all.push(audit.logEvent('site.create', { actor: { type: 'system' }, context: { site: { id: site } }, details: gristCatalog.actions['site.create'].sample as never }));
      if (n % 10 === 1) sent.all.push(audit.logEvent('document.create', { actor: { type: 'system' }, context: {}, details: { document: { id: `doc-${n}-x`, name: 'no site' } } }));
      if (n % 40 === 39) await new Promise((resolve) => setTimeout(resolve, 1200));
    }
    await audit.shutdown({ timeoutMillis: 30_000 });
    await waitFor('the application\'s stream in a shard\'s archive', () => {
      appStream = String(shards[0]!.control.archive.files().flatMap(records).find((r) => r.resource['service.name'] === APP)?.attributes[ATTR.streamId] ?? '');
      return appStream !== '';
    });
    const finalOf = (site: Site) => (r: TrailRecord) => ofApp(r) && isCheckpoint(r) && (r.body as { details: { site_id?: string; final: boolean } }).details.site_id === site && (r.body as { details: { final: boolean } }).details.final;
    await waitFor(
      "each site's events in its SIEM with its final checkpoint, and every event in both shards' archives",
      () =>
        SITES.every((site) => records(hec[site].file).filter((r) => ofApp(r) && !isCheckpoint(r)).length >= sent.site[site].length && records(hec[site].file).some(finalOf(site))) &&
        shards.every((shard) => shard.control.archive.files().flatMap(records).filter((r) => ofApp(r) && !isCheckpoint(r)).length >= sent.all.length),
      120_000,
    ).catch((error: Error) => {
      const held = SITES.map((site) => `${site}: ${records(hec[site].file).filter((r) => ofApp(r) && !isCheckpoint(r)).length}/${sent.site[site].length}`);
      const archived = shards.map((shard, i) => `shard ${i} archive: ${shard.control.archive.files().flatMap(records).filter((r) => ofApp(r) && !isCheckpoint(r)).length}/${sent.all.length}\n${readFileSync(shard.control.state.configPath, 'utf8')}\n${shard.control.supervisor.log().split('\n').filter((line) => /warn|error/i.test(line)).slice(-20).join('\n')}`);
      throw new Error(`${error.message}\n${held.join(', ')}\n${archived.join('\n')}`);
    });
  });

  after(async () => {
    for (const shard of shards) await shard.close();
    for (const process of running.reverse()) await process.stop();
    await kafka?.stop();
  });

  it("each shard's gateway runs only its own sites' pipelines, fed by the topic", () => {
    for (const [index, shard] of shards.entries()) {
      const config = parse(readFileSync(shard.control.state.configPath, 'utf8')) as { receivers: Record<string, unknown>; service: { pipelines: Record<string, { receivers: string[] }> } };
      const pipelines = Object.keys(config.service.pipelines).sort();
      const mine = SITES.filter((site) => SHARD_OF[site] === index);
      assert.deepEqual(pipelines, ['logs/archive', ...mine.map((site) => `logs/${site}_siem`)].sort());
      assert.ok(!('otlp' in config.receivers), 'no OTLP listener for applications: a shard reads the topic');
      for (const name of pipelines) assert.ok(config.service.pipelines[name]!.receivers.includes('kafka/shard'), `${name} reads the topic`);
    }
  });

  it("each site's copy holds exactly its site's site-scoped events, wherever its destination is", () => {
    for (const site of SITES) {
      const copy = records(hec[site].file);
      assert.deepEqual(copy.filter((r) => ofApp(r) && !isCheckpoint(r)).map(idOf).sort(), [...sent.site[site]].sort(), site);
      for (const record of copy) assert.ok(inSiteCopy(record.attributes, site), `${site}: ${JSON.stringify(record.attributes)}`);
    }
    // Each shard's archive is everything it read: the whole topic.
    for (const shard of shards) {
      const archived = new Set(shard.control.archive.files().flatMap(records).filter(ofApp).map(idOf));
      assert.deepEqual(sent.all.filter((id) => !archived.has(id)), []);
    }
  });

  it("the shard panels' changes reach the topic through the pool, and each site's own stream", () => {
    for (const site of SITES) {
      const changes = records(hec[site].file).filter((r) => r.attributes[ATTR.action] === 'audit_destination.create');
      assert.equal(changes.length, 1, `${site}: the creation of its destination, in its own copy`);
      // Through the topic: the other shard, which has no destination of this site, read it too.
      for (const shard of shards) {
        const archived = shard.control.archive.files().flatMap(records).find((r) => idOf(r) === idOf(changes[0]!));
        assert.equal(archived?.resource['service.name'], 'otel-audit-admin', `${site}: its destination's creation in every shard's archive`);
      }
    }
  });

  it('otel-audit verify --site passes on each site\'s copy', async () => {
    for (const site of SITES) {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', hec[site].file, '--site', site, '--stream', appStream, '--ignore-order']);
      assert.match(stdout, new RegExp(`site ${site}: ${sent.site[site].length} event\\(s\\)`), stdout);
    }
  });
});

// The collector issue's proof, with real processes: the library → the otelcol-audit gateway →
// Splunk HEC (a second Collector running the real HEC receiver), the file archive, and syslog
// (Debian's rsyslogd). Every event arrives exactly once, unchanged, and a destination that is
// down neither blocks the others nor loses its backlog.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { gatewayEnv, gatewayFiles, gatewayPorts } from '../helpers/gateway.js';
import { freePort, ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

const actions = Object.keys(gristCatalog.actions) as (keyof typeof gristCatalog.actions)[];

/** The audit events a destination received (checkpoints, which the logger adds, left out). */
function trail(path: string): TrailRecord[] {
  return existsSync(path) ? readTrail(path).filter((r) => (r.body as { action?: string }).action !== 'audit.checkpoint') : [];
}

const uid = (record: TrailRecord): string => String(record.attributes['log.record.uid'] ?? (record.body as { id?: string }).id);

/** Ports, folders and environment of one gateway with its three live destinations. */
async function setUp(name: string) {
  const dir = tempDir(name);
  const ports = { ...(await gatewayPorts()), closed: await freePort() };
  const files = gatewayFiles(dir);
  // Bearer-token auth switched on, as production would: the library sends the token as a header.
  // Loopback only, hence the explicit insecure flag (no TLS); test/e2e/gateway-security.test.ts
  // covers TLS.
  const token = `e2e-${Date.now()}`;
  writeFileSync(join(dir, 'ingest-token'), token);
  // Elastic and Kafka are not running here: their pipelines retry on their own queues, which is
  // itself part of the isolation being tested.
  const env = gatewayEnv(dir, { ...ports, elastic: ports.closed }, `127.0.0.1:${ports.closed}`, {
    AUDIT_OTLP_BEARER_AUTH: 'true',
    AUDIT_OTLP_TLS: 'false',
    AUDIT_INGEST_TOKEN_FILE: join(dir, 'ingest-token'),
  });
  const started: RunningProcess[] = [];
  return {
    dir,
    ports,
    files,
    started,
    async gateway() {
      started.push(await startCollector('gateway.yaml', env, `127.0.0.1:${ports.health}`));
    },
    async hec() {
      const hec = await startHecReceiver(ports.hec, files.hec);
      started.push(hec);
      return hec;
    },
    async syslog() {
      started.push(await startRsyslog(ports.syslog, files.syslog));
    },
    async emitAllSamples(): Promise<string[]> {
      const audit = createAuditLogger({
        catalog: gristCatalog,
        endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`,
        headers: { authorization: `Bearer ${token}` },
        serviceName: 'e2e-app',
        onError: (error) => assert.fail(error),
      });
      const ids = actions.map((action) =>
        audit.logEvent(action, { actor: sampleEvent.actor, context: sampleEvent.context, details: gristCatalog.actions[action].sample as never }),
      );
      await audit.shutdown({ timeoutMillis: 30_000 });
      // The sample's site (42): its chain's resume marker before its first event, and its final checkpoint.
      assert.equal(audit.stats().exported, ids.length + 4, "every event, and the checkpoints of start and shutdown: the stream's and its site's");
      return ids;
    },
    async stopAll() {
      for (const process of started.reverse()) await process.stop();
    },
  };
}

describe('gateway.yaml end to end', () => {
  let env: Awaited<ReturnType<typeof setUp>>;
  let ids: string[];
  before(async () => {
    env = await setUp('pipeline');
    await env.hec();
    await env.syslog();
    await env.gateway();
    ids = await env.emitAllSamples();
    await waitFor('every event in all three destinations', () =>
      [env.files.hec, env.files.archive, env.files.syslog].every((file) => trail(file).length >= ids.length),
    );
  });
  after(() => env.stopAll());

  it('Splunk HEC receives every sample exactly once, its event deep-equal to the canonical event', () => {
    const received = trail(env.files.hec);
    assert.deepEqual(received.map(uid).sort(), [...ids].sort());
    for (const record of received) {
      const action = record.attributes['audit.action'] as keyof typeof gristCatalog.actions;
      const body = record.body as typeof sampleEvent;
      assert.deepEqual(body, { ...sampleEvent, id: body.id, timestamp: body.timestamp, action, details: gristCatalog.actions[action].sample });
    }
  });

  it('puts index, sourcetype, audit.action and log.record.uid where a Splunk user looks', () => {
    for (const record of trail(env.files.hec)) {
      const fields = { ...record.resource, ...record.attributes };
      assert.equal(fields['com.splunk.index'], 'audit_e2e');
      assert.equal(fields['com.splunk.sourcetype'], 'otel:audit');
      assert.equal(fields['com.splunk.source'], 'otel-audit');
      assert.equal(fields['audit.action'], (record.body as { action: string }).action);
      assert.equal(fields['log.record.uid'], (record.body as { id: string }).id);
    }
  });

  it('the file archive keeps every event exactly once, with its attributes', () => {
    const archived = trail(env.files.archive);
    assert.deepEqual(archived.map(uid).sort(), [...ids].sort());
    for (const record of archived) {
      assert.equal(record.attributes['log.record.uid'], (record.body as { id: string }).id);
      assert.equal(record.resource['service.name'], 'e2e-app');
    }
  });

  it('rsyslogd receives every event as RFC 5424 with the canonical event as JSON', () => {
    const lines = trail(env.files.syslog);
    assert.deepEqual(lines.map((r) => (r.body as { id: string }).id).sort(), [...ids].sort());
    const first = lines.find((r) => (r.body as { action: string }).action === 'document.create')!;
    assert.deepEqual((first.body as typeof sampleEvent).actor, sampleEvent.actor);
    for (const line of lines) {
      assert.equal(line.attributes['log.record.uid'], (line.body as { id: string }).id);
      assert.match(String(line.attributes['audit.seq']), /^\d+$/);
      assert.match(String(line.attributes['audit.hash']), /^[0-9a-f]{64}$/);
    }
  });

  it('otel-audit verify finds the archive, the HEC output and the syslog file complete and intact', () => {
    for (const [file, extra] of [[env.files.archive, []], [env.files.hec, ['--ignore-order']], [env.files.syslog, []]] as const) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', file, ...extra, '--json'], { encoding: 'utf8' });
      const report = JSON.parse(out) as { ok: boolean; streams: { events: number; lastSeq: number; checkpoints: number }[] };
      assert.equal(report.ok, true, `${file}: ${out}`);
      assert.equal(report.streams.length, 1);
      assert.equal(report.streams[0]!.events, ids.length);
      assert.equal(report.streams[0]!.checkpoints, 2, 'the start and the final checkpoints');
    }
  });
});

describe('fan-out isolation', () => {
  let env: Awaited<ReturnType<typeof setUp>>;
  after(() => env.stopAll());

  it('with the HEC receiver down, archive and syslog get every event at once; Splunk gets its backlog when it is back', async () => {
    env = await setUp('isolation');
    await env.syslog();
    await env.gateway();
    const ids = await env.emitAllSamples();
    const sent = Date.now();
    await waitFor('archive and syslog while Splunk is down', () => trail(env.files.archive).length >= ids.length && trail(env.files.syslog).length >= ids.length, 15_000);
    const othersDelay = Date.now() - sent;
    assert.deepEqual(trail(env.files.archive).map(uid).sort(), [...ids].sort());
    assert.deepEqual(trail(env.files.syslog).map(uid).sort(), [...ids].sort());
    assert.equal(trail(env.files.hec).length, 0);

    await new Promise((resolve) => setTimeout(resolve, 3000)); // an outage long enough for retries to back off
    const hecStarted = Date.now();
    await env.hec();
    await waitFor('the Splunk backlog', () => trail(env.files.hec).length >= ids.length, 60_000);
    const backlogDelay = Date.now() - hecStarted;
    const received = trail(env.files.hec).map(uid);
    const missing = ids.filter((id) => !received.includes(id));
    assert.deepEqual(missing, []);
    assert.equal(received.length, ids.length, 'no duplicates');
    console.log(`isolation: ${ids.length} events; archive+syslog after ${othersDelay} ms with HEC down; HEC backlog delivered ${backlogDelay} ms after the receiver started; missing: ${missing.length}`);
  });
});

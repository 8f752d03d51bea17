// Delivery under faults, with the real Collector (collector-config/local.yaml) in front of the
// Splunk HEC stand-in: the Collector SIGKILLed mid-stream, the application SIGKILLed after its
// events were durably accepted, and a long outage at a steady rate.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail } from '../../src/integrity/trail.js';
import { localPipeline, tempDir, waitFor } from '../helpers/processes.js';
import { spawnFixture } from '../helpers/json-lines-child.js';

/** Ids of the audit events a destination received (checkpoints, which the logger adds, left out). */
const receivedIds = (file: string): string[] =>
  existsSync(file) ? readTrail(file).filter((r) => r.attributes['audit.action'] !== 'audit.checkpoint').map((r) => String(r.attributes['log.record.uid'])) : [];

/** The local.yaml gateway and its HEC receiver, in a fresh folder. */
async function pipeline(name: string) {
  const dir = tempDir(name);
  return { dir, ...(await localPipeline(dir)) };
}

const emitter = (env: Record<string, string>) => spawnFixture('test/e2e/fixtures/emitter.ts', env);

describe('the Collector is SIGKILLed in the middle of a 20,000-event stream', () => {
  let env: Awaited<ReturnType<typeof pipeline>>;
  after(() => env?.stopAll());

  it('every event id reaches the HEC receiver; duplicates stay below one batch per kill', async () => {
    env = await pipeline('collector-kill');
    await env.startHec();
    let gateway = await env.startGateway();
    const audit = createAuditLogger({
      catalog: gristCatalog,
      endpoint: env.endpoint,
      spoolDir: join(env.dir, 'spool'),
      timeoutMillis: 1000,
      retry: { initialDelayMillis: 100, maxDelayMillis: 1000 },
      onError: (error) => assert.fail(error),
    });
    const ids: string[] = [];
    const total = 20_000;
    // The stream: 250 events every 25 ms (10,000/s) for 2 s; the kill lands in its middle, while
    // batches are in flight, and the stream goes on while the Collector is down.
    const stream = (async () => {
      while (ids.length < total) {
        for (let i = 0; i < 250; i++) ids.push(audit.logEvent('document.create', { details: { document: { id: `k${ids.length}`, name: 'stream' } } }));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await waitFor('half of the stream', () => ids.length >= total / 2);
    const sentWhenKilled = ids.length;
    const exportedWhenKilled = audit.stats().exported;
    await gateway.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    gateway = await env.startGateway();
    await stream;
    await audit.flush({ timeoutMillis: 120_000 });
    await waitFor('all 20,000 ids at the HEC receiver', () => new Set(receivedIds(env.files.hec)).size >= total, 120_000);
    await audit.shutdown();
    const received = receivedIds(env.files.hec);
    const unique = new Set(received);
    const missing = ids.filter((id) => !unique.has(id));
    const duplicates = received.length - unique.size;
    console.log(`collector SIGKILL: sent ${total}, killed after ${sentWhenKilled} sent and ${exportedWhenKilled} acknowledged, received ${received.length}, unique ${unique.size}, missing ${missing.length}, duplicates ${duplicates}, retried ${audit.stats().retried}`);
    assert.deepEqual(missing, []);
    assert.ok(duplicates < 1000, `duplicates ${duplicates} stay below one batch (the Collector's max batch, 1000)`);
  });
});

describe('the application is SIGKILLed after 5,000 logEventOrThrow calls resolved', () => {
  let env: Awaited<ReturnType<typeof pipeline>>;
  after(() => env?.stopAll());

  it('a new process on the same spool delivers all 5,000', async () => {
    env = await pipeline('app-kill');
    const spoolDir = join(env.dir, 'spool');
    const idsFile = join(env.dir, 'ids.txt');
    // The Collector is not up yet: nothing can have been delivered before the kill.
    const app = emitter({ MODE: 'durable', COUNT: '5000', ENDPOINT: env.endpoint, SPOOL_DIR: spoolDir, IDS_FILE: idsFile });
    await waitFor('5,000 resolved', () => app.lines.some((line) => line['resolved'] === 5000) || app.child.exitCode !== null, 120_000);
    assert.equal(app.child.exitCode, null, app.stderr());
    app.child.kill('SIGKILL');
    await app.exited;
    const resolved = readFileSync(idsFile, 'utf8').trim().split('\n');
    assert.equal(resolved.length, 5000);

    await env.startHec();
    await env.startGateway();
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: env.endpoint, spoolDir, onError: (error) => assert.fail(error) });
    assert.equal(audit.stats().replayed, 5001, 'every resolved event, and the start checkpoint of the killed process');
    await audit.flush({ timeoutMillis: 60_000 });
    await audit.shutdown();
    await waitFor('all 5,000 at the HEC receiver', () => new Set(receivedIds(env.files.hec)).size >= 5000, 60_000);
    const received = new Set(receivedIds(env.files.hec));
    const missing = resolved.filter((id) => !received.has(id));
    console.log(`application SIGKILL: resolved ${resolved.length}, replayed ${audit.stats().replayed}, received ${received.size}, missing ${missing.length}`);
    assert.deepEqual(missing, []);
  });
});

describe('a long outage at a steady rate', () => {
  let env: Awaited<ReturnType<typeof pipeline>>;
  after(() => env?.stopAll());

  // 30,000 events at 2,000/s: the volume of a 10-minute outage at 50 events/s, in 15 s.
  const MEMORY_BOUND = 200 * 1024 * 1024;

  it(`keeps resident memory under ${MEMORY_BOUND / 1024 / 1024} MiB while the spool grows on disk, and delivers everything afterwards`, async () => {
    env = await pipeline('outage');
    const idsFile = join(env.dir, 'ids.txt');
    const app = emitter({ MODE: 'steady', COUNT: '30000', RATE: '2000', ENDPOINT: env.endpoint, SPOOL_DIR: join(env.dir, 'spool'), IDS_FILE: idsFile });
    await waitFor('the steady stream to end', () => app.lines.some((line) => line['done']) || app.child.exitCode !== null, 60_000);
    assert.equal(app.child.exitCode, null, app.stderr());
    const samples = app.lines.filter((line) => typeof line['rss'] === 'number') as { rss: number; stats: { spooledBytes: number; exported: number } }[];
    const peak = Math.max(...samples.map((s) => s.rss));
    const spooled = (app.lines.find((line) => line['done']) as { stats: { spooledBytes: number; spooledEvents: number; exported: number } }).stats;
    assert.equal(spooled.exported, 0, 'nothing delivered during the outage');
    assert.equal(spooled.spooledEvents, 30_001, 'every event, and the start checkpoint');

    await env.startHec();
    await env.startGateway();
    await waitFor('the backlog to be flushed', () => app.lines.some((line) => line['flushed']) || app.child.exitCode !== null, 180_000);
    await app.exited;
    const ids = readFileSync(idsFile, 'utf8').trim().split('\n');
    await waitFor('all 30,000 at the HEC receiver', () => new Set(receivedIds(env.files.hec)).size >= ids.length, 120_000);
    const received = new Set(receivedIds(env.files.hec));
    const missing = ids.filter((id) => !received.has(id));
    console.log(`outage: sent ${ids.length}, spooled ${(spooled.spooledBytes / 1024 / 1024).toFixed(1)} MiB, peak RSS ${(peak / 1024 / 1024).toFixed(1)} MiB over ${samples.length} samples (${samples.map((s) => Math.round(s.rss / 1024 / 1024)).join(' ')}), received ${received.size}, missing ${missing.length}`);
    assert.deepEqual(missing, []);
    assert.ok(peak < MEMORY_BOUND, `peak RSS ${peak}`);
  });
});

// The Admin Panel end to end: the real otelcol-audit under the panel's supervision, the Splunk HEC
// stand-in (the Collector's HEC receiver), the real logger. A destination added through the API
// receives events; a test event reaches it only; configs the Collector refuses (at validate, or
// when it reloads) leave the previous revision running and say why; a destination paused under
// traffic and resumed gets the gap replayed, and its copy passes verify with no gap.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, readTrail, verifyTrail, type AuditLogger, type TrailRecord } from '../../src/index.js';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, localPipeline, ROOT, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { archived as archivedBy, login, startTestAdmin, type Client } from '../helpers/admin.js';
import { TEST_ATTRIBUTE } from '../../src/admin/render.js';
import { otlpRequest } from '../../src/admin/replay.js';
import { idOf, record } from '../helpers/archive-fixture.js';
import { parseTokensFile, parseUsersFile } from '../../src/admin/auth.js';

const records = (file: string): TrailRecord[] => (existsSync(file) ? readTrail(file) : []);
const ids = (file: string) => new Set(records(file).map((r) => String((r.body as { id?: string }).id)));
const hecUrl = (port: number) => `http://127.0.0.1:${port}/services/collector`;
const run = promisify(execFile);
const startedAt = Date.now();

describe('otel-audit admin with the real Collector', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let client: Client;
  let audit: AuditLogger<typeof gristCatalog>;
  const started: RunningProcess[] = [];
  const hec = { one: { port: 0, file: '' }, two: { port: 0, file: '' } };
  let dir: string;

  const emit = (n: number, action: 'document.open' | 'user.change_name' = 'document.open') =>
    Array.from({ length: n }, () => audit.logEvent(action, { actor: sampleEvent.actor, context: sampleEvent.context, details: gristCatalog.actions[action].sample as never }));

  before(async () => {
    dir = tempDir('admin-e2e');
    // A format fragment the Collector refuses (a transform statement that does not parse).
    const formats = join(dir, 'formats');
    mkdirSync(formats);
    writeFileSync(join(formats, 'broken.yaml'), 'processors:\n  transform/broken:\n    log_statements:\n      - context: log\n        statements: ["set(log.nonsense, 1"]\n');
    admin = await startTestAdmin({ formatsDir: formats });
    client = await login(admin.url, { token: admin.token });
    for (const [name, target] of Object.entries(hec)) {
      target.port = await freePort();
      target.file = join(dir, `hec-${name}.jsonl`);
      started.push(await startHecReceiver(target.port, target.file, `hec-${name}`));
    }
    audit = createAuditLogger({ catalog: gristCatalog, endpoint: admin.ingestEndpoint, serviceName: 'admin-e2e', spoolDir: join(dir, 'spool'), checkpoints: false, onError: (error) => assert.fail(error) });
  });
  after(async () => {
    await audit?.shutdown({ timeoutMillis: 20_000 }).catch(() => undefined);
    await admin?.close();
    for (const process of started.reverse()) await process.stop();
  });

  test('a HEC destination added through the API receives the events, and is healthy', async () => {
    const created = await client.change('POST', '/api/destinations', { id: 'splunk', name: 'Splunk', type: 'splunk_hec', url: hecUrl(hec.one.port), allowInsecure: true, token: 'hec-token' });
    assert.equal(created.status, 201, created.text);
    assert.equal((await client.change('POST', '/api/destinations', { id: 'users_only', name: 'Users only', type: 'splunk_hec', url: hecUrl(hec.two.port), allowInsecure: true, token: 'hec-token', filter: { include: ['user.*'] } })).status, 201);
    const sent = [...emit(20), ...emit(5, 'user.change_name')];
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('every event at the HEC destination', () => sent.every((id) => ids(hec.one.file).has(id)));
    await waitFor('the filtered destination to get the user.* events', () => sent.slice(20).every((id) => ids(hec.two.file).has(id)));
    assert.ok(sent.slice(0, 20).every((id) => !ids(hec.two.file).has(id)), 'document.open passed the user.* filter');
    await waitFor('a healthy status', async () => {
      const list = (await client.call('GET', '/api/destinations')).body['destinations'] as { id: string; health: { status: string; sent: number } }[];
      const splunk = list.find((d) => d.id === 'splunk')!;
      return splunk.health.status === 'healthy' && splunk.health.sent >= 20;
    });
  });

  test('a test event, marked as one, reaches that destination only, confirmed by its sent counter', async () => {
    const result = await client.change('POST', '/api/destinations/splunk/test');
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body['delivered'], true);
    const eventId = result.body['eventId'] as string;
    await waitFor('the test event in the HEC file', () => ids(hec.one.file).has(eventId));
    const received = records(hec.one.file).find((r) => (r.body as { id: string }).id === eventId)!;
    assert.equal(String(received.attributes[TEST_ATTRIBUTE]), 'true');
    assert.match(JSON.stringify(received.body), /TEST EVENT/);
    assert.ok(!ids(hec.two.file).has(eventId), 'the test event reached another destination');
    assert.ok(archivedBy(admin).length > 0 && !archivedBy(admin).some((r) => (r.body as { id: string }).id === eventId), 'the test event reached the archive');
  });

  test('a format the Collector refuses: 422 with its reason, the previous revision keeps running', async () => {
    const before = await client.revision();
    const response = await client.change('PUT', '/api/destinations/splunk', { format: 'broken' });
    assert.equal(response.status, 422, response.text);
    assert.match(response.body['error'].message, /rejected the configuration .*transform\/broken/s);
    assert.equal(await client.revision(), before);
    const revisions = (await client.call('GET', '/api/revisions')).body['revisions'] as { status: string; error?: string }[];
    assert.equal(revisions[0]!.status, 'rejected');
    assert.match(revisions[0]!.error!, /otelcol-audit validate/);
    const sent = emit(3);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('events still flowing', () => sent.every((id) => ids(hec.one.file).has(id)));
  });

  test('a revision that fails when the Collector reloads is undone by itself, and the reason shown', async () => {
    const withTemp = (await client.change('POST', '/api/destinations', { id: 'temp', name: 'Temp', type: 'splunk_hec', url: hecUrl(hec.two.port), allowInsecure: true, token: 't' })).body['revision'] as number;
    const tempPort = ((await client.call('GET', '/api/destinations/temp')).body['destination'] as { directPort: number }).directPort;
    assert.equal((await client.change('DELETE', '/api/destinations/temp')).status, 200);
    // Someone else takes the port the old revision's receiver needs: it validates, but cannot start.
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(tempPort, '127.0.0.1', () => resolve()));
    try {
      const good = await client.revision();
      const collectorBefore = admin.control.supervisor.pid;
      const response = await client.change('POST', `/api/revisions/${withTemp}/rollback`);
      assert.equal(response.status, 422, response.text);
      assert.match(response.body['error'].message, /restored: .*address already in use/s);
      assert.equal(response.body['current'], good);
      assert.notEqual(admin.control.supervisor.pid, collectorBefore, 'the Collector exited on the bad reload and was started again');
      const revisions = (await client.call('GET', '/api/revisions')).body['revisions'] as { status: string; error?: string }[];
      assert.equal(revisions[0]!.status, 'rejected');
      const sent = emit(3);
      await audit.flush({ timeoutMillis: 30_000 });
      await waitFor('events flowing again on the restored revision', () => sent.every((id) => ids(hec.one.file).has(id)));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  test('paused under traffic, then resumed: the gap is replayed from the archive and the copy verifies with no gap', async () => {
    let running = true;
    const sent: string[] = [];
    const traffic = (async () => {
      while (running) {
        sent.push(...emit(5));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await waitFor('traffic', () => sent.length >= 50);
      assert.equal((await client.change('POST', '/api/destinations/splunk/pause')).status, 200);
      const pausedAt = sent.length;
      await waitFor('traffic while paused', () => sent.length >= pausedAt + 100);
      const duringPause = sent.slice(pausedAt + 20, pausedAt + 100);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(duringPause.every((id) => !ids(hec.one.file).has(id)), 'a paused destination received events');
      const resumed = await client.change('POST', '/api/destinations/splunk/resume');
      assert.equal(resumed.status, 200, resumed.text);
      assert.ok(resumed.body['replayed'] >= 80, `replayed ${resumed.body['replayed']}`);
      const after = sent.length;
      await waitFor('traffic after resuming', () => sent.length >= after + 50);
    } finally {
      running = false;
      await traffic;
    }
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('every event at the HEC destination', () => {
      const have = ids(hec.one.file);
      return sent.every((id) => have.has(id));
    }, 60_000);
    const copy = records(hec.one.file).filter((r) => String(r.attributes[TEST_ATTRIBUTE]) !== 'true');
    const report = verifyTrail(copy, { ignoreOrder: true });
    assert.equal(report.unchained, 0);
    for (const stream of report.streams) {
      assert.deepEqual(stream.gaps, [], `stream ${stream.streamId}`);
      assert.deepEqual(stream.tampered, []);
    }
    const archive = verifyTrail(archivedBy(admin).filter((r) => (r.resource as Record<string, unknown>)['service.name'] === 'admin-e2e'), { ignoreOrder: true });
    assert.ok(archive.ok, JSON.stringify(archive.streams.map((s) => [s.gaps, s.duplicates.length])));
  });
  test('events that reach the gateway during a pause stamped long before it (a client\'s spool backlog, a skewed clock) are replayed on resume', async () => {
    assert.equal((await client.change('POST', '/api/destinations/splunk/pause')).status, 200);
    // Stamped before this file's tests began: the backfills below (since then) leave them out.
    const hourAgo = startedAt - 3_600_000;
    const backlog = [record(hourAgo), record(hourAgo + 1), record(hourAgo + 2)];
    const posted = await fetch(admin.ingestEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpRequest(backlog)) });
    assert.equal(posted.status, 200);
    await waitFor('the backlog in the archive', () => backlog.every((r) => archivedBy(admin).some((a) => idOf(a) === idOf(r))));
    const resumed = await client.change('POST', '/api/destinations/splunk/resume');
    assert.equal(resumed.status, 200, resumed.text);
    assert.ok(resumed.body['replayed'] >= backlog.length, resumed.text);
    await waitFor('every event of the backlog at the destination', () => backlog.every((r) => ids(hec.one.file).has(idOf(r))));
  });
  test('Sent counts on across a pause, a resume and a Collector that died (the Collector\'s own counters start again from 0)', async () => {
    // Every event the destination holds was sent at least once: Sent is never below their number
    // (it can be above it: a retry after a send that timed out counts twice, and writes once).
    let last = 0;
    const shown = async () => {
      const sent = ((await client.call('GET', '/api/destinations/splunk')).body['destination'] as { health: { sent: number } }).health.sent;
      assert.ok(sent >= last, `Sent went back from ${last} to ${sent}`);
      last = sent;
      return sent;
    };
    const settled = (what: string) => waitFor(what, async () => (await shown()) >= ids(hec.one.file).size, 30_000);
    emit(10);
    await audit.flush({ timeoutMillis: 30_000 });
    await settled('Sent to count every event the destination holds');
    assert.ok(last > 100, `Sent is ${last}`);
    assert.equal((await client.change('POST', '/api/destinations/splunk/pause')).status, 200);
    emit(20);
    await audit.flush({ timeoutMillis: 30_000 });
    assert.equal((await client.change('POST', '/api/destinations/splunk/resume')).status, 200);
    await settled('Sent to count them after the pause and the resume');
    const collector = admin.control.supervisor.pid!;
    process.kill(collector, 'SIGKILL');
    await waitFor('the Collector started again', () => admin.control.supervisor.running && admin.control.supervisor.pid !== collector);
    emit(10);
    await audit.flush({ timeoutMillis: 60_000 });
    await settled('Sent to count them after the Collector died and came back');
  });

  test('an unreachable destination is saved, shown failing with its last error, and holds up no other', async () => {
    const deadPort = await freePort();
    const created = await client.change('POST', '/api/destinations', { id: 'down', name: 'Down', type: 'splunk_hec', url: hecUrl(deadPort), allowInsecure: true, token: 't' });
    assert.equal(created.status, 201, created.text);
    const sent = emit(5);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('the other destination to get them', () => sent.every((id) => ids(hec.one.file).has(id)));
    let down: { health: { status: string; queued: number; lastError?: { message: string } } } | undefined;
    await waitFor('a failing status with the error', async () => {
      down = (await client.call('GET', '/api/destinations/down')).body['destination'];
      return down!.health.status === 'failing' && down!.health.queued >= 5;
    });
    assert.match(down!.health.lastError!.message, /connection refused/);

    // Deleted: its queued events stay in its persistent queue (the storage directory), undelivered,
    // and the response says how many. A destination created again under the same id is another
    // destination (another URL, maybe a weaker PII policy): it starts with an empty queue of its own.
    const deleted = await client.change('DELETE', '/api/destinations/down');
    assert.equal(deleted.status, 200, deleted.text);
    assert.ok(deleted.body['abandonedQueuedEvents'] >= 5, deleted.text);
    const file = join(dir, 'hec-recreated.jsonl');
    const newPort = await freePort();
    started.push(await startHecReceiver(newPort, file, 'hec-recreated'));
    assert.equal((await client.change('POST', '/api/destinations', { id: 'down', name: 'Down', type: 'splunk_hec', url: hecUrl(newPort), allowInsecure: true, token: 't' })).status, 201);
    const fresh = emit(3);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('the new events at the recreated destination', () => fresh.every((id) => ids(file).has(id)));
    // Its queue would have sent the old events first: a second more, to be sure none follows.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(sent.filter((id) => ids(file).has(id)), [], "the deleted destination's queued events went to the new URL");
    assert.equal((await client.change('DELETE', '/api/destinations/down')).status, 200);
  });
  test('created with backfillSince, a destination gets the archived events since then; otel-audit replay sends a window again', async () => {
    const port = await freePort();
    const file = join(dir, 'hec-late.jsonl');
    started.push(await startHecReceiver(port, file, 'hec-late'));
    const archived = archivedBy(admin).filter((r) => (r.resource as Record<string, unknown>)['service.name'] === 'admin-e2e');
    const created = await client.change('POST', '/api/destinations', { id: 'late', name: 'Late', type: 'splunk_hec', url: hecUrl(port), allowInsecure: true, token: 't', backfillSince: new Date(startedAt).toISOString() });
    assert.equal(created.status, 201, created.text);
    assert.ok(created.body['replayed'] >= archived.length, created.text);
    await waitFor('the backfill at the new destination', () => archived.every((r) => ids(file).has(String((r.body as { id: string }).id))));
    const report = verifyTrail(records(file).filter((r) => (r.resource as Record<string, unknown>)['service.name'] === 'admin-e2e'), { ignoreOrder: true });
    assert.ok(report.ok, JSON.stringify(report.streams));

    const before = records(file).length;
    const result = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'replay', '--since', new Date(startedAt).toISOString(), '--destination', 'late', '--state-dir', join(admin.dir, 'state'), '--otlp-endpoint', admin.ingestEndpoint.replace(/^http:\/\/|\/v1\/logs$/g, '')], { cwd: ROOT });
    const replayed = Number(/(\d+) event\(s\) replayed to late/.exec(result.stdout)?.[1]);
    assert.ok(replayed >= archived.length, result.stdout);
    await waitFor('the replayed window at the destination', () => records(file).length >= before + replayed);
    const again = verifyTrail(records(file), { ignoreOrder: true });
    assert.ok(again.streams.every((s) => s.gaps.length === 0 && s.tampered.length === 0), 'a replay only adds identical duplicates');
    await admin.audit.flush({ timeoutMillis: 20_000 });
    await waitFor('the replay in the trail, by the user who ran it', () =>
      archivedBy(admin).some((r) => (r.body as { action: string; actor: { type: string } }).action === 'audit_destination.replay' && (r.body as { actor: { type: string } }).actor.type === 'user' && (r.resource as Record<string, unknown>)['service.name'] === 'otel-audit-admin' && (r.body as { details: { replayed_events: number } }).details.replayed_events === replayed),
    );
  });
  test('PII policies: a keyed hash, or nothing, of emails and IP addresses at that destination; the archive keeps them', async () => {
    const port = await freePort();
    const file = join(dir, 'hec-pii.jsonl');
    started.push(await startHecReceiver(port, file, 'hec-pii'));
    for (const [id, pii] of [['pii_hash', 'hash'], ['pii_drop', 'drop']]) {
      const created = await client.change('POST', '/api/destinations', { id, name: id, type: 'splunk_hec', url: hecUrl(port), allowInsecure: true, token: 't', index: id, pii });
      assert.equal(created.status, 201, created.text);
    }
    const [id] = emit(1);
    await audit.flush({ timeoutMillis: 30_000 });
    const copies = () => records(file).filter((r) => (r.body as { id: string }).id === id);
    await waitFor('both copies', () => copies().length === 2);
    const at = (index: string) => copies().find((r) => r.resource['com.splunk.index'] === index)!;
    const email = sampleEvent.actor.type === 'user' ? sampleEvent.actor.user.email : '';
    const ip = sampleEvent.context.ip_address!;
    const hashed = at('pii_hash').body as typeof sampleEvent;
    assert.match(hashed.actor.type === 'user' ? hashed.actor.user.email : '', /^[0-9a-f]{64}$/);
    assert.match(hashed.context.ip_address!, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(at('pii_hash')).includes(email) && !JSON.stringify(at('pii_hash')).includes(ip), 'an email or IP left in the hashed copy');
    const dropped = at('pii_drop');
    assert.ok(!JSON.stringify(dropped).includes(email) && !JSON.stringify(dropped).includes(ip), 'an email or IP left in the dropped copy');
    assert.equal((dropped.body as { context: Record<string, unknown> }).context['ip_address'], undefined);
    const archived = archivedBy(admin).find((r) => (r.body as { id: string }).id === id)!;
    assert.deepEqual((archived.body as typeof sampleEvent).actor, sampleEvent.actor);
    for (const d of ['pii_hash', 'pii_drop']) assert.equal((await client.change('DELETE', `/api/destinations/${d}`)).status, 200);
  });
  test('a syslog destination (rsyslogd) gets every event with its integrity attributes; the copy verifies', async () => {
    const port = await freePort();
    const file = join(dir, 'syslog.log');
    started.push(await startRsyslog(port, file));
    const created = await client.change('POST', '/api/destinations', { id: 'syslog', name: 'Syslog', type: 'syslog', host: '127.0.0.1', port, tls: false, backfillSince: new Date(startedAt).toISOString() });
    assert.equal(created.status, 201, created.text);
    const sent = emit(10);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('the events at rsyslogd', () => sent.every((id) => ids(file).has(id)));
    // Backfilled from the start of this file's tests, then live: identical duplicates at the edge, no gap.
    // The panel's own events of this change (create, replay) travel beside the test's: wait for them too.
    const verified = () => verifyTrail(records(file), { ignoreOrder: true });
    await waitFor('the copy to hold every seq', () => verified().streams.every((stream) => stream.gaps.length === 0)).catch(() => undefined);
    const report = verified();
    assert.equal(report.unchained, 0);
    for (const stream of report.streams) {
      assert.deepEqual(stream.gaps, [], `stream ${stream.streamId}`);
      assert.deepEqual(stream.tampered, []);
    }
    assert.equal((await client.change('DELETE', '/api/destinations/syslog')).status, 200);
  });
  test('an OTLP/HTTP destination (another otelcol-audit standing in for a SIEM) gets every event, headers from the secret file', async () => {
    const siem = await localPipeline(join(dir, 'otlp-siem'));
    try {
      await siem.startGateway();
      const created = await client.change('POST', '/api/destinations', { id: 'otlp', name: 'OTLP SIEM', type: 'otlp_http', endpoint: siem.endpoint, allowInsecure: true, headers: { 'X-Tenant': 'audit-e2e' } });
      assert.equal(created.status, 201, created.text);
      assert.ok(!created.text.includes('audit-e2e'), 'a header value was returned');
      const sent = emit(10);
      await audit.flush({ timeoutMillis: 30_000 });
      await waitFor('the events at the OTLP destination', () => sent.every((id) => ids(siem.files.archive).has(id)));
      const report = verifyTrail(records(siem.files.archive).filter((r) => r.resource['service.name'] === 'admin-e2e'), { ignoreOrder: true });
      assert.deepEqual(report.streams.map((s) => s.tampered), [[]]);
      assert.equal((await client.change('DELETE', '/api/destinations/otlp')).status, 200);
    } finally {
      await siem.stopAll();
    }
  });
  test('a Collector that dies is started again by the panel on the last good revision; nothing is lost', async () => {
    const before = admin.control.supervisor.pid!;
    process.kill(before, 'SIGKILL');
    const sent = emit(10);
    await waitFor('the Collector started again', () => admin.control.supervisor.running && admin.control.supervisor.pid !== before);
    await audit.flush({ timeoutMillis: 60_000 });
    await waitFor('the events sent meanwhile at the HEC destination', () => sent.every((id) => ids(hec.one.file).has(id)));
  });
  test('a reload held up by an exporter that does not stop (Kafka, every broker down) ends in a restart: the change applies, nothing is lost', async () => {
    assert.equal((await client.change('POST', '/api/destinations', { id: 'kafka_down', name: 'Kafka (down)', type: 'kafka', brokers: [`127.0.0.1:${await freePort()}`] })).status, 201);
    const before = emit(5);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('the Kafka exporter holding events', async () => ((await client.call('GET', '/api/destinations/kafka_down')).body['destination'] as { health: { queued: number } }).health.queued > 0);
    const collector = admin.control.supervisor.pid;
    const renamed = await client.change('PUT', '/api/destinations/kafka_down', { name: 'Kafka (still down)' });
    assert.equal(renamed.status, 200, renamed.text);
    const revision = (await client.call('GET', `/api/revisions/${renamed.body['revision']}`)).body;
    assert.equal(revision['appliedBy'], 'restart');
    assert.notEqual(admin.control.supervisor.pid, collector);
    const after = emit(5);
    await audit.flush({ timeoutMillis: 30_000 });
    await waitFor('every event at the HEC destination', () => [...before, ...after].every((id) => ids(hec.one.file).has(id)));
    const deleted = await client.change('DELETE', '/api/destinations/kafka_down');
    assert.equal(deleted.status, 200, deleted.text);
    assert.ok(deleted.body['abandonedQueuedEvents'] >= 5, deleted.text);
  });
});

describe('otel-audit admin (the command)', () => {
  const startCli = (stateDir: string, otlp: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'admin', '--state-dir', stateDir, '--port', '0', '--otlp-endpoint', `127.0.0.1:${otlp}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return {
      child,
      output: () => output,
      exited,
      ready: () => waitFor('the URL and token', () => /one-time login token/.test(output) || child.exitCode !== null),
      async stop(): Promise<number | null> {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      },
    };
  };
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

  test("hash-password --owner writes a site owner's line, hash-token a site token's; both read the secret from stdin and print no secret", async () => {
    const cli = (args: string[], input: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'admin', ...args], { cwd: ROOT });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input);
      });
    const password = 'a password of olga, long enough';
    const owner = await cli(['hash-password', 'olga', 'olga@acme.example', '--owner', 'acme,globex'], `${password}\n`);
    assert.equal(owner.code, 0, owner.stderr);
    assert.ok(!owner.stdout.includes(password));
    assert.deepEqual(parseUsersFile(owner.stdout).get('olga')?.roles, { admin: false, sites: ['acme', 'globex'] });
    const secret = 'c'.repeat(64);
    const token = await cli(['hash-token', 'acme_backend', 'acme'], `${secret}\n`);
    assert.equal(token.code, 0, token.stderr);
    assert.ok(!token.stdout.includes(secret));
    assert.equal(parseTokensFile(token.stdout).get('acme_backend')?.site, 'acme');
    const wrongSite = await cli(['hash-password', 'olga', '--owner', 'acme corp'], `${password}\n`);
    assert.equal(wrongSite.code, 2);
    assert.match(wrongSite.stderr, /roles: expected admin or owner=/);
    assert.equal((await cli(['hash-token', 'acme_backend', 'acme'], 'short\n')).code, 2);
  });

  test('prints its loopback URL and a one-time token that logs in; stops with its Collector on SIGTERM', async () => {
    const stateDir = join(tempDir('admin-cli'), 'state');
    const cli = startCli(stateDir, await freePort());
    try {
      await cli.ready();
      const url = /otel-audit admin: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.output())?.[1];
      const token = /one-time login token[^:]*: (\S+)/.exec(cli.output())?.[1];
      assert.ok(url && token, cli.output());
      const session = await login(url, { token });
      assert.equal((await session.call('GET', '/api/destinations')).status, 200);
    } finally {
      assert.equal(await cli.stop(), 0, cli.output());
    }
    assert.ok(!alive(Number(readFileSync(join(stateDir, 'collector.pid'), 'utf8'))), 'its Collector still runs');
  });

  test('a Collector left behind by a panel that was killed is stopped when the next panel starts on that state directory', async () => {
    const stateDir = join(tempDir('admin-cli'), 'state');
    const otlp = await freePort();
    const first = startCli(stateDir, otlp);
    await first.ready();
    const orphan = Number(readFileSync(join(stateDir, 'collector.pid'), 'utf8'));
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(alive(orphan), 'the Collector outlives a killed panel');
    const second = startCli(stateDir, otlp);
    try {
      await second.ready();
      assert.match(second.output(), /one-time login token/, second.output());
      assert.ok(!alive(orphan), 'the leftover Collector still runs');
    } finally {
      if (alive(orphan)) process.kill(orphan, 'SIGKILL');
      assert.equal(await second.stop(), 0, second.output());
    }
  });
});

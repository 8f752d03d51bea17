// The Admin Panel's pure parts: health from metrics and logs, logins, the state directory's
// boundaries, the config diff, the OTLP/JSON a replay sends, destinations stored by an earlier
// version, and the ports picked for destinations' own receivers.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Authenticator, hashPassword, hashToken, parseRoles, parseTokensFile, parseUsersFile, SESSION_COOKIE } from '../../src/admin/auth.js';
import { parseDestination, type Destination } from '../../src/admin/destinations.js';
import { componentNames, renderCollectorConfig } from '../../src/admin/render.js';
import { inSiteCopy } from '../../src/attributes.js';
import { parse } from 'yaml';
import { lineDiff } from '../../src/admin/diff.js';
import { freePort } from '../../src/gateway/ports.js';
import { HealthMonitor, lastErrorOf, parseExporterMetrics } from '../../src/admin/health.js';
import { otlpRequest } from '../../src/admin/replay.js';
import { Archive, frameRanges } from '../../src/admin/archive.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { appendFrame, archiveFrame, idOf, record } from '../helpers/archive-fixture.js';
import { StateDirectory, type Revision } from '../../src/admin/state.js';
import { CollectorSupervisor } from '../../src/gateway/supervisor.js';
import { decodeMetricsPush, MetricsDecodeError, startMetricsReceiver, type MetricsPush } from '../../src/admin/metrics-push.js';
import { fromAnyValue, type OtlpAnyValue } from '../../src/integrity/otlp-json.js';
import { createServer } from 'node:http';

const metricsText = (sent: number, queued: number, failed = 0, run?: string) =>
  [
    ...(run ? [`target_info{service_instance_id="${run}",service_name="otelcol-audit",service_version="0.1.0"} 1`] : []),
    '# HELP otelcol_exporter_sent_log_records_total Number of log record successfully sent to destination.',
    `otelcol_exporter_sent_log_records_total{exporter="splunk_hec/s",otel_scope_name="x"} ${sent}`,
    `otelcol_exporter_send_failed_log_records_total{exporter="splunk_hec/s",otel_scope_name="x"} ${failed}`,
    `otelcol_exporter_queue_size{data_type="logs",exporter="splunk_hec/s",otel_scope_name="x"} ${queued}`,
    `otelcol_exporter_queue_capacity{data_type="logs",exporter="splunk_hec/s"} 5e+06`,
  ].join('\n');

describe('health', () => {
  test('reads sent, failed and queued per exporter from the Prometheus text', () => {
    const metrics = parseExporterMetrics(metricsText(12, 3, 1));
    assert.deepEqual(
      { sent: metrics.get('splunk_hec/s')!['sent_log_records'], failed: metrics.get('splunk_hec/s')!['send_failed_log_records'], queued: metrics.get('splunk_hec/s')!['queue_size'] },
      { sent: 12, failed: 1, queued: 3 },
    );
  });

  test('the last error is the newest line of that exporter with an error, from the Collector log', () => {
    const line = (at: string, id: string, error: string) =>
      `${at}\tinfo\tinternal/retry_sender.go:133\tExporting failed. Will retry the request after interval.\t{"otelcol.component.id": "${id}", "error": "${error}"}`;
    const log = [line('2026-11-26T10:00:00Z', 'splunk_hec/s', 'old'), line('2026-11-26T10:00:05Z', 'splunk_hec/s', 'dial tcp: connection refused'), line('2026-11-26T10:00:09Z', 'splunk_hec/other', 'not mine')].join('\n');
    assert.deepEqual(lastErrorOf(log, 'splunk_hec/s'), { at: '2026-11-26T10:00:05Z', message: 'Exporting failed. Will retry the request after interval.: dial tcp: connection refused' });
    assert.equal(lastErrorOf(log, 'kafka/k'), undefined);
  });

  test('status: healthy, delayed (queue not draining), failing (failures or errors with a queue), paused, disabled', async () => {
    let body = metricsText(0, 0);
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
      const monitor = new HealthMonitor(url, 60_000);
      const active = { enabled: true, paused: false };
      assert.equal(monitor.health('splunk_hec/s', active, '').status, 'unknown');
      await monitor.sample();
      body = metricsText(10, 0);
      await monitor.sample();
      assert.equal(monitor.health('splunk_hec/s', active, '').status, 'healthy');
      body = metricsText(10, 5);
      await monitor.sample();
      await monitor.sample();
      assert.equal(monitor.health('splunk_hec/s', active, '').status, 'delayed');
      const recentError = `${new Date().toISOString()}\tinfo\tx\tExporting failed.\t{"otelcol.component.id": "splunk_hec/s", "error": "refused"}`;
      assert.equal(monitor.health('splunk_hec/s', active, recentError).status, 'failing');
      body = metricsText(10, 0, 4);
      await monitor.sample();
      assert.equal(monitor.health('splunk_hec/s', active, '').status, 'failing');
      assert.equal(monitor.health('splunk_hec/s', { enabled: true, paused: true }, '').status, 'paused');
      assert.equal(monitor.health('splunk_hec/s', { enabled: false, paused: false }, '').status, 'disabled');
      const health = monitor.health('splunk_hec/s', active, '');
      assert.equal(health.history.length, 5);
      assert.deepEqual(health.history.map((p) => p.sent), [0, 10, 0, 0, 0]);
    } finally {
      server.close();
    }
  });
});

describe('health of a lossless exporter', () => {
  test('a refusing destination is failing, with since when and its own words; it recovers when the refusal ends', async () => {
    const since = 1_796_433_331.3;
    const lossless = (refusing: boolean) =>
      [
        `otelcol_exporter_sent_log_records_total{exporter="lossless/s",otel_scope_name="x"} 10`,
        `otelcol_exporter_queue_size{data_type="logs",exporter="lossless/s",otel_scope_name="x"} 0`,
        `otelcol_lossless_refusing{exporter="lossless/s",otel_scope_name="y"} ${refusing ? 1 : 0}`,
        `otelcol_lossless_refusing_since_seconds{exporter="lossless/s",otel_scope_name="y"} ${refusing ? since : 0}`,
        `otelcol_lossless_refusals_total{exporter="lossless/s",otel_scope_name="y"} 4`,
      ].join('\n');
    assert.equal(parseExporterMetrics(lossless(true)).get('lossless/s')!['lossless_refusing'], 1);
    let body = lossless(true);
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const monitor = new HealthMonitor(`http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`, 60_000);
      await monitor.sample();
      const log = `${new Date().toISOString()}\twarn\tlosslessexporter@v0.0.0/refusal.go:118\tDestination refuses the export; its events stay queued and are retried until it accepts them (nothing is dropped)\t{"otelcol.component.id": "lossless/s", "status": 403, "reason": "Invalid token (code 4)"}\n${new Date().toISOString()}\tinfo\tinternal/retry_sender.go:133\tExporting failed. Will retry the request after interval.\t{"otelcol.component.id": "lossless/s", "error": "splunk_hec refused the export (HTTP 403: Invalid token (code 4)); the events stay queued and are retried"}`;
      const refusing = monitor.health('lossless/s', { enabled: true, paused: false }, log);
      assert.equal(refusing.status, 'failing');
      assert.equal(refusing.refusingSince, new Date(since * 1000).toISOString());
      assert.match(refusing.lastError!.message, /HTTP 403: Invalid token \(code 4\)/);
      body = lossless(false);
      await monitor.sample();
      const recovered = monitor.health('lossless/s', { enabled: true, paused: false }, '');
      assert.equal(recovered.status, 'healthy');
      assert.equal(recovered.refusingSince, undefined);
    } finally {
      server.close();
    }
  });
});

describe('health counters', () => {
  test('stay cumulative across reloads and restarts of the Collector (whose counters start again from 0) and across restarts of the panel', async () => {
    let body = metricsText(0, 0);
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const totals = join(mkdtempSync(join(tmpdir(), 'otel-audit-health-')), 'health.json');
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
      const monitor = new HealthMonitor(url, 60_000, totals);
      const active = { enabled: true, paused: false };
      const sent = () => monitor.health('splunk_hec/s', active, '').sent;
      const push = (run: string, sentLogRecords: number) => monitor.pushed({ run, exporters: new Map([['splunk_hec/s', { sent_log_records: sentLogRecords, send_failed_log_records: 0 }]]) });
      // Each run of the Collector has its own service.instance.id (target_info); a reload starts a new run from 0.
      body = metricsText(500, 0, 2, 'run-a');
      await monitor.sample();
      // A pause: the run's last push, as it shut down, says 600 (never scraped).
      push('run-a', 600);
      body = metricsText(4, 0, 0, 'run-b');
      await monitor.sample();
      // A resume: scraped while the reload runs, up to the moment the old run's metrics go away.
      body = metricsText(250, 0, 0, 'run-b');
      await monitor.aroundRestart(async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        body = metricsText(300, 0, 0, 'run-b');
        await new Promise((resolve) => setTimeout(resolve, 50));
        body = metricsText(0, 0, 0, 'run-c');
      });
      body = metricsText(4, 0, 0, 'run-c');
      await monitor.sample();
      assert.equal(sent(), 904);
      assert.equal(monitor.health('splunk_hec/s', active, '').failed, 2);
      // Late news of a run that ended changes nothing.
      body = metricsText(300, 0, 0, 'run-b');
      await monitor.sample();
      push('run-b', 300);
      assert.equal(sent(), 904);
      // The Collector died on its own and was started again before the next scrape (no last push).
      body = metricsText(1, 0, 0, 'run-d');
      await monitor.sample();
      assert.equal(sent(), 905);
      assert.equal(await monitor.sentNow('splunk_hec/s'), 905);
      monitor.stop();
      // The panel restarts (and with it the Collector): it goes on from the totals it kept.
      body = metricsText(3, 0, 0, 'run-e');
      const next = new HealthMonitor(url, 60_000, totals);
      await next.sample();
      assert.equal(next.health('splunk_hec/s', active, '').sent, 908);
      assert.equal(next.health('splunk_hec/s', active, '').failed, 2);
      next.stop();
      // A Collector without target_info: a counter lower than the last reading means it started again.
      const plain = new HealthMonitor(url, 60_000);
      body = metricsText(10, 0);
      await plain.sample();
      body = metricsText(2, 0);
      await plain.sample();
      assert.equal(plain.health('splunk_hec/s', active, '').sent, 12);
    } finally {
      server.close();
    }
  });

  test('a totals file that is damaged is ignored (counting starts again), not fatal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-health-'));
    for (const text of ['', 'not json', '[]', '{"x": 1}', '{"splunk_hec/s": {"sent": "many"}}', '{"splunk_hec/s": {"sent": -1, "failed": 1e400}}']) {
      writeFileSync(join(dir, 'health.json'), text);
      const monitor = new HealthMonitor('http://127.0.0.1:1/metrics', 60_000, join(dir, 'health.json'));
      assert.equal(monitor.health('splunk_hec/s', { enabled: true, paused: false }, '').sent, 0, text);
    }
  });
});

describe("the Collector's metrics push", () => {
  // Captured from otelcol-audit v0.145.0 as it shut down: a debug exporter that sent 1 record and
  // an otlphttp exporter whose one attempt failed (test/admin/fixtures/collector-metrics-push.bin).
  const captured = readFileSync(join(import.meta.dirname, 'fixtures/collector-metrics-push.bin'));

  test('reads the run and the exporter counters from the protobuf the Collector sends', () => {
    const push = decodeMetricsPush(captured);
    assert.match(push.run!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(push.exporters.get('debug'), { send_failed_log_records: 0, sent_log_records: 1 });
    assert.deepEqual(push.exporters.get('otlphttp/down'), { send_failed_log_records: 1, sent_log_records: 0 });
  });

  test('random and mutated bytes: a decode error or a result, never another throw, a hang or a runaway allocation', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from([0x0a]), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from(Array(11).fill(0xff)), Buffer.from([0x0b])];
    for (let i = 0; i < 2000; i++) inputs.push(Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256))));
    for (let i = 0; i < 3000; i++) {
      let mutated = Buffer.from(captured);
      const kind = random();
      if (kind < 0.5) for (let flips = 1 + Math.floor(random() * 6); flips > 0; flips--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      else if (kind < 0.8) mutated = mutated.subarray(0, Math.floor(random() * mutated.length));
      else {
        const at = Math.floor(random() * mutated.length);
        mutated = Buffer.concat([mutated.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256))), mutated.subarray(at)]);
      }
      inputs.push(mutated);
    }
    const started = performance.now();
    let decoded = 0;
    for (const input of inputs) {
      try {
        const push = decodeMetricsPush(input);
        for (const values of push.exporters.values()) for (const value of Object.values(values)) assert.ok(Number.isFinite(value));
        decoded++;
      } catch (error) {
        assert.ok(error instanceof MetricsDecodeError, String(error));
      }
    }
    assert.ok(decoded > 100 && decoded < inputs.length, `${decoded} of ${inputs.length} decoded`);
    assert.ok(performance.now() - started < 10_000);
  });

  test('the receiver answers 200 to a push and hands it over, 400 to bytes that are not one, 404 elsewhere', async () => {
    const pushes: MetricsPush[] = [];
    const receiver = await startMetricsReceiver((push) => pushes.push(push));
    try {
      const post = (body: Buffer, path = '/v1/metrics') => fetch(new URL(path, receiver.endpoint), { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal((await post(captured)).status, 200);
      assert.equal(pushes.length, 1);
      assert.equal((await post(Buffer.from([0x0a, 0xff]))).status, 400);
      assert.equal((await post(captured, '/v1/logs')).status, 404);
      assert.equal(pushes.length, 1);
    } finally {
      await receiver.close();
    }
  });
});

describe('logins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-auth-'));
  const usersFile = join(dir, 'users');
  writeFileSync(usersFile, `# administrators\n${hashPassword('ada', 'correct horse battery', 'ada@example.com')}\n`);
  const auth = new Authenticator({ usersFile });
  after(() => auth.close());

  test('a user from the file logs in with the password hashed there (scrypt); anything else does not', async () => {
    assert.deepEqual((await auth.login('10.0.0.1', { user: 'ada', password: 'correct horse battery' }))?.principal, { id: 'ada', email: 'ada@example.com', admin: true, sites: [] });
    assert.equal(await auth.login('10.0.0.1', { user: 'ada', password: 'wrong' }), undefined);
    assert.equal(await auth.login('10.0.0.1', { user: 'bob', password: 'correct horse battery' }), undefined);
    assert.equal(await auth.login('10.0.0.1', { token: 'anything' }), undefined, 'no admin token configured');
  });

  test('a login hashes off the event loop: other work runs while scrypt does', async () => {
    let otherWorkRan = false;
    setImmediate(() => (otherWorkRan = true));
    const sessions = await Promise.all([1, 2, 3].map(() => auth.login('10.0.0.9', { user: 'ada', password: 'correct horse battery' })));
    assert.ok(sessions.every((s) => s?.principal.id === 'ada'));
    assert.ok(otherWorkRan, 'the event loop was blocked for the whole login');
  });

  test('a session is found only by its own cookie, and its CSRF token is checked', async () => {
    const session = (await auth.login('10.0.0.2', { user: 'ada', password: 'correct horse battery' }))!;
    assert.equal(auth.session(`other=1; ${SESSION_COOKIE}=${session.id}`)?.principal.id, 'ada');
    assert.equal(auth.session(`${SESSION_COOKIE}=${session.id}x`), undefined);
    assert.equal(auth.csrfValid(session, session.csrfToken), true);
    assert.equal(auth.csrfValid(session, undefined), false);
    assert.equal(auth.csrfValid(session, `${session.csrfToken}x`), false);
    assert.match(auth.cookie(session, true), /HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    assert.equal(auth.session(`${SESSION_COOKIE}=${session.id}`, Date.now() + 31 * 60_000), undefined, 'idle for more than 30 minutes');
    auth.logout(session);
    assert.equal(auth.session(`${SESSION_COOKIE}=${session.id}`), undefined);
  });

  test('five failures in a minute lock that address out, not another', async () => {
    for (let i = 0; i < 5; i++) await auth.login('10.0.0.3', { user: 'ada', password: 'nope' });
    assert.ok(auth.retryAfter('10.0.0.3') > 0);
    assert.equal(auth.retryAfter('10.0.0.4'), 0);
    assert.equal(auth.retryAfter('10.0.0.3', Date.now() + 61_000), 0);
  });

  test('roles: a line without them is an administrator (as before roles existed), owner=<sites> an owner of those sites', async () => {
    const file = join(dir, 'users-with-roles');
    writeFileSync(
      file,
      [hashPassword('root', 'correct horse battery'), hashPassword('olga', 'correct horse battery', 'olga@example.com', { admin: false, sites: ['acme', 'globex'] }), hashPassword('oscar', 'correct horse battery', '', { admin: false, sites: ['acme'] })].join('\n'),
    );
    const roles = new Authenticator({ usersFile: file });
    try {
      const as = async (user: string) => (await roles.login('10.0.2.1', { user, password: 'correct horse battery' }))!.principal;
      assert.deepEqual(await as('root'), { id: 'root', email: '', admin: true, sites: [] });
      assert.deepEqual(await as('olga'), { id: 'olga', email: 'olga@example.com', admin: false, sites: ['acme', 'globex'] });
      assert.deepEqual(await as('oscar'), { id: 'oscar', email: '', admin: false, sites: ['acme'] });
    } finally {
      roles.close();
    }
    assert.match(readFileSync(file, 'utf8'), /^oscar:scrypt:[^:]+:[^:]+::owner=acme$/m);
    assert.throws(() => parseRoles('owner='), /roles: expected admin or owner=/);
    assert.throws(() => parseRoles('owner=a b'), /roles/);
    assert.throws(() => parseRoles('superuser'), /roles/);
  });

  test("a site's API token: Bearer <id>.<secret>, for its site only; a wrong one counts as a failed login", async () => {
    const file = join(dir, 'tokens');
    const secret = 'f'.repeat(40);
    writeFileSync(file, `# site tokens\n${hashToken('acme_backend', 'acme', secret)}\n`);
    const tokens = new Authenticator({ tokensFile: file });
    try {
      assert.deepEqual(await tokens.bearer('10.0.3.1', `Bearer acme_backend.${secret}`), { id: 'token:acme_backend', email: '', admin: false, sites: ['acme'] });
      // Known for a while by its SHA-256: the next call costs no scrypt, and counts no failure.
      assert.deepEqual(await tokens.bearer('10.0.3.1', `Bearer acme_backend.${secret}`), { id: 'token:acme_backend', email: '', admin: false, sites: ['acme'] });
      for (const wrong of [`Bearer acme_backend.${secret}x`, `Bearer other.${secret}`, `Basic ${secret}`, 'Bearer ', `Bearer acme_backend ${secret}`]) assert.equal(await tokens.bearer('10.0.3.2', wrong), undefined, wrong);
      assert.ok(tokens.retryAfter('10.0.3.2') > 0, 'five wrong tokens lock the address out');
      assert.equal(tokens.retryAfter('10.0.3.1'), 0);
      assert.equal(await tokens.login('10.0.3.3', { user: 'acme_backend', password: secret }), undefined, 'a token is no password');
    } finally {
      tokens.close();
    }
  });

  test('users and tokens files: random and damaged lines are an error naming the line, never another throw or a silent key', () => {
    const good = `${hashPassword('ada', 'correct horse battery', 'ada@example.com', { admin: false, sites: ['acme'] })}`;
    const token = hashToken('t1', 'acme', 'x'.repeat(40));
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'ab:=,.# \t\n01AZ+/-_@';
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const base = random() < 0.5 ? good : token;
      const chars = [...base];
      const kind = random();
      if (kind < 0.4) for (let n = 1 + Math.floor(random() * 3); n > 0; n--) chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)]!;
      else if (kind < 0.7) chars.length = Math.floor(random() * chars.length);
      else chars.splice(0, chars.length, ...Array.from({ length: Math.floor(random() * 60) }, () => alphabet[Math.floor(random() * alphabet.length)]!));
      const text = chars.join('');
      for (const parse of [parseUsersFile, parseTokensFile]) {
        try {
          const parsed = parse(text);
          for (const entry of parsed.values()) {
            assert.equal(entry.salt.length, 16);
            assert.equal(entry.hash.length, 32);
          }
          accepted++;
        } catch (error) {
          assert.match((error as Error).message, /^(usersFile|tokensFile) line \d+: /, text);
        }
      }
    }
    assert.ok(accepted > 0);
    assert.equal(parseUsersFile(`# users\n\n${good}\n`).size, 1);
    assert.equal(parseTokensFile(`${token}\n`).get('t1')?.site, 'acme');
    assert.throws(() => parseTokensFile(`${token}\n${token}\n`), /line 2: token id t1 is used twice/);
  });

  test('expired sessions and old failure records are swept on a timer that holds no process open', async () => {
    let now = Date.now();
    const swept = new Authenticator({ usersFile, now: () => now, sweepIntervalMillis: 20 });
    try {
      await swept.login('10.0.1.1', { user: 'ada', password: 'correct horse battery' });
      await swept.login('10.0.1.2', { user: 'ada', password: 'correct horse battery' });
      await swept.login('10.0.1.3', { user: 'ada', password: 'wrong' });
      await swept.login('10.0.1.4', { user: 'nobody', password: 'wrong' });
      assert.deepEqual(swept.held(), { sessions: 2, failedClients: 2 });
      // Nobody comes back: without a sweep these would stay in memory for good.
      now += 9 * 3_600_000;
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(swept.held(), { sessions: 0, failedClients: 0 });
      assert.equal(swept.sweepHoldsProcessOpen(), false);
    } finally {
      swept.close();
    }
  });
});

describe('state directory', () => {
  test('refuses any path outside itself', () => {
    const state = new StateDirectory(mkdtempSync(join(tmpdir(), 'otel-audit-state-')));
    assert.throws(() => state.path('..', 'elsewhere'), /outside the state directory/);
    assert.throws(() => state.secretFile('../../etc/passwd'), /outside the state directory/);
    assert.throws(() => state.writeAtomic('/tmp/otel-audit-escape', 'x'), /outside the state directory/);
    assert.equal(state.path('secrets', 'a'), join(state.root, 'secrets', 'a'));
  });
});

describe('revisions', () => {
  const revision = (n: number): Revision => ({ revision: n, author: 'a', at: new Date().toISOString(), change: `change ${n}`, destinations: [], config: `# ${n}`, status: 'applied' });

  test('are read from disk once, not at every request; a save is seen at once', () => {
    const root = mkdtempSync(join(tmpdir(), 'otel-audit-state-'));
    const first = new StateDirectory(root);
    for (let n = 1; n <= 3; n++) first.saveRevision(revision(n));
    const state = new StateDirectory(root);
    assert.deepEqual(state.revisions().map((r) => r.revision), [1, 2, 3]);
    // Read once: a file that goes away behind the panel's back is still served from memory.
    rmSync(join(state.revisionsDir, '2.json'));
    assert.deepEqual(state.revisions().map((r) => r.revision), [1, 2, 3]);
    assert.equal(state.revision(2)?.change, 'change 2');
    state.saveRevision(revision(4));
    assert.equal(state.lastGood()?.revision, 4);
    assert.equal(state.revision(4)?.change, 'change 4');
    assert.deepEqual(new StateDirectory(root).revisions().map((r) => r.revision), [1, 3, 4], 'a new instance reads the disk');
  });
});

describe('config diff', () => {
  test('shows added and removed lines with context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j'].join('\n');
    assert.equal(lineDiff(before, after, 1), ['  d', '- e', '+ E', '  f', '@@', '  i', '+ j'].join('\n'));
    assert.equal(lineDiff('same', 'same'), '');
  });
});

describe('replay request', () => {
  test('carries each record as it was read: body, attributes (integers stay integers), resource, event name, time', () => {
    const record = {
      body: { id: 'e1', details: { n: 3, ratio: 0.5, tags: ['a'], nested: { ok: true } } },
      attributes: { 'audit.seq': 7, 'audit.hash': 'h', 'audit.action': 'document.open' },
      resource: { 'service.name': 'app' },
      eventName: 'document.open',
      timeUnixNano: '1764150000000000000',
      source: 'x',
    };
    const request = otlpRequest([record]) as { resourceLogs: { resource: { attributes: { key: string; value: OtlpAnyValue }[] }; scopeLogs: { logRecords: { body: OtlpAnyValue; attributes: { key: string; value: OtlpAnyValue }[]; eventName: string; timeUnixNano: string }[] }[] }[] };
    const sent = request.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    assert.deepEqual(fromAnyValue(sent.body), record.body);
    assert.deepEqual(sent.attributes.find((a) => a.key === 'audit.seq')!.value, { intValue: '7' });
    assert.equal(sent.eventName, 'document.open');
    assert.equal(sent.timeUnixNano, record.timeUnixNano);
    assert.deepEqual(request.resourceLogs[0]!.resource.attributes, [{ key: 'service.name', value: { stringValue: 'app' } }]);
  });

  test('sends an archived log record on as the archive has it: severity, observed time and trace link too (read from a file exporter line)', () => {
    const logRecord = {
      timeUnixNano: '1764150000000000000',
      observedTimeUnixNano: '1764150000123000000',
      severityNumber: 13,
      severityText: 'WARN',
      body: { kvlistValue: { values: [{ key: 'id', value: { stringValue: 'e1' } }] } },
      attributes: [{ key: 'audit.invalid', value: { boolValue: true } }],
      flags: 1,
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      eventName: 'document.open',
    };
    const line = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'app' } }] }, scopeLogs: [{ scope: { name: 'otel-audit' }, logRecords: [logRecord] }] }] };
    const file = join(mkdtempSync(join(tmpdir(), 'otel-audit-replay-')), 'audit.jsonl');
    writeFileSync(file, `${JSON.stringify(line)}\n`);
    const request = otlpRequest(readTrail(file)) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
    assert.deepEqual(request.resourceLogs[0]!.scopeLogs[0]!.logRecords[0], logRecord);
  });
});

describe('the archive', () => {
  const collect = async (batches: AsyncIterable<TrailRecord[]>) => {
    const out: TrailRecord[] = [];
    for await (const batch of batches) out.push(...batch);
    return out;
  };

  test('its files: the older name (audit.jsonl) and its backups first, then audit.zst and its backups, each oldest first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-archive-'));
    for (const name of ['audit.jsonl', 'audit-2026-01-01T00-00-00.000.jsonl', 'audit.zst', 'audit-2026-02-01T00-00-00.000.zst', 'audit-2026-01-15T00-00-00.000.zst', 'other.zst']) writeFileSync(join(dir, name), '');
    const archive = Archive.ofStateDirectory(dirname(dir), join(dir, 'audit.zst'));
    assert.deepEqual(archive.files().map((f) => basename(f)), ['audit-2026-01-15T00-00-00.000.zst', 'audit-2026-02-01T00-00-00.000.zst', 'audit.zst'], 'a given file has no older name');
    const migrated = new Archive(join(dir, 'audit.zst'), join(dir, 'audit.jsonl'));
    assert.deepEqual(migrated.files().map((f) => basename(f)), ['audit-2026-01-01T00-00-00.000.jsonl', 'audit.jsonl', 'audit-2026-01-15T00-00-00.000.zst', 'audit-2026-02-01T00-00-00.000.zst', 'audit.zst']);
    const state = mkdtempSync(join(tmpdir(), 'otel-audit-state-'));
    assert.equal(Archive.ofStateDirectory(state).path, join(state, 'archive', 'audit.zst'));
    assert.equal(Archive.ofStateDirectory(state).legacyPath, join(state, 'archive', 'audit.jsonl'));
  });

  test('by event time: the records of the window, from every file that can hold one; files last written long before are not read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-archive-'));
    const now = Date.now();
    appendFrame(join(dir, 'audit-2026-01-01T00-00-00.000.zst'), [record(now - 90_000, 0, 'old')]);
    utimesSync(join(dir, 'audit-2026-01-01T00-00-00.000.zst'), (now - 3_600_000) / 1000, (now - 3_600_000) / 1000);
    appendFrame(join(dir, 'audit-2026-01-02T00-00-00.000.zst'), [record(now - 60_000, 0, 'recent-backup')]);
    appendFrame(join(dir, 'audit.jsonl'), [record(now - 30_000, 0, 'legacy')]);
    appendFrame(join(dir, 'audit.zst'), [record(now, 0, 'current'), record(now + 60_000, 0, 'later')]);
    const archive = new Archive(join(dir, 'audit.zst'), join(dir, 'audit.jsonl'));
    const ids = async (since: number) => (await collect(archive.inWindow(since, now + 1, 2))).map(idOf);
    assert.deepEqual(await ids(now - 120_000), ['legacy', 'recent-backup', 'current']);
    assert.deepEqual(await ids(now - 7_200_000), ['legacy', 'old', 'recent-backup', 'current']);
  });

  test('between two positions: what was archived after the first and by the second, whatever its event time, across a rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-archive-'));
    const archive = new Archive(join(dir, 'audit.zst'));
    const empty = archive.position();
    assert.deepEqual(empty, { file: 0, born: 0, bytes: 0 });
    const long = Date.now() - 86_400_000;
    appendFrame(archive.path, [record(Date.now(), 0, 'before-1'), record(Date.now(), 0, 'before-2')]);
    const paused = archive.position();
    // A client's backlog: events stamped a day ago reach the gateway during the pause.
    appendFrame(archive.path, [record(long, 0, 'backlog-1'), record(long, 0, 'backlog-2')]);
    appendFrame(archive.path, [record(Date.now(), 0, 'gap-1')]);
    // Rotated: the file is renamed (its inode goes with it), a new one is started.
    renameSync(archive.path, join(dir, 'audit-2026-01-01T00-00-00.000.zst'));
    appendFrame(archive.path, [record(Date.now(), 0, 'gap-2')]);
    const resumed = archive.position();
    appendFrame(archive.path, [record(Date.now(), 0, 'after')]);
    assert.deepEqual((await collect(archive.between(paused, resumed, 2, dir))).map(idOf), ['backlog-1', 'backlog-2', 'gap-1', 'gap-2']);
    assert.deepEqual((await collect(archive.between(empty, resumed, 100, dir))).map(idOf), ['before-1', 'before-2', 'backlog-1', 'backlog-2', 'gap-1', 'gap-2'], 'from before the first file');
    assert.deepEqual(await collect(archive.between(resumed, resumed, 100, dir)), []);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('replay-')), [], 'scratch files are removed');
  });

  test('between two positions: a frame being written at either position is included (an identical copy at worst, never a gap)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-archive-'));
    const archive = new Archive(join(dir, 'audit.zst'));
    appendFrame(archive.path, [record(Date.now(), 0, 'first')]);
    const frame = archiveFrame([record(Date.now(), 0, 'edge')]);
    appendFileSync(archive.path, frame.subarray(0, 10));
    const paused = archive.position();
    appendFileSync(archive.path, frame.subarray(10));
    appendFrame(archive.path, [record(Date.now(), 0, 'middle')]);
    const last = archiveFrame([record(Date.now(), 0, 'resume-edge')]);
    appendFileSync(archive.path, last.subarray(0, 7));
    const resumed = archive.position();
    appendFileSync(archive.path, last.subarray(7));
    assert.deepEqual((await collect(archive.between(paused, resumed, 100, dir))).map(idOf), ['edge', 'middle', 'resume-edge']);
  });

  test('a file whose start of the window was removed (retention) is an error that says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-archive-'));
    const archive = new Archive(join(dir, 'audit.zst'));
    appendFrame(archive.path, [record(Date.now())]);
    const paused = archive.position();
    rmSync(archive.path);
    appendFrame(archive.path, [record(Date.now())]);
    await assert.rejects(collect(archive.between(paused, archive.position(), 100, dir)), /gone .*replay that window by time/);
  });

  test('frame boundaries from the lengths alone: random and mutated files never throw, end, and stay inside the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-frames-'));
    const valid = Buffer.concat([archiveFrame([record(Date.now())]), archiveFrame([record(Date.now(), 5000)]), archiveFrame([record(Date.now())])]);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const inputs: Buffer[] = [Buffer.alloc(0), Buffer.alloc(3), Buffer.from([0xff, 0xff, 0xff, 0xff]), valid, valid.subarray(0, valid.length - 1)];
    for (let i = 0; i < 300; i++) inputs.push(Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))));
    for (let i = 0; i < 700; i++) {
      const mutated = Buffer.from(valid);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      inputs.push(random() < 0.3 ? mutated.subarray(0, Math.floor(random() * mutated.length)) : mutated);
    }
    const file = join(dir, 'input');
    for (const input of inputs) {
      writeFileSync(file, input);
      const fd = openSync(file, 'r');
      try {
        let expectedStart = 0;
        for (const frame of frameRanges(fd, input.length)) {
          assert.equal(frame.start, expectedStart);
          assert.ok(frame.end > frame.start + 3 && frame.end <= input.length);
          expectedStart = frame.end;
        }
      } finally {
        closeSync(fd);
      }
    }
    const fd = openSync(file, 'r');
    writeFileSync(file, valid);
    assert.equal([...frameRanges(fd, valid.length)].length, 3);
    closeSync(fd);
  });
});

describe('a destination stored by an earlier version', () => {
  test('an Elasticsearch destination with the index it used to take can be sent back as GET returned it: the index is dropped, the namespace is the default', () => {
    const stored = {
      id: 'es', name: 'ES', type: 'elasticsearch', enabled: true, paused: false, filter: { include: [], exclude: [] }, pii: 'none', format: 'canonical',
      directPort: 14000, url: 'https://es.example.com', index: 'audit-events', allowInsecure: false, secrets: { apiKey: true },
    } as unknown as Destination;
    const context = { path: 'destination', previous: stored, formats: ['canonical'], directPort: 15000 };
    const { destination } = parseDestination({ ...stored, name: 'Renamed' }, context);
    assert.equal(destination.name, 'Renamed');
    assert.ok(!('index' in destination));
    assert.equal(destination.type === 'elasticsearch' && destination.namespace, 'default');
    // A new value for it is still refused, with what to set instead.
    assert.throws(() => parseDestination({ ...stored, index: 'other' }, context), /destination\.index: is not a setting of a elasticsearch destination .*set namespace/);
  });
});

describe("a destination's queue generation", () => {
  test('a new destination gets one (in its exporter name, hence its queue), an update keeps it, one stored by an earlier version keeps its old name', () => {
    const context = { path: 'destination', formats: ['canonical'], directPort: 15000 };
    const input = { id: 'siem', name: 'SIEM', type: 'kafka', brokers: ['k:9092'] };
    const first = parseDestination(input, context).destination;
    const again = parseDestination(input, context).destination;
    assert.match(first.generation!, /^[0-9a-f]{6}$/);
    assert.notEqual(componentNames(first).exporter, componentNames(again).exporter, 'created again under the same id: the same queue');
    assert.equal(componentNames(first).exporter, `lossless/siem_${first.generation}`);
    assert.equal(parseDestination({ name: 'Renamed' }, { ...context, previous: first }).destination.generation, first.generation);
    const { generation: _generation, ...stored } = first;
    const updated = parseDestination({ name: 'Renamed' }, { ...context, previous: stored as Destination }).destination;
    assert.equal(componentNames(updated).exporter, 'lossless/siem');
  });
});

describe('rendering', () => {
  const base = readFileSync(join(import.meta.dirname, '../../collector-config/gateway.yaml'), 'utf8');
  const kafka = { id: 'siem', name: 'SIEM', type: 'kafka', brokers: ['k:9092'], filter: { include: ['document.*'] }, pii: 'hash' };
  const render = (baseText: string, input: Record<string, unknown>) => {
    const { destination } = parseDestination(input, { path: 'destination', formats: ['canonical'], directPort: 15000 });
    return parse(renderCollectorConfig({ base: baseText, destinations: [destination], formats: new Map(), secretFile: (id, field) => `/secrets/${id}.${field}` })) as { receivers: Record<string, unknown>; processors: Record<string, { logs?: { log_record: string[] } }>; service: { pipelines: Record<string, { receivers: string[]; processors: string[] }> } };
  };

  test("a site destination's pipeline starts with its site filter: the site's site-scoped events only, test events through", () => {
    const config = render(base, { ...kafka, site: 'acme' });
    assert.deepEqual(config.service.pipelines['logs/siem']!.processors, ['filter/site_siem', 'memory_limiter', 'filter/siem', 'transform/pii_siem']);
    assert.deepEqual(config.processors['filter/site_siem']!.logs!.log_record, ['attributes["otel_audit.test"] != true and (attributes["audit.site.id"] == nil or attributes["audit.site.id"] != "acme" or attributes["audit.site.seq"] == nil)']);
    assert.equal(inSiteCopy({ 'audit.site.id': 'acme', 'audit.site.seq': 3 }, 'acme'), true);
    assert.equal(inSiteCopy({ 'audit.site.id': 'acme' }, 'acme'), false, 'an installation-only action with a site');
    assert.equal(inSiteCopy({ 'audit.site.id': 'globex', 'audit.site.seq': 3 }, 'acme'), false);
    assert.deepEqual(render(base, kafka).service.pipelines['logs/siem']!.processors, ['memory_limiter', 'filter/siem', 'transform/pii_siem'], 'an installation destination has none');
    assert.throws(() => render(base, { ...kafka, site: 'acme"; drop' }), /destination\.site: must be a site id/);
  });

  test("events come in through the receivers of the base's archive pipeline (a shard of sites could read Kafka there)", () => {
    const shard = base.replace(/logs\/archive:\n\s+receivers: \[otlp\]/, (match) => match.replace('[otlp]', '[kafka/sites]')).replace('receivers:\n  otlp:', 'receivers:\n  kafka/sites:\n    brokers: [k:9092]\n  otlp:');
    const config = render(shard, { ...kafka, site: 'acme' });
    assert.deepEqual(Object.keys(config.receivers).sort(), ['kafka/sites', 'otlp/direct_siem']);
    assert.deepEqual(config.service.pipelines['logs/siem']!.receivers, ['kafka/sites', 'otlp/direct_siem']);
    assert.deepEqual(config.service.pipelines['logs/archive']!.receivers, ['kafka/sites']);
  });
});

describe("a destination's own receiver port", () => {
  // The OS picks among some 14,000 ports: 2,000 picks without memory would repeat about 140 of them.
  test('one process never gets the same port twice, though each is free again once picked', async () => {
    const picked: number[] = [];
    for (let i = 0; i < 2000; i++) picked.push(await freePort());
    assert.equal(new Set(picked).size, picked.length);
  });

  test('nor a port of a stored destination whose receiver is not running (disabled)', async () => {
    // Half of the ports the OS may pick: without the check, 50 picks would all miss them 1 time in 2^50.
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    const stored = Array.from({ length: high - low + 1 }, (_, i) => low + i).filter((port) => port % 4 < 2);
    const taken = new Set(stored);
    for (let i = 0; i < 50; i++) assert.ok(!taken.has(await freePort(stored)));
  });
});

describe('the Collector supervisor', () => {
  // A stand-in for otelcol-audit that writes its ready line in two pieces, 200 ms apart, at start
  // and at each SIGHUP (a pipe delivers what one write() gave: a line can arrive in two reads).
  test('a ready line split across two reads counts: the start and a reload finish instead of timing out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-supervisor-'));
    const binary = join(dir, 'collector');
    writeFileSync(
      binary,
      `#!${process.execPath}
const [host, port] = process.env.AUDIT_HEALTH_ENDPOINT.split(':');
const ready = () => {
  process.stdout.write('2026-01-01T00:00:00.000Z\\tinfo\\tservice@v0.145.0/service.go:1\\tEverything is ready. Begin');
  setTimeout(() => process.stdout.write(' running and processing data.\\n'), 200);
};
require('node:http').createServer((_q, r) => r.end('ok')).listen(Number(port), host, ready);
process.on('SIGHUP', ready);
`,
    );
    chmodSync(binary, 0o755);
    const healthEndpoint = `127.0.0.1:${await freePort()}`;
    const supervisor = new CollectorSupervisor({
      binary,
      configPath: join(dir, 'collector.yaml'),
      env: { AUDIT_HEALTH_ENDPOINT: healthEndpoint },
      healthEndpoint,
      pidFile: join(dir, 'collector.pid'),
      readyTimeoutMillis: 5000,
      reloadTimeoutMillis: 3000,
    });
    try {
      await supervisor.start();
      const pid = supervisor.pid;
      assert.equal(await supervisor.reload(), 'reload');
      assert.equal(supervisor.pid, pid, 'the Collector was killed and started again');
    } finally {
      await supervisor.stop();
    }
  });
});

// The Admin Panel's JSON API against a real otelcol-audit under its supervision: CRUD for every
// destination type, errors naming the field, secrets never returned, auth and CSRF on every
// route, 409 on a stale revision, and each change in the audit trail with the administrator as actor.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { tempDir, waitFor } from '../helpers/processes.js';
import { appendFrame, record } from '../helpers/archive-fixture.js';
import { archived, login, request, startTestAdmin, type Client } from '../helpers/admin.js';

const SECRET = 'hec-token-must-never-come-back-7f3a';
const samples: Record<string, Record<string, unknown>> = {
  splunk_hec: { type: 'splunk_hec', url: 'https://127.0.0.1:1/services/collector', token: SECRET, index: 'main' },
  syslog: { type: 'syslog', host: '127.0.0.1', port: 1, tls: false },
  otlp_http: { type: 'otlp_http', endpoint: 'https://127.0.0.1:1/v1/logs', headers: { Authorization: `Bearer ${SECRET}` } },
  kafka: { type: 'kafka', brokers: ['127.0.0.1:1'], topic: 'audit' },
  elasticsearch: { type: 'elasticsearch', url: 'https://127.0.0.1:1', apiKey: SECRET, namespace: 'audit_prod' },
};

describe('admin API', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let client: Client;
  before(async () => {
    admin = await startTestAdmin();
    client = await login(admin.url, { token: admin.token });
  });
  after(async () => {
    await admin?.close();
  });

  test('every route of the OpenAPI document refuses a request without a session', async () => {
    const doc = (await client.call('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations).filter((m) => ['get', 'post', 'put', 'delete'].includes(m))) {
        if (path === '/api/login') continue;
        const response = await request(admin.url, method.toUpperCase(), path.replace('{id}', 'splunk').replace('{n}', '1'), method === 'get' ? undefined : {});
        assert.equal(response.status, 401, `${method} ${path}`);
        checked++;
      }
    }
    assert.ok(checked >= 14, `${checked} routes checked`);
    const forged = await request(admin.url, 'GET', '/api/destinations', undefined, { cookie: 'otel_audit_admin=forged' });
    assert.equal(forged.status, 401);
  });

  test('the session cookie is HttpOnly and SameSite=Strict; a wrong token is refused', async () => {
    const response = await request(admin.url, 'POST', '/api/login', { token: admin.token });
    assert.match(response.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict; Path=\//);
    assert.equal((await request(admin.url, 'POST', '/api/login', { token: 'wrong' })).status, 401);
  });

  test('a change without the CSRF token, or with a wrong one, or from another origin, is refused', async () => {
    const body = { id: 'csrf', name: 'CSRF', ...samples['kafka'] };
    const revision = String(await client.revision());
    const none = await client.call('POST', '/api/destinations', body, { 'if-match': revision });
    assert.equal(none.status, 403);
    assert.equal(none.body['error'].field, 'X-CSRF-Token');
    assert.equal((await client.call('POST', '/api/destinations', body, { 'if-match': revision, 'x-csrf-token': 'nope' })).status, 403);
    const crossSite = await client.call('POST', '/api/destinations', body, { 'if-match': revision, 'x-csrf-token': client.csrf, origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    assert.equal((await client.call('GET', '/api/destinations')).body['destinations'].length, 0);
  });

  test('a request whose Host is not a loopback name (DNS rebinding) is refused before anything else', async () => {
    const port = new URL(admin.url).port;
    const withHost = (host: string, method: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host, 'content-type': 'application/json' } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        outgoing.on('error', reject);
        outgoing.end(method === 'POST' ? JSON.stringify({ token: admin.token }) : undefined);
      });
    for (const [method, path] of [['GET', '/'], ['GET', '/api/openapi.json'], ['POST', '/api/login']] as const) {
      const rebound = await withHost(`evil.example:${port}`, method, path);
      assert.equal(rebound.status, 421, `${method} ${path}`);
      assert.equal(JSON.parse(rebound.body).error.field, 'Host');
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) assert.equal((await withHost(host, 'GET', '/')).status, 200, host);
  });

  test('a malformed percent-encoding in the path answers 400 naming the path, not 500', async () => {
    for (const [method, path] of [['GET', '/api/destinations/%E0%A4%A'], ['POST', '/api/destinations/%E0%A4%A/pause'], ['GET', '/api/revisions/%ZZ']] as const) {
      const response = method === 'GET' ? await client.call(method, path) : await client.change(method, path);
      assert.equal(response.status, 400, `${method} ${path}: ${response.text}`);
      assert.equal(response.body['error'].field, '(path)');
    }
  });

  for (const [type, settings] of Object.entries(samples)) {
    test(`${type}: create, read (no secret comes back), update, delete; each one applied revision`, async () => {
      const id = `d_${type}`;
      const created = await client.change('POST', '/api/destinations', { id, name: `The ${type}`, ...settings, filter: { include: ['user.*'], exclude: ['*.delete'] }, pii: 'hash' });
      assert.equal(created.status, 201, created.text);
      assert.ok(!created.text.includes(SECRET));
      const read = await client.call('GET', `/api/destinations/${id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body['destination'].type, type);
      assert.ok(!read.text.includes(SECRET), 'a secret was returned');
      assert.ok(!(await client.call('GET', '/api/destinations')).text.includes(SECRET));
      const revisionView = await client.call('GET', `/api/revisions/${created.body['revision']}`);
      assert.ok(!revisionView.text.includes(SECRET), 'a secret is in the revision view');
      assert.match(revisionView.body['diff'], new RegExp(`\\+ .*/${id}`));
      for (const secret of Object.keys(read.body['destination'].secrets)) assert.equal(read.body['destination'].secrets[secret], true);

      // What GET returned can be sent back as it is (health, secrets and directPort are ignored).
      const updated = await client.change('PUT', `/api/destinations/${id}`, { ...read.body['destination'], name: `Renamed ${type}` });
      assert.equal(updated.status, 200, updated.text);
      assert.equal((await client.call('GET', `/api/destinations/${id}`)).body['destination'].name, `Renamed ${type}`);
      const config = readFileSync(admin.control.state.configPath, 'utf8');
      assert.ok(!config.includes(SECRET), 'a secret is in the Collector config');
      assert.ok(config.includes(`logs/${id}:`));
      // Elastic's OTLP intake routes by data_stream.* attributes: the namespace is set on each record (the Collector validated the statement).
      if (type === 'elasticsearch') assert.ok(config.includes(`set(attributes["data_stream.namespace"], "audit_prod")`), 'the namespace is set');

      const deleted = await client.change('DELETE', `/api/destinations/${id}`);
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal(typeof deleted.body['abandonedQueuedEvents'], 'number');
      assert.equal((await client.call('GET', `/api/destinations/${id}`)).status, 404);
    });
  }

  test('secrets are files of mode 0600 in a 0700 folder, referenced from the config as ${file:...}', async () => {
    const created = await client.change('POST', '/api/destinations', { id: 'secretive', name: 'Secretive', ...samples['splunk_hec'] });
    assert.equal(created.status, 201, created.text);
    const state = admin.control.state;
    assert.equal(statSync(state.secretsDir).mode & 0o777, 0o700);
    const files = readdirSync(state.secretsDir);
    assert.ok(files.length > 0);
    for (const file of files) assert.equal(statSync(join(state.secretsDir, file)).mode & 0o777, 0o600, file);
    const tokenFile = files.find((f) => f.startsWith('secretive.token.'))!;
    assert.equal(readFileSync(join(state.secretsDir, tokenFile), "utf8"), SECRET);
    assert.match(readFileSync(state.configPath, 'utf8'), new RegExp(`token: \\$\\{file:${join(state.secretsDir, tokenFile)}\\}`));
    // An update without the token keeps it.
    assert.equal((await client.change('PUT', '/api/destinations/secretive', { index: 'other' })).status, 200);
    assert.match(readFileSync(state.configPath, 'utf8'), new RegExp(tokenFile));
    assert.equal((await client.change('DELETE', '/api/destinations/secretive')).status, 200);
  });

  test('every error names the field', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ id: 'x', name: 'X', type: 'splunk_hec', url: 'http://splunk.example.com:8088', token: 't' }, 'destination.url', /must be https unless allowInsecure/],
      [{ id: 'x', name: 'X', type: 'splunk_hec', url: 'https://splunk.example.com:8088' }, 'destination.token', /is required/],
      [{ id: 'x', name: 'X', type: 'syslog', host: 'localhost', port: 70000 }, 'destination.port', /integer from 1 to 65535/],
      [{ id: 'x', name: 'X', type: 'kafka', brokers: ['nohostport'] }, 'destination.brokers[0]', /host:port/],
      [{ id: 'X Y', name: 'X', type: 'kafka', brokers: ['k:9092'] }, 'destination.id', /lower case/],
      [{ id: 'x', name: 'X', type: 'kafka', brokers: ['k:9092'], format: 'nope' }, 'destination.format', /must be one of canonical/],
      [{ id: 'x', name: 'X', type: 'kafka', brokers: ['k:9092'], filter: { include: ['user.*', 'bad pattern'] } }, 'destination.filter.include[1]', /action pattern/],
      [{ id: 'x', name: 'X', type: 'kafka', brokers: ['k:9092'], url: 'https://a' }, 'destination.url', /is not a setting of a kafka destination/],
      [{ id: 'x', name: 'X', type: 'pigeon' }, 'destination.type', /must be one of splunk_hec/],
      [{ id: 'x', name: 'X', type: 'elasticsearch', url: 'https://es.example.com', index: 'audit' }, 'destination.index', /is not a setting of a elasticsearch destination \(Elastic's OTLP intake .*: set namespace\)/],
      [{ id: 'x', name: 'X', type: 'elasticsearch', url: 'https://es.example.com', namespace: 'audit-prod' }, 'destination.namespace', /data stream namespace/],
      [{ id: 'x', name: 'X', type: 'otlp_http', endpoint: 'https://a/v1/logs', headers: { 'bad header': 'v' } }, 'destination.headers.bad header', /not a valid header name/],
      // The Collector expands ${file:...} and ${env:...}: a setting must not make it send its secrets elsewhere.
      [{ id: 'x', name: 'X', type: 'splunk_hec', url: 'https://attacker.example/?a=${file:/etc/otel/secret}', token: 't' }, 'destination.url', /must not contain \$/],
      [{ id: 'x', name: 'X', type: 'splunk_hec', url: 'https://splunk.example.com:8088', token: '${env:SPLUNK_HEC_TOKEN}' }, 'destination.token', /must not contain \$\{/],
      [{ id: 'x', name: 'X', type: 'otlp_http', endpoint: 'https://a/v1/logs', headers: { Authorization: 'Bearer ${env:X}' } }, 'destination.headers.Authorization', /must not contain \$\{/],
    ];
    for (const [body, field, message] of cases) {
      const response = await client.change('POST', '/api/destinations', body);
      assert.equal(response.status, 400, `${field}: ${response.text}`);
      assert.equal(response.body['error'].field, field);
      assert.match(response.body['error'].message, new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
      assert.match(response.body['error'].message, message);
    }
    assert.equal((await client.change('POST', '/api/destinations', { id: 'p', name: 'P', ...samples['kafka'] })).status, 201);
    const pausedByPut = await client.change('PUT', '/api/destinations/p', { paused: true });
    assert.equal(pausedByPut.status, 400);
    assert.equal(pausedByPut.body['error'].field, 'destination.paused');
    assert.equal((await client.change('DELETE', '/api/destinations/p')).status, 200);
    const notJson = await client.call('POST', '/api/destinations', undefined, { 'x-csrf-token': client.csrf, 'if-match': String(await client.revision()) });
    assert.equal(notJson.status, 400);
  });

  test('a change based on a stale revision gets 409 and changes nothing', async () => {
    const stale = await client.revision();
    assert.equal((await client.change('POST', '/api/destinations', { id: 'first', name: 'First', ...samples['kafka'] })).status, 201);
    const second = await client.call('POST', '/api/destinations', { id: 'second', name: 'Second', ...samples['kafka'] }, { 'x-csrf-token': client.csrf, 'if-match': String(stale) });
    assert.equal(second.status, 409);
    assert.equal(second.body['error'].field, 'If-Match');
    const missing = await client.call('DELETE', '/api/destinations/first', undefined, { 'x-csrf-token': client.csrf });
    assert.equal(missing.status, 428);
    const ids = (await client.call('GET', '/api/destinations')).body['destinations'].map((d: { id: string }) => d.id);
    assert.deepEqual(ids, ['first']);
    assert.equal((await client.change('DELETE', '/api/destinations/first')).status, 200);
  });

  test('rollback applies an earlier revision again; revisions say who and when', async () => {
    const base = await client.revision();
    assert.equal((await client.change('POST', '/api/destinations', { id: 'temp', name: 'Temp', ...samples['kafka'] })).status, 201);
    const rolled = await client.change('POST', `/api/revisions/${base}/rollback`);
    assert.equal(rolled.status, 200, rolled.text);
    assert.equal((await client.call('GET', '/api/destinations')).body['destinations'].length, 0);
    const revisions = (await client.call('GET', '/api/revisions')).body['revisions'] as { author: string; at: string; change: string }[];
    assert.equal(revisions[0]!.change, `rollback to ${base}`);
    assert.equal(revisions[0]!.author, 'admin');
    assert.ok(!Number.isNaN(Date.parse(revisions[0]!.at)));
  });

  test("a destination's dead letters: counts and reasons (never the events); re-drive hands them to the gateway, and is an audit event", async () => {
    const created = await client.change('POST', '/api/destinations', { id: 'rejecting', name: 'Rejecting', ...samples['splunk_hec'] });
    assert.equal(created.status, 201, created.text);
    const exporter = admin.control.exporterOf(admin.control.destinations().find((d) => d.id === 'rejecting')!);
    // What the gateway's lossless exporter writes for a record Splunk refused for good.
    const letter = (n: number) => JSON.stringify({ time: `2026-12-05T10:00:0${n}.000Z`, exporter, wrapped: 'splunk_hec', outcome: 'rejected', status: 400, message: 'Invalid data format (code 6)', record: { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: `secret event ${n}` } }] }] }] } });
    mkdirSync(admin.control.deadLetterDir, { recursive: true });
    const file = join(admin.control.deadLetterDir, `${exporter.replaceAll('/', '__')}.ndjson`);
    writeFileSync(file, `${letter(1)}\n${letter(2)}\n`);
    const listed = await client.call('GET', '/api/destinations/rejecting/dead-letters');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body, { records: 2, oldest: '2026-12-05T10:00:01.000Z', reasons: { 'HTTP 400: Invalid data format (code 6)': 2 }, unreadable: 0, pendingRedrives: 0 });
    assert.doesNotMatch(listed.text, /secret event/);
    const inList = ((await client.call('GET', '/api/destinations')).body['destinations'] as { id: string; deadLetters: { records: number } }[]).find((d) => d.id === 'rejecting')!;
    assert.equal(inList.deadLetters.records, 2);
    const redriven = await client.change('POST', '/api/destinations/rejecting/dead-letters/redrive');
    assert.equal(redriven.status, 200, redriven.text);
    assert.deepEqual(redriven.body, { redriven: 2 });
    assert.ok(!existsSync(file), 'the file became a re-drive request');
    assert.equal(readdirSync(admin.control.deadLetterDir).filter((name) => name.startsWith(`${exporter.replaceAll('/', '__')}.redrive-`)).length, 1);
    assert.equal((await client.call('GET', '/api/destinations/rejecting/dead-letters')).body['records'], 0);
    await admin.audit.flush({ timeoutMillis: 20_000 });
    await waitFor('the re-drive in the trail', () => archived(admin).some((r) => (r.body as { action: string; details: { redriven_records?: number } }).action === 'audit_destination.redrive' && (r.body as { details: { redriven_records: number } }).details.redriven_records === 2));
    assert.equal((await client.change('DELETE', '/api/destinations/rejecting')).status, 200);
  });

  test('each change is an audit event in the trail, with the administrator as actor', async () => {
    await admin.audit.flush({ timeoutMillis: 20_000 });
    assert.equal(admin.control.archive.path, join(admin.dir, 'state/archive/audit.zst'));
    let actions: string[] = [];
    await waitFor('the admin events in the archive', () => {
      const records = archived(admin);
      actions = records.map((r) => (r.body as { action: string }).action);
      const creates = records.filter((r) => (r.body as { action: string }).action === 'audit_destination.create');
      return creates.length > 0 && (creates[0]!.body as { actor: { user: { id: string } } }).actor.user.id === 'admin' && actions.includes('audit_config.rollback');
    });
    for (const action of ['audit_destination.create', 'audit_destination.update', 'audit_destination.delete', 'audit_config.rollback']) assert.ok(actions.includes(action), action);
  });

  // Last: it locks this client address out of logging in for a minute.
  test('logins are rate-limited per client address', async () => {
    // Five failures within a minute (one came from the test above).
    for (let i = 0; i < 5; i++) assert.ok([401, 429].includes((await request(admin.url, 'POST', '/api/login', { user: 'nobody', password: 'wrong' })).status));
    const limited = await request(admin.url, 'POST', '/api/login', { token: admin.token });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});

describe('admin login limit under parallel attempts', () => {
  test('attempts whose bodies arrive slowly cannot all pass the limit check: at most five are tried, the rest get 429', async () => {
    const admin = await startTestAdmin();
    const { hostname, port } = new URL(admin.url);
    const body = JSON.stringify({ user: 'nobody', password: 'wrong' });
    try {
      // Every request's headers first; the bodies only once all of them are waiting for theirs.
      const sockets = Array.from({ length: 20 }, () => connect(Number(port), hostname));
      const answers = sockets.map(
        (socket) =>
          new Promise<number>((resolve) => {
            let text = '';
            socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
            socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
          }),
      );
      for (const socket of sockets) socket.write(`POST /api/login HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Written, not ended: a half-closed socket gets no answer from node:http once the handler awaits (the login hashes asynchronously).
      for (const socket of sockets) socket.write(body);
      const statuses = await Promise.all(answers);
      const tried = statuses.filter((status) => status === 401).length;
      assert.ok(tried <= 5, `${tried} attempts were checked`);
      assert.equal(statuses.filter((status) => status === 429).length, 20 - tried);
    } finally {
      await admin.close();
    }
  });
});

describe('admin behind a TLS-terminating proxy', () => {
  const forwarded = (address: string, proto = 'https') => ({ 'x-forwarded-for': address, 'x-forwarded-proto': proto });

  test('without trusted proxies, forwarding headers decide nothing: no Secure cookie, one limit for every address a client writes', async () => {
    const admin = await startTestAdmin();
    try {
      const response = await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.7'));
      assert.equal(response.status, 200);
      assert.doesNotMatch(response.headers.get('set-cookie')!, /Secure/);
      for (let i = 0; i < 5; i++) await request(admin.url, 'POST', '/api/login', { token: 'wrong' }, forwarded(`203.0.113.${10 + i}`));
      assert.equal((await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.99'))).status, 429);
    } finally {
      await admin.close();
    }
  });

  test('with one trusted proxy: the cookie is Secure over https, the login limit is per real client, and admin events record the client address', async () => {
    const admin = await startTestAdmin({ trustedProxies: 1 });
    try {
      const overTls = await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.7'));
      assert.equal(overTls.status, 200);
      assert.match(overTls.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict; Path=\/; Secure/);
      const plain = await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.7', 'http'));
      assert.doesNotMatch(plain.headers.get('set-cookie')!, /Secure/);
      const logout = await request(admin.url, 'POST', '/api/logout', undefined, { cookie: overTls.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': overTls.body['csrfToken'], ...forwarded('203.0.113.7') });
      assert.match(logout.headers.get('set-cookie')!, /Max-Age=0/);
      assert.match(logout.headers.get('set-cookie')!, /Secure/);

      // One client locked out; another behind the same proxy still logs in.
      for (let i = 0; i < 5; i++) await request(admin.url, 'POST', '/api/login', { token: 'wrong' }, forwarded('203.0.113.8'));
      assert.equal((await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.8'))).status, 429);
      const other = await request(admin.url, 'POST', '/api/login', { token: admin.token }, forwarded('203.0.113.9'));
      assert.equal(other.status, 200);

      const cookie = other.headers.get('set-cookie')!.split(';')[0]!;
      const headers = { cookie, 'x-csrf-token': other.body['csrfToken'] as string, ...forwarded('203.0.113.9') };
      const revision = (await request(admin.url, 'GET', '/api/destinations', undefined, headers)).body['revision'];
      const created = await request(admin.url, 'POST', '/api/destinations', { id: 'proxied', name: 'Proxied', type: 'otlp_http', endpoint: 'https://127.0.0.1:1/v1/logs' }, { ...headers, 'if-match': String(revision) });
      assert.equal(created.status, 201, created.text);
      await admin.audit.flush({ timeoutMillis: 20_000 });
      await waitFor('the create event in the archive', () =>
        archived(admin).some((r) => (r.body as { action: string }).action === 'audit_destination.create'),
      );
      const event = archived(admin).find((r) => (r.body as { action: string }).action === 'audit_destination.create')!;
      assert.equal((event.body as { context: { ip_address: string } }).context.ip_address, '203.0.113.9');
    } finally {
      await admin.close();
    }
  });

  test('a configured https public URL makes the cookie Secure and is the origin changes may come from', async () => {
    const admin = await startTestAdmin({ publicUrl: 'https://audit-admin.example.com' });
    try {
      const response = await request(admin.url, 'POST', '/api/login', { token: admin.token });
      assert.match(response.headers.get('set-cookie')!, /Secure/);
      const headers = { cookie: response.headers.get('set-cookie')!.split(';')[0]!, 'x-csrf-token': response.body['csrfToken'] as string };
      const revision = String((await request(admin.url, 'GET', '/api/destinations', undefined, headers)).body['revision']);
      const body = { id: 'from_proxy', name: 'From the proxy', type: 'otlp_http', endpoint: 'https://127.0.0.1:1/v1/logs' };
      assert.equal((await request(admin.url, 'POST', '/api/destinations', body, { ...headers, 'if-match': revision, origin: 'https://evil.example' })).status, 403);
      const created = await request(admin.url, 'POST', '/api/destinations', body, { ...headers, 'if-match': revision, origin: 'https://audit-admin.example.com' });
      assert.equal(created.status, 201, created.text);
      // The proxy may pass the public name in Host; any other name is still refused on loopback.
      const statusWithHost = (hostHeader: string) =>
        new Promise<number>((resolve, reject) => {
          const outgoing = httpRequest({ host: '127.0.0.1', port: new URL(admin.url).port, path: '/', headers: { host: hostHeader } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          outgoing.on('error', reject);
          outgoing.end();
        });
      assert.equal(await statusWithHost('audit-admin.example.com'), 200);
      assert.equal(await statusWithHost('evil.example'), 421);
    } finally {
      await admin.close();
    }
  });

  test('settings are checked once, naming the option', async () => {
    const refused = async (options: Parameters<typeof startTestAdmin>[0], message: RegExp) => {
      let started: Awaited<ReturnType<typeof startTestAdmin>>;
      try {
        started = await startTestAdmin(options);
      } catch (error) {
        assert.match((error as Error).message, message);
        return;
      }
      await started.close();
      assert.fail(`started with ${JSON.stringify(options)}`);
    };
    await refused({ trustedProxies: -1 }, /trustedProxies must be a whole number/);
    await refused({ publicUrl: 'ftp://x' }, /publicUrl must be an http\(s\) URL/);
  });
});

describe('a large replay', () => {
  // 100,000 archived events of about 1.3 KB (130 MB of OTLP/JSON) in a state directory of an
  // earlier version (archive/audit.jsonl): backfilled to a destination while the panel is watched.
  // Read whole, as before, the archive held the event loop for over a second and the heap grew by
  // about twice its size; streamed, the heap grows by what the collector leaves (about 60 MiB).
  test('streams the archive: the panel keeps answering (event-loop delay) and its memory does not grow with the archive', async () => {
    const dir = tempDir('admin-large-replay');
    mkdirSync(join(dir, 'state/archive'), { recursive: true });
    const start = Date.now() - 3_600_000;
    for (let frame = 0; frame < 100; frame++) appendFrame(join(dir, 'state/archive/audit.jsonl'), Array.from({ length: 1000 }, (_, i) => record(start + frame * 1000 + i, 1200)));
    const admin = await startTestAdmin({ stateDir: join(dir, 'state') });
    try {
      const client = await login(admin.url, { token: admin.token });
      // Every record is dropped by the destination's own filter: the replay is measured, not the exporter.
      const created = await client.change('POST', '/api/destinations', { id: 'late', name: 'Late', type: 'otlp_http', endpoint: 'https://127.0.0.1:1/v1/logs', filter: { include: ['nothing.at_all'] } });
      assert.equal(created.status, 201, created.text);
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      // The window of the 100,000 events only (the panel's own events are of now).
      const replayed = await client.change('POST', '/api/destinations/late/replay', { since: new Date(start - 1000).toISOString(), until: new Date(start + 200_000).toISOString() });
      const millis = performance.now() - started;
      delay.disable();
      clearInterval(sampler);
      assert.equal(replayed.status, 200, replayed.text);
      assert.equal(replayed.body['replayed'], 100_000);
      const worstDelay = delay.max / 1e6;
      const grown = (heapPeak - heapBefore) / 2 ** 20;
      console.log(`replay of 100,000 events (130 MB): ${Math.round(millis)} ms; event-loop delay at worst ${worstDelay.toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms; heap grew by ${grown.toFixed(0)} MiB at most`);
      assert.ok(worstDelay < 300, `the event loop was held for ${worstDelay.toFixed(0)} ms`);
      assert.ok(grown < 128, `the heap grew by ${grown.toFixed(0)} MiB`);
    } finally {
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the panel's own trail", () => {
  test('carries signed checkpoints: a cut of the record of who re-routed audit data is found by verify', async () => {
    const dir = tempDir('admin-trail');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'signing-key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const admin = await startTestAdmin({ signingKeyFile: keyFile, checkpointIntervalMillis: 300 });
    try {
      const client = await login(admin.url, { token: admin.token });
      const created = await client.change('POST', '/api/destinations', { id: 'rerouted', name: 'Re-routed', type: 'otlp_http', endpoint: 'https://attacker.example/v1/logs' });
      assert.equal(created.status, 201, created.text);
      const panelRecords = () => archived(admin).filter((r) => r.resource['service.name'] === 'otel-audit-admin');
      const isCreate = (r: TrailRecord) => (r.body as { action: string }).action === 'audit_destination.create';
      const seqOf = (r: TrailRecord) => Number(r.attributes['audit.seq']);
      // A checkpoint after the change states the stream's head: the change is no longer the last word.
      await waitFor('a checkpoint after the change', () => {
        const create = panelRecords().find(isCreate);
        return create !== undefined && panelRecords().some((r) => (r.body as { action: string }).action === 'audit.checkpoint' && Number((r.body as { details: { seq: number } }).details.seq) >= seqOf(create));
      });
      const whole = panelRecords();
      // As of the newest record read: the copy is checked for silence up to where it ends, not up to now.
      const newest = Math.max(...whole.map((r) => Date.parse((r.body as { timestamp: string }).timestamp)));
      const options = { publicKey, requireSigned: true, ignoreOrder: true, now: newest };
      const intact = verifyTrail(whole, options);
      assert.ok(intact.ok, JSON.stringify(intact.streams));
      assert.equal(intact.streams[0]!.unverifiedCheckpoints, 0);
      const cut = verifyTrail(whole.filter((r) => !isCreate(r)), options);
      assert.equal(cut.ok, false);
      assert.deepEqual(cut.streams[0]!.gaps, [{ from: seqOf(whole.find(isCreate)!), to: seqOf(whole.find(isCreate)!) }]);
      assert.ok(readdirSync(join(admin.dir, 'state/spool')).length > 0, "the panel's spool is in its state directory");
    } finally {
      await admin.close();
    }
  });
});

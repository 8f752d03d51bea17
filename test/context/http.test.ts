import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authCatalog } from '../../src/catalog/catalogs/auth/index.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import {
  auditContext,
  auditContextFromRequest,
  clientAddress,
  createAuditLogger,
  extendCatalog,
  fastifyAuditContext,
  setAuditActor,
  withAuditContext,
  type AuditError,
  type HttpContextOptions,
} from '../../src/index.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';
import { random, value } from '../helpers/random.js';

/** A request as a socket would deliver it: peer address and headers. */
function fakeRequest(peer: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('client address and trusted proxies', () => {
  it('ignores X-Forwarded-For and Forwarded from an untrusted peer', () => {
    const req = fakeRequest('203.0.113.9', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=5.6.7.8' });
    assert.equal(clientAddress(req, 0), '203.0.113.9');
    assert.equal(clientAddress(req), '203.0.113.9');
  });

  it('behind one trusted proxy, takes the address it appended, not what the client wrote before it', () => {
    const spoofed = fakeRequest('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' });
    assert.equal(clientAddress(spoofed, 1), '198.51.100.7');
  });

  it('behind two trusted proxies, takes the second address from the right', () => {
    const req = fakeRequest('10.0.0.3', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.2' });
    assert.equal(clientAddress(req, 2), '198.51.100.7');
  });

  it('reads RFC 7239 Forwarded, with IPv6 in brackets and ports, when the proxies write that header', () => {
    const req = fakeRequest('10.0.0.2', { forwarded: 'for=192.0.2.60;proto=http, for="[2001:DB8:cafe::17]:4711"', 'x-forwarded-for': '9.9.9.9' });
    assert.equal(clientAddress(req, 1, 'forwarded'), '2001:db8:cafe::17');
    assert.equal(clientAddress(req, 2, 'forwarded'), '192.0.2.60');
  });

  it('a Forwarded header the client wrote does not pass through a proxy that appends X-Forwarded-For', () => {
    // nginx, HAProxy and AWS ALB append X-Forwarded-For and pass any client-written Forwarded on unchanged.
    const spoofed = fakeRequest('10.0.0.2', { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '198.51.100.7' });
    assert.equal(clientAddress(spoofed, 1), '198.51.100.7');
    assert.equal(auditContextFromRequest(spoofed, { trustedProxies: 1 }).context!.ip_address, '198.51.100.7');
    // And the other way round: behind a proxy that writes Forwarded, a client's X-Forwarded-For is ignored.
    const spoofedXff = fakeRequest('10.0.0.2', { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=198.51.100.8' });
    assert.equal(auditContextFromRequest(spoofedXff, { trustedProxies: 1, forwardedHeader: 'forwarded' }).context!.ip_address, '198.51.100.8');
    const onlyXff = fakeRequest('10.0.0.2', { 'x-forwarded-for': '6.6.6.6' });
    assert.equal(clientAddress(onlyXff, 1, 'forwarded'), '10.0.0.2', 'no Forwarded header: the peer is the farthest known hop');
  });

  it('refuses a forwardedHeader or trustedProxies it does not know when the middleware is created, naming the option', () => {
    const creators: ((options: Pick<HttpContextOptions, 'trustedProxies' | 'forwardedHeader'>) => unknown)[] = [auditContext, fastifyAuditContext, (options) => withAuditContext(() => undefined, options)];
    for (const create of creators) {
      assert.throws(() => create({ trustedProxies: 1, forwardedHeader: 'x-real-ip' as never }), /forwardedHeader must be one of 'x-forwarded-for', 'forwarded', got "x-real-ip"/);
      assert.throws(() => create({ trustedProxies: -1 }), /trustedProxies must be a whole number/);
      assert.throws(() => create({ trustedProxies: 1.5 }), /trustedProxies/);
    }
  });

  it('unwraps IPv4-mapped IPv6 peers and keeps plain IPv6', () => {
    assert.equal(clientAddress(fakeRequest('::ffff:192.0.2.1')), '192.0.2.1');
    assert.equal(clientAddress(fakeRequest('::1')), '::1');
    assert.equal(clientAddress(fakeRequest('10.0.0.2', { 'x-forwarded-for': '[::ffff:198.51.100.4]:8080' }), 1), '198.51.100.4');
  });

  it('with fewer hops than trusted proxies, takes the farthest known; garbage is no address', () => {
    assert.equal(clientAddress(fakeRequest('10.0.0.2', { 'x-forwarded-for': '198.51.100.7' }), 3), '198.51.100.7');
    assert.equal(clientAddress(fakeRequest('10.0.0.2', { 'x-forwarded-for': 'not-an-ip' }), 1), undefined);
  });
});

describe('auditContextFromRequest', () => {
  it('bounds header values and strips control characters', () => {
    const ua = `Evil\r\nInjected: yes\u0000\u007f\u009b${'A'.repeat(5000)}`;
    const { context } = auditContextFromRequest(fakeRequest('192.0.2.1', { 'user-agent': ua }), { maxHeaderLength: 100, identify: () => ({ sessionId: 'sess\nion' }) });
    assert.equal(context!.user_agent!.length, 100);
    assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(context!.user_agent!));
    assert.ok(context!.user_agent!.startsWith('EvilInjected: yes'));
    assert.equal(context!.session_id, 'session');
  });

  it('takes the actor and site from the hooks; an anonymous request is a guest', () => {
    const user = { type: 'user' as const, user: { id: 1, email: 'a@example.com', name: 'A' } };
    const options: HttpContextOptions = { identify: (req) => (req.headers['cookie'] ? { actor: user, sessionId: 's1' } : undefined), site: () => ({ id: 42, domain: 'gristlabs' }) };
    assert.deepEqual(auditContextFromRequest(fakeRequest('192.0.2.1', { cookie: 'x' }), options), {
      actor: user,
      context: { ip_address: '192.0.2.1', session_id: 's1', site: { id: 42, domain: 'gristlabs' } },
    });
    assert.deepEqual(auditContextFromRequest(fakeRequest('192.0.2.1'), options).actor, { type: 'guest' });
  });
});

describe('propagation through real servers', () => {
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  let audit: ReturnType<typeof createAuditLogger<typeof gristCatalog>>;
  const options: HttpContextOptions = {
    trustedProxies: 1,
    identify: (req) => {
      const name = req.headers['x-test-user'];
      return typeof name === 'string' ? { actor: { type: 'user', user: { id: name, email: `${name}@example.com`, name } }, sessionId: `s-${name}` } : undefined;
    },
  };
  const details = { document: { id: 'd', name: 'n' } };

  before(async () => {
    listener = await startOtlpListener();
    audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: assert.fail });
  });
  after(async () => {
    await audit.shutdown();
    await listener.close();
  });

  async function call(port: number, path: string, user: string, forwardedFor: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { 'x-test-user': user, 'x-forwarded-for': forwardedFor, 'user-agent': `agent-${user}` } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      req.once('error', reject);
      req.end();
    });
  }

  async function bodiesOf(ids: string[]) {
    await audit.flush({ timeoutMillis: 10_000 });
    return ids.map((id) => listener.records.find((r) => r.attributes['log.record.uid'] === id)!.body as { actor: { user?: { name: string } }; context: Record<string, unknown> });
  }

  it('express: through await, timers and a stream, concurrent requests keep their own context; explicit values win', async () => {
    const app = express();
    app.use(auditContext(options));
    app.get('/doc', async (_req, res) => {
      const ids: string[] = [];
      await new Promise((resolve) => setTimeout(resolve, 20));
      ids.push(audit.logEvent('document.create', { details }));
      await new Promise<void>((resolve) => setImmediate(() => (ids.push(audit.logEvent('document.create', { details })), resolve())));
      await pipeline(Readable.from(['a', 'b']), async function* (source) {
        for await (const _chunk of source) ids.push(audit.logEvent('document.create', { details }));
        yield* [];
      });
      ids.push(audit.logEvent('document.create', { details, context: { session_id: 'explicit' } }));
      res.send(ids.join(','));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const [alice, bob] = await Promise.all([call(port, '/doc', 'alice', '198.51.100.1'), call(port, '/doc', 'bob', '198.51.100.2')]);
    server.close();
    for (const [name, ip, ids] of [['alice', '198.51.100.1', alice.split(',')], ['bob', '198.51.100.2', bob.split(',')]] as const) {
      const bodies = await bodiesOf([...ids]);
      assert.equal(bodies.length, 5);
      for (const body of bodies.slice(0, 4)) {
        assert.equal(body.actor.user?.name, name);
        assert.deepEqual(body.context, { ip_address: ip, user_agent: `agent-${name}`, session_id: `s-${name}` });
      }
      assert.deepEqual(bodies[4]!.context, { ip_address: ip, user_agent: `agent-${name}`, session_id: 'explicit' });
    }
  });

  it('fastify onRequest hook and plain node:http handler carry the context too; fastify hooks get the FastifyRequest', async () => {
    const fastify = Fastify();
    fastify.addHook(
      'onRequest',
      fastifyAuditContext({
        trustedProxies: 1,
        identify: (request: FastifyRequest) => options.identify!(request.raw),
        site: (request: FastifyRequest) => ({ id: 7, domain: request.hostname }),
      }),
    );
    fastify.get('/doc', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return audit.logEvent('document.create', { details });
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const fastifyId = await call((fastify.server.address() as AddressInfo).port, '/doc', 'carol', '198.51.100.3');
    await fastify.close();

    const plain = createServer(withAuditContext((_req, res) => setTimeout(() => res.end(audit.logEvent('document.create', { details })), 5), options));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainId = await call((plain.address() as AddressInfo).port, '/', 'dave', '198.51.100.4');
    plain.close();

    const [carol, dave] = await bodiesOf([fastifyId, plainId]);
    assert.equal(carol!.actor.user?.name, 'carol');
    assert.equal(carol!.context['ip_address'], '198.51.100.3');
    assert.deepEqual(carol!.context['site'], { id: 7, domain: '127.0.0.1' });
    assert.equal(dave!.actor.user?.name, 'dave');
    assert.equal(dave!.context['ip_address'], '198.51.100.4');
  });
});

describe('who acts: identify mapped to the actor schema, hooks that throw, setAuditActor after a login', () => {
  const catalog = extendCatalog(authCatalog, {
    'test.step': { description: 'A step of a test request.', scopes: ['installation'], details: z.strictObject({ step: z.string() }), sample: { step: 'one' } },
  });
  // A user row as a database returns it: more fields than the actor schema has.
  const row = { id: 7, email: 'ada@example.com', name: 'Ada', role: 'admin', passwordHash: 'scrypt$c2FsdA$aGFzaA' };
  const ada = { type: 'user' as const, user: { id: 7, email: 'ada@example.com', name: 'Ada' } };
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  let audit: ReturnType<typeof createAuditLogger<typeof catalog>>;
  const reports: AuditError[] = [];
  const options: HttpContextOptions = {
    identify: (req) => {
      if (req.headers['x-explode']) throw new Error('the session store is down');
      return req.headers['x-session'] === 'known' ? { actor: { type: 'user', user: row }, sessionId: 'known' } : undefined;
    },
    onError: (error) => reports.push(error),
  };
  const login = { actor: ada, sessionId: 'after-login' };

  before(async () => {
    listener = await startOtlpListener();
    audit = createAuditLogger({ catalog, checkpoints: false, endpoint: listener.url, onError: (error) => assert.fail(error.message) });
  });
  after(async () => {
    await audit.shutdown();
    await listener.close();
  });

  async function send(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.once('error', reject);
      req.end();
    });
  }

  type Body = { actor: { type: string; user?: Record<string, unknown> }; context: { session_id?: string } };
  async function recordsOf(ids: string[]) {
    await audit.flush({ timeoutMillis: 10_000 });
    return ids.map((id) => listener.records.find((r) => r.attributes['log.record.uid'] === id)!);
  }

  /** Logs a step, sets the actor, logs the login and, after an await, one more step: what each carried. */
  async function loginRoute(req: Parameters<typeof setAuditActor>[0]): Promise<string[]> {
    const ids = [audit.logEvent('test.step', { details: { step: 'before the login' } })];
    await new Promise((resolve) => setImmediate(resolve));
    setAuditActor(req, login);
    ids.push(audit.logEvent('user.login', { details: { method: 'password' } }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    ids.push(audit.logEvent('test.step', { details: { step: 'after the login' } }));
    return ids;
  }

  async function assertLoggedIn(ids: string[]): Promise<void> {
    const bodies = (await recordsOf(ids)).map((record) => record.body as Body);
    assert.deepEqual(bodies[0]!.actor, { type: 'guest' }, 'an event logged before setAuditActor keeps its actor');
    assert.equal(bodies[0]!.context.session_id, undefined);
    for (const body of bodies.slice(1)) {
      assert.deepEqual(body.actor, ada);
      assert.equal(body.context.session_id, 'after-login');
    }
  }

  it("keeps only the actor schema's fields of what identify returns, and says once which it left out", () => {
    const before = reports.length;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(auditContextFromRequest(fakeRequest('192.0.2.1', { 'x-session': 'known' }), options).actor, ada);
    }
    assert.deepEqual(
      reports.slice(before).map((error) => error.message),
      ["the actor has fields its schema does not: user.role, user.passwordHash; they are left out of every event (map the user's fields in identify: { id, email, name, login? })"],
    );
    const guestWithExtras = auditContextFromRequest(fakeRequest('192.0.2.1'), { identify: () => ({ actor: { type: 'guest', user: row } as never }), onError: () => undefined });
    assert.deepEqual(guestWithExtras.actor, { type: 'guest' });
  });

  it('a throwing identify or site: reported, the request goes on as actor unknown or without a site; an onError that throws changes nothing', () => {
    const seen: string[] = [];
    const context = auditContextFromRequest(fakeRequest('192.0.2.1', { 'x-explode': '1' }), { ...options, site: () => { throw new Error('no tenant'); }, onError: (error) => seen.push(error.message) });
    assert.deepEqual(context, { actor: { type: 'unknown' }, context: { ip_address: '192.0.2.1' } });
    assert.deepEqual(seen, [
      'the identify hook of the audit middleware threw: the session store is down; the request goes on with actor unknown',
      'the site hook of the audit middleware threw: no tenant; the request goes on without a site',
    ]);
    const thrower = auditContextFromRequest(fakeRequest('192.0.2.1', { 'x-explode': '1' }), { ...options, onError: () => { throw new Error('hook down too'); } });
    assert.deepEqual(thrower.actor, { type: 'unknown' });
  });

  it('express: a database user makes valid events, a throwing identify serves the request as unknown, and setAuditActor makes the login and what follows carry the new user and session', async () => {
    const app = express();
    app.use(auditContext(options));
    app.get('/me', (_req, res) => res.send(audit.logEvent('test.step', { details: { step: 'me' } })));
    app.post('/login', async (req, res) => res.send((await loginRoute(req)).join(',')));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const before = reports.length;
    const [known, exploded, loggedIn, bystander] = await Promise.all([
      send(port, 'GET', '/me', { 'x-session': 'known' }),
      send(port, 'GET', '/me', { 'x-explode': '1' }),
      send(port, 'POST', '/login'),
      send(port, 'GET', '/me'),
    ]);
    server.close();
    assert.deepEqual([known.status, exploded.status, loggedIn.status, bystander.status], [200, 200, 200, 200]);
    const [knownRecord, explodedRecord, bystanderRecord] = await recordsOf([known.body, exploded.body, bystander.body]);
    assert.deepEqual((knownRecord!.body as Body).actor, ada);
    assert.equal(knownRecord!.attributes['audit.invalid'], undefined, 'the role field did not make the event invalid');
    assert.deepEqual((explodedRecord!.body as Body).actor, { type: 'unknown' });
    assert.deepEqual((bystanderRecord!.body as Body).actor, { type: 'guest' }, 'a concurrent request keeps its own actor');
    assert.ok(reports.slice(before).some((error) => /identify hook .* threw: the session store is down/.test(error.message)));
    await assertLoggedIn(loggedIn.body.split(','));
  });

  it('fastify and node:http: setAuditActor on the request each hands out', async () => {
    const fastify = Fastify();
    fastify.addHook('onRequest', fastifyAuditContext({ identify: (request: FastifyRequest) => options.identify!(request.raw), onError: options.onError! }));
    fastify.post('/login', async (request: FastifyRequest) => (await loginRoute(request)).join(','));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const viaFastify = await send((fastify.server.address() as AddressInfo).port, 'POST', '/login');
    await fastify.close();

    const plain = createServer(withAuditContext((req, res) => void loginRoute(req).then((ids) => res.end(ids.join(','))), options));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const viaHttp = await send((plain.address() as AddressInfo).port, 'POST', '/login');
    plain.close();

    await assertLoggedIn(viaFastify.body.split(','));
    await assertLoggedIn(viaHttp.body.split(','));
  });

  it('whatever identify returns or setAuditActor is given (junk, throwing getters, hostile proxies), nothing throws into the request', () => {
    const next = random(26);
    const hostile = [
      () => new Proxy({}, { get: () => { throw new Error('get'); }, ownKeys: () => { throw new Error('keys'); } }),
      () => ({ get actor(): never { throw new Error('actor getter'); } }),
      () => ({ actor: { type: 'user', get user(): never { throw new Error('user getter'); } } }),
      () => ({ actor: { type: 'user', user: new Proxy({ id: 1 }, { ownKeys: () => { throw new Error('user keys'); } }) } }),
      () => ({ actor: { type: 'user', user: value(next, 0) }, sessionId: value(next, 0) }),
      () => ({ actor: value(next, 0), sessionId: 'ok' }),
      () => value(next, 0),
    ];
    const seen: string[] = [];
    const junkOptions: HttpContextOptions = { identify: () => hostile[Math.floor(next() * hostile.length)]!() as never, onError: (error) => seen.push(error.message) };
    // A route behind the middleware that sets whatever it is handed.
    const route = withAuditContext((req: IncomingMessage) => setAuditActor(req, hostile[Math.floor(next() * hostile.length)]!() as never), junkOptions);
    let tried = 0;
    for (let i = 0; i < 2000; i++) {
      const { actor } = auditContextFromRequest(fakeRequest('192.0.2.1'), junkOptions);
      assert.ok(actor !== undefined);
      route(fakeRequest('192.0.2.1'), {} as never);
      tried++;
    }
    assert.equal(tried, 2000);
    assert.ok(seen.some((message) => /identify hook .* threw: get/.test(message)));
    assert.ok(seen.some((message) => /setAuditActor could not read the identity it was given/.test(message)));
  });

  it('setAuditActor on a request no audit middleware saw changes nothing and says so once, as a process warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      setAuditActor(fakeRequest('192.0.2.1'), login);
      setAuditActor({ raw: fakeRequest('192.0.2.2') }, login);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.map((warning) => [(warning as Error & { code?: string }).code, warning.message]),
      [['OTEL_AUDIT', 'setAuditActor: this request has no audit context (is auditContext, fastifyAuditContext or withAuditContext in front of this route?); the actor was not set']],
    );
  });
});

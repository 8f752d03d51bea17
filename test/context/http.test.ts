import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { auditContext, auditContextFromRequest, clientAddress, createAuditLogger, fastifyAuditContext, withAuditContext, type HttpContextOptions } from '../../src/index.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

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

// Type-level tests of the middleware: `identify` and `site` get the framework's own request type.
// Compiled by `tsc --noEmit` and by test/types/types.test.ts, like logger-types.ts.
import { createServer, type IncomingMessage } from 'node:http';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { auditContext, auditContextFromRequest, fastifyAuditContext, setAuditActor, withAuditContext } from '../../src/index.js';

const app = express();
// Express: the request type is inferred from app.use, or given on the parameter.
app.use(auditContext({ site: (req) => ({ id: 1, domain: req.hostname }) }));
app.use(auditContext({ identify: (req: Request) => ({ sessionId: req.get('x-session') }), site: (req: Request) => ({ id: req.hostname }) }));
// @ts-expect-error Express's Request has no property hostnam
app.use(auditContext({ site: (req) => ({ id: 1, domain: req.hostnam }) }));

// Fastify: the hooks get the FastifyRequest.
const fastify = Fastify();
fastify.addHook('onRequest', fastifyAuditContext({ identify: (request: FastifyRequest) => ({ sessionId: request.id }), site: (request: FastifyRequest) => ({ id: request.hostname }) }));
// @ts-expect-error a hook written for node:http's IncomingMessage does not take a FastifyRequest
fastify.addHook('onRequest', fastifyAuditContext({ site: (req: IncomingMessage & { hostname: string }) => ({ id: req.hostname }) }));

// node:http: IncomingMessage.
createServer(withAuditContext((_req, res) => res.end(), { site: (req) => ({ id: req.headers.host ?? 'unknown' }) }));
export const fromRequest = (req: IncomingMessage) => auditContextFromRequest(req, { identify: (r) => ({ sessionId: r.headers['x-session']?.toString() }) });

// setAuditActor takes the request as each framework hands it, and an actor of the actor schema.
app.post('/login', (req: Request) => setAuditActor(req, { actor: { type: 'user', user: { id: 1, email: 'a@example.com', name: 'A' } }, sessionId: 's1' }));
fastify.post('/login', async (request: FastifyRequest) => setAuditActor(request, { actor: { type: 'user', user: { id: 1, email: 'a@example.com', name: 'A' } } }));
createServer((req) => setAuditActor(req, { actor: { type: 'system' } }));
// @ts-expect-error the actor is required: a login names who logged in
app.post('/login', (req: Request) => setAuditActor(req, { sessionId: 's1' }));
// @ts-expect-error a user actor needs the user's fields
app.post('/login', (req: Request) => setAuditActor(req, { actor: { type: 'user', user: { id: 1 } } }));

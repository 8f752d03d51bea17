// Type-level tests of the middleware: `identify` and `site` get the framework's own request type.
// Compiled by `tsc --noEmit` and by test/types.test.ts, like logger-types.ts.
import { createServer, type IncomingMessage } from 'node:http';
import express, { type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { auditContext, auditContextFromRequest, fastifyAuditContext, withAuditContext } from '../../src/index.js';

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

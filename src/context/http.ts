import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Actor, AuditContext } from '../catalog/envelope.js';
import { runWithAuditContext, type RequestAuditContext } from './request-context.js';

/**
 * How to read who and where from an HTTP request. `Req` is the request type your framework hands to
 * `identify` and `site`: Express `Request`, Fastify `FastifyRequest`, or node:http `IncomingMessage`.
 */
export interface HttpContextOptions<Req = IncomingMessage> {
  /**
   * Reverse proxies in front of the application that you trust to append the client's address to
   * `X-Forwarded-For` / `Forwarded`. 0: the socket's peer is the client and those headers are
   * ignored (a client can write anything in them). 1: the last address the proxy appended; 2: the
   * one before it, and so on.
   * @default 0
   * @example 1 // one load balancer
   */
  readonly trustedProxies?: number;
  /**
   * The acting user and the session, from your authentication (cookie, token, session store).
   * Return nothing for an anonymous request (actor `guest`).
   * @example (req) => { const s = sessions.get(cookie(req)); return s && { actor: { type: 'user', user: s.user }, sessionId: s.id }; }
   */
  readonly identify?: (req: Req) => { actor?: Actor; sessionId?: string } | undefined;
  /** The site (tenant) the request is for. @example (req) => ({ id: tenantOf(req.hostname) }) */
  readonly site?: (req: Req) => AuditContext['site'] | undefined;
  /** Longest header value kept (user agent, session id); longer ones are cut. @default 512 */
  readonly maxHeaderLength?: number;
}

// C0 and C1 control characters, and DEL: never useful in a SIEM, sometimes an injection attempt.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function clean(value: string | undefined, max: number): string | undefined {
  if (!value) return undefined;
  const text = value.replace(CONTROL, '').trim().slice(0, max);
  return text === '' ? undefined : text;
}

/** An address as it appears in a header or on a socket, without port, brackets or IPv4 mapping. */
function normalizeAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let address = raw.trim().replace(/^"|"$/g, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1]!;
  return isIP(address) ? address.toLowerCase() : undefined;
}

/** The addresses proxies recorded, oldest first: `Forwarded` (RFC 7239) if present, else `X-Forwarded-For`. */
function forwardedChain(req: IncomingMessage): (string | undefined)[] {
  const forwarded = req.headers['forwarded'];
  if (forwarded) {
    return forwarded.split(',').map((element) => {
      const pair = element.split(';').find((part) => part.trim().toLowerCase().startsWith('for='));
      return pair ? normalizeAddress(pair.trim().slice(4)) : undefined;
    });
  }
  const xff = req.headers['x-forwarded-for'];
  const value = Array.isArray(xff) ? xff.join(',') : xff;
  return value ? value.split(',').map(normalizeAddress) : [];
}

/**
 * The client's address: the socket peer, or, behind `trustedProxies` proxies, the address the
 * outermost trusted proxy recorded. A header from an untrusted client never decides it.
 */
export function clientAddress(req: IncomingMessage, trustedProxies = 0): string | undefined {
  const peer = normalizeAddress(req.socket.remoteAddress);
  if (trustedProxies <= 0) return peer;
  // Right to left: the peer is the nearest trusted proxy, each header entry one hop further out.
  const hops = [...forwardedChain(req), peer];
  const index = hops.length - 1 - trustedProxies;
  // Fewer hops than trusted proxies: the request came closer than expected; the farthest known hop is the client.
  return hops[Math.max(index, 0)];
}

/** The audit actor and context of a request. */
export function auditContextFromRequest<Req extends IncomingMessage>(req: Req, options: HttpContextOptions<Req> = {}): RequestAuditContext {
  return contextOf(req, options, req);
}

/** `req` is what the socket delivered; `framework` the same request as the framework hands it to the hooks. */
function contextOf<Req>(req: IncomingMessage, options: HttpContextOptions<Req>, framework: Req): RequestAuditContext {
  const max = options.maxHeaderLength ?? 512;
  const identity = options.identify?.(framework);
  const context: { -readonly [K in keyof AuditContext]: AuditContext[K] } = {};
  const ip = clientAddress(req, options.trustedProxies);
  if (ip) context.ip_address = ip;
  const userAgent = clean(req.headers['user-agent'], max);
  if (userAgent) context.user_agent = userAgent;
  const sessionId = clean(identity?.sessionId, max);
  if (sessionId) context.session_id = sessionId;
  const site = options.site?.(framework);
  if (site) context.site = site;
  return { actor: identity?.actor ?? { type: 'guest' }, context };
}

/**
 * Express / Connect middleware: every event logged while handling the request carries its actor
 * and context. `app.use(auditContext({ trustedProxies: 1, identify }))`; the hooks get Express's
 * `Request` (annotate the parameter, `identify: (req: Request) => ...`, where it is not inferred).
 */
export function auditContext<Req extends IncomingMessage = IncomingMessage>(options: HttpContextOptions<Req> = {}) {
  return (req: Req, _res: ServerResponse, next: (error?: unknown) => void): void => {
    runWithAuditContext(auditContextFromRequest(req, options), next);
  };
}

/**
 * Fastify `onRequest` hook: `app.addHook('onRequest', fastifyAuditContext({ identify }))`. The hooks
 * get the `FastifyRequest` (`identify: (request: FastifyRequest) => ...`); addresses and headers are
 * read from the socket's request, `request.raw`.
 */
export function fastifyAuditContext<Req extends { raw: IncomingMessage } = { raw: IncomingMessage }>(options: HttpContextOptions<Req> = {}) {
  return (request: Req, _reply: unknown, done: () => void): void => {
    runWithAuditContext(contextOf(request.raw, options, request), done);
  };
}

/** For a plain `node:http` handler: `http.createServer(withAuditContext(handler, options))`. */
export function withAuditContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => void,
  options: HttpContextOptions<Req> = {},
): (req: Req, res: Res) => void {
  return (req, res) => runWithAuditContext(auditContextFromRequest(req, options), () => handler(req, res));
}

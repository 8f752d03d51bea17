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
   * `forwardedHeader`. 0: the socket's peer is the client and forwarding headers are ignored (a
   * client can write anything in them). 1: the last address the proxy appended; 2: the one before
   * it, and so on.
   * @default 0
   * @example 1 // one load balancer
   */
  readonly trustedProxies?: number;
  /**
   * The one header your trusted proxies write: `x-forwarded-for` (nginx, HAProxy, AWS ALB, most
   * load balancers) or RFC 7239 `forwarded`. The other header is ignored: a proxy passes on
   * whatever the client wrote in a header it does not manage itself.
   * @default 'x-forwarded-for'
   */
  readonly forwardedHeader?: ForwardedHeader;
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

/** The request headers that carry the addresses proxies recorded. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';
const FORWARDED_HEADERS: readonly ForwardedHeader[] = ['x-forwarded-for', 'forwarded'];

/** The addresses the proxies recorded in `header`, oldest first. */
function forwardedChain(req: IncomingMessage, header: ForwardedHeader): (string | undefined)[] {
  const raw = req.headers[header];
  // Repeated header lines are one list (RFC 9110 section 5.3).
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (!value) return [];
  if (header === 'x-forwarded-for') return value.split(',').map(normalizeAddress);
  return value.split(',').map((element) => {
    const pair = element.split(';').find((part) => part.trim().toLowerCase().startsWith('for='));
    return pair ? normalizeAddress(pair.trim().slice(4)) : undefined;
  });
}

/** Checked once, when a middleware is created: a typo must not silently trust the wrong header. */
function validateOptions(options: Pick<HttpContextOptions, 'trustedProxies' | 'forwardedHeader'>): void {
  const { trustedProxies, forwardedHeader } = options;
  if (trustedProxies !== undefined && !(Number.isInteger(trustedProxies) && trustedProxies >= 0)) {
    throw new TypeError(`trustedProxies must be a whole number of proxies (0 or more), got ${String(trustedProxies)}`);
  }
  if (forwardedHeader !== undefined && !FORWARDED_HEADERS.includes(forwardedHeader)) {
    throw new TypeError(`forwardedHeader must be one of ${FORWARDED_HEADERS.map((h) => `'${h}'`).join(', ')}, got ${JSON.stringify(forwardedHeader)}`);
  }
}

/**
 * The client's address: the socket peer, or, behind `trustedProxies` proxies, the address the
 * outermost trusted proxy recorded in `forwardedHeader`. A header from an untrusted client never
 * decides it.
 */
export function clientAddress(req: IncomingMessage, trustedProxies = 0, forwardedHeader: ForwardedHeader = 'x-forwarded-for'): string | undefined {
  const peer = normalizeAddress(req.socket.remoteAddress);
  if (trustedProxies <= 0) return peer;
  // Right to left: the peer is the nearest trusted proxy, each header entry one hop further out.
  const hops = [...forwardedChain(req, forwardedHeader), peer];
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
  const ip = clientAddress(req, options.trustedProxies, options.forwardedHeader);
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
  validateOptions(options);
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
  validateOptions(options);
  return (request: Req, _reply: unknown, done: () => void): void => {
    runWithAuditContext(contextOf(request.raw, options, request), done);
  };
}

/** For a plain `node:http` handler: `http.createServer(withAuditContext(handler, options))`. */
export function withAuditContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => void,
  options: HttpContextOptions<Req> = {},
): (req: Req, res: Res) => void {
  validateOptions(options);
  return (req, res) => runWithAuditContext(auditContextFromRequest(req, options), () => handler(req, res));
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { userSchema, type Actor, type AuditContext } from '../catalog/envelope.js';
import { AuditError } from '../errors.js';
import { currentAuditContext, replaceAuditActor, runWithAuditContext, type RequestAuditContext } from './request-context.js';

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
   * Return nothing for an anonymous request (actor `guest`). Map your user's fields to the actor's
   * explicitly: only `id`, `email`, `name` (the display name) and `login` are kept, any other field
   * of the user (a `role`, a password hash) is left out of every event and said once to `onError`.
   * If it throws, the request goes on with actor `unknown` and the error goes to `onError`.
   * After a login, `setAuditActor(req, ...)` changes the actor for the rest of the request.
   * @example (req) => { const s = sessions.get(cookie(req)); return s && { actor: { type: 'user', user: { id: s.user.id, email: s.user.email, name: s.user.displayName } }, sessionId: s.id }; }
   */
  readonly identify?: (req: Req) => Identity | undefined;
  /** The site (tenant) the request is for; if it throws, the request has no site and the error goes to `onError`. @example (req) => ({ id: tenantOf(req.hostname) }) */
  readonly site?: (req: Req) => AuditContext['site'] | undefined;
  /** Longest header value kept (user agent, session id); longer ones are cut. @default 512 */
  readonly maxHeaderLength?: number;
  /**
   * Told when `identify` or `site` throws, and (once per set of fields) which fields of an actor
   * were left out. Give it the logger's `onError`. May not throw into the request.
   * @default a process warning (`process.emitWarning`, code `OTEL_AUDIT`), as the logger's default
   */
  readonly onError?: (error: AuditError) => void;
}

/** Who acts in a request: what `identify` returns, and what `setAuditActor` takes. */
export interface Identity {
  readonly actor?: Actor;
  readonly sessionId?: string;
}

const DEFAULT_MAX_HEADER_LENGTH = 512;

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
function validateOptions(options: Pick<HttpContextOptions, 'trustedProxies' | 'forwardedHeader' | 'onError'>): void {
  const { trustedProxies, forwardedHeader, onError } = options;
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError(`onError must be a function, got ${typeof onError}`);
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
  const max = options.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH;
  const report = reporterOf(options);
  // What identify returned is read inside the hook too: a getter or proxy of the application's that throws is the hook's failure.
  const identify = options.identify && ((req: Req) => identityOf(options.identify!(req), report));
  const identity = hook('identify', identify, framework, report);
  const context: { -readonly [K in keyof AuditContext]: AuditContext[K] } = {};
  const ip = clientAddress(req, options.trustedProxies, options.forwardedHeader);
  if (ip) context.ip_address = ip;
  const userAgent = clean(req.headers['user-agent'], max);
  if (userAgent) context.user_agent = userAgent;
  const sessionId = clean(identity.value?.sessionId, max);
  if (sessionId) context.session_id = sessionId;
  const site = hook('site', options.site, framework, report).value;
  if (site) context.site = site;
  // A request whose user could not be told is not an anonymous one.
  const actor = identity.failed ? UNKNOWN : (identity.value?.actor ?? GUEST);
  return { actor, context };
}

/** The actor (its schema's fields) and session id of what identify returned or setAuditActor was given. */
function identityOf(given: Identity | undefined, report: Reporter): { actor: Actor | undefined; sessionId: string | undefined } | undefined {
  if (given === undefined || given === null) return undefined;
  const { actor, sessionId } = given;
  return { actor: actor === undefined ? undefined : schemaFieldsOf(actor, report), sessionId: typeof sessionId === 'string' ? sessionId : undefined };
}

const GUEST: Actor = { type: 'guest' };
const UNKNOWN: Actor = { type: 'unknown' };
/** The fields an actor's user may have: what the actor schema knows, nothing else. */
const USER_FIELDS = Object.keys(userSchema.shape);

/** Runs one of the application's hooks; a throw is reported and becomes no value, never an error of the request. */
function hook<Req, Value>(name: string, fn: ((req: Req) => Value | undefined) | undefined, req: Req, report: Reporter): { value: Value | undefined; failed: boolean } {
  if (!fn) return { value: undefined, failed: false };
  try {
    return { value: fn(req), failed: false };
  } catch (error) {
    report.error(new AuditError(`the ${name} hook of the audit middleware threw: ${describe(error)}; the request goes on ${name === 'identify' ? 'with actor unknown' : 'without a site'}`, { cause: error }));
    return { value: undefined, failed: true };
  }
}

/**
 * The actor with only the fields its schema has: an application's user object often has more (a
 * role, a password hash), which would make every event invalid, or worse, valid and leaked into
 * every SIEM. What is left out is said once per set of fields.
 */
function schemaFieldsOf(actor: Actor, report: Reporter): Actor {
  // Not an object: left as it is, for the logger's validation to flag.
  if (typeof actor !== 'object' || actor === null) return actor;
  const given = actor as Record<string, unknown>;
  const dropped = Object.keys(given).filter((key) => key !== 'type' && !(key === 'user' && given['type'] === 'user'));
  let kept: Actor = actor;
  if (given['type'] === 'user' && typeof given['user'] === 'object' && given['user'] !== null) {
    const user = given['user'] as Record<string, unknown>;
    dropped.push(...Object.keys(user).filter((key) => !USER_FIELDS.includes(key)).map((key) => `user.${key}`));
    kept = { type: 'user', user: Object.fromEntries(USER_FIELDS.filter((key) => user[key] !== undefined).map((key) => [key, user[key]])) } as Actor;
  } else if (dropped.length) kept = { type: given['type'] } as Actor;
  if (dropped.length) report.once(dropped.join(', '), () => new AuditError(`the actor has fields its schema does not: ${dropped.join(', ')}; they are left out of every event (map the user's fields in identify: { id, email, name, login? })`));
  return kept;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

interface Reporter {
  error(error: AuditError): void;
  /** Reports `make()` the first time `key` is seen. */
  once(key: string, make: () => AuditError): void;
}

/** One reporter per options object: the "once" of a middleware holds for its whole life. */
const reporters = new WeakMap<object, Reporter>();

function reporterOf(options: Pick<HttpContextOptions<never>, 'onError'>): Reporter {
  let reporter = reporters.get(options);
  if (!reporter) {
    const seen = new Set<string>();
    const give = (error: AuditError) => {
      try {
        if (options.onError) options.onError(error);
        else process.emitWarning(error.message, { type: error.name, code: 'OTEL_AUDIT' });
      } catch {
        // A failing error hook must not fail the request.
      }
    };
    reporter = {
      error: give,
      once: (key, make) => {
        if (seen.has(key)) return;
        seen.add(key);
        give(make());
      },
    };
    reporters.set(options, reporter);
  }
  return reporter;
}

/** Each request's context and its middleware's reporter, by the request the socket delivered: what setAuditActor finds. */
const requests = new WeakMap<IncomingMessage, { context: RequestAuditContext; report: Reporter; maxHeaderLength: number }>();

/** Runs `next` in the request's audit context, and remembers that context for setAuditActor. */
function enter(req: IncomingMessage, context: RequestAuditContext, options: HttpContextOptions<never>, next: () => void): void {
  runWithAuditContext(context, () => {
    requests.set(req, { context: currentAuditContext()!, report: reporterOf(options), maxHeaderLength: options.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH });
    next();
  });
}

/** Said when setAuditActor finds no audit context: a fallback reporter with no middleware options. */
const unattached = reporterOf({});

/**
 * Sets who acts for the rest of the request: after a login, the user who just logged in (and the
 * new session id), so that the `user.login` event logged next, and everything after it, carries
 * them rather than `guest`. Events logged before keep the actor they had. `req` is the request as
 * your framework hands it (Express `Request`, `FastifyRequest`, node:http `IncomingMessage`); the
 * audit middleware must have seen it. Only the actor schema's fields are kept, as for `identify`.
 * @example
 * setAuditActor(req, { actor: { type: 'user', user: { id: u.id, email: u.email, name: u.displayName } }, sessionId: session.id });
 * audit.logEvent('user.login', { details: { method: 'password' } });
 */
export function setAuditActor(req: IncomingMessage | { readonly raw: IncomingMessage }, identity: Identity & { readonly actor: Actor }): void {
  const raw = typeof req === 'object' && req !== null && 'raw' in req && req.raw ? req.raw : (req as IncomingMessage);
  const found = requests.get(raw);
  const context = found?.context ?? currentAuditContext();
  const report = found?.report ?? unattached;
  if (!context) {
    report.once('setAuditActor', () => new AuditError('setAuditActor: this request has no audit context (is auditContext, fastifyAuditContext or withAuditContext in front of this route?); the actor was not set'));
    return;
  }
  let read: ReturnType<typeof identityOf>;
  try {
    read = identityOf(identity, report);
  } catch (error) {
    // Never into the route: what could not be read is reported, and the request acts as unknown from here.
    report.error(new AuditError(`setAuditActor could not read the identity it was given: ${describe(error)}; the request goes on with actor unknown`, { cause: error }));
  }
  replaceAuditActor(context, read?.actor ?? UNKNOWN, clean(read?.sessionId, found?.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH));
}

/**
 * Express / Connect middleware: every event logged while handling the request carries its actor
 * and context. `app.use(auditContext({ trustedProxies: 1, identify }))`; the hooks get Express's
 * `Request` (annotate the parameter, `identify: (req: Request) => ...`, where it is not inferred).
 */
export function auditContext<Req extends IncomingMessage = IncomingMessage>(options: HttpContextOptions<Req> = {}) {
  validateOptions(options);
  return (req: Req, _res: ServerResponse, next: (error?: unknown) => void): void => {
    enter(req, auditContextFromRequest(req, options), options, next);
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
    enter(request.raw, contextOf(request.raw, options, request), options, done);
  };
}

/** For a plain `node:http` handler: `http.createServer(withAuditContext(handler, options))`. */
export function withAuditContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => void,
  options: HttpContextOptions<Req> = {},
): (req: Req, res: Res) => void {
  validateOptions(options);
  return (req, res) => enter(req, auditContextFromRequest(req, options), options, () => handler(req, res));
}

// The Admin Panel's HTTP server: the page, and the JSON API described by /api/openapi.json.
// Every /api route but login needs a session or a site's API token (`Authorization: Bearer`);
// every change needs the revision it was based on (`If-Match: <revision>`), and with a session its
// CSRF token; errors name the field. Administrators see and change everything; a site's owners and
// its tokens see and change that site's destinations only: anything else is "not found" to them
// (404, as for a destination that does not exist), and the routes of the whole installation
// (rollbacks) are refused (403).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { clientAddress } from '../context/http.js';
import type { DetailsOf } from '../catalog/define.js';
import type { AuditLogger } from '../logger.js';
import type { adminCatalog } from './catalog.js';
import type { DestinationLetters } from '../gateway/dead-letters.js';
import { ApplyRejectedError, StaleRevisionError, type AdminControl } from './control.js';
import { FieldError, parseDestination, type Destination } from './destinations.js';
import { Authenticator, type Principal, type Session } from './auth.js';
import type { Revision, StoredDestination } from './state.js';
import { stringify } from 'yaml';
import { lineDiff } from './diff.js';
import type { ReplayWindow } from './replay.js';
import { openApiDocument } from './openapi.js';
import { PAGE_HTML, readPageScript } from './page.js';
import { freePort } from '../gateway/ports.js';

export interface AdminServerOptions {
  readonly control: AdminControl;
  readonly auth: Authenticator;
  /** Logs the panel's own changes (actions of `adminCatalog`). */
  readonly audit: AuditLogger<typeof adminCatalog>;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0: any free port. @default 0 */
  readonly port?: number;
  /** Reverse proxies in front of the panel whose `X-Forwarded-For` and `X-Forwarded-Proto` count (as `auditContext`'s option). @default 0 */
  readonly trustedProxies?: number;
  /** The URL users reach the panel at through a proxy: its origin may send changes, its host is this panel's; https makes the cookie Secure. */
  readonly publicUrl?: string;
}

const MAX_BODY = 64 * 1024;

type ChangeAction = 'audit_destination.create' | 'audit_destination.update' | 'audit_destination.delete' | 'audit_destination.pause' | 'audit_destination.resume';
type ChangeDetails<A extends ChangeAction> = DetailsOf<typeof adminCatalog, A>;
/** What an action records beyond the destination and the outcome (the fields changed, the events abandoned). */
type ChangeExtra<A extends ChangeAction> = Omit<ChangeDetails<A>, 'destination' | 'revision' | 'outcome' | 'error'>;

/** localhost, 127.0.0.0/8 and ::1: the names and addresses of this machine alone. */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** The Host header names a loopback host (with or without a port). */
function isLoopbackHost(header: string | undefined): boolean {
  const match = header === undefined ? null : /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header);
  return match !== null && isLoopbackName((match[1] ?? match[2]!).toLowerCase());
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Request {
  readonly raw: IncomingMessage;
  /** Who the request acts as (set on every route that needs authentication). */
  readonly principal: Principal | undefined;
  /** The session of a browser (absent for bearer tokens). */
  readonly session: Session | undefined;
  body(): Promise<Record<string, unknown>>;
}

type Handler = (request: Request, params: string[]) => Promise<{ status?: number; body: unknown; headers?: Record<string, string> }>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** public: reachable without a session (the page shell and login only); admin: administrators only. */
  readonly access: 'public' | 'user' | 'admin';
  readonly handler: Handler;
}

/** May this principal see (and change) this destination? Installation destinations are the administrators'. */
function visible(principal: Principal, destination: Pick<Destination, 'site'>): boolean {
  return principal.admin || (destination.site !== undefined && principal.sites.includes(destination.site));
}

/** What the API returns for a destination: never a secret, only whether each is set. */
function publicView(destination: StoredDestination): Destination {
  const { secretFiles: _secretFiles, ...rest } = destination;
  return rest;
}

export async function startAdminServer(options: AdminServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const { control, auth, audit } = options;
  const host = options.host ?? '127.0.0.1';
  const trustedProxies = options.trustedProxies ?? 0;
  const publicUrl = options.publicUrl === undefined ? undefined : new URL(options.publicUrl);
  /** The client: the socket's peer, or behind trusted proxies the address they recorded (the library's own rule). */
  const clientOf = (raw: IncomingMessage): string => clientAddress(raw, trustedProxies) ?? 'unknown';
  /** Over TLS: to this server, or to a trusted proxy that says so; or always, when the public URL is https. */
  const secure = (raw: IncomingMessage): boolean =>
    publicUrl?.protocol === 'https:' ||
    (raw.socket as Partial<TLSSocket>).encrypted === true ||
    (trustedProxies > 0 && String(raw.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase() === 'https');

  /** The actor (a user, or `token:<id>`) and the context of an audit event; a site destination's site is in it, so the event reaches that site's own stream. */
  const actorOf = (request: Request, destination?: Pick<Destination, 'site'>) => {
    const ip = clientOf(request.raw);
    const principal = request.principal!;
    return {
      actor: { type: 'user' as const, user: { id: principal.id, email: principal.email, name: principal.id } },
      context: {
        ...(isIP(ip) ? { ip_address: ip } : {}),
        ...(request.raw.headers['user-agent'] ? { user_agent: String(request.raw.headers['user-agent']).slice(0, 256) } : {}),
        ...(destination?.site !== undefined ? { site: { id: destination.site } } : {}),
      },
    };
  };

  const expectedRevision = (request: Request): number => {
    const header = request.raw.headers['if-match'];
    if (header === undefined) throw new HttpError(428, 'If-Match: <revision> is required on every change (the revision you are changing)', 'If-Match');
    const revision = Number(String(header).replace(/"/g, ''));
    if (!Number.isInteger(revision)) throw new HttpError(400, 'must be a revision number', 'If-Match');
    return revision;
  };

  /** A destination the request may see; any other is not found, whether it exists or not. */
  const find = (request: Request, id: string): StoredDestination => {
    const destination = control.destinations().find((d) => d.id === id);
    if (!destination || !visible(request.principal!, destination)) throw new HttpError(404, `no destination ${id}`, 'id');
    return destination;
  };

  const ref = (d: Destination) => ({ id: d.id, name: d.name, type: d.type });
  /** Counts and reasons only: a dead letter holds an event, which the API never returns. */
  const deadLetterView = (letters: DestinationLetters) => ({ records: letters.records, oldest: letters.oldest ?? null, reasons: letters.reasons, unreadable: letters.unreadable, pendingRedrives: letters.pendingRedrives });

  /** Applies, and logs the change (applied, or rejected with the reason) as an audit event. */
  const applyChange = async <A extends ChangeAction>(request: Request, action: A, destination: Destination, list: readonly StoredDestination[], change: string, extra: ChangeExtra<A>) => {
    const who = actorOf(request, destination);
    const log = (outcome: Pick<ChangeDetails<A>, 'revision' | 'outcome' | 'error'>) =>
      audit.logEvent(action, { ...who, details: { destination: ref(destination), ...outcome, ...extra } as ChangeDetails<A> });
    try {
      const revision = await control.apply(who.actor.user.id, expectedRevision(request), change, list);
      log({ revision: revision.revision, outcome: 'applied' });
      return revision;
    } catch (error) {
      if (error instanceof ApplyRejectedError) log({ outcome: 'rejected', error: error.message.slice(0, 1000) });
      throw error;
    }
  };

  const parse = async (request: Request, input: Record<string, unknown>, previous?: StoredDestination) => {
    const principal = request.principal!;
    // An owner of one site, or a site's token: its destinations are of that site.
    const body = !previous && !principal.admin && input['site'] === undefined && principal.sites.length === 1 ? { ...input, site: principal.sites[0] } : input;
    const others = control.destinations().filter((d) => d.id !== previous?.id);
    // A stored destination that is disabled has no receiver running: its port is free, and still its own.
    const directPort = previous?.directPort ?? (await freePort(control.destinations().map((d) => d.directPort)));
    const { destination, secrets } = parseDestination(body, { path: 'destination', ...(previous ? { previous } : {}), formats: control.formats(), directPort });
    if (!visible(principal, destination)) throw new HttpError(403, `you manage the destinations of ${principal.sites.map((site) => `site ${site}`).join(', ')} only`, 'destination.site');
    // Ids name the Collector's components: one of another site is taken too (and that is all this says of it).
    if (!previous && others.some((d) => d.id === destination.id)) throw new FieldError('destination.id', `${destination.id} is taken: choose another id`);
    if (others.some((d) => d.site === destination.site && d.name === destination.name)) throw new FieldError('destination.name', `another destination ${destination.site === undefined ? 'of the installation' : `of site ${destination.site}`} is named ${destination.name}`);
    return { destination, secrets };
  };

  const routes: Route[] = [];
  const route = (method: string, path: string, handler: Handler, access: Route['access'] = 'user') =>
    routes.push({ method, pattern: new RegExp(`^${path.replace(/\{[a-z]+\}/g, '([^/]+)')}$`), access, handler });

  route('GET', '/', async () => ({ body: PAGE_HTML, headers: { 'content-type': 'text/html; charset=utf-8' } }), 'public');
  const pageScript = readPageScript();
  route('GET', '/admin.js', async () => ({ body: pageScript, headers: { 'content-type': 'text/javascript; charset=utf-8' } }), 'public');

  route(
    'POST',
    '/api/login',
    async (request) => {
      const client = clientOf(request.raw);
      // The body first: the limit check and the attempt then run in one tick, so parallel requests cannot all pass the check.
      const credentials = await request.body();
      const wait = auth.retryAfter(client);
      if (wait > 0) throw new HttpError(429, `too many failed logins: try again in ${wait} s`, undefined, { retryAfter: wait });
      const session = await auth.login(client, credentials);
      if (!session) throw new HttpError(401, 'wrong token, user or password');
      return { body: sessionView(session.principal, session), headers: { 'set-cookie': auth.cookie(session, secure(request.raw)) } };
    },
    'public',
  );
  route('POST', '/api/logout', async (request) => {
    if (!request.session) throw new HttpError(400, 'no session to end: an API token is sent with each request', 'Authorization');
    auth.logout(request.session);
    return { body: { ok: true }, headers: { 'set-cookie': auth.cookie(undefined, secure(request.raw)) } };
  });
  route('GET', '/api/session', async (request) => ({ body: sessionView(request.principal!, request.session) }));
  route('GET', '/api/openapi.json', async () => ({ body: openApiDocument() }));

  route('GET', '/api/destinations', async (request) => {
    const principal = request.principal!;
    const current = control.current();
    // The archive holds every site's events: the administrators' only.
    const archive = principal.admin
      ? { archive: { id: 'archive', name: 'File archive (system of record)', type: 'archive', path: control.archive.path, health: control.health.health('lossless/archive', { enabled: true, paused: false }, control.supervisor.log()) } }
      : {};
    return {
      body: {
        revision: current.revision,
        formats: control.formats(),
        ...archive,
        destinations: await Promise.all(current.destinations.filter((d) => visible(principal, d)).map(async (d) => ({ ...publicView(d), health: control.destinationHealth(d), deadLetters: deadLetterView(await control.deadLetters(d)) }))),
      },
      headers: { etag: `"${current.revision}"` },
    };
  });
  route('GET', '/api/destinations/{id}', async (request, [id]) => {
    const destination = find(request, id!);
    return { body: { revision: control.current().revision, destination: { ...publicView(destination), health: control.destinationHealth(destination), deadLetters: deadLetterView(await control.deadLetters(destination)) } } };
  });

  // What the destination refused for good (kept by its lossless exporter), and the re-drive that
  // hands it back to the gateway once the cause is fixed.
  route('GET', '/api/destinations/{id}/dead-letters', async (request, [id]) => {
    const destination = find(request, id!);
    return { body: deadLetterView(await control.deadLetters(destination)) };
  });
  route('POST', '/api/destinations/{id}/dead-letters/redrive', async (request, [id]) => {
    const destination = find(request, id!);
    const redriven = await control.redriveDeadLetters(destination);
    audit.logEvent('audit_destination.redrive', { ...actorOf(request, destination), details: { destination: ref(destination), redriven_records: redriven } });
    return { body: { redriven } };
  });

  route('POST', '/api/destinations', async (request) => {
    const { backfillSince, ...input } = await request.body();
    const since = backfillSince === undefined ? undefined : Date.parse(String(backfillSince));
    if (since !== undefined && Number.isNaN(since)) throw new FieldError('backfillSince', 'must be a date and time (ISO 8601)');
    const { destination, secrets } = await parse(request, input);
    // Created paused: what it misses starts now (replayed on resume).
    const stored: StoredDestination = {
      ...destination,
      ...(destination.paused ? { pausedAt: new Date().toISOString(), pausedPosition: control.archive.position() } : {}),
      secretFiles: control.state.storeSecrets(destination.id, secrets),
    };
    const revision = await applyChange(request, 'audit_destination.create', destination, [...control.destinations(), stored], `create ${destination.id}`, {});
    const replayed = since !== undefined ? await replay(request, stored, { since, until: Date.now() }) : undefined;
    return { status: 201, body: { revision: revision.revision, applyMillis: revision.applyMillis, destination: publicView(stored), ...(replayed !== undefined ? { replayed } : {}) } };
  });

  route('PUT', '/api/destinations/{id}', async (request, [id]) => {
    const previous = find(request, id!);
    const input = await request.body();
    const { destination, secrets } = await parse(request, input, previous);
    const stored: StoredDestination = { ...destination, secretFiles: control.state.storeSecrets(destination.id, secrets, previous.secretFiles) };
    const fields = Object.keys(input).filter((k) => JSON.stringify((previous as unknown as Record<string, unknown>)[k]) !== JSON.stringify(input[k]));
    const list = control.destinations().map((d) => (d.id === id ? stored : d));
    const revision = await applyChange(request, 'audit_destination.update', destination, list, `update ${id}: ${fields.join(', ')}`, { fields });
    return { body: { revision: revision.revision, applyMillis: revision.applyMillis, destination: publicView(stored) } };
  });

  route('DELETE', '/api/destinations/{id}', async (request, [id]) => {
    const destination = find(request, id!);
    // Its queue is left behind: count what it still held, and say so.
    const metrics = await control.health.sample().catch(() => new Map<string, Record<string, number>>());
    const abandoned = metrics.get(control.exporterOf(destination))?.['queue_size'] ?? 0;
    const list = control.destinations().filter((d) => d.id !== id);
    const revision = await applyChange(request, 'audit_destination.delete', destination, list, `delete ${id}`, { abandoned_queued_events: abandoned });
    return { body: { revision: revision.revision, applyMillis: revision.applyMillis, abandonedQueuedEvents: abandoned } };
  });

  route('POST', '/api/destinations/{id}/pause', async (request, [id]) => {
    const destination = find(request, id!);
    if (destination.paused) throw new FieldError('paused', `${id} is already paused`);
    // Taken before the pipeline stops taking live events: what reaches the archive from here on is
    // replayed on resume (an event on both sides of the edge arrives twice, as an identical copy).
    const paused: StoredDestination = { ...destination, paused: true, pausedAt: new Date().toISOString(), pausedPosition: control.archive.position() };
    const revision = await applyChange(request, 'audit_destination.pause', destination, control.destinations().map((d) => (d.id === id ? paused : d)), `pause ${id}`, {});
    return { body: { revision: revision.revision, destination: publicView(paused) } };
  });

  route('POST', '/api/destinations/{id}/resume', async (request, [id]) => {
    const destination = find(request, id!);
    if (!destination.paused) throw new FieldError('paused', `${id} is not paused`);
    const { pausedAt, pausedPosition, ...rest } = destination;
    const resumed: StoredDestination = { ...rest, paused: false };
    const list = control.destinations().map((d) => (d.id === id ? resumed : d));
    const revision = await applyChange(request, 'audit_destination.resume', destination, list, `resume ${id}`, {});
    // The gap: what the archive took from the pause to now, when the pipeline takes live events
    // again, whatever the events' own times (a client's spool backlog, a skewed clock). A
    // destination paused by an earlier version has only the time of its pause: a few seconds
    // before it, by event time.
    const window: ReplayWindow = pausedPosition
      ? { from: pausedPosition, to: control.archive.position() }
      : { since: Date.parse(pausedAt ?? new Date().toISOString()) - 5000, until: Date.now() + 1000 };
    // The paused destination: its pausedAt is when the replayed gap began (the receiver is the same).
    const replayed = await replay(request, destination, window);
    return { body: { revision: revision.revision, destination: publicView(resumed), replayed } };
  });

  const replay = async (request: Request, destination: StoredDestination, window: ReplayWindow) => {
    const since = 'since' in window ? new Date(window.since).toISOString() : destination.pausedAt ?? new Date().toISOString();
    const until = new Date('until' in window ? Math.min(window.until, Date.now()) : Date.now()).toISOString();
    const replayed = await control.replay(destination, window);
    audit.logEvent('audit_destination.replay', { ...actorOf(request, destination), details: { destination: ref(destination), since, until, replayed_events: replayed } });
    return replayed;
  };

  route('POST', '/api/destinations/{id}/replay', async (request, [id]) => {
    const destination = find(request, id!);
    const body = await request.body();
    const since = Date.parse(String(body['since']));
    if (Number.isNaN(since)) throw new FieldError('since', 'must be a date and time (ISO 8601)');
    const until = body['until'] === undefined ? Date.now() : Date.parse(String(body['until']));
    if (Number.isNaN(until) || until < since) throw new FieldError('until', 'must be a date and time after since');
    return { body: { replayed: await replay(request, destination, { since, until }) } };
  });

  route('POST', '/api/destinations/{id}/test', async (request, [id]) => {
    const destination = find(request, id!);
    if (!destination.enabled) throw new FieldError('enabled', `${id} is disabled: enable it to test it`);
    const result = await control.sendTest(destination, request.principal!.id);
    audit.logEvent('audit_destination.test', { ...actorOf(request, destination), details: { destination: ref(destination), delivered: result.delivered } });
    return { body: { ...result, health: control.destinationHealth(destination) } };
  });

  // A site's owners see the revisions that changed their sites' destinations, and of each only
  // their destinations and the diff of their settings (the rendered config holds every site's).
  const seesRevision = (principal: Principal, revision: Revision) => principal.admin || (revision.sites ?? []).some((site) => principal.sites.includes(site));
  const theirs = (principal: Principal, destinations: readonly StoredDestination[]) => destinations.filter((d) => visible(principal, d)).map(publicView);
  route('GET', '/api/revisions', async (request) => {
    const principal = request.principal!;
    const revisions = control.state
      .revisions()
      .filter((revision) => seesRevision(principal, revision))
      .map(({ config: _config, destinations: _destinations, sites, ...summary }) => ({ ...summary, sites: principal.admin ? (sites ?? []) : (sites ?? []).filter((site) => principal.sites.includes(site)) }));
    return { body: { current: control.current().revision, revisions: revisions.reverse() } };
  });
  route('GET', '/api/revisions/{n}', async (request, [n]) => {
    const principal = request.principal!;
    const revision = control.state.revision(Number(n));
    if (!revision || !seesRevision(principal, revision)) throw new HttpError(404, `no revision ${n}`, 'revision');
    const before = control.state.revisions().filter((r) => r.revision < revision.revision && r.status === 'applied').at(-1);
    const { destinations, config, sites, ...rest } = revision;
    if (principal.admin) return { body: { ...rest, sites: sites ?? [], config, destinations: destinations.map(publicView), diff: lineDiff(before?.config ?? '', config) } };
    const mine = theirs(principal, destinations);
    return {
      body: {
        ...rest,
        sites: (sites ?? []).filter((site) => principal.sites.includes(site)),
        destinations: mine,
        diff: lineDiff(stringify(theirs(principal, before?.destinations ?? [])), stringify(mine)),
      },
    };
  });
  route('POST', '/api/revisions/{n}/rollback', async (request, [n]) => {
    const target = control.state.revision(Number(n));
    if (!target || target.status !== 'applied') throw new HttpError(404, `no applied revision ${n}`, 'revision');
    const who = actorOf(request);
    try {
      const revision = await control.apply(who.actor.user.id, expectedRevision(request), `rollback to ${target.revision}`, target.destinations);
      audit.logEvent('audit_config.rollback', { ...who, details: { to_revision: target.revision, revision: revision.revision, outcome: 'applied' } });
      return { body: { revision: revision.revision, applyMillis: revision.applyMillis } };
    } catch (error) {
      if (error instanceof ApplyRejectedError) audit.logEvent('audit_config.rollback', { ...who, details: { to_revision: target.revision, outcome: 'rejected', error: error.message.slice(0, 1000) } });
      throw error;
    }
  }, 'admin');

  const server = createServer((raw, response) => void handle(raw, response));
  const loopbackOnly = isLoopbackName(host);

  async function handle(raw: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(raw.url ?? '/', 'http://admin.invalid');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ...headers,
      });
      response.end(text);
    };
    try {
      // DNS rebinding: a page of another site whose name now resolves to this address reaches the
      // panel with its own name in Host. On a loopback address only loopback names are this panel.
      if (loopbackOnly && !isLoopbackHost(raw.headers.host) && raw.headers.host !== publicUrl?.host) throw new HttpError(421, 'this panel answers to localhost, 127.0.0.1 and [::1] only', 'Host');
      const method = raw.method ?? 'GET';
      const matches = routes.filter((r) => r.pattern.test(url.pathname));
      const match = matches.find((r) => r.method === method);
      if (!match) throw new HttpError(matches.length ? 405 : 404, matches.length ? `${method} is not allowed here` : 'not found');
      // A site's API token (a backend acting for the site's owner) comes with each request, never
      // as a cookie: a browser does not send it by itself, so it needs no CSRF token.
      const bearer = raw.headers.authorization;
      let session: Session | undefined;
      let principal: Principal | undefined;
      if (bearer !== undefined && match.access !== 'public') {
        const client = clientOf(raw);
        const wait = auth.retryAfter(client);
        if (wait > 0) throw new HttpError(429, `too many failed logins: try again in ${wait} s`, 'Authorization', { retryAfter: wait });
        principal = await auth.bearer(client, bearer);
        if (!principal) throw new HttpError(401, 'unknown or wrong API token (Authorization: Bearer <token id>.<secret>)', 'Authorization');
      } else {
        session = auth.session(raw.headers.cookie);
        principal = session?.principal;
      }
      if (match.access !== 'public' && !principal) throw new HttpError(401, 'login required');
      if (method !== 'GET') {
        // A change from another site: the browser says where it comes from.
        const origin = raw.headers.origin;
        if (origin !== undefined && origin !== `http://${raw.headers.host}` && origin !== `https://${raw.headers.host}` && origin !== publicUrl?.origin) throw new HttpError(403, 'cross-origin request refused', 'Origin');
        if (match.access !== 'public' && session && !auth.csrfValid(session, raw.headers['x-csrf-token'] as string | undefined)) throw new HttpError(403, 'missing or wrong CSRF token', 'X-CSRF-Token');
      }
      if (match.access === 'admin' && !principal!.admin) throw new HttpError(403, 'for installation administrators only');
      let bodyRead: Promise<Record<string, unknown>> | undefined;
      const request: Request = {
        raw,
        principal,
        session,
        body: () => (bodyRead ??= readJson(raw)),
      };
      const result = await match.handler(request, pathParameters(match.pattern, url.pathname));
      send(result.status ?? 200, result.body, result.headers);
    } catch (error) {
      if (error instanceof FieldError) return send(400, { error: { field: error.field, message: error.message } });
      if (error instanceof StaleRevisionError) return send(409, { error: { field: 'If-Match', message: error.message }, current: control.current().revision });
      if (error instanceof ApplyRejectedError) return send(422, { error: { message: error.message }, rejectedRevision: error.revision, current: control.current().revision });
      if (error instanceof HttpError) {
        const headers: Record<string, string> = error.extra['retryAfter'] ? { 'retry-after': String(error.extra['retryAfter']) } : {};
        return send(error.status, { error: { ...(error.field ? { field: error.field } : {}), message: error.message } }, headers);
      }
      send(500, { error: { message: (error as Error).message } });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Who is logged in, what they may do, and (with a session) the CSRF token for changes. */
function sessionView(principal: Principal, session: Session | undefined) {
  return { user: principal.id, admin: principal.admin, sites: principal.sites, ...(session ? { csrfToken: session.csrfToken } : {}) };
}

/** The path's parameters, decoded; a malformed percent-encoding is the client's mistake (400). */
function pathParameters(pattern: RegExp, path: string): string[] {
  try {
    return (pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, 'the path holds a malformed percent-encoding', '(path)');
  }
}

async function readJson(raw: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `the body is larger than ${MAX_BODY} bytes`, '(body)');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new HttpError(400, `not a JSON object: ${(error as Error).message}`, '(body)');
  }
}

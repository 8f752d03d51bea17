// Who may use the panel, and as whom. An administrator token; users with scrypt-hashed passwords
// from a file, each an installation administrator or the owner of listed sites
// (`name:scrypt:<salt base64>:<hash base64>[:email[:roles]]`, roles `admin` or `owner=<site>,...`;
// a line without roles is an administrator's, as before roles existed); and API tokens of one site
// each, from a tokens file (`<token id>:<site>:scrypt:<salt>:<hash>`), sent as `Authorization:
// Bearer <token id>.<secret>` by a backend acting for the site's owner. Sessions live in memory, in
// HttpOnly SameSite=Strict cookies; every change made with a session carries its CSRF token; failed
// logins and bearer tokens are rate-limited per client address. Expired sessions and old failures
// are swept on a timer.
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { SITE_ID } from './destinations.js';

const KEY_LENGTH = 32;
export const SESSION_COOKIE = 'otel_audit_admin';
const SESSION_IDLE_MILLIS = 30 * 60_000;
const SESSION_MAX_MILLIS = 8 * 3_600_000;
const FAILURES_ALLOWED = 5;
const FAILURE_WINDOW_MILLIS = 60_000;
const SWEEP_INTERVAL_MILLIS = 60_000;
/** A bearer token checked once is known for this long (by its SHA-256): a backend's every call does not cost a scrypt. */
const TOKEN_CACHE_MILLIS = 5 * 60_000;
/** On the libuv thread pool: a login does not hold up the panel's other requests for scrypt's 50 ms. */
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keyLength: number) => Promise<Buffer>;

const USER_NAME = /^[\w.@-]{1,64}$/;
const TOKEN_ID = /^[a-z0-9_-]{1,64}$/;

/** Who a request acts as. */
export interface Principal {
  /** The actor's id in audit events: the user's name, or `token:<token id>`. */
  readonly id: string;
  readonly email: string;
  /** An installation administrator: every destination, the archive, whole-config rollbacks. */
  readonly admin: boolean;
  /** The sites whose destinations it manages (an owner's, a site token's); empty for an administrator. */
  readonly sites: readonly string[];
}

/** What a user of the users file may do. */
export type Roles = { readonly admin: true } | { readonly admin: false; readonly sites: readonly string[] };

/** `admin`, or `owner=<site>,<site>`. */
export function parseRoles(text: string): Roles {
  if (text === 'admin') return { admin: true };
  const owner = /^owner=(.+)$/.exec(text);
  const sites = owner?.[1]!.split(',').map((site) => site.trim());
  if (!sites?.length || sites.some((site) => !SITE_ID.re.test(site))) throw new Error(`roles: expected admin or owner=<site>[,<site>...], got "${text.slice(0, 80)}"`);
  return { admin: false, sites: [...new Set(sites)] };
}

function formatRoles(roles: Roles): string {
  return roles.admin ? 'admin' : `owner=${roles.sites.join(',')}`;
}

/** A line for the users file (an administrator's unless roles say otherwise). */
export function hashPassword(user: string, password: string, email = '', roles: Roles = { admin: true }): string {
  if (!USER_NAME.test(user)) throw new Error('user: letters, digits and . _ @ - only');
  if (email.includes(':')) throw new Error('email: must not contain ":"');
  const salt = randomBytes(16);
  const hash = `${user}:scrypt:${salt.toString('base64')}:${scryptSync(password, salt, KEY_LENGTH).toString('base64')}`;
  if (roles.admin) return `${hash}${email ? `:${email}` : ''}`;
  return `${hash}:${email}:${formatRoles(roles)}`;
}

/** A line for the tokens file: the token is sent as `Bearer <id>.<secret>`. */
export function hashToken(id: string, site: string, secret: string): string {
  if (!TOKEN_ID.test(id)) throw new Error('token id: lower case letters, digits, _ and - only (at most 64)');
  if (!SITE_ID.re.test(site)) throw new Error(`site: ${SITE_ID.says}`);
  const salt = randomBytes(16);
  return `${id}:${site}:scrypt:${salt.toString('base64')}:${scryptSync(secret, salt, KEY_LENGTH).toString('base64')}`;
}

interface Hashed {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Base64 of 16 (salt) or 32 (hash) bytes, strictly: a line damaged by hand is an error, not a key nobody has. */
function base64Of(text: string, bytes: number, what: string): Buffer {
  const buffer = Buffer.from(text, 'base64');
  if (buffer.length !== bytes || buffer.toString('base64') !== text) throw new Error(`${what}: expected ${bytes} bytes in base64`);
  return buffer;
}

/** The users file: name → hash, email, roles. Errors name the line. */
export function parseUsersFile(text: string): Map<string, Hashed & { email: string; roles: Roles }> {
  const users = new Map<string, Hashed & { email: string; roles: Roles }>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      const [user, scheme, salt, hash, email, ...roles] = line.split(':');
      if (!user || !USER_NAME.test(user) || scheme !== 'scrypt' || !salt || !hash) throw new Error('expected name:scrypt:<salt>:<hash>[:email[:roles]]');
      users.set(user, { salt: base64Of(salt, 16, 'salt'), hash: base64Of(hash, KEY_LENGTH, 'hash'), email: email ?? '', roles: roles.length ? parseRoles(roles.join(':')) : { admin: true } });
    } catch (error) {
      throw new Error(`usersFile line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return users;
}

/** The tokens file: token id → its site and hash. Errors name the line. */
export function parseTokensFile(text: string): Map<string, Hashed & { site: string }> {
  const tokens = new Map<string, Hashed & { site: string }>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      const [id, site, scheme, salt, hash, ...rest] = line.split(':');
      if (!id || !TOKEN_ID.test(id) || !site || !SITE_ID.re.test(site) || scheme !== 'scrypt' || !salt || !hash || rest.length) throw new Error('expected <token id>:<site>:scrypt:<salt>:<hash>');
      if (tokens.has(id)) throw new Error(`token id ${id} is used twice`);
      tokens.set(id, { site, salt: base64Of(salt, 16, 'salt'), hash: base64Of(hash, KEY_LENGTH, 'hash') });
    } catch (error) {
      throw new Error(`tokensFile line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return tokens;
}

export interface Session {
  readonly id: string;
  readonly principal: Principal;
  readonly csrfToken: string;
  readonly created: number;
  lastSeen: number;
}

export interface AuthOptions {
  /** The administrator token (logs in as `admin`). */
  readonly adminToken?: string;
  /** The users file (`name:scrypt:salt:hash[:email[:roles]]` lines). */
  readonly usersFile?: string;
  /** The site API tokens (`<token id>:<site>:scrypt:salt:hash` lines). */
  readonly tokensFile?: string;
  /** The clock (tests). @default Date.now */
  readonly now?: () => number;
  /** How often expired sessions and failures older than the limit's window are dropped. @default 60000 */
  readonly sweepIntervalMillis?: number;
}

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export class Authenticator {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, number[]>();
  private readonly users: Map<string, Hashed & { email: string; roles: Roles }>;
  private readonly tokens: Map<string, Hashed & { site: string }>;
  /** SHA-256 of a bearer token checked before → who it is, until when. */
  private readonly knownTokens = new Map<string, { principal: Principal; until: number }>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: AuthOptions) {
    this.now = options.now ?? Date.now;
    if (!options.adminToken && !options.usersFile && !options.tokensFile) throw new Error('adminToken, usersFile or tokensFile is required');
    this.users = options.usersFile ? parseUsersFile(readFileSync(options.usersFile, 'utf8')) : new Map();
    this.tokens = options.tokensFile ? parseTokensFile(readFileSync(options.tokensFile, 'utf8')) : new Map();
    // Unref'd: the sweep alone never keeps the process running.
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMillis ?? SWEEP_INTERVAL_MILLIS).unref();
  }

  /** Stops the sweep. */
  close(): void {
    clearInterval(this.sweeper);
  }

  /** What is held in memory now: sessions, and client addresses with failures on record. */
  held(): { sessions: number; failedClients: number } {
    return { sessions: this.sessions.size, failedClients: this.failures.size };
  }

  sweepHoldsProcessOpen(): boolean {
    return this.sweeper.hasRef();
  }

  /** Drops the sessions that expired and the failures older than the limit's window. */
  private sweep(): void {
    const now = this.now();
    for (const session of this.sessions.values()) if (this.expired(session, now)) this.sessions.delete(session.id);
    for (const client of [...this.failures.keys()]) this.recentFailures(client, now);
    for (const [key, { until }] of [...this.knownTokens]) if (until < now) this.knownTokens.delete(key);
  }

  private expired(session: Session, now: number): boolean {
    return now - session.lastSeen > SESSION_IDLE_MILLIS || now - session.created > SESSION_MAX_MILLIS;
  }

  /** The client's failures within the window; an address with none is forgotten. */
  private recentFailures(client: string, now: number): number[] {
    const recent = (this.failures.get(client) ?? []).filter((at) => at > now - FAILURE_WINDOW_MILLIS);
    if (recent.length) this.failures.set(client, recent);
    else this.failures.delete(client);
    return recent;
  }

  /** Seconds until `client` may try again, or 0. */
  retryAfter(client: string, now = this.now()): number {
    const recent = this.recentFailures(client, now);
    return recent.length >= FAILURES_ALLOWED ? Math.ceil((recent[0]! + FAILURE_WINDOW_MILLIS - now) / 1000) : 0;
  }

  /**
   * Checks the credentials; a new session, or undefined (counted against the client). The attempt
   * is counted as a failure at once, in the tick of the caller's limit check, and taken back if it
   * succeeds: parallel attempts cannot all pass the check while their hashes are computed.
   */
  async login(client: string, credentials: { token?: unknown; user?: unknown; password?: unknown }): Promise<Session | undefined> {
    const principal = await this.attempt(client, () => this.check(credentials));
    if (!principal) return undefined;
    const now = this.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), principal, csrfToken: randomBytes(32).toString('base64url'), created: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * The site token of an `Authorization: Bearer <token id>.<secret>` header, or undefined (a
   * failure counted against the client, as a login's). No session, no cookie: each request carries it.
   */
  async bearer(client: string, header: string): Promise<Principal | undefined> {
    const token = /^Bearer ([a-z0-9_-]{1,64})\.(\S{1,512})$/.exec(header);
    const digest = createHash('sha256').update(header).digest('base64');
    const known = this.knownTokens.get(digest);
    if (known && known.until >= this.now()) return known.principal;
    const principal = await this.attempt(client, async () => {
      if (!token) return undefined;
      const entry = this.tokens.get(token[1]!);
      // Unknown token ids cost the same scrypt as known ones.
      const candidate = await scryptAsync(token[2]!, entry?.salt ?? Buffer.alloc(16), KEY_LENGTH);
      return entry && equal(candidate, entry.hash) ? { id: `token:${token[1]}`, email: '', admin: false, sites: [entry.site] } : undefined;
    });
    if (principal) this.knownTokens.set(digest, { principal, until: this.now() + TOKEN_CACHE_MILLIS });
    return principal;
  }

  /**
   * Runs a credential check. The attempt is counted as a failure at once, in the tick of the
   * caller's limit check, and taken back if it succeeds: parallel attempts cannot all pass the
   * check while their hashes are computed.
   */
  private async attempt(client: string, check: () => Promise<Principal | undefined>): Promise<Principal | undefined> {
    const attempt = this.now();
    this.failures.set(client, [...(this.failures.get(client) ?? []), attempt]);
    const principal = await check();
    if (!principal) return undefined;
    const recorded = this.failures.get(client) ?? [];
    const counted = recorded.indexOf(attempt);
    if (counted !== -1) recorded.splice(counted, 1);
    if (!recorded.length) this.failures.delete(client);
    return principal;
  }

  private async check({ token, user, password }: { token?: unknown; user?: unknown; password?: unknown }): Promise<Principal | undefined> {
    if (typeof token === 'string' && this.options.adminToken && equal(Buffer.from(token), Buffer.from(this.options.adminToken))) return { id: 'admin', email: '', admin: true, sites: [] };
    if (typeof user !== 'string' || typeof password !== 'string') return undefined;
    const entry = this.users.get(user);
    // Unknown users cost the same scrypt as known ones.
    const candidate = await scryptAsync(password, entry?.salt ?? Buffer.alloc(16), KEY_LENGTH);
    if (!entry || !equal(candidate, entry.hash)) return undefined;
    return { id: user, email: entry.email, admin: entry.roles.admin, sites: entry.roles.admin ? [] : entry.roles.sites };
  }

  /** The session of a request's cookie header, if it is valid and fresh. */
  session(cookieHeader: string | undefined, now = this.now()): Session | undefined {
    const id = cookieHeader
      ?.split(';')
      .map((c) => c.trim().split('='))
      .find(([name]) => name === SESSION_COOKIE)?.[1];
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (this.expired(session, now)) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  logout(session: Session): void {
    this.sessions.delete(session.id);
  }

  csrfValid(session: Session, header: string | undefined): boolean {
    return typeof header === 'string' && equal(Buffer.from(header), Buffer.from(session.csrfToken));
  }

  cookie(session: Session | undefined, secure: boolean): string {
    const attributes = `HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
    return session ? `${SESSION_COOKIE}=${session.id}; ${attributes}` : `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`;
  }
}

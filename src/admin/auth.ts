// Who may use the panel: an administrator token, or users with scrypt-hashed passwords from a file
// (`name:scrypt:<salt base64>:<hash base64>[:email]` per line). Sessions live in memory, in HttpOnly
// SameSite=Strict cookies; every change must carry the session's CSRF token; failed logins are
// rate-limited per client address. Expired sessions and old failures are swept on a timer.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const KEY_LENGTH = 32;
export const SESSION_COOKIE = 'otel_audit_admin';
const SESSION_IDLE_MILLIS = 30 * 60_000;
const SESSION_MAX_MILLIS = 8 * 3_600_000;
const FAILURES_ALLOWED = 5;
const FAILURE_WINDOW_MILLIS = 60_000;
const SWEEP_INTERVAL_MILLIS = 60_000;
/** On the libuv thread pool: a login does not hold up the panel's other requests for scrypt's 50 ms. */
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keyLength: number) => Promise<Buffer>;

/** A line for the users file. */
export function hashPassword(user: string, password: string, email = ''): string {
  if (!/^[\w.@-]{1,64}$/.test(user)) throw new Error('user: letters, digits and . _ @ - only');
  const salt = randomBytes(16);
  return `${user}:scrypt:${salt.toString('base64')}:${scryptSync(password, salt, KEY_LENGTH).toString('base64')}${email ? `:${email}` : ''}`;
}

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrfToken: string;
  readonly created: number;
  lastSeen: number;
}

export interface AuthOptions {
  /** The administrator token (logs in as `admin`). */
  readonly adminToken?: string;
  /** The users file (`name:scrypt:salt:hash` lines). */
  readonly usersFile?: string;
  /** The clock (tests). @default Date.now */
  readonly now?: () => number;
  /** How often expired sessions and failures older than the limit's window are dropped. @default 60000 */
  readonly sweepIntervalMillis?: number;
}

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export class Authenticator {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, number[]>();
  private readonly users = new Map<string, { salt: Buffer; hash: Buffer; email: string }>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: AuthOptions) {
    this.now = options.now ?? Date.now;
    if (!options.adminToken && !options.usersFile) throw new Error('adminToken or usersFile is required');
    if (options.usersFile) {
      readFileSync(options.usersFile, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (line.trim() === '' || line.startsWith('#')) return;
          const [user, scheme, salt, hash, email] = line.trim().split(':');
          if (!user || scheme !== 'scrypt' || !salt || !hash) throw new Error(`usersFile line ${index + 1}: expected name:scrypt:<salt>:<hash>[:email]`);
          this.users.set(user, { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64'), email: email ?? '' });
        });
    }
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
    const attempt = this.now();
    this.failures.set(client, [...(this.failures.get(client) ?? []), attempt]);
    const user = await this.check(credentials);
    if (!user) return undefined;
    const recorded = this.failures.get(client) ?? [];
    const counted = recorded.indexOf(attempt);
    if (counted !== -1) recorded.splice(counted, 1);
    if (!recorded.length) this.failures.delete(client);
    const now = this.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), user, csrfToken: randomBytes(32).toString('base64url'), created: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  private async check({ token, user, password }: { token?: unknown; user?: unknown; password?: unknown }): Promise<string | undefined> {
    if (typeof token === 'string' && this.options.adminToken && equal(Buffer.from(token), Buffer.from(this.options.adminToken))) return 'admin';
    if (typeof user !== 'string' || typeof password !== 'string') return undefined;
    const entry = this.users.get(user);
    // Unknown users cost the same scrypt as known ones.
    const candidate = await scryptAsync(password, entry?.salt ?? Buffer.alloc(16), KEY_LENGTH);
    return entry && equal(candidate, entry.hash) ? user : undefined;
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

  /** The administrator's email for the audit trail (from the users file; empty when unknown). */
  emailOf(user: string): string {
    return this.users.get(user)?.email ?? '';
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

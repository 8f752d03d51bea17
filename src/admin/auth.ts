// Who may use the panel: an administrator token, or users with scrypt-hashed passwords from a file
// (`name:scrypt:<salt base64>:<hash base64>[:email]` per line). Sessions live in memory, in HttpOnly
// SameSite=Strict cookies; every change must carry the session's CSRF token; failed logins are
// rate-limited per client address.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const KEY_LENGTH = 32;
export const SESSION_COOKIE = 'otel_audit_admin';
const SESSION_IDLE_MILLIS = 30 * 60_000;
const SESSION_MAX_MILLIS = 8 * 3_600_000;
const FAILURES_ALLOWED = 5;
const FAILURE_WINDOW_MILLIS = 60_000;

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
}

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export class Authenticator {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, number[]>();
  private readonly users = new Map<string, { salt: Buffer; hash: Buffer; email: string }>();

  constructor(private readonly options: AuthOptions) {
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
  }

  /** Seconds until `client` may try again, or 0. */
  retryAfter(client: string, now = Date.now()): number {
    const recent = (this.failures.get(client) ?? []).filter((at) => at > now - FAILURE_WINDOW_MILLIS);
    this.failures.set(client, recent);
    return recent.length >= FAILURES_ALLOWED ? Math.ceil((recent[0]! + FAILURE_WINDOW_MILLIS - now) / 1000) : 0;
  }

  /** Checks the credentials; a new session, or undefined (counted against the client). */
  login(client: string, credentials: { token?: unknown; user?: unknown; password?: unknown }): Session | undefined {
    const user = this.check(credentials);
    if (!user) {
      this.failures.set(client, [...(this.failures.get(client) ?? []), Date.now()]);
      return undefined;
    }
    const now = Date.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), user, csrfToken: randomBytes(32).toString('base64url'), created: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  private check({ token, user, password }: { token?: unknown; user?: unknown; password?: unknown }): string | undefined {
    if (typeof token === 'string' && this.options.adminToken && equal(Buffer.from(token), Buffer.from(this.options.adminToken))) return 'admin';
    if (typeof user !== 'string' || typeof password !== 'string') return undefined;
    const entry = this.users.get(user);
    // Unknown users cost the same scrypt as known ones.
    const candidate = scryptSync(password, entry?.salt ?? Buffer.alloc(16), KEY_LENGTH);
    return entry && equal(candidate, entry.hash) ? user : undefined;
  }

  /** The session of a request's cookie header, if it is valid and fresh. */
  session(cookieHeader: string | undefined, now = Date.now()): Session | undefined {
    const id = cookieHeader
      ?.split(';')
      .map((c) => c.trim().split('='))
      .find(([name]) => name === SESSION_COOKIE)?.[1];
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (now - session.lastSeen > SESSION_IDLE_MILLIS || now - session.created > SESSION_MAX_MILLIS) {
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

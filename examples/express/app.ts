// A small Express 5 application with an audit trail: logins (and failed ones), logouts, and notes.
// What to copy into your own application:
//   - `auditContext({ identify })` maps the user row to the actor's fields explicitly: the row's
//     other fields (its role, its password hash) never reach an event;
//   - after a login, `setAuditActor(req, ...)` makes the user who just logged in the actor of the
//     `user.login` event and of everything the request logs after it (not `guest`);
//   - a failed login is `user.login_failed` with its reason, logged by the guest who tried.
// Every response that logged an event carries its id in `x-audit-event-id`.
import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Response } from 'express';
import { auditContext, setAuditActor, type AuditLogger } from 'otel-audit';
import type { catalog } from './catalog.js';

/** A user as a database hands it out: more than an audit event may carry. */
interface UserRow {
  id: number;
  email: string;
  displayName: string;
  role: 'admin' | 'member';
  passwordHash: string;
  failedLogins: number;
}

/** Failed logins in a row after which an account is locked. */
const LOCK_AFTER = 5;

const hash = (password: string, salt = randomBytes(16).toString('base64url')): string => `${salt}$${scryptSync(password, salt, 32).toString('base64url')}`;
const matches = (password: string, stored: string): boolean => {
  const [salt, expected] = stored.split('$');
  return timingSafeEqual(Buffer.from(hash(password, salt).split('$')[1]!), Buffer.from(expected!));
};

export function createApp(audit: AuditLogger<typeof catalog>) {
  // The demo's one user; its password is in the example's README.
  const users = new Map<string, UserRow>([['flapjack@example.com', { id: 146, email: 'flapjack@example.com', displayName: 'Flapjack Toasty', role: 'admin', passwordHash: hash('correct horse battery staple'), failedLogins: 0 }]]);
  const sessions = new Map<string, UserRow>();
  const notes = new Map<string, { id: string; title: string }>();

  const sessionOf = (req: IncomingMessage): string | undefined => /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
  const actorOf = (user: UserRow) => ({ type: 'user' as const, user: { id: user.id, email: user.email, name: user.displayName } });
  const sent = (res: Response, eventId: string, status = 200, body: unknown = {}) => res.status(status).set('x-audit-event-id', eventId).json(body);

  const app = express();
  app.use(express.json());
  // After express.json(): the body parser calls on from its own callbacks, and the audit context
  // is set for everything that comes after this line.
  app.use(
    auditContext({
      identify: (req) => {
        const sid = sessionOf(req);
        const user = sid === undefined ? undefined : sessions.get(sid);
        return user && { actor: actorOf(user), sessionId: sid };
      },
      onError: (error) => console.error(`audit: ${error.message}`),
    }),
  );

  app.get('/', (_req, res) => res.type('text').send('POST /login {"email","password"}, then POST /notes {"title"}, DELETE /notes/:id, POST /logout\n'));

  app.post('/login', (req, res) => {
    const email = String(req.body?.email ?? '');
    const user = users.get(email);
    const refuse = (reason: 'unknown_user' | 'bad_password' | 'locked') =>
      sent(res, audit.logEvent('user.login_failed', { details: { login: email, reason, method: 'password' } }), 401, { error: 'wrong email or password' });
    if (!user) return refuse('unknown_user');
    if (user.failedLogins >= LOCK_AFTER) return refuse('locked');
    if (!matches(String(req.body?.password ?? ''), user.passwordHash)) {
      user.failedLogins++;
      return refuse('bad_password');
    }
    user.failedLogins = 0;
    const sid = randomUUID();
    sessions.set(sid, user);
    // From here on this request acts as the user who logged in, in the new session.
    setAuditActor(req, { actor: actorOf(user), sessionId: sid });
    res.set('set-cookie', `sid=${sid}; HttpOnly; SameSite=Strict; Path=/`);
    return sent(res, audit.logEvent('user.login', { details: { method: 'password' } }), 200, { user: actorOf(user).user });
  });

  app.use((req, res, next) => (sessions.has(sessionOf(req) ?? '') ? next() : res.status(401).json({ error: 'log in first' })));

  app.post('/logout', (req, res) => {
    const id = audit.logEvent('user.logout', { details: {} });
    sessions.delete(sessionOf(req)!);
    res.set('set-cookie', 'sid=; Max-Age=0; Path=/');
    sent(res, id);
  });
  app.post('/notes', (req, res) => {
    const note = { id: randomBytes(8).toString('hex'), title: String(req.body?.title ?? 'Untitled') };
    notes.set(note.id, note);
    sent(res, audit.logEvent('note.create', { details: { note } }), 201, { note });
  });
  app.delete('/notes/:id', (req, res) => {
    const note = notes.get(req.params.id);
    if (!note) return res.status(404).json({ error: 'no such note' });
    notes.delete(note.id);
    return sent(res, audit.logEvent('note.delete', { details: { note } }));
  });
  return app;
}

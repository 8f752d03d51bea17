// A small document service (sites, workspaces, documents, users, API keys, configuration), built on
// Express, whose endpoints emit the matching events of the bundled catalog: all 40 actions are
// reachable. Every response that logged an event carries its id in `x-audit-event-id`.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { auditContext, type AuditLogger } from '../../src/index.js';

type Access = 'owners' | 'editors' | 'viewers' | 'members';
interface User { id: number; name: string; email: string; apiKey?: string }
interface Site { id: number; name: string; domain: string; members: Map<number, Access | null> }
interface Workspace { id: number; name: string; siteId: number; trashed: boolean }
interface Doc { id: string; name: string; workspaceId: number; urlId: string; actionNum: number; webhooks: Map<string, string[]> }
interface Config { id: number; key: string; value: unknown; siteId?: number }

const newId = (): string => randomBytes(16).toString('base64url').slice(0, 22);

export function createApp(audit: AuditLogger<typeof gristCatalog>) {
  const users = new Map<number, User>([[146, { id: 146, name: 'Flapjack Toasty', email: 'flapjack@example.com' }]]);
  const sessions = new Map<string, number>();
  const sites = new Map<number, Site>();
  const workspaces = new Map<number, Workspace>();
  const docs = new Map<string, Doc>();
  const configs = new Map<number, Config>();
  let nextNumber = 1000;

  const sessionOf = (req: IncomingMessage): string | undefined => /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
  const userOf = (req: IncomingMessage): User | undefined => {
    const sid = sessionOf(req);
    const id = sid === undefined ? undefined : sessions.get(sid);
    return id === undefined ? undefined : users.get(id);
  };
  const siteRef = (site: Site) => ({ id: site.id, name: site.name, domain: site.domain });
  const wsRef = (ws: Workspace) => ({ id: ws.id, name: ws.name });
  const userRef = (user: User) => ({ id: user.id, name: user.name, email: user.email });

  const app = express();
  app.use(express.json());
  // Who and where, for every event of the request: the session's user, the client address
  // (behind one trusted proxy when TRUSTED_PROXIES=1), the user agent, the site of the path.
  app.use(
    auditContext({
      trustedProxies: Number(process.env['TRUSTED_PROXIES'] ?? 0),
      identify: (req) => {
        const user = userOf(req);
        return user ? { actor: { type: 'user', user: userRef(user) }, sessionId: sessionOf(req) } : undefined;
      },
      site: (req) => {
        const id = Number(/^\/sites\/(\d+)/.exec(req.url ?? '')?.[1]);
        const site = sites.get(id);
        return site ? siteRef(site) : undefined;
      },
    }),
  );

  /** Sends the event id back, so that a client (the demo) can follow the event to the SIEM. */
  const done = (res: Response, id: string, body: unknown = {}) => res.set('x-audit-event-id', id).json(body);
  const need = <T>(value: T | undefined, res: Response, what: string): value is T => {
    if (value === undefined) res.status(404).json({ error: `${what} not found` });
    return value !== undefined;
  };
  const site = (req: Request, res: Response) => { const s = sites.get(Number(req.params['id'])); return need(s, res, 'site') ? s : undefined; };
  const ws = (req: Request, res: Response) => { const w = workspaces.get(Number(req.params['id'])); return need(w, res, 'workspace') ? w : undefined; };
  const doc = (req: Request, res: Response) => { const d = docs.get(String(req.params['id'])); return need(d, res, 'document') ? d : undefined; };
  const docRef = (d: Doc) => ({ id: d.id, name: d.name });
  const docInWs = (d: Doc) => ({ ...docRef(d), workspace: wsRef(workspaces.get(d.workspaceId)!) });
  const usersWithAccess = (list: { id: number; access: Access | null }[]) =>
    list.map(({ id, access }) => ({ ...userRef(users.get(id) ?? { id, name: `user ${id}`, email: `user${id}@example.com` }), access }));

  app.get('/', (_req, res) => res.type('text').send('docs-service: POST /login {"email"} then see examples/docs-service/README.md'));

  app.post('/login', (req, res) => {
    const user = [...users.values()].find((u) => u.email === req.body?.email);
    if (!user) return res.status(401).json({ error: 'unknown email' });
    const sid = randomUUID();
    sessions.set(sid, user.id);
    return res.set('set-cookie', `sid=${sid}; HttpOnly; Path=/`).json({ user: userRef(user) });
  });
  app.post('/users', (req, res) => {
    const user = { id: nextNumber++, name: String(req.body.name), email: String(req.body.email) };
    users.set(user.id, user);
    res.json({ user });
  });
  app.use((req, res, next) => (userOf(req) ? next() : res.status(401).json({ error: 'log in first' })));

  // Users and API keys
  app.patch('/users/me', (req, res) => {
    const user = userOf(req)!;
    const previous = { user: userRef(user) };
    user.name = String(req.body.name);
    done(res, audit.logEvent('user.change_name', { details: { previous, current: { user: userRef(user) } } }));
  });
  app.post('/users/me/api-key', (req, res) => {
    const user = userOf(req)!;
    user.apiKey = randomBytes(20).toString('hex');
    done(res, audit.logEvent('user.create_api_key', { details: { user: userRef(user) } }), { apiKey: user.apiKey });
  });
  app.delete('/users/me/api-key', (req, res) => {
    const user = userOf(req)!;
    delete user.apiKey;
    done(res, audit.logEvent('user.delete_api_key', { details: { user: userRef(user) } }));
  });
  app.delete('/users/:id', (req, res) => {
    const user = users.get(Number(req.params['id']));
    if (!need(user, res, 'user')) return;
    users.delete(user.id);
    done(res, audit.logEvent('user.delete', { details: { user: userRef(user) } }));
  });

  // Sites
  app.post('/sites', (req, res) => {
    const s: Site = { id: nextNumber++, name: String(req.body.name), domain: String(req.body.domain), members: new Map() };
    sites.set(s.id, s);
    done(res, audit.logEvent('site.create', { details: { site: siteRef(s) } }), { site: siteRef(s) });
  });
  app.patch('/sites/:id', (req, res) => {
    const s = site(req, res);
    if (!s) return;
    const previous = { site: siteRef(s) };
    s.name = String(req.body.name ?? s.name);
    s.domain = String(req.body.domain ?? s.domain);
    done(res, audit.logEvent('site.rename', { details: { previous, current: { site: siteRef(s) } } }));
  });
  app.patch('/sites/:id/access', (req, res) => {
    const s = site(req, res);
    if (!s) return;
    const changes = req.body.users as { id: number; access: Access | null }[];
    for (const { id, access } of changes) s.members.set(id, access);
    done(res, audit.logEvent('site.change_access', { details: { site: siteRef(s), access_changes: { users: usersWithAccess(changes) } } }));
  });
  app.delete('/sites/:id', (req, res) => {
    const s = site(req, res);
    if (!s) return;
    sites.delete(s.id);
    done(res, audit.logEvent('site.delete', { details: { site: siteRef(s) } }));
  });

  // Workspaces
  app.post('/sites/:id/workspaces', (req, res) => {
    const s = site(req, res);
    if (!s) return;
    const w: Workspace = { id: nextNumber++, name: String(req.body.name), siteId: s.id, trashed: false };
    workspaces.set(w.id, w);
    done(res, audit.logEvent('workspace.create', { details: { workspace: wsRef(w) } }), { workspace: wsRef(w) });
  });
  app.patch('/workspaces/:id', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    const previous = { workspace: wsRef(w) };
    w.name = String(req.body.name);
    done(res, audit.logEvent('workspace.rename', { details: { previous, current: { workspace: wsRef(w) } } }));
  });
  app.patch('/workspaces/:id/access', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    const details = { workspace: wsRef(w), access_changes: { max_inherited_access: req.body.max_inherited_access ?? null, users: usersWithAccess(req.body.users ?? []) } };
    done(res, audit.logEvent('workspace.change_access', { details }));
  });
  app.post('/workspaces/:id/trash', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    w.trashed = true;
    done(res, audit.logEvent('workspace.move_to_trash', { details: { workspace: wsRef(w) } }));
  });
  app.post('/workspaces/:id/restore', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    w.trashed = false;
    done(res, audit.logEvent('workspace.restore_from_trash', { details: { workspace: wsRef(w) } }));
  });
  app.delete('/workspaces/:id', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    workspaces.delete(w.id);
    done(res, audit.logEvent('workspace.delete', { details: { workspace: wsRef(w) } }));
  });

  // Documents
  app.post('/workspaces/:id/docs', (req, res) => {
    const w = ws(req, res);
    if (!w) return;
    const d: Doc = { id: newId(), name: String(req.body.name), workspaceId: w.id, urlId: newId().slice(0, 12), actionNum: 0, webhooks: new Map() };
    docs.set(d.id, d);
    done(res, audit.logEvent('document.create', { details: { document: docInWs(d) } }), { document: docRef(d) });
  });
  app.get('/docs/:id', (req, res) => {
    const d = doc(req, res);
    if (d) done(res, audit.logEvent('document.open', { details: { document: { ...docRef(d), url_id: d.urlId } } }), { document: docRef(d) });
  });
  app.patch('/docs/:id', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    const previous = { document: docRef(d) };
    d.name = String(req.body.name);
    done(res, audit.logEvent('document.rename', { details: { previous, current: { document: docRef(d) } } }));
  });
  app.post('/docs/:id/move', (req, res) => {
    const d = doc(req, res);
    const target = workspaces.get(Number(req.body.workspaceId));
    if (!d || !need(target, res, 'workspace')) return;
    const previous = { document: docInWs(d) };
    d.workspaceId = target.id;
    done(res, audit.logEvent('document.move', { details: { previous, current: { document: docInWs(d) } } }));
  });
  app.patch('/docs/:id/access', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    const access_changes = { public_access: req.body.public_access, max_inherited_access: req.body.max_inherited_access, users: req.body.users && usersWithAccess(req.body.users) };
    done(res, audit.logEvent('document.change_access', { details: { document: docRef(d), access_changes } }));
  });
  app.post('/docs/:id/apply', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    d.actionNum++;
    const hash = randomBytes(32).toString('hex');
    done(res, audit.logEvent('document.modify', { details: { action: { num: d.actionNum, hash }, document: { id: d.id } } }), { actionNum: d.actionNum });
  });
  app.post('/docs/:id/copy', (req, res) => {
    const d = doc(req, res);
    const target = workspaces.get(Number(req.body.workspaceId));
    if (!d || !need(target, res, 'workspace')) return;
    const copy: Doc = { ...d, id: newId(), name: String(req.body.name), workspaceId: target.id, webhooks: new Map() };
    docs.set(copy.id, copy);
    const details = { original: { document: docRef(d) }, duplicate: { document: { ...docRef(copy), workspace: { id: target.id } } }, options: { as_template: Boolean(req.body.asTemplate) } };
    done(res, audit.logEvent('document.duplicate', { details }), { document: docRef(copy) });
  });
  app.post('/docs/:id/fork', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    const forkId = newId();
    const fork = { id: forkId, document_id: `${d.id}~${forkId}~146`, url_id: `${d.urlId}~${forkId}~146` };
    done(res, audit.logEvent('document.fork', { details: { document: docRef(d), fork } }), { fork });
  });
  app.post('/docs/:id/replace', (req, res) => {
    const d = doc(req, res);
    if (d) done(res, audit.logEvent('document.replace', { details: { document: { id: d.id }, fork: { document_id: String(req.body.forkDocumentId) } } }));
  });
  app.post('/docs/:id/reload', (req, res) => {
    const d = doc(req, res);
    if (d) done(res, audit.logEvent('document.reload', { details: { document: { id: d.id } } }));
  });
  for (const [path, action] of [['pin', 'document.pin'], ['unpin', 'document.unpin'], ['trash', 'document.move_to_trash']] as const) {
    app.post(`/docs/:id/${path}`, (req, res) => {
      const d = doc(req, res);
      if (d) done(res, audit.logEvent(action, { details: { document: docRef(d) } }));
    });
  }
  for (const [path, action] of [['disable', 'document.disable'], ['enable', 'document.enable'], ['restore', 'document.restore_from_trash']] as const) {
    app.post(`/docs/:id/${path}`, (req, res) => {
      const d = doc(req, res);
      if (d) done(res, audit.logEvent(action, { details: { document: docInWs(d) } }));
    });
  }
  app.post('/docs/:id/sql', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    const details = { document: { id: d.id }, sql_query: { statement: String(req.body.sql), arguments: req.body.args ?? null }, options: { timeout_ms: req.body.timeout } };
    done(res, audit.logEvent('document.run_sql_query', { details }), { rows: [] });
  });
  app.post('/docs/:id/send-to-drive', (req, res) => {
    const d = doc(req, res);
    if (d) done(res, audit.logEvent('document.send_to_google_drive', { details: { document: { id: d.id } } }));
  });
  app.post('/docs/:id/truncate-history', (req, res) => {
    const d = doc(req, res);
    if (d) done(res, audit.logEvent('document.truncate_history', { details: { document: { id: d.id }, options: { keep_n_most_recent: Number(req.body.keep) } } }));
  });
  app.post('/docs/:id/webhooks', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    const webhookId = randomUUID();
    d.webhooks.set(webhookId, ['row added', 'row updated', 'row removed']);
    res.json({ webhook: { id: webhookId, url: req.body.url } });
  });
  app.post('/docs/:id/webhooks/:wid/deliver', (req, res) => {
    const d = doc(req, res);
    const queue = d?.webhooks.get(String(req.params['wid']));
    if (!d || !need(queue, res, 'webhook')) return;
    const quantity = queue.length;
    queue.length = 0;
    const details = { document: { id: d.id }, webhook: { id: String(req.params['wid']), events: { delivered_to: String(req.body.host ?? 'example.com'), quantity } } };
    done(res, audit.logEvent('document.deliver_webhook_events', { details }));
  });
  app.delete('/docs/:id/webhooks/queue', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    for (const queue of d.webhooks.values()) queue.length = 0;
    done(res, audit.logEvent('document.clear_all_webhook_queues', { details: { document: { id: d.id } } }));
  });
  app.delete('/docs/:id/webhooks/:wid/queue', (req, res) => {
    const d = doc(req, res);
    if (!d || !need(d.webhooks.get(String(req.params['wid'])), res, 'webhook')) return;
    d.webhooks.get(String(req.params['wid']))!.length = 0;
    done(res, audit.logEvent('document.clear_webhook_queue', { details: { document: { id: d.id }, webhook: { id: String(req.params['wid']) } } }));
  });
  app.delete('/docs/:id', (req, res) => {
    const d = doc(req, res);
    if (!d) return;
    docs.delete(d.id);
    done(res, audit.logEvent('document.delete', { details: { document: docRef(d) } }));
  });

  // Configuration (e.g. the audit streaming destinations themselves)
  const configRef = (c: Config) => {
    const s = c.siteId === undefined ? undefined : sites.get(c.siteId);
    return { id: c.id, key: c.key, value: c.value as never, ...(s ? { site: siteRef(s) } : {}) };
  };
  app.post('/configs', (req, res) => {
    const c: Config = { id: nextNumber++, key: String(req.body.key), value: req.body.value ?? null, siteId: req.body.siteId };
    configs.set(c.id, c);
    done(res, audit.logEvent('config.create', { details: { config: configRef(c) } }), { config: configRef(c) });
  });
  app.patch('/configs/:id', (req, res) => {
    const c = configs.get(Number(req.params['id']));
    if (!need(c, res, 'config')) return;
    const previous = { config: configRef(c) };
    c.value = req.body.value ?? null;
    done(res, audit.logEvent('config.update', { details: { previous, current: { config: configRef(c) } } }));
  });
  app.delete('/configs/:id', (req, res) => {
    const c = configs.get(Number(req.params['id']));
    if (!need(c, res, 'config')) return;
    configs.delete(c.id);
    done(res, audit.logEvent('config.delete', { details: { config: configRef(c) } }));
  });
  return app;
}

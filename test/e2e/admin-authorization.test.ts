// Every authorization decision of the Admin Panel, in one table: role (an installation
// administrator, the owner of site acme, an API token of acme, anonymous) × route × target (acme's
// destination or revision, globex's, the installation's) → the status expected. Against the real
// Collector under the panel, with the Splunk HEC stand-in as every destination. The matrix is printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword, hashToken } from '../../src/admin/auth.js';
import { freePort, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { archived, login, request, startTestAdmin, type Client } from '../helpers/admin.js';

type Role = 'admin' | 'owner of acme' | 'token of acme' | 'anonymous';
type Target = 'own' | 'other' | 'installation';
const ROLES: readonly Role[] = ['admin', 'owner of acme', 'token of acme', 'anonymous'];
const TARGETS: readonly Target[] = ['own', 'other', 'installation'];
const SITE_OF: Record<Target, string | null> = { own: 'acme', other: 'globex', installation: null };
const DESTINATION_OF: Record<Target, string> = { own: 'acme_siem', other: 'globex_siem', installation: 'central' };

interface Row {
  readonly route: string;
  readonly method: string;
  /** The path for a target (the row is run once per target), or for none. */
  readonly path: (target: Target | undefined) => string;
  readonly targeted: boolean;
  readonly body?: (target: Target | undefined) => unknown;
  /** What an administrator gets (and an owner or a token on its own site). */
  readonly allowed: number;
  /** For the whole installation: an owner or a token gets 403 whatever the target. */
  readonly adminOnly?: boolean;
  /** A creation in a scope not its own is refused (403), not "not found": there is nothing to find. */
  readonly creates?: boolean;
  /** Made by the administrator before each run of the row (a destination to delete). */
  readonly victim?: boolean;
  /** The state the administrator puts the target in before each run of the row. */
  readonly needs?: 'paused' | 'running';
}

const OWNER_PASSWORD = 'owner password of acme';
const TOKEN = `acme_backend.${'7'.repeat(40)}`;

describe('authorization: role × route × own or other site', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let administrator: Client;
  let owner: Client;
  let hec: RunningProcess;
  let hecPort: number;
  const revisionOf: Partial<Record<Target, number>> = {};
  let victims = 0;

  const destination = (id: string, site: string | null) => ({ id, name: id, type: 'splunk_hec', url: `http://127.0.0.1:${hecPort}/services/collector`, allowInsecure: true, token: 'hec-token', ...(site ? { site } : {}) });

  before(async () => {
    const dir = tempDir('admin-authz');
    writeFileSync(join(dir, 'users'), `${hashPassword('olga', OWNER_PASSWORD, 'olga@acme.example', { admin: false, sites: ['acme'] })}\n`);
    writeFileSync(join(dir, 'tokens'), `${hashToken('acme_backend', 'acme', '7'.repeat(40))}\n`);
    hecPort = await freePort();
    hec = await startHecReceiver(hecPort, join(dir, 'hec.jsonl'), 'hec-authz');
    admin = await startTestAdmin({ usersFile: join(dir, 'users'), tokensFile: join(dir, 'tokens') });
    administrator = await login(admin.url, { token: admin.token });
    owner = await login(admin.url, { user: 'olga', password: OWNER_PASSWORD });
    for (const target of TARGETS) {
      const created = await administrator.change('POST', '/api/destinations', destination(DESTINATION_OF[target], SITE_OF[target]));
      assert.equal(created.status, 201, created.text);
      revisionOf[target] = created.body['revision'];
    }
  });
  after(async () => {
    await admin?.close();
    await hec?.stop();
  });

  /** A request as a role: a session with its CSRF token, a bearer token, or nothing; changes name the current revision. */
  const as = async (role: Role, method: string, path: string, body?: unknown) => {
    const revision = String(await administrator.revision());
    const change: Record<string, string> = method === 'GET' ? {} : { 'if-match': revision };
    switch (role) {
      case 'admin':
        return administrator.call(method, path, body, { ...change, 'x-csrf-token': administrator.csrf });
      case 'owner of acme':
        return owner.call(method, path, body, { ...change, 'x-csrf-token': owner.csrf });
      case 'token of acme':
        return request(admin.url, method, path, body, { ...change, authorization: `Bearer ${TOKEN}` });
      case 'anonymous':
        return request(admin.url, method, path, body, change);
    }
  };

  const rows: readonly Row[] = [
    { route: 'GET /api/session', method: 'GET', path: () => '/api/session', targeted: false, allowed: 200 },
    { route: 'GET /api/openapi.json', method: 'GET', path: () => '/api/openapi.json', targeted: false, allowed: 200 },
    { route: 'GET /api/destinations', method: 'GET', path: () => '/api/destinations', targeted: false, allowed: 200 },
    { route: 'GET /api/destinations/{id}', method: 'GET', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}`, targeted: true, allowed: 200 },
    { route: 'PUT /api/destinations/{id}', method: 'PUT', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}`, body: (t) => ({ name: DESTINATION_OF[t!] }), targeted: true, allowed: 200 },
    { route: 'POST /api/destinations/{id}/test', method: 'POST', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/test`, targeted: true, allowed: 200 },
    { route: 'POST /api/destinations/{id}/replay', method: 'POST', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/replay`, body: () => ({ since: new Date(Date.now() - 1000).toISOString() }), targeted: true, allowed: 200 },
    { route: 'POST /api/destinations/{id}/pause', method: 'POST', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/pause`, targeted: true, allowed: 200, needs: 'running' },
    { route: 'POST /api/destinations/{id}/resume', method: 'POST', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/resume`, targeted: true, allowed: 200, needs: 'paused' },
    { route: 'GET /api/destinations/{id}/dead-letters', method: 'GET', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/dead-letters`, targeted: true, allowed: 200 },
    { route: 'POST /api/destinations/{id}/dead-letters/redrive', method: 'POST', path: (t) => `/api/destinations/${DESTINATION_OF[t!]}/dead-letters/redrive`, targeted: true, allowed: 200 },
    { route: 'DELETE /api/destinations/{id}', method: 'DELETE', path: () => `/api/destinations/victim_${victims}`, targeted: true, allowed: 200, victim: true },
    { route: 'POST /api/destinations', method: 'POST', path: () => '/api/destinations', body: (t) => ({ ...destination(`made_${victims}`, SITE_OF[t!]), site: SITE_OF[t!] }), targeted: true, allowed: 201, creates: true },
    { route: 'GET /api/revisions', method: 'GET', path: () => '/api/revisions', targeted: false, allowed: 200 },
    { route: 'GET /api/revisions/{n}', method: 'GET', path: (t) => `/api/revisions/${revisionOf[t!]}`, targeted: true, allowed: 200 },
    { route: 'POST /api/revisions/{n}/rollback', method: 'POST', path: (t) => `/api/revisions/${revisionOf[t!]}/rollback`, targeted: true, allowed: 200, adminOnly: true },
  ];

  const expected = (role: Role, row: Row, target: Target | undefined): number => {
    if (role === 'anonymous') return 401;
    if (role === 'admin') return row.allowed;
    if (row.adminOnly) return 403;
    if (target === undefined || target === 'own') return row.allowed;
    return row.creates ? 403 : 404;
  };

  test('every decision, as the table says', async () => {
    const matrix: string[][] = [];
    const wrong: string[] = [];
    for (const row of rows) {
      for (const target of row.targeted ? TARGETS : [undefined]) {
        const line = [`${row.route}${target ? ` (${target})` : ''}`];
        for (const role of ROLES) {
          victims++;
          if (row.victim) assert.equal((await administrator.change('POST', '/api/destinations', destination(`victim_${victims}`, SITE_OF[target!]))).status, 201);
          if (row.needs) {
            const id = DESTINATION_OF[target!];
            const paused = (await administrator.call('GET', `/api/destinations/${id}`)).body['destination'].paused as boolean;
            if (paused !== (row.needs === 'paused')) assert.equal((await administrator.change('POST', `/api/destinations/${id}/${paused ? 'resume' : 'pause'}`)).status, 200);
          }
          // A rollback to a revision whose destinations are not the current ones would change them: roll back to the current revision.
          const path = row.adminOnly ? `/api/revisions/${await administrator.revision()}/rollback` : row.path(target);
          const response = await as(role, row.method, path, row.body?.(target));
          const want = expected(role, row, target);
          line.push(response.status === want ? String(response.status) : `${response.status}≠${want}`);
          if (response.status !== want) wrong.push(`${role}, ${line[0]}: ${response.status}, expected ${want}: ${response.text.slice(0, 200)}`);
          // Leave the state as it was for the next role: what was made is removed.
          for (const leftover of [`victim_${victims}`, `made_${victims}`]) {
            if ((await administrator.call('GET', `/api/destinations/${leftover}`)).status === 200) assert.equal((await administrator.change('DELETE', `/api/destinations/${leftover}`)).status, 200);
          }
        }
        matrix.push(line);
      }
    }
    const widths = [Math.max(...matrix.map((l) => l[0]!.length)), ...ROLES.map((r) => r.length)];
    console.log([['route (target)', ...ROLES], ...matrix].map((l) => l.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')).join('\n'));
    assert.deepEqual(wrong, []);
  });

  test("what an owner and a token are shown: their site's destinations, revisions and diffs only; no archive, no rendered config", async () => {
    for (const viewer of ['owner of acme', 'token of acme'] as const) {
      const list = (await as(viewer, 'GET', '/api/destinations')).body;
      assert.deepEqual(list['destinations'].map((d: { id: string }) => d.id), ['acme_siem'], viewer);
      assert.equal(list['archive'], undefined, viewer);
      const revisions = (await as(viewer, 'GET', '/api/revisions')).body['revisions'] as { revision: number; sites: string[] }[];
      assert.ok(revisions.length > 0 && revisions.every((r) => r.sites.length > 0 && r.sites.every((site) => site === 'acme')), JSON.stringify(revisions));
      assert.ok(!revisions.some((r) => r.revision === revisionOf.other || r.revision === revisionOf.installation));
      const detail = (await as(viewer, 'GET', `/api/revisions/${revisionOf.own}`)).body;
      assert.equal(detail['config'], undefined);
      assert.deepEqual(detail['destinations'].map((d: { id: string }) => d.id), ['acme_siem']);
      assert.match(detail['diff'], /\+ .*id: acme_siem/);
      assert.doesNotMatch(JSON.stringify(detail), /globex|central/);
      const session = (await as(viewer, 'GET', '/api/session')).body;
      assert.deepEqual([session['admin'], session['sites']], [false, ['acme']]);
    }
    const all = (await as('admin', 'GET', '/api/destinations')).body;
    assert.deepEqual(all['destinations'].map((d: { id: string }) => d.id).sort(), ['acme_siem', 'central', 'globex_siem']);
    assert.equal(all['archive'].id, 'archive');
  });

  test("each change is an audit event naming the actor (user or token) and, for a site's destination, the site", async () => {
    await admin.audit.flush({ timeoutMillis: 20_000 });
    type Event = { action: string; actor: { user?: { id: string } }; context: { site?: { id: string } }; details: { destination?: { id: string } } };
    const events = () => archived(admin).map((r) => r.body as Event).filter((e) => e.action?.startsWith('audit_destination.'));
    const byWhom = (actor: string, action: string, id: string) => events().find((e) => e.actor.user?.id === actor && e.action === action && e.details.destination?.id === id);
    await waitFor('the owner\'s and the token\'s changes in the trail', () => byWhom('olga', 'audit_destination.pause', 'acme_siem') !== undefined && byWhom('token:acme_backend', 'audit_destination.resume', 'acme_siem') !== undefined);
    assert.deepEqual(byWhom('olga', 'audit_destination.pause', 'acme_siem')!.context.site, { id: 'acme' });
    assert.deepEqual(byWhom('token:acme_backend', 'audit_destination.update', 'acme_siem')!.context.site, { id: 'acme' });
    assert.deepEqual(byWhom('admin', 'audit_destination.update', 'globex_siem')!.context.site, { id: 'globex' });
    assert.equal(byWhom('admin', 'audit_destination.update', 'central')!.context.site, undefined);
  });
});

// Site destinations with the real gateway: two sites, each with its own Splunk HEC destination
// (the HEC receiver stand-in), and one installation destination. Events of both sites, events of
// installation-only actions that have a site in their context, and events without a site are
// sent as the logger writes them (with the site chain's attributes); each site's copy holds
// exactly its site's site-scoped events and the panel's own changes of that site's destinations
// (the panel's logger links them into the site's chain), the installation's copy everything. A site's owner gets 404 on the other site's destination; a
// pause, a resume and a backfill of a site destination send that site's events only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { hashPassword } from '../../src/admin/auth.js';
import { otlpRequest } from '../../src/admin/replay.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { freePort, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { archived, login, startTestAdmin, type Client } from '../helpers/admin.js';
import { inSiteCopy } from '../../src/attributes.js';

const OWNER_PASSWORD = 'owner password of acme';
const recordsIn = (file: string): TrailRecord[] => (existsSync(file) ? readTrail(file) : []);
const idOf = (r: TrailRecord) => String((r.body as { id: string }).id);
const idsIn = (file: string) => new Set(recordsIn(file).map(idOf));
/** The panel's own record of a site (a change of one of its destinations, or its site checkpoint): the panel's stream, in the site's chain (this test's own events have no stream). */
const ofPanel = (r: TrailRecord, site: string) => r.attributes['audit.stream.id'] !== undefined && inSiteCopy(r.attributes, site);

/** An event as the logger writes it: a site-scoped action with a site has the site's own link (audit.site.seq). */
function event(kind: { site?: string; siteSeq?: number; action?: string }): TrailRecord {
  const id = randomUUID();
  const action = kind.action ?? 'document.open';
  const attributes: Record<string, unknown> = { 'log.record.uid': id, 'audit.action': action };
  if (kind.site !== undefined) attributes['audit.site.id'] = kind.site;
  if (kind.siteSeq !== undefined) attributes['audit.site.seq'] = kind.siteSeq;
  return {
    body: { id, action, actor: { type: 'system' }, context: kind.site ? { site: { id: kind.site } } : {}, timestamp: new Date().toISOString(), details: {} },
    attributes,
    resource: { 'service.name': 'sites-e2e' },
    source: '',
  };
}

describe('site destinations with the real gateway', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let administrator: Client;
  let owner: Client;
  const started: RunningProcess[] = [];
  const hec: Record<'acme' | 'globex' | 'central' | 'late', { port: number; file: string }> = { acme: { port: 0, file: '' }, globex: { port: 0, file: '' }, central: { port: 0, file: '' }, late: { port: 0, file: '' } };
  const siteSeq = { acme: 0, globex: 0 };
  const sent: { acme: string[]; globex: string[]; all: string[] } = { acme: [], globex: [], all: [] };

  const destination = (id: string, target: keyof typeof hec, site?: string) => ({ id, name: id, type: 'splunk_hec', url: `http://127.0.0.1:${hec[target].port}/services/collector`, allowInsecure: true, token: 'hec-token', ...(site ? { site } : {}) });

  /** Sends a mix: each site's site-scoped events, an installation-only action with a site in its context, events without a site. */
  const traffic = async (perSite: number) => {
    const records: TrailRecord[] = [];
    for (let i = 0; i < perSite; i++) {
      for (const site of ['acme', 'globex'] as const) {
        const record = event({ site, siteSeq: ++siteSeq[site] });
        sent[site].push(String((record.body as { id: string }).id));
        records.push(record);
      }
      records.push(event({ site: 'acme', action: 'site.delete' }), event({}));
    }
    // A checkpoint of acme's chain: it carries the site and its seq too.
    const checkpoint = event({ site: 'acme', siteSeq: siteSeq.acme, action: 'audit.checkpoint' });
    sent.acme.push(String((checkpoint.body as { id: string }).id));
    records.push(checkpoint);
    sent.all.push(...records.map((r) => String((r.body as { id: string }).id)));
    const response = await fetch(admin.ingestEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpRequest(records)) });
    assert.equal(response.status, 200);
  };

  before(async () => {
    const dir = tempDir('admin-sites');
    for (const [name, target] of Object.entries(hec)) {
      target.port = await freePort();
      target.file = join(dir, `hec-${name}.jsonl`);
      started.push(await startHecReceiver(target.port, target.file, `hec-${name}`));
    }
    writeFileSync(join(dir, 'users'), `${hashPassword('olga', OWNER_PASSWORD, '', { admin: false, sites: ['acme'] })}\n`);
    admin = await startTestAdmin({ usersFile: join(dir, 'users') });
    administrator = await login(admin.url, { token: admin.token });
    owner = await login(admin.url, { user: 'olga', password: OWNER_PASSWORD });
    // The owner creates acme's (its site by default), the administrator globex's and the installation's.
    const created = [await owner.change('POST', '/api/destinations', destination('acme_siem', 'acme')), await administrator.change('POST', '/api/destinations', destination('globex_siem', 'globex', 'globex')), await administrator.change('POST', '/api/destinations', destination('central', 'central'))];
    for (const response of created) assert.equal(response.status, 201, response.text);
    assert.equal(created[0]!.body['destination'].site, 'acme');
  });
  after(async () => {
    await admin?.close();
    for (const process of started.reverse()) await process.stop();
  });

  test("each site's copy holds exactly its site's site-scoped events; the installation's holds every event", async () => {
    await traffic(20);
    await waitFor('every event at the installation destination', () => sent.all.every((id) => idsIn(hec.central.file).has(id)));
    for (const site of ['acme', 'globex'] as const) {
      await waitFor(`${site}'s events at its destination`, () => sent[site].every((id) => idsIn(hec[site].file).has(id)));
    }
    const only = (site: 'acme' | 'globex') => [...idsIn(hec[site].file)].filter((id) => sent.all.includes(id)).sort();
    assert.deepEqual(only('acme'), [...sent.acme].sort());
    assert.deepEqual(only('globex'), [...sent.globex].sort());
    // Besides the application's, a site's copy holds the panel's own changes of that site's destinations (its site-scoped events, in its site's chain).
    assert.deepEqual(
      recordsIn(hec.acme.file).filter((r) => !sent.acme.includes(idOf(r)) && !ofPanel(r, 'acme')).map(idOf),
      [],
      'an event not of acme at acme',
    );
    assert.ok(recordsIn(hec.acme.file).some((r) => r.attributes['audit.action'] === 'audit_destination.create' && ofPanel(r, 'acme')), "the creation of acme's destination, in acme's copy");
  });

  test("the owner of acme gets 404 on globex's destination, as on one that does not exist", async () => {
    for (const [method, path, body] of [
      ['GET', '/api/destinations/globex_siem'],
      ['PUT', '/api/destinations/globex_siem', { name: 'taken over' }],
      ['POST', '/api/destinations/globex_siem/pause'],
      ['POST', '/api/destinations/globex_siem/test'],
      ['DELETE', '/api/destinations/globex_siem'],
    ] as const) {
      const response = method === 'GET' ? await owner.call(method, path) : await owner.change(method, path, body);
      const missing = method === 'GET' ? await owner.call(method, path.replace('globex_siem', 'no_such')) : await owner.change(method, path.replace('globex_siem', 'no_such'), body);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.deepEqual(response.body['error'], { ...missing.body['error'], message: missing.body['error'].message.replace('no_such', 'globex_siem') });
    }
    assert.equal((await administrator.call('GET', '/api/destinations/globex_siem')).body['destination'].name, 'globex_siem');
  });

  test('a site destination paused and resumed gets the gap replayed, of its site only; a backfill too', async () => {
    assert.equal((await owner.change('POST', '/api/destinations/acme_siem/pause')).status, 200);
    const before = sent.acme.length;
    await traffic(10);
    await waitFor('the gap in the archive', () => sent.all.every((id) => idsIn(hec.central.file).has(id)));
    const resumed = await owner.change('POST', '/api/destinations/acme_siem/resume');
    assert.equal(resumed.status, 200, resumed.text);
    // acme's events of the gap (11: ten and a checkpoint) and the panel's own change of acme's destination (its pause), whatever else the archive took meanwhile.
    assert.ok(resumed.body['replayed'] >= sent.acme.length - before + 1, `replayed ${resumed.body['replayed']}`);
    await waitFor("acme's gap at its destination", () => sent.acme.every((id) => idsIn(hec.acme.file).has(id)));
    await waitFor("everything of acme's in the archive at its destination", () => archived(admin).filter((r) => inSiteCopy(r.attributes, 'acme')).every((r) => idsIn(hec.acme.file).has(idOf(r))));
    assert.deepEqual(recordsIn(hec.acme.file).filter((r) => !sent.acme.includes(idOf(r)) && !ofPanel(r, 'acme')).map(idOf), []);

    const late = await owner.change('POST', '/api/destinations', { ...destination('acme_late', 'late'), backfillSince: new Date(Date.now() - 600_000).toISOString() });
    assert.equal(late.status, 201, late.text);
    assert.ok(late.body['replayed'] >= sent.acme.length, `replayed ${late.body['replayed']}`);
    await waitFor('the backfill of acme at the new destination', () => sent.acme.every((id) => idsIn(hec.late.file).has(id)));
    assert.deepEqual(recordsIn(hec.late.file).filter((r) => !sent.acme.includes(idOf(r)) && !ofPanel(r, 'acme')).map(idOf), []);
  });

  test('a site destination takes every setting a destination has: a PII policy, a SIEM format, an action filter (the Collector validates and runs it)', async () => {
    const created = await owner.change('POST', '/api/destinations', { ...destination('acme_ocsf', 'late'), pii: 'hash', format: 'ocsf', filter: { include: ['document.*'] } });
    assert.equal(created.status, 201, created.text);
    const config = (await administrator.call('GET', `/api/revisions/${created.body['revision']}`)).body['config'] as string;
    const pipeline = /logs\/acme_ocsf:\n(?:.*\n)*?\s+processors:\n((?:\s+- .*\n)+)/.exec(config)?.[1]?.trim().split('\n').map((line) => line.trim().slice(2));
    assert.deepEqual(pipeline?.slice(0, 4), ['filter/site_acme_ocsf', 'memory_limiter', 'filter/acme_ocsf', 'transform/pii_acme_ocsf']);
    assert.equal((await owner.change('DELETE', '/api/destinations/acme_ocsf')).status, 200);
  });
});

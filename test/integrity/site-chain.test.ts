// A site's copy proves itself: every event of a site-scoped action with a site is a link in the
// chain of its site within the stream (audit.site.seq, prev_hash, hash), site checkpoints state
// each site's head, signed, and `verify --site` checks a site's copy as a stream is checked. Real
// loggers (a small OTLP listener as the destination), real spools, a real SIGKILL.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ATTR, inSiteCopy } from '../../src/attributes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, linkHash } from '../../src/integrity/chain.js';
import { checkpointSignatureValid, QUIET_SITE_INTERVALS, SiteCheckpoints, type CheckpointDetails } from '../../src/integrity/checkpoint.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail, type VerifyOptions, type VerifyReport } from '../../src/integrity/verify.js';
import { createAuditLogger, type AuditLogger } from '../../src/index.js';
import { nodeFileSystem } from '../../src/delivery/file-system.js';
import { createAuditLoggerWith } from '../../src/logger.js';
import { ROOT, waitFor } from '../helpers/processes.js';
import { faultyFs, type Faults } from '../helpers/faulty-fs.js';
import { startOtlpListener, type ReceivedRecord } from '../helpers/otlp-listener.js';

const run = promisify(execFile);
const keys = generateKeyPairSync('ed25519');
const signingKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const HMAC_SECRET = 'site-chain-hmac-secret';
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const spoolDir = () => mkdtempSync(join(tmpdir(), 'otel-audit-site-chain-'));
const asTrail = (records: readonly ReceivedRecord[], tag = 'copy'): TrailRecord[] =>
  records.map((r, i) => ({ body: r.body, attributes: r.attributes, resource: r.resource, source: `${tag}:${i + 1}` }));
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';
const detailsOf = (r: TrailRecord) => (r.body as { details: CheckpointDetails }).details;
const idOf = (r: TrailRecord) => (r.body as { id: string }).id;
const siteSeqs = (trail: readonly TrailRecord[], site: string) => trail.filter((r) => !isCheckpoint(r) && inSiteCopy(r.attributes, site)).map((r) => r.attributes[ATTR.siteSeq]);
/** A site destination's copy: what its filter keeps. */
const siteCopy = (trail: readonly TrailRecord[], site: string) => trail.filter((r) => inSiteCopy(r.attributes, site));
const findings = (report: VerifyReport) =>
  JSON.stringify({ unchained: report.unchained, streams: report.streams.map((s) => ({ site: s.siteId, gaps: s.gaps, tampered: s.tampered, badCheckpoints: s.badCheckpoints, silences: s.silences, superseded: s.superseded })) }, null, 1);
const document = (id: string) => ({ document: { id, name: `doc ${id}` } });

/** Logs `document.create` (site-scoped) in `site`'s context, or without a site. */
function logDocument(audit: AuditLogger<typeof gristCatalog>, site: string | number | undefined, id: string): void {
  audit.logEvent('document.create', { context: site === undefined ? {} : { site: { id: site } }, details: document(id) });
}

/** Logs `site.create`, an installation-only action, with a site in its context all the same. */
function logInstallationOnly(audit: AuditLogger<typeof gristCatalog>, site: string | number): void {
  audit.logEvent('site.create', { context: { site: { id: site } }, details: gristCatalog.actions['site.create'].sample });
}

describe('site chains in the logger', () => {
  it('per-site sequences are gap-free and independent, linked with the stream\'s hash function (HMAC) over the same canonical JSON; installation-only actions and events without a site get none', async () => {
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, hmacKey: HMAC_SECRET, checkpoints: false, onError: assert.fail });
    logDocument(audit, 'a', 'a1');
    logDocument(audit, 42, 'b1'); // a number, as the reference catalog's site ids: the site "42"
    logDocument(audit, 'a', 'a2');
    logInstallationOnly(audit, 'a');
    logDocument(audit, undefined, 'none');
    logDocument(audit, 'a', 'a3');
    logDocument(audit, '42', 'b2'); // the same site, given as a string
    await audit.logEventOrThrow('document.create', { context: { site: { id: 'a' } }, details: document('a4') });
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    const trail = asTrail(listener.records);
    assert.deepEqual(trail.map((r) => r.attributes[ATTR.seq]), [1, 2, 3, 4, 5, 6, 7, 8], 'the stream chains every event');
    assert.deepEqual(siteSeqs(trail, 'a'), [1, 2, 3, 4]);
    assert.deepEqual(siteSeqs(trail, '42'), [1, 2]);
    for (const site of ['a', '42']) {
      let prevHash = GENESIS_HASH;
      for (const record of trail.filter((r) => inSiteCopy(r.attributes, site))) {
        assert.equal(record.attributes[ATTR.sitePrevHash], prevHash, `site ${site}: seq ${String(record.attributes[ATTR.siteSeq])} links to the one before`);
        prevHash = linkHash(prevHash, canonicalJson(record.body), Buffer.from(HMAC_SECRET));
        assert.equal(record.attributes[ATTR.siteHash], prevHash, 'the HMAC of the previous site hash and the canonical event');
      }
    }
    const installationOnly = trail.find((r) => (r.body as { action: string }).action === 'site.create')!;
    assert.equal(installationOnly.attributes[ATTR.siteId], 'a', 'the installation-only event still names its site');
    for (const name of [ATTR.siteSeq, ATTR.sitePrevHash, ATTR.siteHash]) {
      assert.equal(installationOnly.attributes[name], undefined, `an installation-only action has no ${name}`);
      assert.equal(trail[4]!.attributes[name], undefined, `an event without a site has no ${name}`);
    }
  });

  it('an invalid event of a site-scoped action is linked into its site\'s chain too (flagged, as in the stream); an unknown action is not', async () => {
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, checkpoints: false, onError: () => undefined });
    logDocument(audit, 'a', 'a1');
    audit.logEvent('document.create', { context: { site: { id: 'a' } }, details: { document: { id: 7 } } } as never);
    audit.logEvent('no.such_action' as never, { context: { site: { id: 'a' } }, details: {} } as never);
    logDocument(audit, 'a', 'a3');
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const trail = asTrail(listener.records);
    assert.deepEqual(trail.map((r) => [r.attributes[ATTR.invalid] ?? false, r.attributes[ATTR.siteSeq]]), [[false, 1], [true, 2], [true, undefined], [false, 3]]);
  });
});

describe('site checkpoints and verify --site', () => {
  it('site checkpoints are signed, pass the site filter and state each site\'s head; a site\'s copy verifies, and fails with one event removed or altered, or cut', async () => {
    const listener = await startOtlpListener();
    const intervalMillis = 100;
    const audit = createAuditLogger({ catalog: gristCatalog, serviceName: 'docs-api', endpoint: listener.url, hmacKey: HMAC_SECRET, checkpoints: { intervalMillis, signingKey }, onError: assert.fail });
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 0; i < 5; i++) logDocument(audit, 'a', `a-${burst}-${i}`);
      // Site b is active in the first burst only, then quiet.
      if (burst === 0) for (let i = 0; i < 3; i++) logDocument(audit, 'b', `b-${i}`);
      logInstallationOnly(audit, 'b');
      logDocument(audit, undefined, `none-${burst}`);
      await tick(intervalMillis * 2.2);
    }
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const trail = asTrail(listener.records);
    const options: VerifyOptions = { publicKey: keys.publicKey, requireSigned: true, hmacKey: Buffer.from(HMAC_SECRET), now: Date.now() };

    const siteCheckpoints = trail.filter((r) => isCheckpoint(r) && detailsOf(r).site_id !== undefined);
    assert.ok(siteCheckpoints.length >= 8, `${siteCheckpoints.length} site checkpoints`);
    for (const c of siteCheckpoints) {
      const details = detailsOf(c);
      assert.equal(c.attributes[ATTR.siteId], details.site_id, 'the site filter keeps it');
      assert.equal((c.body as { context: { site: { id: string } } }).context.site.id, details.site_id);
      assert.equal(c.attributes[ATTR.siteSeq], details.seq);
      assert.equal(c.attributes[ATTR.siteHash], details.hash);
      assert.equal(c.attributes[ATTR.streamId], details.stream_id);
      assert.ok(checkpointSignatureValid(c.body, c.attributes[ATTR.signature] as string, keys.publicKey), 'signed like the stream\'s');
    }
    for (const site of ['a', 'b']) {
      const copy = siteCopy(trail, site);
      const first = copy[0]!;
      assert.ok(isCheckpoint(first) && detailsOf(first).start === true && detailsOf(first).seq === 0 && detailsOf(first).hash === GENESIS_HASH, `site ${site}'s chain starts with its resume marker at seq 0`);
      const last = copy.at(-1)!;
      assert.ok(isCheckpoint(last) && detailsOf(last).final, `site ${site}'s copy ends with its final checkpoint`);
      assert.equal(detailsOf(last).seq, site === 'a' ? 15 : 3);
    }
    // b went quiet: its next checkpoint promises a quiet site's interval, and it gets no more until the final one.
    const bPeriodic = siteCopy(trail, 'b').filter((r) => isCheckpoint(r) && !detailsOf(r).start && !detailsOf(r).final);
    assert.deepEqual(bPeriodic.map((r) => detailsOf(r).interval_ms), [intervalMillis, intervalMillis * QUIET_SITE_INTERVALS]);

    for (const site of ['a', 'b']) {
      const report = verifyTrail(siteCopy(trail, site), { ...options, sites: [site] });
      assert.equal(report.ok, true, findings(report));
      assert.deepEqual(report.streams.map((s) => [s.siteId, s.serviceName, s.events, s.firstSeq, s.lastSeq]), [[site, 'docs-api', site === 'a' ? 15 : 3, 1, site === 'a' ? 15 : 3]]);
      assert.equal(report.excluded, 0);
    }
    // The installation's copy: as today, the site checkpoints counted apart; and --site checks each site's chain within it.
    const whole = verifyTrail(trail, options);
    assert.equal(whole.ok, true, findings(whole));
    assert.deepEqual(whole.streams.map((s) => [s.siteId, s.events]), [[undefined, 24]]);
    assert.equal(whole.siteCheckpoints, siteCheckpoints.length);
    const bySite = verifyTrail(trail, { ...options, sites: ['a', 'b'] });
    assert.equal(bySite.ok, true, findings(bySite));
    assert.deepEqual(bySite.streams.map((s) => [s.siteId, s.events]), [['a', 15], ['b', 3]]);
    assert.equal(bySite.excluded, trail.length - siteCheckpoints.length - 18);

    // One event removed from a's copy: a gap in a's chain, though the stream's seqs of a's copy were never contiguous.
    const copy = siteCopy(trail, 'a');
    const seventh = copy.findIndex((r) => r.attributes[ATTR.siteSeq] === 7);
    const removed = verifyTrail(copy.filter((_, i) => i !== seventh), { ...options, sites: ['a'] });
    assert.equal(removed.ok, false);
    assert.deepEqual(removed.streams[0]!.gaps, [{ from: 7, to: 7 }]);
    // One sent twice (at-least-once delivery): a note, as in a stream.
    const twice = verifyTrail([...copy, copy[seventh]!], { ...options, sites: ['a'] });
    assert.equal(twice.ok, true, findings(twice));
    assert.deepEqual(twice.streams[0]!.duplicates, [{ seq: 7, copies: 2 }]);
    // One altered.
    const altered = copy.map((r, i) => (i === seventh ? { ...r, body: { ...(r.body as object), details: document('forged') } } : r));
    const tampered = verifyTrail(altered, { ...options, sites: ['a'] });
    assert.equal(tampered.ok, false);
    assert.deepEqual(tampered.streams[0]!.tampered.map((t) => [t.seq, t.reason]), [[7, 'content does not match its hash']]);
    // Cut after the first burst, while a was quiet: its last checkpoint promised the next within a
    // quiet site's interval; once that has passed (and a half), the cut shows as a silence.
    const cutAt = copy.findIndex((r) => r.attributes[ATTR.siteSeq] === 6);
    const lastBeforeCut = Date.parse((copy[cutAt - 1]!.body as { timestamp: string }).timestamp);
    assert.equal(detailsOf(copy[cutAt - 1]!).interval_ms, intervalMillis * QUIET_SITE_INTERVALS);
    const cutBefore = verifyTrail(copy.slice(0, cutAt), { ...options, sites: ['a'], now: lastBeforeCut + intervalMillis * QUIET_SITE_INTERVALS });
    assert.equal(cutBefore.ok, true, 'within what the last checkpoint promised, a quiet site and a cut look alike');
    const cut = verifyTrail(copy.slice(0, cutAt), { ...options, sites: ['a'], now: lastBeforeCut + intervalMillis * QUIET_SITE_INTERVALS * 1.6 });
    assert.equal(cut.ok, false);
    assert.equal(cut.streams[0]!.silences.length, 1, findings(cut));
  });

  it('many sites: every due site gets its periodic checkpoint, written a slice per turn of the event loop (events logged meanwhile go on between slices)', async () => {
    const listener = await startOtlpListener();
    const intervalMillis = 300;
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, checkpoints: { intervalMillis, signingKey }, maxQueueRecords: 1_000_000, onError: assert.fail });
    const sites = Array.from({ length: 650 }, (_, i) => `site-${i}`);
    for (const site of sites) logDocument(audit, site, site);
    // Around the first tick, an event (without a site) on every turn of the event loop.
    let spinning = true;
    const spin = () => {
      logDocument(audit, undefined, 'spin');
      if (spinning) setImmediate(spin);
    };
    spin();
    await tick(intervalMillis * 1.4);
    spinning = false;
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const trail = asTrail(listener.records);
    const periodic = (r: TrailRecord) => isCheckpoint(r) && detailsOf(r).site_id !== undefined && !detailsOf(r).start && !detailsOf(r).final;
    assert.deepEqual(new Set(trail.filter(periodic).map((r) => detailsOf(r).site_id)), new Set(sites), 'every site that advanced');
    let run = 0;
    let longest = 0;
    for (const record of trail) {
      run = periodic(record) ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    assert.ok(longest <= 200, `${longest} site checkpoints written in one turn`);
    const report = verifyTrail(trail, { publicKey: keys.publicKey, requireSigned: true, now: Date.now(), sites: sites.slice(0, 3).concat(sites.slice(-3)) });
    assert.equal(report.ok, true, findings(report));
  });

  it('the quiet schedule: a site checkpoint each interval while its chain advances, then one promising a quiet site\'s interval, then only before that runs out', () => {
    const interval = 1000;
    const schedule = new SiteCheckpoints(interval);
    const due = (now: number) => schedule.due(now).map((d) => `${d.site}:${d.intervalMillis / interval}`);
    schedule.advanced('a');
    schedule.advanced('b');
    assert.deepEqual(due(0), ['a:1', 'b:1']);
    schedule.advanced('a');
    assert.deepEqual(due(1000), ['a:1', `b:${QUIET_SITE_INTERVALS}`], 'b did not advance: it is promised a quiet interval');
    assert.deepEqual(due(2000), [`a:${QUIET_SITE_INTERVALS}`]);
    for (let t = 3000; t < 1000 + QUIET_SITE_INTERVALS * interval - interval; t += interval) assert.deepEqual(due(t), [], `nothing due at ${t}`);
    // The last tick before b's promise runs out (the next one would be after it).
    assert.deepEqual(due(1000 + QUIET_SITE_INTERVALS * interval - interval + 1), [`b:${QUIET_SITE_INTERVALS}`]);
    schedule.advanced('b');
    assert.deepEqual(due(11_001), [`a:${QUIET_SITE_INTERVALS}`, 'b:1'], 'a before its promise runs out; b as soon as it advanced again');
    schedule.checkpointed('c', 11_500, interval);
    assert.deepEqual(due(12_001), ['b:10', 'c:10'], 'a resume marker or a site\'s first checkpoint counts as its last one');
  });
});

describe('site heads across restarts', () => {
  it('a graceful restart with a spool: each site\'s chain goes on where it stood, even a site whose records were acknowledged and deleted with their segments long before', async () => {
    const listener = await startOtlpListener();
    const dir = spoolDir();
    const logger = () =>
      createAuditLogger({ catalog: gristCatalog, serviceName: 'docs-api', endpoint: listener.url, spoolDir: dir, maxSegmentBytes: 64 * 1024, checkpoints: { intervalMillis: 60_000, signingKey }, onError: assert.fail });
    const first = logger();
    // "early" logs first, then never again in this run: later segments hold none of its records.
    for (let i = 0; i < 3; i++) logDocument(first, 'early', `early-${i}`);
    await first.flush();
    for (let i = 0; i < 400; i++) {
      logDocument(first, i % 2 ? 'a' : 'b', `busy-${i}`);
      if (i % 50 === 49) await first.flush(); // acknowledged: the segments before are deleted, rotation after rotation
    }
    await first.shutdown({ timeoutMillis: 10_000 });
    const second = logger();
    for (const site of ['early', 'a', 'b']) logDocument(second, site, `after-${site}`);
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    const trail = asTrail(listener.records);
    assert.deepEqual(siteSeqs(trail, 'early'), [1, 2, 3, 4], 'early goes on at 4');
    assert.deepEqual(siteSeqs(trail, 'a').slice(-2), [200, 201]);
    const options: VerifyOptions = { publicKey: keys.publicKey, requireSigned: true, now: Date.now(), sites: ['early', 'a', 'b'] };
    const report = verifyTrail(trail, options);
    assert.equal(report.ok, true, findings(report));
    assert.deepEqual(report.streams.map((s) => [s.siteId, s.events, s.superseded.length, s.downtimes.length]), [['a', 201, 0, 0], ['b', 201, 0, 0], ['early', 4, 0, 0]]);
    // Each site's resume marker states the head its final checkpoint stated.
    for (const site of ['early', 'a', 'b']) {
      const checkpoints = siteCopy(trail, site).filter(isCheckpoint).map(detailsOf);
      const final = checkpoints.find((c) => c.final)!;
      const resumed = checkpoints.find((c) => c.start && c.seq > 0)!;
      assert.deepEqual([resumed.seq, resumed.hash], [final.seq, final.hash], `site ${site}`);
    }
  });

  it('after a SIGKILL, the next run reads each site\'s head back from the records the dead one left (a backlog delivered by otel-audit spool --replay in between)', async () => {
    const listener = await startOtlpListener();
    const dir = spoolDir();
    // The dead process's records stay in its spool until the replay: no answer reaches it.
    const nowhere = 'http://127.0.0.1:9/v1/logs';
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integrity/fixtures/site-app.ts')], {
      env: { ...process.env, ENDPOINT: nowhere, SPOOL_DIR: dir, COUNT: '30', SITES: 'a,b,', CHECKPOINT_MS: '60000', SIGNING_KEY: signingKey, MAX_SEGMENT_BYTES: String(64 * 1024) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the application logged its events', () => out.includes('ready'), 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));

    const replay = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'spool', dir, '--replay', '--endpoint', listener.url]);
    assert.match(replay.stdout, /replay/i);
    const next = createAuditLogger({ catalog: gristCatalog, serviceName: 'site-app', endpoint: listener.url, spoolDir: dir, checkpoints: { intervalMillis: 60_000, signingKey }, onError: assert.fail });
    for (const site of ['a', 'b']) logDocument(next, site, `after-${site}`);
    await next.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    const trail = asTrail(listener.records);
    // 30 events over a, b and none, each seventh installation-only (see site-app.ts): a has 8 of its site-scoped action, b 9; then one more each.
    const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    assert.deepEqual(siteSeqs(trail, 'a'), upTo(9));
    assert.deepEqual(siteSeqs(trail, 'b'), upTo(10));
    assert.equal(new Set(trail.map(idOf)).size, trail.length, 'every record once');
    const report = verifyTrail(trail, { publicKey: keys.publicKey, requireSigned: true, now: Date.now(), sites: ['a', 'b'] });
    assert.equal(report.ok, true, findings(report));
    assert.deepEqual(report.streams.map((s) => [s.siteId, s.events, s.superseded.length]), [['a', 9, 0], ['b', 10, 0]]);
  });
});

describe('a disk failure, then a death: the stream\'s rules on forks and resume markers, per site', () => {
  it('a site\'s records beyond its spooled head, and a site new in the lost part, are superseded branches its resume markers state; without the markers, tampering', async () => {
    const faults: Faults = {};
    const dir = spoolDir();
    const copy1 = await startOtlpListener();
    const checkpoints = { intervalMillis: 60_000, signingKey };
    const dying = createAuditLoggerWith({ catalog: gristCatalog, endpoint: copy1.url, spoolDir: dir, checkpoints, onError: () => undefined }, { fs: faultyFs(faults).fs, now: Date.now });
    for (let i = 0; i < 4; i++) await dying.logEventOrThrow('document.create', { context: { site: { id: 'a' } }, details: document(`on-disk-${i}`) });
    await dying.flush();
    faults.write = 'EIO';
    // Delivered from memory while the disk fails, then the process dies: the next one never knew them.
    for (let i = 0; i < 3; i++) await dying.logEventOrThrow('document.create', { context: { site: { id: 'a' } }, details: document(`from-memory-${i}`) });
    await dying.logEventOrThrow('document.create', { context: { site: { id: 'new' } }, details: document('new-from-memory') });
    const disk = spoolDir();
    cpSync(dir, disk, { recursive: true });
    const dead = asTrail(copy1.records, 'run1');
    await copy1.close();
    void dying.shutdown({ timeoutMillis: 0 });
    await tick(5);
    const copy2 = await startOtlpListener();
    const resumed = createAuditLoggerWith({ catalog: gristCatalog, endpoint: copy2.url, spoolDir: disk, checkpoints, onError: assert.fail }, { fs: nodeFileSystem, now: Date.now });
    for (let i = 0; i < 3; i++) logDocument(resumed, 'a', `resumed-${i}`);
    logDocument(resumed, 'new', 'new-resumed');
    await resumed.shutdown({ timeoutMillis: 10_000 });
    await copy2.close();
    const trail = [...dead, ...asTrail(copy2.records, 'run2')];
    assert.deepEqual(siteSeqs(trail, 'a'), [1, 2, 3, 4, 5, 6, 7, 5, 6, 7]);
    assert.deepEqual(siteSeqs(trail, 'new'), [1, 1]);

    const options: VerifyOptions = { publicKey: keys.publicKey, requireSigned: true, now: Date.now(), sites: ['a', 'new'] };
    for (const copy of [trail, [...trail].reverse()]) {
      const report = verifyTrail(copy, options);
      assert.equal(report.ok, true, findings(report));
      assert.deepEqual(
        report.streams.map((s) => [s.siteId, s.superseded.map((b) => [b.from, b.to, b.resumedFrom])]),
        [['a', [[5, 7, 4]]], ['new', [[1, 1, 0]]]],
      );
    }
    const unstated = verifyTrail(trail.filter((r) => !(isCheckpoint(r) && detailsOf(r).start && detailsOf(r).site_id !== undefined && r.source.startsWith('run2'))), options);
    assert.equal(unstated.ok, false);
    assert.deepEqual(unstated.streams.map((s) => [s.siteId, s.tampered.map((t) => t.seq)]), [['a', [5]], ['new', [1]]]);
  });
});

describe('otel-audit verify --site', () => {
  it('one verdict line per site chain, named after its stream; a copy with one event removed fails', async () => {
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, serviceName: 'docs-api', endpoint: listener.url, checkpoints: { intervalMillis: 60_000, signingKey }, onError: assert.fail });
    for (let i = 0; i < 6; i++) logDocument(audit, i % 2 ? 'a' : 'b', `d${i}`);
    logInstallationOnly(audit, 'a');
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();
    const trail = asTrail(listener.records);
    const dir = spoolDir();
    const write = (name: string, records: readonly TrailRecord[]) => {
      const file = join(dir, name);
      // A Splunk search export: one result per line.
      writeFileSync(file, records.map((r) => JSON.stringify({ result: { _raw: JSON.stringify(r.body), ...r.attributes, 'service.name': 'docs-api' } })).join('\n'));
      return file;
    };
    const publicKey = join(dir, 'public.pem');
    writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const verify = async (...args: string[]) => {
      try {
        return { code: 0, out: (await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', '--public-key', publicKey, '--require-signed', ...args])).stdout };
      } catch (error) {
        return { code: (error as { code: number }).code, out: (error as { stdout: string }).stdout };
      }
    };
    const stream = (trail[0]!.attributes[ATTR.streamId] as string).slice(0, 8);

    const siteA = await verify(write('site-a.ndjson', siteCopy(trail, 'a')), '--site', 'a');
    assert.equal(siteA.code, 0, siteA.out);
    assert.match(siteA.out, new RegExp(`^5 record\\(s\\) read from 1 file\\(s\\), 1 site chain\\(s\\)\\ndocs-api \\(stream ${stream}…\\), site a: 3 event\\(s\\), seq 1\\.\\.3, checked seq 1-3, 2 checkpoint\\(s\\)\\n {2}complete and intact\\nresult: OK$`, 'm'));

    const installation = write('installation.ndjson', trail);
    const both = await verify(installation, '--site', 'a', '--site', 'b');
    assert.equal(both.code, 0, both.out);
    assert.match(both.out, /record\(s\) left out \(--site\)/);
    assert.equal(both.out.match(/^docs-api \(stream [0-9a-f]{8}…\), site [ab]: 3 event\(s\)/gm)?.length, 2, both.out);
    const whole = await verify(installation);
    assert.equal(whole.code, 0, whole.out);
    assert.match(whole.out, /^docs-api \(stream [0-9a-f]{8}…\): 7 event\(s\), seq 1\.\.7,/m);
    assert.match(whole.out, /note: 4 checkpoint\(s\) of sites' chains, not checked here \(--site <id> checks a site's chain\)/);

    const removed = await verify(write('site-a-removed.ndjson', siteCopy(trail, 'a').filter((r) => r.attributes[ATTR.siteSeq] !== 2)), '--site', 'a');
    assert.equal(removed.code, 1, removed.out);
    assert.match(removed.out, /site a: 2 event\(s\), seq 1\.\.3, checked seq 1-3, 2 checkpoint\(s\)\n {2}missing: 1 event\(s\): 2\n {2}1 finding\(s\)\nresult: PROBLEMS FOUND/);
  });
});

// verify never cries wolf on what a real logger leaves in a destination's copy: a graceful
// restart under traffic, a disk failure followed by a death, a backlog another process replayed,
// a destination's test event. Real loggers (a small OTLP listener as the destination, the
// injected file system for the disk); and what still IS a finding in each case.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ATTR } from '../../src/attributes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { nodeFileSystem } from '../../src/delivery/file-system.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { linkHash } from '../../src/integrity/chain.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail, type VerifyOptions } from '../../src/integrity/verify.js';
import { createAuditLogger } from '../../src/index.js';
import { createAuditLoggerWith } from '../../src/logger.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, waitFor } from '../helpers/processes.js';
import { faultyFs, type Faults } from '../helpers/faulty-fs.js';
import { startOtlpListener, type ReceivedRecord } from '../helpers/otlp-listener.js';

const run = promisify(execFile);
const keys = generateKeyPairSync('ed25519');
const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const spoolDir = () => mkdtempSync(join(tmpdir(), 'otel-audit-false-alarms-'));
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const asTrail = (records: readonly ReceivedRecord[], tag = 'copy'): TrailRecord[] =>
  records.map((r, i) => ({ body: r.body, attributes: r.attributes, resource: r.resource, source: `${tag}:${i + 1}` }));
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';
const detailsOf = (r: TrailRecord) => (r.body as { details: { seq: number; start?: boolean; final: boolean } }).details;
const seqOf = (r: TrailRecord) => Number(r.attributes[ATTR.seq]);
const options = (extra: VerifyOptions = {}): VerifyOptions => ({ publicKey: keys.publicKey, now: Date.now(), ...extra });
/** What a report holds besides the counts: every finding and note, for a readable assertion message. */
const findings = (report: ReturnType<typeof verifyTrail>) =>
  JSON.stringify(report.streams.map((s) => ({ gaps: s.gaps, tampered: s.tampered, badCheckpoints: s.badCheckpoints, silences: s.silences, superseded: s.superseded })), null, 1);

describe('a graceful restart under traffic', () => {
  it('events logged while shutdown drains come before the final checkpoint: the next run resumes where it says', async () => {
    const listener = await startOtlpListener();
    const dir = spoolDir();
    const logger = () => createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, spoolDir: dir, checkpoints: { intervalMillis: 60_000, signingKey: keys.privateKey }, onError: assert.fail });
    const first = logger();
    for (let i = 0; i < 20; i++) first.logEvent('document.create', { details: details(`a${i}`) });
    const closing = first.shutdown({ timeoutMillis: 10_000 });
    // A server finishing its requests: events keep coming while the shutdown drains.
    for (let i = 0; i < 5; i++) first.logEvent('document.create', { details: details(`draining-${i}`) });
    await closing;
    const second = logger();
    for (let i = 0; i < 3; i++) second.logEvent('document.create', { details: details(`b${i}`) });
    await second.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    const trail = asTrail(listener.records);
    const finals = trail.filter((r) => isCheckpoint(r) && detailsOf(r).final).map((r) => detailsOf(r).seq);
    assert.deepEqual(finals, [25, 28], 'each final checkpoint states the last seq of its run, drained events included');
    const report = verifyTrail(trail, options());
    assert.equal(report.ok, true, findings(report));
    assert.equal(report.streams.length, 1);
    assert.equal(report.streams[0]!.events, 28);
  });

  it('while the collector is slow to acknowledge: every event taken during the drain precedes the final checkpoint, none follows it', async () => {
    // The first answers are refusals (retried): the drain takes a while, and events keep coming all along.
    const listener = await startOtlpListener((n) => ({ status: n < 3 ? 503 : 200 }));
    const refused: string[] = [];
    const audit = createAuditLogger({
      catalog: gristCatalog,
      endpoint: listener.url,
      retry: { initialDelayMillis: 50, maxDelayMillis: 100 },
      checkpoints: { intervalMillis: 60_000 },
      onError: (e) => (e as { reason?: string }).reason === 'logger_shut_down' && refused.push(e.message),
    });
    const logged: string[] = [audit.logEvent('document.create', { details: details('before') })];
    let closed = false;
    const closing = audit.shutdown({ timeoutMillis: 10_000 }).finally(() => (closed = true));
    for (let i = 0; !closed; i++) {
      logged.push(audit.logEvent('document.create', { details: details(`during-${i}`) }));
      await tick(10);
    }
    await closing;
    await listener.close();
    const trail = asTrail(listener.records);
    const final = trail.find((r) => isCheckpoint(r) && detailsOf(r).final)!;
    const taken = logged.filter((id) => !refused.some((message) => message.includes(id)));
    assert.ok(taken.length > 3, `${taken.length} events taken during the drain`);
    const events = trail.filter((r) => !isCheckpoint(r));
    assert.deepEqual(events.map((r) => String(r.attributes[ATTR.recordUid])).sort(), [...taken].sort(), 'every event taken is delivered');
    assert.equal(detailsOf(final).seq, Math.max(...events.map(seqOf)), 'the final checkpoint states the last seq');
    assert.equal(verifyTrail(trail, { now: Date.now() }).ok, true);
  });
});

describe('a disk failure, then a death', () => {
  /**
   * Run 1 writes 5 events to its spool, then its disk fails: 5 more are chained and delivered from
   * memory, and the process dies (the spool directory as it was then is copied: the disk the next
   * process finds). Run 2 recovers seq 5 and writes seqs 6.. anew. The copy holds both.
   */
  async function forkedCopy(): Promise<{ dead: TrailRecord[]; resumed: TrailRecord[] }> {
    const faults: Faults = {};
    const injected = faultyFs(faults);
    const dir = spoolDir();
    const copy1 = await startOtlpListener();
    const checkpoints = { intervalMillis: 60_000, signingKey: keys.privateKey };
    const dying = createAuditLoggerWith({ catalog: gristCatalog, endpoint: copy1.url, spoolDir: dir, checkpoints, onError: () => undefined }, { fs: injected.fs, now: Date.now });
    for (let i = 0; i < 5; i++) await dying.logEventOrThrow('document.create', { details: details(`on-disk-${i}`) });
    await dying.flush();
    faults.write = 'EIO';
    // Acknowledged by the collector while the disk fails: durable there, and nowhere else.
    for (let i = 0; i < 5; i++) await dying.logEventOrThrow('document.create', { details: details(`from-memory-${i}`) });
    const disk = spoolDir();
    cpSync(dir, disk, { recursive: true });
    const dead = asTrail(copy1.records, 'run1');
    await copy1.close();
    void dying.shutdown({ timeoutMillis: 0 });

    await tick(5); // the next process starts later than the last record of the dead one
    const copy2 = await startOtlpListener();
    const resumed = createAuditLoggerWith({ catalog: gristCatalog, endpoint: copy2.url, spoolDir: disk, checkpoints, onError: assert.fail }, { fs: nodeFileSystem, now: Date.now });
    for (let i = 0; i < 7; i++) resumed.logEvent('document.create', { details: details(`resumed-${i}`) });
    await resumed.shutdown({ timeoutMillis: 10_000 });
    await copy2.close();
    return { dead, resumed: asTrail(copy2.records, 'run2') };
  }

  it('is a stated fork: the dead run beyond its spooled head is a superseded branch (a note), never "altered"', async () => {
    const { dead, resumed } = await forkedCopy();
    const marker = resumed.find((r) => isCheckpoint(r) && detailsOf(r).start)!;
    assert.equal(detailsOf(marker).seq, 5, 'the next run resumes from the head its spool kept');
    assert.deepEqual(dead.filter((r) => !isCheckpoint(r)).map(seqOf), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Either copy order: the dead run's records may reach the destination after the resumed run's.
    for (const copy of [[...dead, ...resumed], [...resumed, ...dead]]) {
      const report = verifyTrail(copy, options());
      assert.equal(report.ok, true, findings(report));
      const [stream] = report.streams;
      assert.deepEqual(stream!.superseded, [{ from: 6, to: 10, resumedFrom: 5, marker: marker.source }]);
      assert.equal(stream!.lastSeq, 12);
    }
    assert.deepEqual(verifyTrail([...dead, ...resumed], options()).streams[0]!.reordered, [], 'the second branch is no reordering');
  });

  it('a record that does not chain is still tampering, and so is a fork no resume marker states', async () => {
    const { dead, resumed } = await forkedCopy();
    // A dead-run record replaced by one that chains from nothing there (hash recomputed: its own content verifies).
    const seven = dead.find((r) => seqOf(r) === 7)!;
    const body = { ...(seven.body as object), details: details('forged') };
    const prevHash = 'a'.repeat(64);
    const forged: TrailRecord = { ...seven, body, attributes: { ...seven.attributes, [ATTR.prevHash]: prevHash, [ATTR.hash]: linkHash(prevHash, canonicalJson(body)) }, source: 'forged' };
    const report = verifyTrail([...dead.filter((r) => r !== seven), forged, ...resumed], options());
    assert.equal(report.ok, false);
    // The forged record links to nothing, and the one after it no longer links to what is at seq 7.
    assert.deepEqual(report.streams[0]!.tampered.map((t) => [t.seq, t.source]), [[7, 'forged'], [8, dead.find((r) => seqOf(r) === 8)!.source]]);

    const unstated = verifyTrail([...dead, ...resumed.filter((r) => !(isCheckpoint(r) && detailsOf(r).start))], options());
    assert.equal(unstated.ok, false);
    assert.deepEqual(unstated.streams[0]!.tampered.map((t) => [t.seq, t.reason.includes('appears with different content')]), [[6, true]]);
  });
});

describe('a backlog another process replayed (otel-audit spool --replay), then a restart', () => {
  it('the process died with its backlog, a replay delivered it, the next run resumed: clean, the downtime a note', async () => {
    const dir = spoolDir();
    const checkpoints = { intervalMillis: 500, signingKey: keys.privateKey };
    // The collector is down while the first process runs: its events wait in the spool, and it dies
    // (the spool directory as it was then is copied: the disk the next processes find).
    const dying = createAuditLogger({ catalog: gristCatalog, serviceName: 'reports', endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, spoolDir: dir, timeoutMillis: 200, checkpoints, onError: () => undefined });
    for (let i = 0; i < 5; i++) await dying.logEventOrThrow('document.create', { details: details(`backlog-${i}`) });
    await tick(1200); // its periodic checkpoints go into the spool too (an interval a busy machine keeps: 1.5 of it is a silence)
    const disk = spoolDir();
    cpSync(dir, disk, { recursive: true });
    void dying.shutdown({ timeoutMillis: 0 });

    const listener = await startOtlpListener();
    const replay = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'spool', disk, '--replay', '--endpoint', listener.url]);
    assert.match(replay.stdout, /replayed \d+ record\(s\); acknowledged/);
    await tick(1000); // the next run starts well over an interval after the death: a downtime, stated by its resume marker
    const restarted = createAuditLogger({ catalog: gristCatalog, serviceName: 'reports', endpoint: listener.url, spoolDir: disk, checkpoints, onError: assert.fail });
    for (let i = 0; i < 3; i++) restarted.logEvent('document.create', { details: details(`restarted-${i}`) });
    await restarted.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    const report = verifyTrail(asTrail(listener.records), options());
    assert.equal(report.ok, true, findings(report));
    const [stream] = report.streams;
    assert.equal(stream!.events, 8);
    assert.equal(stream!.downtimes.length, 1, 'the death, from the last checkpoint before it to the resume marker');
    assert.equal(stream!.downtimes[0]!.resumedFrom, 5);
    // The replay delivered the backlog under its own resource (otel-audit-cli): the stream is still the application's.
    assert.ok(listener.records.some((r) => r.resource['service.name'] === 'otel-audit-cli'));
    assert.equal(stream!.serviceName, 'reports');
    const selected = verifyTrail(asTrail(listener.records), options({ services: ['reports'] }));
    assert.deepEqual([selected.ok, selected.excluded, selected.streams[0]?.events], [true, 0, 8]);
  });
});

describe("a destination's test event (the Admin Panel's Test button)", () => {
  const marked = (extra: Record<string, unknown> = {}): TrailRecord => ({
    body: { id: 't1', action: 'document.create', actor: { type: 'system' }, context: {}, timestamp: new Date().toISOString(), details: details('test') },
    attributes: { [ATTR.recordUid]: 't1', [ATTR.action]: 'document.create', ...extra },
    resource: { 'service.name': 'otel-audit-admin' },
    source: 'test',
  });

  it('marked otel_audit.test=true and without integrity attributes: a note; unmarked: still a finding', () => {
    const note = verifyTrail([marked({ 'otel_audit.test': true })]);
    assert.equal(note.ok, true);
    assert.deepEqual([note.testRecords, note.unchained], [1, 0]);
    // As a Splunk export carries it: a string field.
    assert.equal(verifyTrail([marked({ 'otel_audit.test': 'true' })]).ok, true);
    const unmarked = verifyTrail([marked()]);
    assert.equal(unmarked.ok, false);
    assert.deepEqual([unmarked.testRecords, unmarked.unchained], [0, 1]);
  });
});

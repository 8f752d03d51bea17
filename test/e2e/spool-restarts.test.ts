// The spool's promises across real process deaths, through the real Collector (local.yaml) into
// its archive: an idle service SIGKILLed and restarted continues its stream without reissuing a
// seq; four cluster workers on one spool directory, two SIGKILLed mid-stream and replaced, deliver
// every event whose logEventOrThrow resolved, in four verifiable streams.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { localPipeline, tempDir, waitFor } from '../helpers/processes.js';
import { spawnFixture } from '../helpers/json-lines-child.js';

const isEvent = (r: TrailRecord) => r.attributes['audit.action'] !== 'audit.checkpoint';
const uid = (r: TrailRecord) => String(r.attributes['log.record.uid']);

const app = (env: Record<string, string>) => spawnFixture<Record<string, number>>('test/e2e/fixtures/spool-app.ts', env);

const resolvedIds = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.ids'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));

/** The archive's records with identical at-least-once copies removed; a different record under a seen id fails. */
function distinct(records: TrailRecord[]): { records: TrailRecord[]; duplicates: number } {
  const seen = new Map<string, unknown>();
  const out: TrailRecord[] = [];
  let duplicates = 0;
  for (const record of records) {
    const key = uid(record);
    if (seen.has(key)) {
      assert.equal(record.attributes['audit.hash'], seen.get(key), `a different record under ${key}`);
      duplicates++;
      continue;
    }
    seen.set(key, record.attributes['audit.hash']);
    out.push(record);
  }
  return { records: out, duplicates };
}

describe('restarts on one spool directory, through the real Collector', () => {
  let env: Awaited<ReturnType<typeof localPipeline>> & { dir: string };
  after(() => env?.stopAll());

  it('an idle service SIGKILLed after checkpoints, restarted, shut down, restarted: one stream, seq gap-free, the trail verifies', async () => {
    const dir = tempDir('idle-restart');
    env = { dir, ...(await localPipeline(dir)) };
    await env.startHec();
    await env.startGateway();
    const spoolDir = join(dir, 'spool');
    const idsDir = join(dir, 'ids');
    mkdirSync(idsDir);
    const common = { ENDPOINT: env.endpoint, SPOOL_DIR: spoolDir, IDS_DIR: idsDir };

    const idle = app({ ...common, COUNT: '5', CHECKPOINT_MS: '100', IDLE_MS: '800', EXIT: 'wait' });
    await waitFor('the first process to go idle after its checkpoints', () => idle.lines.some((line) => 'idle' in line), 60_000);
    idle.child.kill('SIGKILL');
    await idle.exited;
    for (const count of ['5', '3']) {
      const next = app({ ...common, COUNT: count, CHECKPOINT_MS: '100' });
      assert.equal(await next.exited, 0, next.stderr());
    }

    const ids = resolvedIds(idsDir);
    assert.equal(ids.length, 13);
    await waitFor('all 13 events in the archive', () => existsSync(env.files.archive) && readTrail(env.files.archive).filter(isEvent).length >= 13, 30_000);
    const trail = readTrail(env.files.archive);
    const events = trail.filter(isEvent);
    assert.deepEqual(events.map(uid).sort(), [...ids].sort());
    assert.deepEqual(new Set(events.map((r) => r.attributes['audit.stream.id'])).size, 1, 'one stream');
    assert.deepEqual(events.map((r) => Number(r.attributes['audit.seq'])).sort((a, b) => a - b), Array.from({ length: 13 }, (_, i) => i + 1));
    const [stream] = verifyTrail(trail).streams;
    assert.deepEqual({ gaps: stream!.gaps, duplicates: stream!.duplicates, tampered: stream!.tampered, reordered: stream!.reordered, badCheckpoints: stream!.badCheckpoints }, { gaps: [], duplicates: [], tampered: [], reordered: [], badCheckpoints: [] });
    // The SIGKILLed process left no final checkpoint: the one silence verify reports is that death.
    assert.ok(stream!.silences.length <= 1, JSON.stringify(stream!.silences));
  });

  it('4 cluster workers on one spool directory, 2 SIGKILLed mid-stream and replaced: every resolved event delivered, 4 streams that verify', async () => {
    const dir = tempDir('cluster');
    await env?.stopAll();
    env = { dir, ...(await localPipeline(dir)) };
    await env.startHec();
    await env.startGateway();
    const idsDir = join(dir, 'ids');
    mkdirSync(idsDir);
    const perWorker = 600;
    const primary = app({ ENDPOINT: env.endpoint, SPOOL_DIR: join(dir, 'spool'), IDS_DIR: idsDir, COUNT: String(perWorker), WORKERS: '4', PACE_MS: '25' });
    await waitFor('4 workers', () => primary.lines.filter((line) => 'worker' in line).length >= 4, 60_000);
    const [first, second] = primary.lines.map((line) => line['worker']!);
    const resolvedBy = (pid: number) => (existsSync(join(idsDir, `${pid}.ids`)) ? readFileSync(join(idsDir, `${pid}.ids`), 'utf8').split('\n').filter(Boolean).length : 0);
    await waitFor('two workers in the middle of their stream', () => resolvedBy(first!) >= 100 && resolvedBy(second!) >= 100, 60_000);
    process.kill(first!, 'SIGKILL');
    process.kill(second!, 'SIGKILL');
    assert.equal(await primary.exited, 0, primary.stderr());

    const ids = resolvedIds(idsDir);
    const killedResolved = resolvedBy(first!) + resolvedBy(second!);
    assert.ok(killedResolved < 2 * perWorker, 'the kills were mid-stream');
    assert.equal(ids.length, 4 * perWorker + killedResolved);
    const arrived = () => (existsSync(env.files.archive) ? new Set(readTrail(env.files.archive).filter(isEvent).map(uid)) : new Set<string>());
    await waitFor('every resolved event in the archive', () => ids.every((id) => arrived().has(id)), 60_000).catch((error: Error) => {
      const have = arrived();
      const byFile = readdirSync(idsDir).map((name) => `${name}: ${readFileSync(join(idsDir, name), 'utf8').split('\n').filter((id) => id && !have.has(id)).length} missing`);
      throw new Error(`${error.message}: ${byFile.join('; ')}\n${primary.stderr()}`);
    });
    const { records, duplicates } = distinct(readTrail(env.files.archive));
    const delivered = new Set(records.filter(isEvent).map(uid));
    const missing = ids.filter((id) => !delivered.has(id));
    assert.deepEqual(missing, []);
    const streams = new Set(records.filter(isEvent).map((r) => r.attributes['audit.stream.id']));
    // A replacement takes the lowest free slot and, at start, adopts the backlog of any other free
    // one: when the first replacement adopts the second killed worker's slot before the second
    // replacement opens its spool, that one gets a new slot. Either way each slot is one stream.
    const slots = readdirSync(join(dir, 'spool')).filter((name) => name.startsWith('slot-')).length;
    assert.ok(slots === 4 || slots === 5, `${slots} slots`);
    assert.equal(streams.size, slots, `a replaced worker continues the stream of the slot it took over; every worker has a slot:\n${primary.stderr()}`);
    // Several exports in flight (and the Collector's queue consumers) may store batches out of
    // order: verify reports that as information; the chain itself must be whole.
    for (const stream of verifyTrail(records).streams) {
      assert.deepEqual({ gaps: stream.gaps, duplicates: stream.duplicates, tampered: stream.tampered, badCheckpoints: stream.badCheckpoints }, { gaps: [], duplicates: [], tampered: [], badCheckpoints: [] }, stream.streamId);
    }
    console.log(`cluster: 4 workers, 2 SIGKILLed and replaced; ${ids.length} resolved (${killedResolved} by the killed workers), ${delivered.size} delivered, ${missing.length} missing, ${duplicates} identical duplicates, ${streams.size} streams`);
  });
});

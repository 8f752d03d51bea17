// replaySpool: the backlog of slots whose processes are gone, delivered by a logger of the slot's own
// that logs nothing; what `otel-audit spool --replay` prints (test/cli/commands.test.ts runs that).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { nodeFileSystem } from '../src/delivery/file-system.js';
import { tryLockSlot } from '../src/delivery/spool/lock.js';
import { inspectSlot } from '../src/delivery/spool/inspect.js';
import { AuditOptionsError, createAuditLogger, replaySpool, type SlotReplay } from '../src/index.js';
import { startOtlpListener } from './helpers/otlp-listener.js';
import { freePort } from './helpers/ports.js';

/** A spool whose slots hold what loggers could not deliver (the collector was down): `backlogs[i]` events in slot i. */
async function spoolWith(backlogs: readonly number[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spool-replay-'));
  const down = `http://127.0.0.1:${await freePort()}/v1/logs`;
  // All open at once: a slot each.
  const loggers = backlogs.map(() => createAuditLogger({ catalog: gristCatalog, endpoint: down, spoolDir: dir, timeoutMillis: 200, checkpoints: false, onError: () => undefined }));
  for (const [i, audit] of loggers.entries()) {
    for (let n = 0; n < backlogs[i]!; n++) await audit.logEventOrThrow('document.create', { details: { document: { id: `s${i}-${n}`, name: 'spooled' } } });
  }
  for (const audit of loggers) await audit.shutdown({ timeoutMillis: 200 });
  return dir;
}

async function all(replays: AsyncIterable<SlotReplay>): Promise<SlotReplay[]> {
  const done: SlotReplay[] = [];
  for await (const replay of replays) done.push(replay);
  return done;
}

const summary = (replay: SlotReplay) => [basename(replay.slot), replay.replayed, replay.acknowledged, replay.deadLettered, replay.keptInSpool, replay.undelivered];

describe('replaySpool', () => {
  it("delivers every free slot's backlog (the first slot opened takes over the others', as a logger does) and leaves a slot a process holds and an empty one alone", async () => {
    const dir = await spoolWith([3, 2, 0, 4]);
    const held = tryLockSlot(join(dir, 'slot-0001'))!;
    const listener = await startOtlpListener();
    try {
      const replays = await all(replaySpool({ catalog: gristCatalog, endpoint: listener.url, spoolDir: dir }, { timeoutMillis: 10_000 }));
      assert.deepEqual(replays.map(summary), [['slot-0000', 7, 7, 0, 0, 0]]);
      assert.deepEqual(replays[0]!.problems, []);
      assert.deepEqual(listener.records.map((record) => (record.body as { details: { document: { id: string } } }).details.document.id).sort(), ['s0-0', 's0-1', 's0-2', 's3-0', 's3-1', 's3-2', 's3-3']);
      assert.equal(inspectSlot(nodeFileSystem, join(dir, 'slot-0001')).pending, 2);
      for (const free of ['slot-0000', 'slot-0002', 'slot-0003']) assert.equal(inspectSlot(nodeFileSystem, join(dir, free)).pending, 0, free);
    } finally {
      held.release();
      await listener.close();
    }
  });

  it('what is not delivered by the deadline stays in the slot, counted, for the next replay', async () => {
    const dir = await spoolWith([3]);
    const down = `http://127.0.0.1:${await freePort()}/v1/logs`;
    const [replay] = await all(replaySpool({ catalog: gristCatalog, endpoint: down, spoolDir: dir, timeoutMillis: 100 }, { timeoutMillis: 300 }));
    assert.deepEqual(summary(replay!), ['slot-0000', 3, 0, 0, 3, 3]);
    assert.equal(inspectSlot(nodeFileSystem, join(dir, 'slot-0000')).pending, 3);
  });

  it('reports its problems to the options onError too, and refuses options without a spool, naming spoolDir', async () => {
    const dir = await spoolWith([1]);
    const seen: string[] = [];
    const listener = await startOtlpListener(() => ({ status: 401 }));
    try {
      const [replay] = await all(replaySpool({ catalog: gristCatalog, endpoint: listener.url, spoolDir: dir, onError: (error) => seen.push(error.message) }, { timeoutMillis: 1500 }));
      assert.equal(replay!.undelivered, 1);
      assert.ok(replay!.problems.length > 0);
      assert.deepEqual(seen, replay!.problems.map((problem) => problem.message));
    } finally {
      await listener.close();
    }
    await assert.rejects(all(replaySpool({ catalog: gristCatalog })), (error: unknown) => error instanceof AuditOptionsError && /spoolDir/.test(error.message));
  });
});

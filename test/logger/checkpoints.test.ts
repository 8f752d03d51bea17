// The checkpoint scheduler, alone: the resume markers at the start (the stream's, and each
// resumed site's), a site's marker before its first event, the periodic ones (due sites a slice per
// turn of the event loop, what waits to be chained drained first), the final ones, nothing after
// them, and a checkpoint that fails reported instead of thrown. Checkpoints are collected, not sent.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuditReport } from '../../src/errors.js';
import { GENESIS_HASH, HashChain, type SiteHead } from '../../src/integrity/chain.js';
import { checkpointSignatureValid, QUIET_SITE_INTERVALS, type CheckpointDetails } from '../../src/integrity/checkpoint.js';
import type { SignedCheckpoint } from '../../src/logger/chaining.js';
import { CheckpointScheduler } from '../../src/logger/checkpoints.js';

const INTERVAL = 60;
const hashOf = (n: number) => n.toString(16).padStart(64, '0');

function setUp(chain = new HashChain({ streamId: 's', seq: 0, hash: GENESIS_HASH }), options: { failWith?: Error; signingKey?: ReturnType<typeof generateKeyPairSync>['privateKey'] } = {}) {
  const log: string[] = [];
  const written: { checkpoint: SignedCheckpoint; site: SiteHead | undefined }[] = [];
  const reports: AuditReport[] = [];
  const scheduler = new CheckpointScheduler({
    chain,
    intervalMillis: INTERVAL,
    signingKey: options.signingKey,
    now: Date.now,
    write: (checkpoint, _now, site) => {
      if (options.failWith) throw options.failWith;
      written.push({ checkpoint, site });
      const details = checkpoint.event.details as CheckpointDetails;
      log.push(`${details.site_id ?? 'stream'}${details.start ? ' start' : details.final ? ' final' : ''} ${details.seq}`);
    },
    before: () => log.push('drain'),
    report: (report) => reports.push(report),
  });
  return { scheduler, log, written, reports, chain };
}

const details = (entry: { checkpoint: SignedCheckpoint }) => entry.checkpoint.event.details as CheckpointDetails;
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('checkpoint scheduler', () => {
  it('start: the stream\'s resume marker at the head it continues from, and one per resumed site promising a quiet site\'s interval; what waits is drained first', () => {
    const { scheduler, log, written } = setUp(new HashChain({ streamId: 's', seq: 9, hash: hashOf(9), sites: [['a', 3, hashOf(3)]] }));
    scheduler.start();
    scheduler.stop();
    assert.deepEqual(log, ['drain', 'stream start 9', 'a start 3']);
    assert.deepEqual(written[1]!.site, { seq: 3, hash: hashOf(3) });
    assert.equal(details(written[1]!).interval_ms, INTERVAL * QUIET_SITE_INTERVALS);
  });

  it('a site\'s first link: its resume marker at seq 0 first; later links, none', () => {
    const { scheduler, log, chain } = setUp();
    scheduler.siteLinked(chain.next('{"n":1}', 'a').site!, Date.now());
    scheduler.siteLinked(chain.next('{"n":2}', 'a').site!, Date.now());
    assert.deepEqual(log, ['a start 0']);
  });

  it('periodic: the stream\'s, then each site whose chain advanced, 200 a turn with a drain before each slice; signed with the key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const { scheduler, log, written, chain } = setUp(undefined, { signingKey: privateKey });
    scheduler.start();
    for (let n = 0; n < 450; n++) scheduler.siteLinked(chain.next(`{"n":${n}}`, `site-${n}`).site!, Date.now());
    log.length = 0;
    written.length = 0;
    // The first periodic tick, then no other (stop ends the timer, not the slices already due).
    while (!log.includes('stream 450')) await new Promise((resolve) => setTimeout(resolve, INTERVAL / 10));
    scheduler.stop();
    for (let i = 0; i < 5; i++) await turn();
    const at = log.indexOf('stream 450');
    assert.equal(log[at - 1], 'drain', 'what waits is drained before the stream\'s checkpoint');
    const next = log.findIndex((line, i) => i > at && line.startsWith('stream'));
    const tick = log.slice(at + 1, next === -1 ? undefined : next);
    const slices = tick.join('|').split('drain').map((slice) => slice.split('|').filter(Boolean).length).filter((n) => n > 0);
    assert.deepEqual(slices, [200, 200, 50]);
    assert.equal(new Set(tick.filter((line) => line !== 'drain').map((line) => line.split(' ')[0])).size, 450, 'every site once');
    assert.ok(written.every((entry) => entry.checkpoint.signature !== undefined && checkpointSignatureValid(entry.checkpoint.event, entry.checkpoint.signature, publicKey)));
  });

  it('finish: the final checkpoint of the stream and of every site, at once; after it, no periodic one', async () => {
    const { scheduler, log, chain } = setUp();
    scheduler.siteLinked(chain.next('{"n":1}', 'a').site!, Date.now());
    scheduler.start();
    log.length = 0;
    scheduler.finish();
    assert.deepEqual(log, ['drain', 'stream final 1', 'a final 1']);
    log.length = 0;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL * 2));
    assert.deepEqual(log, []);
  });

  it('a checkpoint that cannot be written is reported as checkpoint_failed, never thrown', () => {
    const { scheduler, reports, chain } = setUp(undefined, { failWith: new Error('disk on fire') });
    assert.doesNotThrow(() => scheduler.start());
    assert.doesNotThrow(() => scheduler.siteLinked(chain.next('{"n":1}', 'a').site!, Date.now()));
    scheduler.stop();
    assert.deepEqual(
      reports.map((report) => [report.reason, (report as { checkpoint?: string }).checkpoint]),
      [
        ['checkpoint_failed', 'start'],
        ['checkpoint_failed', 'start'],
      ],
    );
    assert.match(reports[0]!.message, /disk on fire/);
  });
});

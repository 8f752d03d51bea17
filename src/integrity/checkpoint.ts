import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditEvent } from '../catalog/envelope.js';
import { canonicalJson } from './canonical-json.js';
import type { ChainHead, SiteHead } from './chain.js';

/** The action of checkpoint events. They are not part of the hash chain (they carry no seq). */
export const CHECKPOINT_ACTION = 'audit.checkpoint';

/**
 * What a checkpoint states about its stream at `timestamp`; a site checkpoint (`site_id` set)
 * states the same of its site's chain within the stream, with the same fields.
 */
export interface CheckpointDetails {
  stream_id: string;
  /** A site checkpoint's site: `seq` and `hash` are that site's chain's. Absent on the stream's checkpoints. */
  site_id?: string;
  /** The last sequence number written, 0 if none yet. */
  seq: number;
  hash: string;
  /**
   * The longest time until the next checkpoint of this stream (or site): silence longer than this
   * is a finding. The logger's interval; for a site whose chain did not advance since its last
   * checkpoint, the longer interval of a quiet site (see `SiteCheckpoints`).
   */
  interval_ms: number;
  /** The checkpoint of a clean shutdown: silence after it is expected, until a start checkpoint. */
  final: boolean;
  /**
   * The resume marker: the first checkpoint of a logger's run, emitted when it starts and before
   * its first event, stating the head the run continues from (a resumed stream: the spooled head;
   * a new stream: seq 0). After a final checkpoint, `verify` expects the stream's next checkpoint
   * to be a start checkpoint at that same seq and hash, and checks the silence after a start
   * checkpoint like any other, so a copy cut anywhere after a restart is found. Absent on
   * checkpoints written before this field existed.
   */
  start?: boolean;
}

export type CheckpointEvent = AuditEvent<typeof CHECKPOINT_ACTION, CheckpointDetails>;

/** What kind of checkpoint: periodic, the resume marker of a run's start, or the final one of a clean shutdown. */
export type CheckpointKind = 'periodic' | 'start' | 'final';

/** A checkpoint event for a stream head; signed (Ed25519 over its canonical JSON) when a key is given. */
export function checkpointEvent(head: ChainHead, intervalMillis: number, final: boolean, now: number, key?: KeyObject): { event: CheckpointEvent; signature?: string } {
  return checkpointOfKind(final ? 'final' : 'periodic', head, intervalMillis, now, key);
}

/**
 * The resume marker (see `CheckpointDetails.start`): the logger emits it once, when it starts,
 * with the head it continues from, before any event, exactly as it emits the other checkpoints.
 */
export function startCheckpointEvent(head: ChainHead, intervalMillis: number, now: number, key?: KeyObject): { event: CheckpointEvent; signature?: string } {
  return checkpointOfKind('start', head, intervalMillis, now, key);
}

/**
 * A site checkpoint: what `checkpointEvent` states of a stream, stated of the chain of `site`
 * within stream `streamId` (its head `head`), with the site in its context so that it reaches the
 * site's copy. A site's resume marker (`start`) is written for each site a run resumes, and before
 * the first event of a site new in the stream (at seq 0), so that a site's chain forks only where
 * a marker states it.
 */
export function siteCheckpointEvent(kind: CheckpointKind, streamId: string, site: string, head: SiteHead, intervalMillis: number, now: number, key?: KeyObject): { event: CheckpointEvent; signature?: string } {
  return checkpointOfKind(kind, { streamId, seq: head.seq, hash: head.hash }, intervalMillis, now, key, site);
}

function checkpointOfKind(kind: CheckpointKind, head: ChainHead, intervalMillis: number, now: number, key?: KeyObject, site?: string): { event: CheckpointEvent; signature?: string } {
  const details: CheckpointDetails = { stream_id: head.streamId, seq: head.seq, hash: head.hash, interval_ms: intervalMillis, final: kind === 'final' };
  if (kind === 'start') details.start = true;
  if (site !== undefined) details.site_id = site;
  const event: CheckpointEvent = {
    id: randomUUID(),
    action: CHECKPOINT_ACTION,
    actor: { type: 'system' },
    context: site === undefined ? {} : { site: { id: site } },
    timestamp: new Date(now).toISOString(),
    details,
  };
  const signature = key ? sign(null, Buffer.from(canonicalJson(event)), key).toString('base64') : undefined;
  return { event, signature };
}

export function checkpointSignatureValid(event: unknown, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(event)), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * How many checkpoint intervals a quiet site's checkpoint promises: a site whose chain did not
 * advance since its last checkpoint gets one that many intervals after it, not every interval, so
 * that an installation with many sites writes about (active sites + all sites / 10) site
 * checkpoints per interval. A cut of a site's copy while the site is quiet still shows, as a
 * silence, at most this many intervals (and a half) later.
 */
export const QUIET_SITE_INTERVALS = 10;

/** When a site last had a checkpoint, what that checkpoint promised, and whether its chain advanced since. */
interface SiteSchedule {
  at: number;
  promised: number;
  advanced: boolean;
}

/**
 * Which sites a periodic checkpoint covers, so that no site's copy is ever silent longer than
 * its last checkpoint promised: a site whose chain advanced since its last checkpoint gets one
 * (promising the next within the interval); a quiet one gets one promising a quiet site's interval
 * right after its last active one, then again only before that runs out.
 */
export class SiteCheckpoints {
  readonly #intervalMillis: number;
  readonly #quietMillis: number;
  readonly #sites = new Map<string, SiteSchedule>();

  constructor(intervalMillis: number) {
    this.#intervalMillis = intervalMillis;
    this.#quietMillis = intervalMillis * QUIET_SITE_INTERVALS;
  }

  /** The interval a checkpoint promises for a site that is quiet until its chain advances (resume markers). */
  get quietMillis(): number {
    return this.#quietMillis;
  }

  /** A site's chain advanced: its next periodic checkpoint is due. */
  advanced(site: string): void {
    const schedule = this.#sites.get(site);
    if (schedule) schedule.advanced = true;
    else this.#sites.set(site, { at: Number.NEGATIVE_INFINITY, promised: 0, advanced: true });
  }

  /** A checkpoint of `site` was written at `at`, promising the next within `promised` ms. */
  checkpointed(site: string, at: number, promised: number): void {
    const schedule = this.#sites.get(site);
    if (schedule) Object.assign(schedule, { at, promised, advanced: false });
    else this.#sites.set(site, { at, promised, advanced: false });
  }

  /** The sites a periodic checkpoint at `now` covers, each with the interval its checkpoint promises; each counts as checkpointed at `now`. */
  due(now: number): { site: string; intervalMillis: number }[] {
    const due: { site: string; intervalMillis: number }[] = [];
    for (const [site, schedule] of this.#sites) {
      let promise: number;
      if (schedule.advanced) promise = this.#intervalMillis;
      // The last checkpoint promised another within an interval; or the next tick would come after what it promised.
      else if (schedule.promised <= this.#intervalMillis || now + this.#intervalMillis > schedule.at + schedule.promised) promise = this.#quietMillis;
      else continue;
      Object.assign(schedule, { at: now, promised: promise, advanced: false });
      due.push({ site, intervalMillis: promise });
    }
    return due;
  }
}

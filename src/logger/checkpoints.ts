import type { KeyObject } from 'node:crypto';
import { loggerReport, type AuditReport } from '../errors.js';
import { GENESIS_HASH, type HashChain, type SiteHead, type SiteLink } from '../integrity/chain.js';
import { checkpointEvent, SiteCheckpoints, siteCheckpointEvent, startCheckpointEvent, type CheckpointKind } from '../integrity/checkpoint.js';
import type { SignedCheckpoint } from './chaining.js';
import { safeString } from './sanitize.js';

/** Periodic site checkpoints written per turn of the event loop (about 50 µs each, signed): no turn is held much longer than 10 ms by them. */
const SITE_CHECKPOINTS_PER_TURN = 200;

export interface CheckpointSchedulerOptions {
  readonly chain: HashChain;
  readonly intervalMillis: number;
  readonly signingKey: KeyObject | undefined;
  readonly now: () => number;
  /** Queues a checkpoint record (a site's with the site head it states). */
  readonly write: (checkpoint: SignedCheckpoint, now: number, site?: SiteHead) => void;
  /** Runs before each checkpoint reads the chain: what waits to be chained goes first. */
  readonly before: () => void;
  /** A checkpoint that fails is reported here, never thrown into the event that triggered it. */
  readonly report: (report: AuditReport) => void;
}

/**
 * The stream's checkpoints and its sites': at the start (the resume marker, and one for each site
 * the run resumes), periodically (the sites `SiteCheckpoints` says are due, a slice per turn of the
 * event loop), before a site's first event in the stream (its resume marker, at seq 0), and at the
 * end (every site at once: nothing follows them). After the final one, none.
 */
export class CheckpointScheduler {
  readonly #o: CheckpointSchedulerOptions;
  readonly #sites: SiteCheckpoints;
  /** Periodic site checkpoints not written yet. */
  readonly #siteBacklog: { site: string; intervalMillis: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #finished = false;

  constructor(options: CheckpointSchedulerOptions) {
    this.#o = options;
    this.#sites = new SiteCheckpoints(options.intervalMillis);
  }

  /** Writes the resume marker (where this run continues the stream, before any event) and starts the periodic ones. */
  start(): void {
    this.#emit('start');
    this.#timer = setInterval(() => this.#emit('periodic'), this.#o.intervalMillis);
    this.#timer.unref();
  }

  /** Stops the periodic checkpoints (shutdown is draining). */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Writes the final checkpoints, the stream's and every site's; none follows them. */
  finish(): void {
    this.stop();
    this.#emit('final');
    this.#finished = true;
  }

  /** A site's chain advanced: its first link gets its resume marker first; its next periodic checkpoint is due. */
  siteLinked(link: SiteLink, now: number): void {
    if (link.seq === 1) this.#writing('start', () => this.#writeSite('start', link.site, { seq: 0, hash: GENESIS_HASH }, this.#o.intervalMillis, now));
    this.#sites.advanced(link.site);
  }

  #writeSite(kind: CheckpointKind, site: string, head: SiteHead, intervalMillis: number, now: number): void {
    this.#o.write(siteCheckpointEvent(kind, this.#o.chain.head.streamId, site, head, intervalMillis, now, this.#o.signingKey), now, head);
    this.#sites.checkpointed(site, now, intervalMillis);
  }

  /** Runs a checkpoint's writing: a failure is reported, never thrown. */
  #writing(kind: CheckpointKind, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.#o.report(loggerReport('checkpoint_failed', `checkpoint failed: ${safeString(error)}`, { checkpoint: kind }, error));
    }
  }

  #emit(kind: CheckpointKind): void {
    this.#o.before();
    if (this.#finished) return;
    this.#writing(kind, () => {
      const now = this.#o.now();
      const { chain, intervalMillis, signingKey } = this.#o;
      this.#o.write(kind === 'start' ? startCheckpointEvent(chain.head, intervalMillis, now, signingKey) : checkpointEvent(chain.head, intervalMillis, kind === 'final', now, signingKey), now);
      if (kind === 'periodic') {
        const idle = this.#siteBacklog.length === 0;
        for (const due of this.#sites.due(now)) this.#siteBacklog.push(due);
        if (idle) this.#writeSiteSlice();
        return;
      }
      // A resumed site is quiet until its chain advances; after a final one, silence is expected anyway.
      const promised = kind === 'start' ? this.#sites.quietMillis : intervalMillis;
      for (const [site, head] of chain.sites) this.#writeSite(kind, site, head, promised, now);
    });
  }

  /** A signed checkpoint takes about 50 µs: many sites' are written a slice per turn of the event loop. */
  readonly #writeSiteSlice = (): void => {
    if (this.#finished) return;
    this.#o.before();
    this.#writing('periodic', () => {
      const now = this.#o.now();
      for (const { site, intervalMillis } of this.#siteBacklog.splice(0, SITE_CHECKPOINTS_PER_TURN)) this.#writeSite('periodic', site, this.#o.chain.sites.get(site)!, intervalMillis, now);
    });
    if (this.#siteBacklog.length > 0) setImmediate(this.#writeSiteSlice).unref();
  };
}

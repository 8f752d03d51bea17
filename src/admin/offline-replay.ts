// A replay asked for by a program other than the running panel (`otel-audit replay`): the window of
// the archive sent to one destination of the state directory's running configuration, through that
// destination's own receiver in the panel's Collector, and the replay itself logged as an audit
// event with the caller as its actor, like a replay the panel makes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor } from '../catalog/envelope.js';
import type { TrailRecord } from '../integrity/trail.js';
import { adminAuditLogger } from './app.js';
import { Archive } from './archive.js';
import { replayArchive } from './replay.js';
import { StateDirectory } from './state.js';

export interface ReplayOptions {
  /** The `stateDir` of the panel (`otel-audit admin --state-dir`). */
  readonly stateDir: string;
  /** The destination's id in the panel. */
  readonly destination: string;
  /** The window of event time, ms since the epoch, both ends included. */
  readonly since: number;
  readonly until: number;
  /** Who asked for the replay: the actor of its audit event. */
  readonly actor: Actor;
  /** The panel's archive. @default <stateDir>/archive/audit.zst (after archive/audit.jsonl of earlier versions) */
  readonly archivePath?: string;
  /** Where the audit event goes, OTLP/HTTP (host:port). @default 127.0.0.1:4318 */
  readonly otlpEndpoint?: string;
  /** The panel's signing key (PEM file): signs the checkpoints around the audit event. */
  readonly signingKeyFile?: string;
  /**
   * Called as the window is read, with how many of its records were handed on so far (a site's
   * destination is sent only that site's: the count includes the others).
   */
  readonly onProgress?: (records: number) => void;
}

/** What the caller asked for does not exist: not a state directory, or no such destination. */
export class ReplayTargetError extends Error {
  override readonly name = 'ReplayTargetError';
}

/**
 * Sends the archived records of the window to one destination only, unchanged (same id, seq and
 * hash: its copy passes `otel-audit verify`; records at the edges may arrive twice, as identical
 * duplicates), then logs `audit_destination.replay`. A site's destination gets that site's records
 * only. Resolves with how many records were sent.
 */
export async function replayToDestination(options: ReplayOptions): Promise<number> {
  const { stateDir, destination: id, since, until } = options;
  if (!existsSync(join(stateDir, 'revisions'))) throw new ReplayTargetError(`${stateDir} is not a state directory of otel-audit admin`);
  const state = new StateDirectory(stateDir);
  const destination = state.lastGood()?.destinations.find((d) => d.id === id);
  if (!destination) throw new ReplayTargetError(`no destination ${id} in the running configuration`);
  const stored = Archive.ofStateDirectory(stateDir, options.archivePath);
  const archive = options.onProgress ? new ObservedArchive(stored, options.onProgress) : stored;
  const replayed = await replayArchive({ archive, window: { since, until }, destination, scratchDir: state.root });
  const audit = adminAuditLogger({ stateDir, endpoint: `http://${options.otlpEndpoint ?? '127.0.0.1:4318'}/v1/logs`, ...(options.signingKeyFile ? { signingKeyFile: options.signingKeyFile } : {}) });
  try {
    await audit.logEventOrThrow('audit_destination.replay', {
      actor: options.actor,
      details: { destination: { id, name: destination.name, type: destination.type }, since: new Date(since).toISOString(), until: new Date(until).toISOString(), replayed_events: replayed },
    });
  } finally {
    await audit.shutdown({ timeoutMillis: 10_000 }).catch(() => undefined);
  }
  return replayed;
}


/** The archive, telling how many records of a window it handed out, each batch once the one before it was sent. */
class ObservedArchive extends Archive {
  constructor(
    archive: Archive,
    private readonly onProgress: (records: number) => void,
  ) {
    super(archive.path, archive.legacyPath);
  }

  override async *inWindow(since: number, until: number, batchSize: number): AsyncGenerator<TrailRecord[]> {
    let handedOut = 0;
    for await (const batch of super.inWindow(since, until, batchSize)) {
      yield batch;
      handedOut += batch.length;
      this.onProgress(handedOut);
    }
  }
}

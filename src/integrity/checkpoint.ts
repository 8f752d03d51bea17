import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditEvent } from '../catalog/envelope.js';
import { canonicalJson } from './canonical-json.js';
import type { ChainHead } from './chain.js';

/** The action of checkpoint events. They are not part of the hash chain (they carry no seq). */
export const CHECKPOINT_ACTION = 'audit.checkpoint';

/** What a checkpoint states about its stream at `timestamp`. */
export interface CheckpointDetails {
  stream_id: string;
  /** The last sequence number written, 0 if none yet. */
  seq: number;
  hash: string;
  /** The interval the logger emits checkpoints at: silence longer than this is a finding. */
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
type CheckpointKind = 'periodic' | 'start' | 'final';

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

function checkpointOfKind(kind: CheckpointKind, head: ChainHead, intervalMillis: number, now: number, key?: KeyObject): { event: CheckpointEvent; signature?: string } {
  const details: CheckpointDetails = { stream_id: head.streamId, seq: head.seq, hash: head.hash, interval_ms: intervalMillis, final: kind === 'final' };
  if (kind === 'start') details.start = true;
  const event: CheckpointEvent = {
    id: randomUUID(),
    action: CHECKPOINT_ACTION,
    actor: { type: 'system' },
    context: {},
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

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
  /** The checkpoint of a clean shutdown: silence after it is expected. */
  final: boolean;
}

export type CheckpointEvent = AuditEvent<typeof CHECKPOINT_ACTION, CheckpointDetails>;

/** A checkpoint event for a stream head; signed (Ed25519 over its canonical JSON) when a key is given. */
export function checkpointEvent(head: ChainHead, intervalMillis: number, final: boolean, now: number, key?: KeyObject): { event: CheckpointEvent; signature?: string } {
  const event: CheckpointEvent = {
    id: randomUUID(),
    action: CHECKPOINT_ACTION,
    actor: { type: 'system' },
    context: {},
    timestamp: new Date(now).toISOString(),
    details: { stream_id: head.streamId, seq: head.seq, hash: head.hash, interval_ms: intervalMillis, final },
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

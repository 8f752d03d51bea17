import type { KeyObject } from 'node:crypto';
import { ATTR } from '../attributes.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, linkHash } from './chain.js';
import { CHECKPOINT_ACTION, checkpointSignatureValid, type CheckpointDetails } from './checkpoint.js';
import type { TrailRecord } from './trail.js';

export interface VerifyOptions {
  /** Verifies checkpoint signatures; without it they are counted as unverified. */
  readonly publicKey?: KeyObject;
  /** The HMAC key the logger used for the chain, if any. */
  readonly hmacKey?: Buffer;
  /** Destinations that legitimately reorder (parallel consumers, search exports) do not report order. @default false */
  readonly ignoreOrder?: boolean;
  /** "Now", for the silence check. @default Date.now() */
  readonly now?: number;
}

/** One record a finding is about. */
export interface RecordRef {
  readonly seq: number;
  readonly id: string | undefined;
  readonly source: string;
}

export interface StreamReport {
  readonly streamId: string;
  readonly events: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Missing sequence ranges, inclusive (from 1, and up to the last checkpoint's seq). */
  readonly gaps: readonly { from: number; to: number }[];
  /** Sequence numbers present more than once with the same content, and how many times. */
  readonly duplicates: readonly { seq: number; copies: number }[];
  /** Records whose content no longer matches their hash, or whose chain link is broken. */
  readonly tampered: readonly (RecordRef & { reason: string })[];
  /** Records stored out of sequence order. */
  readonly reordered: readonly RecordRef[];
  readonly checkpoints: number;
  readonly badCheckpoints: readonly { id: string | undefined; source: string; reason: string }[];
  /** Signed checkpoints whose signature was not checked (no public key given); unsigned ones are not counted. */
  readonly unverifiedCheckpoints: number;
  /** Periods without a checkpoint longer than the checkpoint interval (the stream's heartbeat stopped). */
  readonly silences: readonly { from: string; to: string; ms: number }[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  /** Records without integrity attributes (not written by otel-audit, or stripped). */
  readonly unchained: number;
  readonly streams: readonly StreamReport[];
}

interface ChainedRecord {
  readonly record: TrailRecord;
  readonly seq: number;
  readonly hash: string;
  readonly prevHash: string;
  readonly position: number;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value));
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const idOf = (record: TrailRecord): string | undefined => str((record.body as { id?: unknown } | null)?.id) ?? str(record.attributes[ATTR.recordUid]);
const ref = (c: ChainedRecord): RecordRef => ({ seq: c.seq, id: idOf(c.record), source: c.record.source });

function missingRanges(present: Set<number>, upTo: number): { from: number; to: number }[] {
  const gaps: { from: number; to: number }[] = [];
  for (let seq = 1; seq <= upTo; seq++) {
    if (present.has(seq)) continue;
    const from = seq;
    while (seq + 1 <= upTo && !present.has(seq + 1)) seq++;
    gaps.push({ from, to: seq });
  }
  return gaps;
}

function verifyStream(streamId: string, chained: ChainedRecord[], checkpoints: TrailRecord[], options: VerifyOptions): StreamReport {
  const bySeq = new Map<number, ChainedRecord[]>();
  for (const c of chained) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  const tampered: (RecordRef & { reason: string })[] = [];
  const duplicates: { seq: number; copies: number }[] = [];

  for (const [seq, copies] of bySeq) {
    const distinct = new Map<string, ChainedRecord>();
    for (const c of copies) distinct.set(canonicalJson(c.record.body) + c.hash + c.prevHash, c);
    if (distinct.size < copies.length) duplicates.push({ seq, copies: copies.length - distinct.size + 1 });
    for (const c of distinct.values()) {
      if (linkHash(c.prevHash, canonicalJson(c.record.body), options.hmacKey) !== c.hash) {
        tampered.push({ ...ref(c), reason: 'content does not match its hash' });
      } else if (distinct.size > 1) {
        tampered.push({ ...ref(c), reason: `sequence number ${seq} appears with different content` });
      }
    }
  }
  // Links: a record's prev_hash must be its predecessor's hash (when the predecessor is here).
  for (const [seq, copies] of bySeq) {
    const previous = seq === 1 ? [{ hash: GENESIS_HASH }] : bySeq.get(seq - 1);
    if (!previous) continue;
    for (const c of copies) {
      if (!previous.some((p) => p.hash === c.prevHash) && !tampered.some((t) => t.seq === seq)) {
        tampered.push({ ...ref(c), reason: `prev_hash does not match the hash of seq ${seq - 1}` });
      }
    }
  }

  const reordered: RecordRef[] = [];
  if (!options.ignoreOrder) {
    const inOrder = [...chained].sort((a, b) => a.position - b.position);
    inOrder.forEach((c, i) => {
      const before = inOrder[i - 1];
      const after = inOrder[i + 1];
      if ((before && before.seq > c.seq) || (after && after.seq < c.seq)) reordered.push(ref(c));
    });
  }

  const signed: { time: number; details: CheckpointDetails }[] = [];
  const badCheckpoints: StreamReport['badCheckpoints'][number][] = [];
  let unverifiedCheckpoints = 0;
  for (const checkpoint of checkpoints) {
    const signature = str(checkpoint.attributes[ATTR.signature]);
    const body = checkpoint.body as { timestamp?: string; details?: CheckpointDetails };
    if (options.publicKey) {
      if (!signature || !checkpointSignatureValid(checkpoint.body, signature, options.publicKey)) {
        badCheckpoints.push({ id: idOf(checkpoint), source: checkpoint.source, reason: signature ? 'signature does not verify' : 'unsigned' });
        continue;
      }
    } else if (signature) unverifiedCheckpoints++;
    if (body.details && body.timestamp) signed.push({ time: Date.parse(body.timestamp), details: body.details });
  }
  signed.sort((a, b) => a.time - b.time);

  const seqs = [...bySeq.keys()];
  const lastSeq = seqs.length ? Math.max(...seqs) : undefined;
  const claimed = Math.max(lastSeq ?? 0, ...signed.map((c) => c.details.seq));
  // A checkpoint that names a hash for its seq, and the record here has another: altered after the fact.
  for (const c of signed) {
    const records = bySeq.get(c.details.seq);
    if (records && !records.some((r) => r.hash === c.details.hash)) {
      for (const r of records) if (!tampered.some((t) => t.seq === r.seq)) tampered.push({ ...ref(r), reason: 'hash differs from the signed checkpoint' });
    }
  }

  const silences: { from: string; to: string; ms: number }[] = [];
  const times = signed.map((c) => c.time);
  if (times.length > 0) {
    const interval = signed.at(-1)!.details.interval_ms;
    // One and a half intervals of slack: timers drift, and a checkpoint may wait behind a batch.
    const limit = interval * 1.5;
    // After a final checkpoint (a clean shutdown) silence is expected, until the stream resumes.
    const endsCleanly = signed.at(-1)!.details.final;
    [...times, ...(endsCleanly ? [] : [options.now ?? Date.now()])].forEach((time, i, all) => {
      if (signed[i - 1]?.details.final) return;
      const previous = all[i - 1];
      if (previous !== undefined && time - previous > limit) {
        silences.push({ from: new Date(previous).toISOString(), to: new Date(time).toISOString(), ms: time - previous });
      }
    });
  }

  return {
    streamId,
    events: bySeq.size,
    firstSeq: seqs.length ? Math.min(...seqs) : undefined,
    lastSeq,
    gaps: missingRanges(new Set(seqs), claimed),
    duplicates: duplicates.sort((a, b) => a.seq - b.seq),
    tampered: tampered.sort((a, b) => a.seq - b.seq),
    reordered,
    checkpoints: checkpoints.length,
    badCheckpoints,
    unverifiedCheckpoints,
    silences,
  };
}

/**
 * Checks any copy of the trail (see `readTrail`) for gaps, duplicates, altered or reordered
 * records, bad checkpoint signatures and silent streams. Pure: reads only its arguments.
 */
export function verifyTrail(records: readonly TrailRecord[], options: VerifyOptions = {}): VerifyReport {
  const chains = new Map<string, ChainedRecord[]>();
  const checkpoints = new Map<string, TrailRecord[]>();
  let unchained = 0;
  records.forEach((record, position) => {
    const body = record.body as { action?: unknown; details?: { stream_id?: unknown } } | null;
    if (body?.action === CHECKPOINT_ACTION) {
      const streamId = str(body.details?.stream_id) ?? str(record.attributes[ATTR.streamId]) ?? '(unknown)';
      checkpoints.set(streamId, [...(checkpoints.get(streamId) ?? []), record]);
      return;
    }
    const streamId = str(record.attributes[ATTR.streamId]);
    const hash = str(record.attributes[ATTR.hash]);
    const prevHash = str(record.attributes[ATTR.prevHash]);
    const seq = num(record.attributes[ATTR.seq]);
    if (!streamId || !hash || !prevHash || !Number.isInteger(seq) || seq < 1) {
      unchained++;
      return;
    }
    const list = chains.get(streamId) ?? [];
    list.push({ record, seq, hash, prevHash, position });
    chains.set(streamId, list);
  });
  const streamIds = new Set([...chains.keys(), ...checkpoints.keys()]);
  const streams = [...streamIds].sort().map((id) => verifyStream(id, chains.get(id) ?? [], checkpoints.get(id) ?? [], options));
  const ok =
    unchained === 0 &&
    streams.every(
      (s) => !s.gaps.length && !s.duplicates.length && !s.tampered.length && !s.reordered.length && !s.badCheckpoints.length && !s.silences.length,
    );
  return { ok, records: records.length, unchained, streams };
}

import type { KeyObject } from 'node:crypto';
import { ATTR } from '../attributes.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, linkHash } from './chain.js';
import { CHECKPOINT_ACTION, checkpointSignatureValid } from './checkpoint.js';
import type { TrailRecord } from './trail.js';

export interface VerifyOptions {
  /** Verifies checkpoint signatures; without it they are counted as unverified. */
  readonly publicKey?: KeyObject;
  /** The HMAC key the logger used for the chain, if any (the same bytes). */
  readonly hmacKey?: Buffer;
  /** Destinations that legitimately reorder (parallel consumers, search exports) do not report order. @default false */
  readonly ignoreOrder?: boolean;
  /** "Now", for the silence check. @default Date.now() */
  readonly now?: number;
  /**
   * Every stream must have checkpoints, each with a signature that verifies (needs `publicKey`):
   * a missing or unsigned checkpoint is a finding. Without it, an unsigned trail passes with a note.
   * @default false
   */
  readonly requireSigned?: boolean;
  /** Window: only events and checkpoints stamped at or after this time (ms since the epoch) are checked. */
  readonly since?: number;
  /** Window: only events and checkpoints stamped before this time (ms since the epoch) are checked. */
  readonly until?: number;
  /** Window: only events from this sequence number on are checked; a gap before it is not a finding. */
  readonly fromSeq?: number;
  /** Longest list of each kind of finding in a report; the rest are counted in `omitted`. @default 1000 */
  readonly maxListed?: number;
}

/** One record a finding is about. */
export interface RecordRef {
  readonly seq: number;
  readonly id: string | undefined;
  readonly source: string;
}

export interface StreamReport {
  readonly streamId: string;
  /** Distinct sequence numbers found in the window. */
  readonly events: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /**
   * The sequence range checked for gaps: from 1 (or `fromSeq`; with a time window, the first seq
   * found in it) up to the last seq found or claimed by a checkpoint in the window.
   */
  readonly expected: { from: number; to: number } | undefined;
  /** Missing sequence ranges, inclusive, in order (the first `maxListed`). */
  readonly gaps: readonly { from: number; to: number }[];
  /** How many sequence numbers are missing in all. */
  readonly missing: number;
  /** Information, not a failure: sequence numbers read more than once with identical records (at-least-once delivery), and how many times. */
  readonly duplicates: readonly { seq: number; copies: number }[];
  /** Records whose content no longer matches their hash, whose chain link is broken, or that differ from another record under the same seq. */
  readonly tampered: readonly (RecordRef & { reason: string })[];
  /** Records stored out of sequence order. */
  readonly reordered: readonly RecordRef[];
  readonly checkpoints: number;
  /** Checkpoints whose signature fails, that are unsigned or missing when signatures are required, or that break the run sequence (a resume without its marker). */
  readonly badCheckpoints: readonly { id: string | undefined; source: string; reason: string }[];
  /** Signed checkpoints whose signature was not checked (no public key); unsigned ones are not counted. */
  readonly unverifiedCheckpoints: number;
  /** Checkpoints without a signature while a public key was given (not used; a finding with `requireSigned`). */
  readonly unsignedCheckpoints: number;
  /** Periods without a checkpoint longer than the checkpoint interval (the stream's heartbeat stopped). */
  readonly silences: readonly { from: string; to: string; ms: number }[];
  /** Findings beyond `maxListed`, not listed (all kinds together). */
  readonly omitted: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Records read, inside and outside the window. */
  readonly records: number;
  /** Records outside the window (not checked). */
  readonly outsideWindow: number;
  /** Records without integrity attributes (not written by otel-audit, or stripped). */
  readonly unchained: number;
  readonly streams: readonly StreamReport[];
}

const num = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const idOf = (record: TrailRecord): string | undefined => str((record.body as { id?: unknown } | null)?.id) ?? str(record.attributes[ATTR.recordUid]);
const HASH = /^[0-9a-f]{64}$/;

/** Sequence numbers per page of the store below. */
const PAGE = 4096;

/**
 * What verify keeps per sequence number: the record's hash (32 bytes) and how many identical
 * copies were read. Pages of `PAGE` numbers, created only where records are: 1,000,000 events
 * take about 33 MB, and a forged seq of 10^12 one page.
 */
class SeqStore {
  readonly #pages = new Map<number, { hashes: Buffer; copies: Uint32Array }>();
  size = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  #slot(seq: number, create: boolean) {
    const index = Math.floor(seq / PAGE);
    let page = this.#pages.get(index);
    if (!page && create) {
      page = { hashes: Buffer.alloc(PAGE * 32), copies: new Uint32Array(PAGE) };
      this.#pages.set(index, page);
    }
    return page && { page, offset: seq - index * PAGE };
  }

  readonly #scratch = Buffer.alloc(32);

  /** Whether a record of `seq` was read. */
  has(seq: number): boolean {
    const slot = this.#slot(seq, false);
    return slot !== undefined && slot.page.copies[slot.offset]! > 0;
  }

  /** Whether the stored hash of `seq` (which must be there: see `has`) is `hash` (hex); compared as bytes, no string made. */
  hashIs(seq: number, hash: string): boolean {
    const { page, offset } = this.#slot(seq, false)!;
    return hash.length === 64 && this.#scratch.write(hash, 'hex') === 32 && page.hashes.compare(this.#scratch, 0, 32, offset * 32, offset * 32 + 32) === 0;
  }

  /** Records one more copy of `seq` with `hash`; returns the copies of it read so far. */
  add(seq: number, hash: string): number {
    const { page, offset } = this.#slot(seq, true)!;
    if (page.copies[offset] === 0) {
      page.hashes.write(hash, offset * 32, 32, 'hex');
      this.size++;
      this.min = Math.min(this.min, seq);
      this.max = Math.max(this.max, seq);
    }
    return ++page.copies[offset]!;
  }

  /** Sequence numbers in [from, to] with no record, as inclusive ranges in order (work in pages, not in the span). */
  *missing(from: number, to: number): Generator<{ from: number; to: number }> {
    let open: number | undefined;
    let cursor = from;
    const pages = [...this.#pages.keys()].filter((index) => (index + 1) * PAGE > from && index * PAGE <= to).sort((a, b) => a - b);
    for (const index of pages) {
      const { copies } = this.#pages.get(index)!;
      // Between the cursor and this page there is no record at all.
      if (cursor < index * PAGE) {
        open ??= cursor;
        cursor = index * PAGE;
      }
      const end = Math.min(to, (index + 1) * PAGE - 1);
      for (; cursor <= end; cursor++) {
        if (copies[cursor - index * PAGE] === 0) open ??= cursor;
        else if (open !== undefined) {
          yield { from: open, to: cursor - 1 };
          open = undefined;
        }
      }
    }
    if (cursor <= to) open ??= cursor;
    if (open !== undefined) yield { from: open, to };
  }

  /** Sequence numbers read more than once, in order, with their copies. */
  *duplicated(): Generator<{ seq: number; copies: number }> {
    for (const index of [...this.#pages.keys()].sort((a, b) => a - b)) {
      const { copies } = this.#pages.get(index)!;
      for (let offset = 0; offset < PAGE; offset++) if (copies[offset]! > 1) yield { seq: index * PAGE + offset, copies: copies[offset]! };
    }
  }
}

/** A checkpoint that was accepted (signature verified, or not checked): what it states. */
interface StatedCheckpoint {
  readonly id: string | undefined;
  readonly source: string;
  readonly time: number;
  readonly seq: number;
  readonly hash: string;
  readonly intervalMillis: number;
  readonly final: boolean;
  readonly start: boolean;
}

/** A list that keeps its first `limit` items and counts the rest. */
class Capped<T> {
  readonly items: T[] = [];
  constructor(
    private readonly limit: number,
    private readonly overflow: { omitted: number },
  ) {}

  push(item: T): void {
    if (this.items.length < this.limit) this.items.push(item);
    else this.overflow.omitted++;
  }
}

/** Everything verify knows about one stream while the records go by. */
class StreamState {
  readonly store = new SeqStore();
  readonly counts = { omitted: 0 };
  readonly tampered: Capped<RecordRef & { reason: string }>;
  readonly reordered: Capped<RecordRef>;
  readonly badCheckpoints: Capped<StreamReport['badCheckpoints'][number]>;
  /** Records whose predecessor was not read yet: their `prev_hash` waits for it. */
  readonly awaitingPredecessor = new Map<number, { prevHash: string; ref: RecordRef }>();
  readonly checkpoints: StatedCheckpoint[] = [];
  readonly checkpointIds = new Set<string>();
  checkpointsRead = 0;
  unverifiedCheckpoints = 0;
  unsignedCheckpoints = 0;
  /** The record read last, for the order check, and whether it was already reported. */
  previous: { ref: RecordRef; reported: boolean } | undefined;

  constructor(
    readonly streamId: string,
    readonly limit: number,
  ) {
    this.tampered = new Capped(limit, this.counts);
    this.reordered = new Capped(limit, this.counts);
    this.badCheckpoints = new Capped(limit, this.counts);
  }
}

/**
 * Checks a trail record by record, keeping per stream about 33 bytes per sequence number and
 * nothing of the records themselves: `add` each record in the order the copy holds them, then
 * `report`. For files, `verifyFiles` does both with the streaming reader.
 */
export class TrailVerifier {
  readonly #options: VerifyOptions;
  readonly #streams = new Map<string, StreamState>();
  readonly #limit: number;
  #records = 0;
  #outsideWindow = 0;
  #unchained = 0;

  constructor(options: VerifyOptions = {}) {
    const { requireSigned, publicKey, since, until, fromSeq, maxListed } = options;
    if (requireSigned && !publicKey) throw new TypeError('requireSigned needs publicKey: without it no signature can be checked');
    for (const [name, value] of [['since', since], ['until', until], ['now', options.now]] as const) {
      if (value !== undefined && !Number.isFinite(value)) throw new TypeError(`${name} must be a time in ms since the epoch, got ${String(value)}`);
    }
    if (fromSeq !== undefined && !(Number.isSafeInteger(fromSeq) && fromSeq >= 1)) throw new TypeError(`fromSeq must be a whole number from 1, got ${String(fromSeq)}`);
    if (maxListed !== undefined && !(Number.isSafeInteger(maxListed) && maxListed >= 0)) throw new TypeError(`maxListed must be a whole number, got ${String(maxListed)}`);
    this.#options = options;
    this.#limit = maxListed ?? 1000;
  }

  #stream(streamId: string): StreamState {
    let state = this.#streams.get(streamId);
    if (!state) {
      state = new StreamState(streamId, this.#limit);
      this.#streams.set(streamId, state);
    }
    return state;
  }

  /** Inside the time window? A record without a readable time is checked rather than skipped. */
  #inTime(record: TrailRecord): boolean {
    const { since, until } = this.#options;
    if (since === undefined && until === undefined) return true;
    const time = timeOf(record);
    if (Number.isNaN(time)) return true;
    return (since === undefined || time >= since) && (until === undefined || time < until);
  }

  add(record: TrailRecord): void {
    this.#records++;
    const body = record.body as { action?: unknown; details?: { stream_id?: unknown } } | null;
    if (body?.action === CHECKPOINT_ACTION) {
      if (!this.#inTime(record)) this.#outsideWindow++;
      else this.#addCheckpoint(record, str(body.details?.stream_id) ?? str(record.attributes[ATTR.streamId]) ?? '(unknown)');
      return;
    }
    const streamId = str(record.attributes[ATTR.streamId]);
    const hash = str(record.attributes[ATTR.hash]);
    const prevHash = str(record.attributes[ATTR.prevHash]);
    const seq = num(record.attributes[ATTR.seq]);
    if (!streamId || !hash || !prevHash || !Number.isSafeInteger(seq) || seq < 1) {
      this.#unchained++;
      return;
    }
    if ((this.#options.fromSeq !== undefined && seq < this.#options.fromSeq) || !this.#inTime(record)) {
      this.#outsideWindow++;
      return;
    }
    this.#addChained(this.#stream(streamId), record, seq, hash, prevHash);
  }

  #addChained(state: StreamState, record: TrailRecord, seq: number, hash: string, prevHash: string): void {
    const ref: RecordRef = { seq, id: idOf(record), source: record.source };
    let canonical: string | undefined;
    try {
      canonical = canonicalJson(record.body);
    } catch {
      // A body JSON cannot hold (only a hand-built record): it cannot match any hash.
    }
    const intact = canonical !== undefined && HASH.test(hash) && linkHash(prevHash, canonical, this.#options.hmacKey) === hash;
    if (!intact) state.tampered.push({ ...ref, reason: 'content does not match its hash' });
    const earlier = state.store.has(seq);
    if (earlier) {
      if (intact && state.store.hashIs(seq, hash)) {
        // The same record again (a resent batch): information, and no news for order or links.
        state.store.add(seq, hash);
        return;
      }
      if (intact) state.tampered.push({ ...ref, reason: `sequence number ${seq} appears with different content (another record with it was read before)` });
    } else state.store.add(seq, HASH.test(hash) ? hash : GENESIS_HASH);

    if (!this.#options.ignoreOrder) {
      const previous = state.previous;
      if (previous && previous.ref.seq > seq) {
        if (!previous.reported) state.reordered.push(previous.ref);
        state.reordered.push(ref);
      }
      state.previous = { ref, reported: previous !== undefined && previous.ref.seq > seq };
    }

    if (earlier) return;
    // Links: this record's prev_hash against its predecessor's hash, and its successor's against its hash.
    if (intact) {
      const linked = seq === 1 ? prevHash === GENESIS_HASH : state.store.has(seq - 1) ? state.store.hashIs(seq - 1, prevHash) : undefined;
      if (linked === undefined) state.awaitingPredecessor.set(seq, { prevHash, ref });
      else if (!linked) state.tampered.push({ ...ref, reason: `prev_hash does not match the hash of seq ${seq - 1}` });
    }
    const successor = state.awaitingPredecessor.get(seq + 1);
    if (successor) {
      state.awaitingPredecessor.delete(seq + 1);
      if (successor.prevHash !== hash) state.tampered.push({ ...successor.ref, reason: `prev_hash does not match the hash of seq ${seq}` });
    }
  }

  #addCheckpoint(record: TrailRecord, streamId: string): void {
    const state = this.#stream(streamId);
    const id = idOf(record);
    // An identical copy of a checkpoint (at-least-once delivery) states nothing new.
    if (id !== undefined) {
      if (state.checkpointIds.has(id)) return;
      state.checkpointIds.add(id);
    }
    state.checkpointsRead++;
    const { publicKey, requireSigned } = this.#options;
    const signature = str(record.attributes[ATTR.signature]);
    const bad = (reason: string) => state.badCheckpoints.push({ id, source: record.source, reason });
    if (publicKey) {
      if (!signature) {
        if (requireSigned) bad('unsigned');
        else state.unsignedCheckpoints++;
        return;
      }
      if (!checkpointSignatureValid(record.body, signature, publicKey)) return bad('signature does not verify');
    } else if (signature) state.unverifiedCheckpoints++;
    const body = record.body as { timestamp?: unknown; details?: Record<string, unknown> };
    const details = body.details ?? {};
    const time = Date.parse(str(body.timestamp) ?? '');
    const seq = details['seq'];
    const hash = details['hash'];
    const intervalMillis = details['interval_ms'];
    if (Number.isNaN(time) || !Number.isSafeInteger(seq) || (seq as number) < 0 || typeof hash !== 'string' || typeof intervalMillis !== 'number' || !(intervalMillis > 0)) {
      return bad('not a checkpoint: timestamp, seq, hash or interval_ms missing or malformed');
    }
    state.checkpoints.push({ id, source: record.source, time, seq: seq as number, hash, intervalMillis, final: details['final'] === true, start: details['start'] === true });
  }

  report(): VerifyReport {
    const streams = [...this.#streams.keys()].sort().map((id) => this.#streamReport(this.#streams.get(id)!));
    // Arrival order is information: exports in flight side by side and the Collector's queue
    // consumers store batches in any order, and the chain (seq, prev_hash) proves the order anyway.
    const ok = this.#unchained === 0 && streams.every((s) => !s.gaps.length && !s.tampered.length && !s.badCheckpoints.length && !s.silences.length);
    return { ok, records: this.#records, outsideWindow: this.#outsideWindow, unchained: this.#unchained, streams };
  }

  #streamReport(state: StreamState): StreamReport {
    const { store } = state;
    const { since, until, fromSeq, requireSigned } = this.#options;
    const checkpoints = [...state.checkpoints].sort((a, b) => a.time - b.time);

    // A checkpoint that names a hash for its seq, and the record here has another: altered after the fact.
    for (const c of checkpoints) {
      if (store.has(c.seq) && !store.hashIs(c.seq, c.hash)) {
        state.tampered.push({ seq: c.seq, id: undefined, source: c.source, reason: `hash differs from the one the checkpoint at ${c.source} states` });
      }
    }
    if (requireSigned && checkpoints.length === 0 && state.badCheckpoints.items.length === 0) {
      state.badCheckpoints.push({ id: undefined, source: '(none)', reason: 'no signed checkpoint: nothing proves where the stream ends' });
    }

    // Runs: after a clean shutdown, the next checkpoint must be the resume marker at the same head.
    checkpoints.forEach((c, i) => {
      const before = checkpoints[i - 1];
      if (!before?.final) return;
      if (!c.start) state.badCheckpoints.push({ id: c.id, source: c.source, reason: `the stream went on after its clean shutdown at seq ${before.seq} (${before.source}) without a resume marker` });
      else if (c.seq !== before.seq || c.hash !== before.hash) {
        state.badCheckpoints.push({ id: c.id, source: c.source, reason: `resumed from seq ${c.seq}, but the clean shutdown before it (${before.source}) was at seq ${before.seq}` });
      }
    });
    const last = checkpoints.at(-1);
    if (last?.final && store.size > 0 && store.max > last.seq) {
      state.badCheckpoints.push({ id: last.id, source: last.source, reason: `events up to seq ${store.max} after the clean shutdown at seq ${last.seq}, without a resume marker` });
    }

    // Silence: between checkpoints, and from the last one to the end of the window (or now),
    // unless a clean shutdown explains it. One and a half intervals of slack: timers drift, and
    // a checkpoint may wait behind a batch.
    const silences: { from: string; to: string; ms: number }[] = [];
    const now = this.#options.now ?? Date.now();
    const end = until === undefined ? now : Math.min(until, now);
    const silent = (from: number, to: number, intervalMillis: number) => {
      if (to - from > intervalMillis * 1.5) {
        if (silences.length < this.#limit) silences.push({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ms: to - from });
        else state.counts.omitted++;
      }
    };
    checkpoints.forEach((c, i) => {
      const before = checkpoints[i - 1];
      if (before && !before.final) silent(before.time, c.time, before.intervalMillis);
    });
    if (last && !last.final) silent(last.time, end, last.intervalMillis);

    // The range to check: a window starts where the copy starts; a whole trail starts at 1.
    const windowed = since !== undefined || until !== undefined;
    const from = fromSeq ?? (windowed ? (store.size ? store.min : undefined) : 1);
    const claimed = checkpoints.reduce((max, c) => Math.max(max, c.seq), store.size ? store.max : 0);
    const expected = from !== undefined && claimed >= from ? { from, to: claimed } : undefined;
    const gaps: { from: number; to: number }[] = [];
    let missing = 0;
    if (expected) {
      for (const gap of store.missing(expected.from, expected.to)) {
        missing += gap.to - gap.from + 1;
        if (gaps.length < this.#limit) gaps.push(gap);
        else state.counts.omitted++;
      }
    }
    const duplicates: { seq: number; copies: number }[] = [];
    for (const duplicate of store.duplicated()) {
      if (duplicates.length < this.#limit) duplicates.push(duplicate);
      else state.counts.omitted++;
    }

    return {
      streamId: state.streamId,
      events: store.size,
      firstSeq: store.size ? store.min : undefined,
      lastSeq: store.size ? store.max : undefined,
      expected,
      gaps,
      missing,
      duplicates,
      tampered: [...state.tampered.items].sort((a, b) => a.seq - b.seq),
      reordered: state.reordered.items,
      checkpoints: state.checkpointsRead,
      badCheckpoints: state.badCheckpoints.items,
      unverifiedCheckpoints: state.unverifiedCheckpoints,
      unsignedCheckpoints: state.unsignedCheckpoints,
      silences,
      omitted: state.counts.omitted,
    };
  }
}

/** The event's own time (its `timestamp`), else the log record's. */
function timeOf(record: TrailRecord): number {
  const stamped = Date.parse(str((record.body as { timestamp?: unknown } | null)?.timestamp) ?? '');
  if (!Number.isNaN(stamped)) return stamped;
  return record.timeUnixNano ? Number(record.timeUnixNano) / 1e6 : Number.NaN;
}

/**
 * Checks any copy of the trail (see `readTrail`) for gaps, altered or reordered records, bad
 * checkpoint signatures, resumes without their marker and silent streams; identical copies are
 * reported as information. Pure: reads only its arguments. For large files, `TrailVerifier` with
 * `streamTrail` checks without holding the records.
 */
export function verifyTrail(records: Iterable<TrailRecord>, options: VerifyOptions = {}): VerifyReport {
  const verifier = new TrailVerifier(options);
  for (const record of records) verifier.add(record);
  return verifier.report();
}

import { hash as digest, type KeyObject } from 'node:crypto';
import { ATTR, inSiteCopy } from '../attributes.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, linkHash } from './chain.js';
import { CHECKPOINT_ACTION, checkpointSignatureValid } from './checkpoint.js';
import { NO_PARENT, SeqStore, UNCHECKED_PARENT } from './seq-store.js';
import { eventTimeOfRecord, type TrailDamage, type TrailRecord } from './trail.js';

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
  /** Only these streams (ids, or the first characters of one); other records are counted in `excluded`. */
  readonly streams?: readonly string[];
  /**
   * Check the chains of these sites instead of the streams: each site's chain within each stream,
   * from the records of the site's copy (see `inSiteCopy`) and the site's checkpoints, exactly as
   * a stream is checked. A site's copy, or the installation's (the rest of it is counted in
   * `excluded`). Without it, site checkpoints are counted in `siteCheckpoints`, not checked.
   */
  readonly sites?: readonly string[];
  /**
   * Only the streams of these services (the resource's `service.name`), and the records without a
   * chain of them; the rest is counted in `excluded`. A stream is its service's whatever process
   * delivered its records (`otel-audit spool --replay` sends another process's backlog as `otel-audit-cli`).
   */
  readonly services?: readonly string[];
  /**
   * Leaves out test records, counted in `excluded`: destination tests (`otel_audit.test: true`, the
   * Admin Panel's Test button) and what `otel-audit emit` and `doctor` send (resource `audit.test:
   * true`, service `otel-audit-emit` / `otel-audit-doctor`). @default false
   */
  readonly excludeTest?: boolean;
}

/** One record a finding is about. */
export interface RecordRef {
  readonly seq: number;
  readonly id: string | undefined;
  readonly source: string;
}

/**
 * Records a run sent beyond the head its spool kept (the disk failed, then the process died): the
 * next run resumed from that head, as its resume marker states, and wrote these seqs anew. They
 * chain from the head the marker states and were stamped before it: information, not tampering.
 */
export interface SupersededBranch {
  /** The seqs of the branch, inclusive. */
  readonly from: number;
  readonly to: number;
  /** The head both branches continue: the resume marker's seq. */
  readonly resumedFrom: number;
  /** Where the resume marker was read. */
  readonly marker: string;
}

/** A period without checkpoints that ends at a resume marker: the process was down (it died without its final checkpoint), and a later run continued the stream. */
export interface Downtime {
  readonly from: string;
  readonly to: string;
  readonly ms: number;
  /** The seq the next run resumed from. */
  readonly resumedFrom: number;
}

export interface StreamReport {
  readonly streamId: string;
  /** The site whose chain within the stream this reports on (`sites`); absent for the stream's own chain. */
  readonly siteId?: string;
  /** The `service.name` of the stream's records, when they carry one (the application's, not that of a tool that delivered its backlog). */
  readonly serviceName: string | undefined;
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
  /** Records whose content no longer matches their hash, whose chain link is broken, or that differ from another record under the same seq (outside a stated fork). */
  readonly tampered: readonly (RecordRef & { reason: string })[];
  /** Information, not a failure: records stored out of sequence order. */
  readonly reordered: readonly RecordRef[];
  /** Information, not a failure: records of a run that died, superseded by the run that resumed from an older head (see `SupersededBranch`). */
  readonly superseded: readonly SupersededBranch[];
  readonly checkpoints: number;
  /** Checkpoints whose signature fails, that are unsigned or missing when signatures are required, that break the run sequence (a resume without its marker), or that carry another checkpoint's id. */
  readonly badCheckpoints: readonly { id: string | undefined; source: string; reason: string }[];
  /** Signed checkpoints whose signature was not checked (no public key); unsigned ones are not counted. */
  readonly unverifiedCheckpoints: number;
  /** Checkpoints without a signature while a public key was given (not used; a finding with `requireSigned`). */
  readonly unsignedCheckpoints: number;
  /** Periods without a checkpoint longer than the checkpoint interval (the stream's heartbeat stopped). */
  readonly silences: readonly { from: string; to: string; ms: number }[];
  /** Information, not a failure: periods without checkpoints that a resume marker ends (see `Downtime`). */
  readonly downtimes: readonly Downtime[];
  /** Findings beyond `maxListed`, not listed (all kinds together). */
  readonly omitted: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Records read, inside and outside the window. */
  readonly records: number;
  /** Records outside the window (not checked). */
  readonly outsideWindow: number;
  /** Records left out by the selection (`streams`, `services`, `excludeTest`). */
  readonly excluded: number;
  /** Records without integrity attributes (not written by otel-audit, or stripped), test records excepted: a finding. */
  readonly unchained: number;
  /** Information, not a failure: destination test records (`otel_audit.test: true`) without integrity attributes. */
  readonly testRecords: number;
  /** Information: checkpoints of the sites' chains, read without `sites` (`otel-audit verify --site` checks them). */
  readonly siteCheckpoints: number;
  /** Damaged frames and lines (findings), torn tails and lines that are no audit record (notes), as the reader reported them: the first `maxListed` of each. */
  readonly damage: readonly TrailDamage[];
  /** Damaged frames and lines (kind `damaged`) in all, listed or not: a finding. */
  readonly damaged: number;
  /** Torn tails and unrecognised lines in all, listed or not: information. */
  readonly damageNotes: number;
  readonly streams: readonly StreamReport[];
}

const num = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const isTrue = (value: unknown): boolean => value === true || value === 'true';
const idOf = (record: TrailRecord): string | undefined => str((record.body as { id?: unknown } | null)?.id) ?? str(record.attributes[ATTR.recordUid]);
const HASH = /^[0-9a-f]{64}$/;

/** The attributes of a record's link: in its stream's chain, or in its site's. */
const STREAM_LINK = { seq: ATTR.seq, hash: ATTR.hash, prevHash: ATTR.prevHash } as const;
const SITE_LINK = { seq: ATTR.siteSeq, hash: ATTR.siteHash, prevHash: ATTR.sitePrevHash } as const;

/** The attribute the Admin Panel's Test button (and any destination test) marks its record with. */
const DESTINATION_TEST = 'otel_audit.test';
/** The resource attribute of what `otel-audit emit` and `doctor` send. */
const RESOURCE_TEST = 'audit.test';
const TEST_SERVICES = new Set(['otel-audit-emit', 'otel-audit-doctor']);
/** Tools that deliver records of another process (`otel-audit spool --replay`, `--redrive`) under their own resource. */
const DELIVERING_SERVICES = new Set(['otel-audit-cli']);
/** Records under one seq beyond this are not kept apart (a parent index is one byte). */
const MAX_RECORDS_PER_SEQ = UNCHECKED_PARENT - 1;

/** `service.name` of a record: on its resource, or among its fields (a Splunk export carries the HEC fields as attributes). */
const serviceOf = (record: TrailRecord): string | undefined => str(record.resource['service.name']) ?? str(record.attributes['service.name']);

/** A destination test record (`otel_audit.test`), or one of `emit`/`doctor` (`audit.test`, their service names). */
function isTestRecord(record: TrailRecord): boolean {
  if (isTrue(record.attributes[DESTINATION_TEST]) || isTrue(record.resource[RESOURCE_TEST]) || isTrue(record.attributes[RESOURCE_TEST])) return true;
  const service = serviceOf(record);
  return service !== undefined && TEST_SERVICES.has(service);
}

/** A record read under a seq that already had another (different) one: a fork, or tampering. */
interface Alternate {
  readonly hash: string;
  copies: number;
  parent: number;
  readonly time: number;
  readonly ref: RecordRef;
}

/** A record whose predecessor (the record of seq - 1 with its `prev_hash` as hash) was not read yet. */
interface Orphan {
  readonly prevHash: string;
  /** Which record of its seq: 0 the first read, n the nth alternate. */
  readonly index: number;
  readonly ref: RecordRef;
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
  /** Records under a seq the store already holds, with different content, by seq. */
  readonly alternates = new Map<number, Alternate[]>();
  /** Records whose predecessor was not read yet, by their seq. */
  readonly orphans = new Map<number, Orphan[]>();
  readonly counts = { omitted: 0 };
  readonly tampered: Capped<RecordRef & { reason: string }>;
  readonly reordered: Capped<RecordRef>;
  readonly badCheckpoints: Capped<StreamReport['badCheckpoints'][number]>;
  readonly checkpoints: StatedCheckpoint[] = [];
  /** Each checkpoint id read, with a digest of its content and signature, where it was read, and whether its signature verified. */
  readonly checkpointIds = new Map<string, { digest: string; source: string; verified: boolean }>();
  /** The application's service name; a delivering tool's until one is read. */
  serviceName: string | undefined;
  /** Records read of this stream (for `excluded` when the stream is not selected). */
  records = 0;
  checkpointsRead = 0;
  unverifiedCheckpoints = 0;
  unsignedCheckpoints = 0;
  /** The record read last, for the order check, and whether it was already reported. */
  previous: { ref: RecordRef; reported: boolean } | undefined;

  constructor(
    readonly streamId: string,
    readonly siteId: string | undefined,
    readonly limit: number,
  ) {
    this.tampered = new Capped(limit, this.counts);
    // Order is information: what is not listed of it is no finding omitted.
    this.reordered = new Capped(limit, { omitted: 0 });
    this.badCheckpoints = new Capped(limit, this.counts);
  }

  /** Counts a record of this stream, and notes its service. */
  countRecord(service: string | undefined): void {
    this.records++;
    if (service !== undefined && (this.serviceName === undefined || (DELIVERING_SERVICES.has(this.serviceName) && !DELIVERING_SERVICES.has(service)))) this.serviceName = service;
  }

  /** The hash of record `index` of `seq` (0: the one the store keeps). */
  hashAt(seq: number, index: number): string | undefined {
    return index === 0 ? this.store.hashOf(seq) : this.alternates.get(seq)?.[index - 1]?.hash;
  }

  /** Which record of `seq` has `hash`: 0 the store's, n the nth alternate, -1 none. */
  indexOf(seq: number, hash: string): number {
    if (this.store.hashIs(seq, hash)) return 0;
    const found = this.alternates.get(seq)?.findIndex((alternate) => alternate.hash === hash) ?? -1;
    return found === -1 ? -1 : found + 1;
  }

  setParent(seq: number, index: number, parent: number): void {
    if (index === 0) this.store.setParent(seq, parent);
    else this.alternates.get(seq)![index - 1]!.parent = parent;
  }

  /** The records of `seq`, the store's first: index, parent, time and where each was read. */
  recordsAt(seq: number): { index: number; parent: number; time: number; ref: RecordRef | undefined }[] {
    if (!this.store.has(seq)) return [];
    return [
      { index: 0, parent: this.store.parentOf(seq), time: this.store.timeOf(seq), ref: undefined },
      ...(this.alternates.get(seq) ?? []).map((alternate, i) => ({ index: i + 1, parent: alternate.parent, time: alternate.time, ref: alternate.ref })),
    ];
  }
}

/**
 * Checks a trail record by record, keeping per stream about 45 bytes per sequence number (and,
 * for any seq with more than one record, those records' hashes) and nothing of the records
 * themselves: `add` each record in the order the copy holds them, then `report`. Memory is bounded
 * by the records read, whatever sequence numbers they or checkpoints claim. For files, `streamTrail`
 * gives the records, and its damage reports go to `damaged`.
 */
export class TrailVerifier {
  readonly #options: VerifyOptions;
  readonly #streams = new Map<string, StreamState>();
  readonly #limit: number;
  #records = 0;
  #outsideWindow = 0;
  #excluded = 0;
  #unchained = 0;
  #testRecords = 0;
  #siteCheckpoints = 0;
  readonly #damage: TrailDamage[] = [];
  #damaged = 0;
  #damageNotes = 0;

  constructor(options: VerifyOptions = {}) {
    const { requireSigned, publicKey, since, until, fromSeq, maxListed } = options;
    if (requireSigned && !publicKey) throw new TypeError('requireSigned needs publicKey: without it no signature can be checked');
    for (const [name, value] of [['since', since], ['until', until], ['now', options.now]] as const) {
      if (value !== undefined && !Number.isFinite(value)) throw new TypeError(`${name} must be a time in ms since the epoch, got ${String(value)}`);
    }
    if (fromSeq !== undefined && !(Number.isSafeInteger(fromSeq) && fromSeq >= 1)) throw new TypeError(`fromSeq must be a whole number from 1, got ${String(fromSeq)}`);
    if (maxListed !== undefined && !(Number.isSafeInteger(maxListed) && maxListed >= 0)) throw new TypeError(`maxListed must be a whole number, got ${String(maxListed)}`);
    for (const [name, list] of [['streams', options.streams], ['services', options.services], ['sites', options.sites]] as const) {
      if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === 'string' && item !== ''))) throw new TypeError(`${name} must be a list of non-empty strings`);
    }
    this.#options = options;
    this.#limit = maxListed ?? 1000;
  }

  /** The state of a stream's chain, or of a site's chain within it. */
  #stream(streamId: string, site: string | undefined): StreamState {
    // A NUL cannot be part of a stream id a logger writes (a UUID): the key sorts a stream's sites after it, by site.
    const key = site === undefined ? streamId : `${streamId}\u0000${site}`;
    let state = this.#streams.get(key);
    if (!state) {
      state = new StreamState(streamId, site, this.#limit);
      this.#streams.set(key, state);
    }
    return state;
  }

  /** Inside the time window? A record without a readable time is checked rather than skipped. */
  #inTime(time: number): boolean {
    const { since, until } = this.#options;
    if (Number.isNaN(time)) return true;
    return (since === undefined || time >= since) && (until === undefined || time < until);
  }

  /** Whether the selection keeps the record: `streams` and `excludeTest` here, `services` for the streams in `report` (a stream's service is known once its records are read). */
  #selected(record: TrailRecord, streamId: string | undefined): boolean {
    const { streams, excludeTest } = this.#options;
    if (excludeTest && isTestRecord(record)) return false;
    return !streams || (streamId !== undefined && streams.some((wanted) => streamId.startsWith(wanted)));
  }

  /** A damaged frame or line, torn tail or unrecognised line of the copy (see `streamTrail`'s `onDamage`). */
  damaged(damage: TrailDamage): void {
    const listed = damage.kind === 'damaged' ? this.#damaged++ : this.#damageNotes++;
    if (listed < this.#limit) this.#damage.push(damage);
  }

  add(record: TrailRecord): void {
    this.#records++;
    const body = record.body as { action?: unknown; details?: { stream_id?: unknown; site_id?: unknown } } | null;
    const isCheckpoint = body?.action === CHECKPOINT_ACTION;
    const streamId = (isCheckpoint ? str(body.details?.stream_id) : undefined) ?? str(record.attributes[ATTR.streamId]);
    const checkpointSite = isCheckpoint ? str(body.details?.site_id) : undefined;
    // The chain a record is checked in: its stream's; with `sites`, its site's within the stream
    // (a site's copy holds exactly the records `inSiteCopy` names, and the site's checkpoints).
    const { sites } = this.#options;
    const site = !sites ? undefined : isCheckpoint ? sites.find((wanted) => wanted === checkpointSite) : sites.find((wanted) => inSiteCopy(record.attributes, wanted));
    const selected = this.#selected(record, streamId);
    // A destination test passes a site's filter too: a note, as in any copy.
    if (selected && sites && site === undefined && isTrue(record.attributes[DESTINATION_TEST])) {
      this.#testRecords++;
      return;
    }
    if (!selected || (sites && site === undefined)) {
      this.#excluded++;
      return;
    }
    if (!sites && checkpointSite !== undefined) {
      this.#siteCheckpoints++;
      return;
    }
    const time = eventTimeOfRecord(record);
    if (isCheckpoint) {
      if (!this.#inTime(time)) this.#outsideWindow++;
      else this.#addCheckpoint(record, streamId ?? '(unknown)', site);
      return;
    }
    const names = site === undefined ? STREAM_LINK : SITE_LINK;
    const hash = str(record.attributes[names.hash]);
    const prevHash = str(record.attributes[names.prevHash]);
    const seq = num(record.attributes[names.seq]);
    if (!streamId || !hash || !prevHash || !Number.isSafeInteger(seq) || seq < 1) {
      const { services } = this.#options;
      if (services && !services.includes(serviceOf(record) ?? '')) this.#excluded++;
      // A destination test (the Admin Panel's Test button) carries no chain by design.
      else if (isTrue(record.attributes[DESTINATION_TEST])) this.#testRecords++;
      else this.#unchained++;
      return;
    }
    if ((this.#options.fromSeq !== undefined && seq < this.#options.fromSeq) || !this.#inTime(time)) {
      this.#outsideWindow++;
      return;
    }
    const state = this.#stream(streamId, site);
    state.countRecord(serviceOf(record));
    this.#addChained(state, record, seq, hash, prevHash, time);
  }

  #addChained(state: StreamState, record: TrailRecord, seq: number, hash: string, prevHash: string, time: number): void {
    const ref: RecordRef = { seq, id: idOf(record), source: record.source };
    let canonical: string | undefined;
    try {
      canonical = canonicalJson(record.body);
    } catch {
      // A body JSON cannot hold (only a hand-built record): it cannot match any hash.
    }
    const intact = canonical !== undefined && HASH.test(hash) && linkHash(prevHash, canonical, this.#options.hmacKey) === hash;
    const { store } = state;
    if (!intact) {
      state.tampered.push({ ...ref, reason: 'content does not match its hash' });
      // Its claimed hash still links its successor; its own link is not checked.
      if (!store.has(seq)) {
        this.#keep(state, ref, seq, HASH.test(hash) ? hash : GENESIS_HASH, UNCHECKED_PARENT, time);
        this.#adoptOrphans(state, seq + 1, hash, 0);
      }
      return;
    }
    const known = store.has(seq) ? state.indexOf(seq, hash) : -1;
    if (known >= 0) {
      // The same record again (a resent batch): information, and no news for order or links.
      if (known === 0) store.addCopy(seq);
      else state.alternates.get(seq)![known - 1]!.copies++;
      return;
    }
    const parent = this.#parentOf(state, seq, prevHash, ref);
    let index = 0;
    if (!store.has(seq)) this.#keep(state, ref, seq, hash, parent, time);
    else {
      // Another record under a seq already read: a stated fork or tampering, decided in `report` once every record and checkpoint is in.
      const alternates = state.alternates.get(seq) ?? [];
      if (alternates.length >= MAX_RECORDS_PER_SEQ) {
        state.tampered.push({ ...ref, reason: `sequence number ${seq} appears with different content (more than ${MAX_RECORDS_PER_SEQ} records under it)` });
        return;
      }
      alternates.push({ hash, copies: 1, parent, time, ref });
      state.alternates.set(seq, alternates);
      index = alternates.length;
    }
    if (parent === NO_PARENT) {
      const orphans = state.orphans.get(seq) ?? [];
      orphans.push({ prevHash, index, ref });
      state.orphans.set(seq, orphans);
    }
    this.#adoptOrphans(state, seq + 1, hash, index);
  }

  /** Keeps the first record of a seq, and checks its order. */
  #keep(state: StreamState, ref: RecordRef, seq: number, hash: string, parent: number, time: number): void {
    state.store.add(seq, hash, parent, time);
    if (!this.#options.ignoreOrder) {
      const previous = state.previous;
      const late = previous !== undefined && previous.ref.seq > seq;
      if (late) {
        if (!previous.reported) state.reordered.push(previous.ref);
        state.reordered.push(ref);
      }
      state.previous = { ref, reported: late };
    }
  }

  /** The index of this record's predecessor among the records of `seq - 1`, or NO_PARENT when none of those read so far is it. */
  #parentOf(state: StreamState, seq: number, prevHash: string, ref: RecordRef): number {
    if (seq === 1) {
      if (prevHash === GENESIS_HASH) return 0;
      state.tampered.push({ ...ref, reason: 'prev_hash of seq 1 is not the genesis hash (64 zeros)' });
      return UNCHECKED_PARENT;
    }
    const index = state.store.has(seq - 1) ? state.indexOf(seq - 1, prevHash) : -1;
    return index === -1 ? NO_PARENT : index;
  }

  /** Records of `seq` that waited for a predecessor with `hash`: it is record `index` of `seq - 1`. */
  #adoptOrphans(state: StreamState, seq: number, hash: string, index: number): void {
    const orphans = state.orphans.get(seq);
    if (!orphans) return;
    const waiting = orphans.filter((orphan) => {
      if (orphan.prevHash !== hash) return true;
      state.setParent(seq, orphan.index, index);
      return false;
    });
    if (waiting.length) state.orphans.set(seq, waiting);
    else state.orphans.delete(seq);
  }

  #addCheckpoint(record: TrailRecord, streamId: string, site: string | undefined): void {
    const state = this.#stream(streamId, site);
    state.countRecord(serviceOf(record));
    const id = idOf(record);
    const { publicKey, requireSigned } = this.#options;
    const signature = str(record.attributes[ATTR.signature]);
    const verified = publicKey !== undefined && signature !== undefined && checkpointSignatureValid(record.body, signature, publicKey);
    const bad = (reason: string, about = { id, source: record.source }) => state.badCheckpoints.push({ ...about, reason });
    // Copies are told apart by content and signature, checked first: an unsigned (or forged) record
    // carrying a genuine checkpoint's id, read before it, cannot make the genuine one a "copy".
    if (id !== undefined) {
      let content: string;
      try {
        content = canonicalJson(record.body);
      } catch {
        content = '';
      }
      const fingerprint = digest('sha256', `${signature ?? ''}\n${content}`, 'hex');
      const earlier = state.checkpointIds.get(id);
      if (earlier?.digest === fingerprint) return; // an identical copy (at-least-once delivery) states nothing new
      if (earlier) {
        // Two checkpoints with one id: the one whose signature verifies is the checkpoint, the other a decoy.
        const blamed = verified && !earlier.verified ? { id, source: earlier.source } : { id, source: record.source };
        const other = blamed.source === record.source ? earlier.source : record.source;
        bad(`carries the id of another checkpoint with different content (${other})`, blamed);
        if (verified && !earlier.verified) state.checkpointIds.set(id, { digest: fingerprint, source: record.source, verified });
      } else state.checkpointIds.set(id, { digest: fingerprint, source: record.source, verified });
    }
    state.checkpointsRead++;
    if (publicKey) {
      if (!signature) {
        if (requireSigned) bad('unsigned');
        else state.unsignedCheckpoints++;
        return;
      }
      if (!verified) return bad('signature does not verify');
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
    const { services } = this.#options;
    let excluded = this.#excluded;
    const selected = [...this.#streams.keys()].sort().filter((id) => {
      const state = this.#streams.get(id)!;
      if (!services || services.includes(state.serviceName ?? '')) return true;
      excluded += state.records;
      return false;
    });
    const streams = selected.map((id) => this.#streamReport(this.#streams.get(id)!));
    // Arrival order, superseded branches and downtimes are information: exports in flight side by
    // side and the Collector's queue consumers store batches in any order, and the chain (seq,
    // prev_hash) proves the order anyway.
    const ok = this.#unchained === 0 && this.#damaged === 0 && streams.every((s) => !s.missing && !s.tampered.length && !s.badCheckpoints.length && !s.silences.length && !s.omitted);
    return {
      ok,
      records: this.#records,
      outsideWindow: this.#outsideWindow,
      excluded,
      unchained: this.#unchained,
      testRecords: this.#testRecords,
      siteCheckpoints: this.#siteCheckpoints,
      damage: this.#damage,
      damaged: this.#damaged,
      damageNotes: this.#damageNotes,
      streams,
    };
  }

  /**
   * Where records under one seq part ways: groups of records that share their predecessor. A
   * group that starts at the head a resume marker states is a stated fork: its branches stamped
   * before the marker are superseded (the run that wrote them died beyond what its spool kept), the
   * one stamped after it is the stream. Any other group, and a record under a taken seq that chains
   * to no record before it, is tampering (the record read later is named).
   */
  #forks(state: StreamState, checkpoints: readonly StatedCheckpoint[]): SupersededBranch[] {
    const superseded: SupersededBranch[] = [];
    const impostor = (ref: RecordRef | undefined, reason: string) => ref && state.tampered.push({ ...ref, reason });
    const differs = (seq: number) => `sequence number ${seq} appears with different content (another record with it was read before)`;
    for (const seq of [...state.alternates.keys()].sort((a, b) => a - b)) {
      const byParent = new Map<number, ReturnType<StreamState['recordsAt']>>();
      for (const record of state.recordsAt(seq)) {
        if (record.parent === NO_PARENT || record.parent === UNCHECKED_PARENT) {
          impostor(record.ref, `${differs(seq)}; its prev_hash matches no record of seq ${seq - 1}`);
          continue;
        }
        byParent.set(record.parent, [...(byParent.get(record.parent) ?? []), record]);
      }
      for (const [parent, group] of byParent) {
        if (group.length < 2) continue;
        const head = seq - 1;
        const headHash = head === 0 ? GENESIS_HASH : state.hashAt(head, parent);
        const markers = checkpoints.filter((c) => c.start && c.seq === head && c.hash === headHash);
        if (markers.length === 0) {
          // The record read first stands; the others under its seq chain from the same head with no restart stated there.
          for (const record of group.slice(1)) impostor(record.ref, differs(seq));
          continue;
        }
        const marker = markers.reduce((latest, c) => (c.time > latest.time ? c : latest));
        const resumed = group.filter((record) => !(record.time < marker.time));
        for (const record of resumed.slice(1)) impostor(record.ref, `${differs(seq)}; two records stamped after the resume marker at ${marker.source}`);
        for (const record of group.filter((r) => r.time < marker.time)) {
          superseded.push({ from: seq, to: this.#branchEnd(state, seq, record.index), resumedFrom: head, marker: marker.source });
        }
      }
    }
    return superseded;
  }

  /** The last seq of the branch that starts with record `index` of `seq`: its successors, one seq at a time. */
  #branchEnd(state: StreamState, seq: number, index: number): number {
    let at = seq;
    for (let current = index; ; at++) {
      const next = state.recordsAt(at + 1).find((record) => record.parent === current);
      if (!next) return at;
      current = next.index;
    }
  }

  /** Unlinked records left at the end: a predecessor's seq was read, but no record of it has their prev_hash. */
  #brokenLinks(state: StreamState): void {
    for (const [seq, orphans] of state.orphans) {
      if (!state.store.has(seq - 1)) continue; // a gap, reported as such
      // Alternates are judged with the forks (they may be the first records of a branch whose predecessor is missing).
      for (const orphan of orphans) if (orphan.index === 0) state.tampered.push({ ...orphan.ref, reason: `prev_hash does not match the hash of seq ${seq - 1}` });
    }
  }

  #streamReport(state: StreamState): StreamReport {
    const { store } = state;
    const { since, until, fromSeq, requireSigned } = this.#options;
    const checkpoints = [...state.checkpoints].sort((a, b) => a.time - b.time);

    this.#brokenLinks(state);
    const superseded = this.#forks(state, checkpoints);
    // A checkpoint that names a hash for its seq that no record there has: altered after the fact.
    for (const c of checkpoints) {
      if (store.has(c.seq) && state.indexOf(c.seq, c.hash) === -1) {
        state.tampered.push({ seq: c.seq, id: undefined, source: c.source, reason: `hash differs from the one the checkpoint at ${c.source} states` });
      }
    }
    if (requireSigned && checkpoints.length === 0 && state.badCheckpoints.items.length === 0) {
      state.badCheckpoints.push({ id: undefined, source: '', reason: 'no signed checkpoint: nothing proves where the stream ends' });
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
    const lastLive = lastLiveSeq(state, superseded);
    if (last?.final && lastLive !== undefined && lastLive > last.seq) {
      state.badCheckpoints.push({ id: last.id, source: last.source, reason: `events up to seq ${lastLive} after the clean shutdown at seq ${last.seq}, without a resume marker` });
    }

    // Silence: between checkpoints, and from the last one to the end of the window (or now),
    // unless a clean shutdown explains it. One and a half intervals of slack: timers drift, and
    // a checkpoint may wait behind a batch. A silence that a resume marker ends is a downtime: the
    // process died, and the next run continued from the head its spool kept (checked above and by
    // the gaps), so nothing of the stream can hide in it.
    const silences: { from: string; to: string; ms: number }[] = [];
    const downtimes: Downtime[] = [];
    const now = this.#options.now ?? Date.now();
    const end = until === undefined ? now : Math.min(until, now);
    const longer = (from: number, to: number, intervalMillis: number) => to - from > intervalMillis * 1.5;
    const span = (from: number, to: number) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ms: to - from });
    const listSilence = (from: number, to: number) => {
      if (silences.length < this.#limit) silences.push(span(from, to));
      else state.counts.omitted++;
    };
    checkpoints.forEach((c, i) => {
      const before = checkpoints[i - 1];
      if (!before || before.final || !longer(before.time, c.time, before.intervalMillis)) return;
      if (!c.start) listSilence(before.time, c.time);
      else if (downtimes.length < this.#limit) downtimes.push({ ...span(before.time, c.time), resumedFrom: c.seq });
    });
    if (last && !last.final && longer(last.time, end, last.intervalMillis)) listSilence(last.time, end);

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
    const listDuplicate = (duplicate: { seq: number; copies: number }) => {
      if (duplicates.length < this.#limit) duplicates.push(duplicate);
    };
    for (const duplicate of store.duplicated()) listDuplicate(duplicate);
    for (const [seq, alternates] of state.alternates) for (const alternate of alternates) if (alternate.copies > 1) listDuplicate({ seq, copies: alternate.copies });
    duplicates.sort((a, b) => a.seq - b.seq);

    return {
      streamId: state.streamId,
      ...(state.siteId === undefined ? {} : { siteId: state.siteId }),
      serviceName: state.serviceName,
      events: store.size,
      firstSeq: store.size ? store.min : undefined,
      lastSeq: store.size ? store.max : undefined,
      expected,
      gaps,
      missing,
      duplicates,
      tampered: [...state.tampered.items].sort((a, b) => a.seq - b.seq),
      reordered: state.reordered.items,
      superseded: superseded.slice(0, this.#limit),
      checkpoints: state.checkpointsRead,
      badCheckpoints: state.badCheckpoints.items,
      unverifiedCheckpoints: state.unverifiedCheckpoints,
      unsignedCheckpoints: state.unsignedCheckpoints,
      silences,
      downtimes,
      omitted: state.counts.omitted,
    };
  }
}

/** The highest seq that has a record outside the superseded branches (their records are not the stream's end). */
function lastLiveSeq(state: StreamState, superseded: readonly SupersededBranch[]): number | undefined {
  if (state.store.size === 0) return undefined;
  let seq = state.store.max;
  // Above the resumed run's last record, a superseded branch holds the only record of each seq.
  while (seq > state.store.min && !state.alternates.has(seq) && superseded.some((branch) => branch.from <= seq && seq <= branch.to)) seq--;
  return seq;
}

/**
 * Checks any copy of the trail (see `readTrail`) for gaps, altered or reordered records, bad
 * checkpoint signatures, resumes without their marker and silent streams; identical copies,
 * superseded branches and downtimes are reported as information. Pure: reads only its arguments.
 * For large files, `TrailVerifier` with `streamTrail` checks without holding the records.
 */
export function verifyTrail(records: Iterable<TrailRecord>, options: VerifyOptions = {}): VerifyReport {
  const verifier = new TrailVerifier(options);
  for (const record of records) verifier.add(record);
  return verifier.report();
}

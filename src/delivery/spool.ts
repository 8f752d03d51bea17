import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { GENESIS_HASH, type ChainHead } from '../integrity/chain.js';
import { SegmentHead } from '../integrity/head-recovery.js';
import { fsyncDirectory, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, type FileSystem } from './file-system.js';
import { MemoryQueue } from './memory-queue.js';
import type { Batch, BatchLimits, QueuedRecord, RecordQueue } from './queue.js';
import { canLockIn, tryLockSlot, type SlotLock } from './slot-lock.js';

/*
 * The spool on disk.
 *
 *   <spoolDir>/                      mode 0700
 *     slot-0000/                     one per writer, claimed with an exclusive OS-level lock (slot-lock.ts):
 *       stream.json                  {"streamId": ...}: the slot's hash-chain stream, written once
 *       000000000007.seg             segments, append-only, mode 0600
 *       000000000008.seg             <- the one being written
 *       ack.json                     {"seg": 7, "offset": 4113}: everything before it is acknowledged
 *       dead-letters.ndjson          records the collector refused for good (see dead-letters.ts)
 *     slot-0001/ ...
 *
 *   segment := frame*
 *   frame   := length u32le | crc32 u32le (of kind and payload) | kind u8 | payload (length bytes)
 *   kind 1 HEAD    payload: JSON {"streamId","seq","hash","sites"?}: the chain's head when the segment
 *                  opened (the chain's own payload: its sites' heads too); the first frame of every
 *                  segment, so the head survives when every record before it was acknowledged and deleted
 *   kind 2 RECORD  payload: at u48le (emit time, ms) | seq u48le (0: outside the chain) |
 *                  hash (32 bytes, zero outside the chain) | the OTLP LogRecord bytes
 *
 *   positions in a slot:
 *     [ deleted | acknowledged | handed out, in flight | committed, unsent | buffered in memory ]
 *               ^ack.json      ^ackPos                 ^readPos            ^end of the write segment
 *
 * What is made durable, and when:
 * - a commit group: one write and one fdatasync of the write segment, before `onCommit` reports
 *   it (logEventOrThrow resolves there);
 * - a new segment (at open and at rotation): its HEAD frame is written and fdatasynced, then the
 *   slot directory is fsynced (a new entry), before any record goes into it or the old one closes;
 * - stream.json and a new slot directory: written with fsync, parent directory fsynced;
 * - ack.json: tmp + rename without fsync: a lost ack position only re-sends (duplicates), and
 *   segments are deleted only after the position that makes them useless was written.
 * Head recovery walks the remaining segments and takes the greatest seq of any RECORD or HEAD; the
 * chain reads the rest of its head from the frames (integrity/head-recovery.ts).
 */

const FRAME_HEADER_BYTES = 9;
const RECORD_HEADER_BYTES = 6 + 6 + 32;
const KIND_HEAD = 1;
const KIND_RECORD = 2;
const SLOT = /^slot-(\d{4,})$/;
const SEGMENT = /^(\d{12})\.seg$/;
const segmentName = (seg: number): string => `${String(seg).padStart(12, '0')}.seg`;
const slotName = (n: number): string => `slot-${String(n).padStart(4, '0')}`;
const ZERO_HASH = Buffer.alloc(32);

/** A damaged frame: where it is, for the report. */
export class SpoolCorruptionError extends Error {
  override readonly name = 'SpoolCorruptionError';
  constructor(readonly segment: string, readonly offset: number, readonly skippedBytes: number, reason: string) {
    super(`damaged spool record in ${segment} at offset ${offset}: ${reason}`);
  }
}

/** Writes one frame's header around a payload already at `out[at + FRAME_HEADER_BYTES ..]`; returns the frame's end. */
function sealFrame(out: Buffer, at: number, kind: number, payloadLength: number): number {
  const end = at + FRAME_HEADER_BYTES + payloadLength;
  out.writeUInt32LE(payloadLength, at);
  out[at + 8] = kind;
  out.writeUInt32LE(crc32(out.subarray(at + 8, end)), at + 4);
  return end;
}

function frame(kind: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  sealFrame(out, 0, kind, payload.length);
  return out;
}

/** A commit group's RECORD frames in one buffer: each record's bytes are copied once, into place. */
function recordFrames(records: readonly QueuedRecord[]): Buffer {
  let size = 0;
  for (const record of records) size += FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + record.bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const record of records) {
    const payload = at + FRAME_HEADER_BYTES;
    out.writeUIntLE(record.at, payload, 6);
    out.writeUIntLE(record.seq, payload + 6, 6);
    if (record.hash) out.write(record.hash, payload + 12, 32, 'hex');
    else ZERO_HASH.copy(out, payload + 12);
    out.set(record.bytes, payload + RECORD_HEADER_BYTES);
    at = sealFrame(out, at, KIND_RECORD, RECORD_HEADER_BYTES + record.bytes.length);
  }
  return out;
}

const headFrame = (head: ChainHead): Buffer => frame(KIND_HEAD, Buffer.from(JSON.stringify(head)));

type Frame =
  | { kind: typeof KIND_HEAD; head: ChainHead; end: number }
  | { kind: typeof KIND_RECORD; record: QueuedRecord; end: number }
  /** Bytes that hold no frame, up to the next one whose header and checksum hold (or the end). */
  | { kind: 'damage'; error: SpoolCorruptionError; start: number; end: number };

/** Where reading stopped in a buffer that may end before the segment does: more must be read from `at`. */
interface ReadMore {
  readonly at: number;
  /** The end the frame at `at` announces, when it is only cut by the end of the buffer. */
  readonly announcedEnd: number | undefined;
}

function headOf(payload: Buffer): ChainHead | undefined {
  try {
    const head = JSON.parse(payload.toString('utf8')) as Partial<ChainHead> | null;
    return typeof head?.streamId === 'string' && Number.isSafeInteger(head.seq) && typeof head.hash === 'string' ? (head as ChainHead) : undefined;
  } catch {
    return undefined;
  }
}

/** The frame at `pos`: parsed, or why it is not one (and where it would end, when its length is all that is wrong with it). */
function frameAt(buf: Buffer, pos: number): { frame: Exclude<Frame, { kind: 'damage' }> } | { problem: string; announcedEnd: number | undefined } {
  if (pos + FRAME_HEADER_BYTES > buf.length) return { problem: 'torn frame header', announcedEnd: undefined };
  const length = buf.readUInt32LE(pos);
  const end = pos + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { problem: `torn frame (${length} bytes announced, ${buf.length - pos - FRAME_HEADER_BYTES} present)`, announcedEnd: end };
  if (crc32(buf.subarray(pos + 8, end)) !== buf.readUInt32LE(pos + 4)) return { problem: 'checksum mismatch', announcedEnd: undefined };
  const kind = buf[pos + 8];
  const payload = buf.subarray(pos + FRAME_HEADER_BYTES, end);
  if (kind === KIND_HEAD) {
    const head = headOf(payload);
    return head ? { frame: { kind, head, end } } : { problem: 'unreadable HEAD frame', announcedEnd: undefined };
  }
  if (kind !== KIND_RECORD) return { problem: `unknown frame kind ${kind}`, announcedEnd: undefined };
  if (length < RECORD_HEADER_BYTES) return { problem: 'record frame shorter than its header', announcedEnd: undefined };
  const seq = payload.readUIntLE(6, 6);
  return {
    frame: {
      kind,
      end,
      record: { at: payload.readUIntLE(0, 6), seq, hash: seq === 0 ? '' : payload.toString('hex', 12, 44), bytes: payload.subarray(RECORD_HEADER_BYTES), ordinal: 0 },
    },
  };
}

/**
 * The next offset after `from` where a frame starts whose header and checksum hold, scanning byte by
 * byte (bounded by the buffer, a segment at most); a cheap look at kind and length comes before
 * the checksum.
 */
function resynchronise(buf: Buffer, from: number): number | undefined {
  for (let pos = from; pos + FRAME_HEADER_BYTES <= buf.length; pos++) {
    const kind = buf[pos + 8];
    if (kind !== KIND_HEAD && kind !== KIND_RECORD) continue;
    const length = buf.readUInt32LE(pos);
    if (pos + FRAME_HEADER_BYTES + length > buf.length || (kind === KIND_RECORD && length < RECORD_HEADER_BYTES)) continue;
    if ('frame' in frameAt(buf, pos)) return pos;
  }
  return undefined;
}

/**
 * Reads the frames of `buf`, which starts at `base` in the segment. A damaged region (a bad
 * checksum, a nonsense length, a torn tail) is yielded as `damage` and reading resumes at the next
 * frame that holds, so intact records after it are kept. When `complete` is false the buffer may
 * end before the segment does: at the first problem it stops and says what to read (`ReadMore`).
 */
function* frames(buf: Buffer, base: number, segment: string, complete: boolean): Generator<Frame, ReadMore | undefined> {
  let pos = 0;
  while (pos < buf.length) {
    const found = frameAt(buf, pos);
    if ('frame' in found) {
      yield found.frame;
      pos = found.frame.end;
      continue;
    }
    if (!complete) return { at: pos, announcedEnd: found.announcedEnd };
    const next = resynchronise(buf, pos + 1) ?? buf.length;
    yield { kind: 'damage', start: pos, end: next, error: new SpoolCorruptionError(segment, base + pos, next - pos, `${found.problem} (${next - pos} bytes skipped)`) };
    pos = next;
  }
  return undefined;
}

/** What one segment holds: records past `from`, their count and first emit time, the highest head, each damaged region. */
function scanSegment(buf: Buffer, from: number, segment: string) {
  let pending = 0;
  let firstAt: number | undefined;
  // The chain reads its head back from the frames: the spool knows nothing of what the records say.
  const head = new SegmentHead();
  const damage: SpoolCorruptionError[] = [];
  for (const f of frames(buf, 0, segment, true)) {
    if (f.kind === 'damage') damage.push(f.error);
    else if (f.kind === KIND_HEAD) head.headFrame(f.head);
    else {
      head.record(f.record.seq, f.record.hash, f.record.bytes);
      if (f.end > from) {
        pending++;
        firstAt ??= f.record.at;
      }
    }
  }
  return { pending, firstAt, head: head.head, damage };
}

interface Position {
  seg: number;
  offset: number;
}

export interface SpoolOptions {
  readonly fs: FileSystem;
  /** Start a new segment past this size. */
  readonly maxSegmentBytes: number;
  /** Records kept in memory while the disk cannot be written. */
  readonly maxMemoryRecords: number;
  /** How often a broken spool tries writing again. */
  readonly recoveryMillis: number;
  /** Damaged records found at open or while reading: skipped (intact ones are kept), reported here. */
  readonly onCorrupt: (error: SpoolCorruptionError) => void;
  /** The disk could not be written: records go to memory until it works again. */
  readonly onWriteFailure: (error: Error, count: number) => void;
  /** Records neither the disk nor memory could keep: the owner reports and counts them. */
  readonly onOverflow: (records: readonly QueuedRecord[]) => void;
  /** Records written and fdatasynced, in order. */
  readonly onCommit: (records: readonly QueuedRecord[], bytes: number) => void;
  /**
   * The writer's chain head, as of the last record it appended (it chains and appends in one
   * step): what a new segment's HEAD states, the sites' heads included. Without it (a tool that
   * only delivers a backlog), the head of the last record appended, or the one recovered.
   */
  readonly chainHead?: () => ChainHead;
}

/** A slot that could not be claimed or opened. */
export class SpoolOpenError extends Error {
  override readonly name = 'SpoolOpenError';
}

/**
 * Claims a free slot of `spoolDir` (creating one when all are taken) and opens it. A new process
 * takes over the lowest free slot: its stream, head and backlog, which it delivers.
 */
export function openSpool(spoolDir: string, options: SpoolOptions): Spool {
  const { fs } = options;
  fs.mkdirSync(spoolDir, PRIVATE_DIR_MODE);
  const legacy = fs.readdirSync(spoolDir).filter((name) => /^\d{12}\.seg$/.test(name));
  if (legacy.length > 0) {
    throw new SpoolOpenError(
      `${spoolDir} holds ${legacy.length} segment(s) in the format of otel-audit 0.1; deliver them with otel-audit 0.1 (otel-audit spool --replay) first`,
    );
  }
  for (let n = 0; ; n++) {
    const dir = join(spoolDir, slotName(n));
    const created = fs.mkdirSync(dir, PRIVATE_DIR_MODE);
    if (created) fsyncDirectory(fs, spoolDir);
    const lock = tryLockSlot(dir);
    if (!lock) {
      // A slot this call created is taken by a process that started at the same moment (cluster
      // workers do), unless the platform refuses the lock itself: then no new slot would ever lock.
      if (created && !canLockIn(dir)) throw new SpoolOpenError(`cannot lock spool slot ${dir} (the platform refused the lock socket)`);
      continue;
    }
    try {
      return new Spool(dir, lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }
}

/** The slots of a spool directory, lowest first. */
export function slotsOf(fs: FileSystem, spoolDir: string): string[] {
  return fs
    .readdirSync(spoolDir)
    .filter((name) => SLOT.test(name))
    .sort()
    .map((name) => join(spoolDir, name));
}

/** Opens one given slot if it is free (for `otel-audit spool`), else undefined. */
export function openSlot(dir: string, options: SpoolOptions): Spool | undefined {
  const lock = tryLockSlot(dir);
  if (!lock) return undefined;
  try {
    return new Spool(dir, lock, options);
  } catch (error) {
    lock.release();
    throw error;
  }
}

function readJson<T>(fs: FileSystem, path: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * The durable queue of one slot: append-only segments of checksummed records, written in groups
 * (one fdatasync for every record appended since the last commit), read back by the sender, and
 * deleted segment by segment once every record in them is acknowledged. While the disk cannot be
 * written, records wait in a bounded memory tail, in order, and go back to disk when it works again.
 */
export class Spool implements RecordQueue {
  readonly dir: string;
  readonly #fs: FileSystem;
  readonly #options: SpoolOptions;
  readonly #lock: SlotLock;
  /** Closed segments and their sizes, oldest first. */
  readonly #closed = new Map<number, number>();
  #writeSeg = 0;
  #writeFd = -1;
  #writeSize = 0;
  /** Appended, not yet written. */
  #buffer: QueuedRecord[] = [];
  #committing: Promise<void> | undefined;
  #readPos: Position;
  #ackPos: Position;
  #readFd: { seg: number; fd: number } | undefined;
  /*
   * The oldest pending age, in memory that does not grow with an outage: the first emit time of
   * each segment with unread records (O(segments)), of each batch handed out and not acknowledged
   * (O(batches in flight)), and of the first record not handed out when it is known.
   */
  readonly #segmentFirstAt = new Map<number, number>();
  readonly #handedOut: { end: Position; firstAt: number }[] = [];
  /** Emit time of the record at `#readPos`, or (when the read that reached it did not see it) of the last record handed out: never later than it. */
  #nextUnsentAt: number | undefined;
  /** Damaged regions already reported (`seg:offset`): each is reported once, at open or when first read. */
  readonly #damageReported = new Set<string>();
  #diskPending = 0;
  /** Records the disk did not take, in order; all newer than any record on disk until recovery. */
  readonly #tail: MemoryQueue;
  #broken: Error | undefined;
  #recoveryTimer: NodeJS.Timeout | undefined;
  /** The head of the last chained record appended. */
  #head: ChainHead;
  #closedForGood = false;
  readonly streamId: string;
  /** The chain head an earlier process left: this process continues the stream from it. */
  readonly recoveredHead: ChainHead;
  /** Records an earlier process left unacknowledged. */
  readonly replayed: number;

  constructor(dir: string, lock: SlotLock, options: SpoolOptions) {
    this.dir = dir;
    this.#lock = lock;
    this.#fs = options.fs;
    this.#options = options;
    this.#tail = new MemoryQueue(options.maxMemoryRecords);
    const fs = this.#fs;

    const streamFile = join(dir, 'stream.json');
    let stream = readJson<{ streamId: string }>(fs, streamFile);
    if (!stream) {
      stream = { streamId: randomUUID() };
      fs.writeFileSync(`${streamFile}.tmp`, JSON.stringify(stream), PRIVATE_FILE_MODE, true);
      fs.renameSync(`${streamFile}.tmp`, streamFile);
      fsyncDirectory(fs, dir);
    }
    this.streamId = stream.streamId;

    const ack = readJson<Position>(fs, join(dir, 'ack.json')) ?? { seg: 0, offset: 0 };
    const segments = fs
      .readdirSync(dir)
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    let head: ChainHead = { streamId: stream.streamId, seq: 0, hash: GENESIS_HASH };
    let replayed = 0;
    for (const seg of segments) {
      const path = join(dir, segmentName(seg));
      if (seg < ack.seg) {
        fs.rmSync(path);
        continue;
      }
      const buf = fs.readFileSync(path);
      const from = seg === ack.seg ? Math.min(ack.offset, buf.length) : 0;
      const scan = scanSegment(buf, from, path);
      replayed += scan.pending;
      if (scan.firstAt !== undefined) this.#segmentFirstAt.set(seg, scan.firstAt);
      // Damage is reported once, here; the reader skips it silently later.
      for (const damage of scan.damage) {
        this.#damageReported.add(`${seg}:${damage.offset}`);
        options.onCorrupt(damage);
      }
      if (scan.head && scan.head.streamId === stream.streamId && scan.head.seq >= head.seq) head = scan.head;
      this.#closed.set(seg, buf.length);
    }
    this.recoveredHead = head;
    this.#head = head;
    this.replayed = replayed;
    this.#diskPending = replayed;
    const first = segments.find((seg) => seg >= ack.seg);
    this.#ackPos = first === undefined ? { seg: 0, offset: 0 } : first === ack.seg ? { seg: ack.seg, offset: Math.min(ack.offset, this.#closed.get(first) ?? 0) } : { seg: first, offset: 0 };

    // A new segment whose HEAD states where the stream stands, durable before anything else.
    const { seg, fd, size } = this.#openSegment((segments.at(-1) ?? 0) + 1, head);
    this.#writeSeg = seg;
    this.#writeFd = fd;
    this.#writeSize = size;
    if (this.#ackPos.seg === 0) this.#ackPos = { seg, offset: size };
    this.#readPos = { ...this.#ackPos };
    this.#nextUnsentAt = this.#segmentFirstAt.get(this.#readPos.seg);
    this.#deleteAcknowledged();
  }

  /** Creates a segment with its HEAD frame, fdatasynced, and its directory entry fsynced. Throws on failure, leaving nothing open. */
  #openSegment(seg: number, head: ChainHead): { seg: number; fd: number; size: number } {
    const fs = this.#fs;
    const fd = fs.openSync(join(this.dir, segmentName(seg)), 'w', PRIVATE_FILE_MODE);
    try {
      const header = headFrame(head);
      let written = 0;
      while (written < header.length) written += fs.writeSync(fd, header.subarray(written), written);
      fs.fsyncSync(fd);
      fsyncDirectory(fs, this.dir);
      return { seg, fd, size: header.length };
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  get pending(): number {
    return this.#diskPending + this.#buffer.length + this.#tail.pending;
  }

  get healthy(): boolean {
    return this.#broken === undefined;
  }

  get hasUnsent(): boolean {
    return this.#diskUnsent || this.#tail.hasUnsent;
  }

  get #diskUnsent(): boolean {
    if (this.#readPos.seg < this.#writeSeg) return true;
    return this.#readPos.offset < this.#writeSize;
  }

  oldestPendingAt(): number | undefined {
    if (this.#handedOut.length > 0) return this.#handedOut[0]!.firstAt;
    if (this.#diskUnsent) return this.#nextUnsentAt;
    return this.#tail.oldestPendingAt() ?? this.#buffer[0]?.at;
  }

  /** Keeps a record: buffered now, written and fdatasynced with the rest of its group right after. */
  append(record: QueuedRecord): boolean {
    if (this.#closedForGood) return false;
    if (record.seq > 0) this.#head = { streamId: this.streamId, seq: record.seq, hash: record.hash };
    // While records wait in memory, newer ones queue behind them: order is the order of seq.
    if (this.#broken) return this.#tail.append(record);
    this.#buffer.push(record);
    this.#scheduleCommit();
    return true;
  }

  #scheduleCommit(): void {
    // setImmediate: every append of the current tick (and of ticks during a commit) shares one fdatasync.
    this.#committing ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.#commit());
  }

  /** Resolves when every record appended so far is written (or moved to memory). */
  async committed(): Promise<void> {
    while (this.#committing) await this.#committing;
  }

  async #commit(): Promise<void> {
    while (this.#buffer.length > 0) {
      const group = this.#buffer;
      this.#buffer = [];
      if (this.#broken) {
        this.#toMemory(group, this.#broken);
        continue;
      }
      const data = recordFrames(group);
      try {
        if (this.#writeSize + data.length > this.#options.maxSegmentBytes) this.#rotate();
        await this.#writeDurably(data);
      } catch (error) {
        this.#broken = error as Error;
        this.#toMemory(group, this.#broken);
        this.#scheduleRecovery();
        continue;
      }
      this.#committed(group, data.length);
    }
    this.#committing = undefined;
  }

  async #writeDurably(data: Buffer): Promise<void> {
    try {
      let written = 0;
      while (written < data.length) written += await this.#fs.write(this.#writeFd, data, written, data.length - written, this.#writeSize + written);
      await this.#fs.fdatasync(this.#writeFd);
    } catch (error) {
      // Cut a partial write, so that the segment never holds a record that also waits in memory.
      try {
        this.#fs.ftruncateSync(this.#writeFd, this.#writeSize);
      } catch {
        // The reader stops at a torn tail anyway, and the next write goes to a fresh segment.
      }
      throw error;
    }
  }

  #committed(group: readonly QueuedRecord[], bytes: number): void {
    const at = group[0]!.at;
    if (!this.#segmentFirstAt.has(this.#writeSeg)) this.#segmentFirstAt.set(this.#writeSeg, at);
    if (!this.#diskUnsent) this.#nextUnsentAt = at;
    this.#writeSize += bytes;
    this.#diskPending += group.length;
    this.#options.onCommit(group, bytes);
  }

  #toMemory(group: readonly QueuedRecord[], error: Error): void {
    const overflow = group.filter((record) => !this.#tail.append(record));
    this.#options.onWriteFailure(error, group.length);
    if (overflow.length > 0) this.#options.onOverflow(overflow);
  }

  /**
   * Opens the next segment first and closes the current one after: the fd is replaced only on
   * success. Its HEAD is the chain's head as of the last record appended, which may be ahead of the records
   * that follow it in the segment (records written back from memory): recovery takes the greatest seq.
   */
  #rotate(): void {
    const next = this.#openSegment(this.#writeSeg + 1, this.#options.chainHead?.() ?? this.#head);
    const old = this.#writeFd;
    this.#closed.set(this.#writeSeg, this.#writeSize);
    this.#writeSeg = next.seg;
    this.#writeFd = next.fd;
    this.#writeSize = next.size;
    this.#fs.closeSync(old);
  }

  #scheduleRecovery(): void {
    if (this.#recoveryTimer) return;
    this.#recoveryTimer = setInterval(() => void this.#recover(), this.#options.recoveryMillis);
    this.#recoveryTimer.unref();
  }

  /**
   * Writes the records waiting in memory and not handed out to a fresh segment, in order; then
   * newer records go to disk again. Records already handed out stay in memory until acknowledged.
   */
  async #recover(): Promise<void> {
    if (!this.#broken || this.#recovering) return;
    this.#recovering = true;
    try {
      if (await this.#writeToFreshSegment(() => this.#tail.takeUnsent())) {
        this.#broken = undefined;
        clearInterval(this.#recoveryTimer);
        this.#recoveryTimer = undefined;
      }
    } finally {
      this.#recovering = false;
    }
  }

  #recovering = false;

  /**
   * Rotates into a new segment and writes `take()`'s records there durably. On failure they go back
   * in front of what waits in memory (appends went there meanwhile, behind them) and false is returned.
   */
  async #writeToFreshSegment(take: () => QueuedRecord[]): Promise<boolean> {
    const waiting = take();
    try {
      this.#rotate();
      if (waiting.length > 0) {
        const data = recordFrames(waiting);
        await this.#writeDurably(data);
        this.#committed(waiting, data.length);
      }
    } catch {
      // Back in front, in order; what the bound cannot take now (the newest) is reported, never dropped silently.
      const later = this.#tail.takeUnsent();
      const overflow = [...waiting, ...later].filter((record) => !this.#tail.append(record));
      if (overflow.length > 0) this.#options.onOverflow(overflow);
      return false;
    }
    // Appended to memory during the write: to disk next, before anything newer.
    const late = this.#tail.takeUnsent();
    if (late.length > 0) {
      this.#buffer.unshift(...late);
      this.#scheduleCommit();
    }
    return true;
  }

  async next(limits: BatchLimits): Promise<Batch | undefined> {
    while (this.#diskUnsent) {
      const batch = await this.#readBatch(limits);
      if (batch) return batch;
    }
    const batch = this.#tail.take(limits);
    return batch;
  }

  async #readBatch(limits: BatchLimits): Promise<Batch | undefined> {
    const { seg, offset } = this.#readPos;
    const limit = seg === this.#writeSeg ? this.#writeSize : (this.#closed.get(seg) ?? 0);
    if (offset >= limit) {
      const next = this.#nextSegment(seg);
      this.#readPos = { seg: next, offset: 0 };
      this.#nextUnsentAt = this.#segmentFirstAt.get(next) ?? this.#nextUnsentAt;
      return undefined;
    }
    const path = join(this.dir, segmentName(seg));
    let size = Math.min(limits.maxBytes + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, limit - offset);
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const read = await this.#fs.read(this.#readFdFor(seg), buf, 0, size, offset);
      // A short read: the file ends before what was written to it (cut by another hand); the rest is missing.
      const short = read < size;
      const complete = short || offset + read >= limit;
      const records: QueuedRecord[] = [];
      let end = offset;
      let bytes = 0;
      let following: number | undefined;
      const it = frames(buf.subarray(0, read), offset, path, complete);
      let step = it.next();
      for (; !step.done; step = it.next()) {
        const f = step.value;
        if (f.kind === KIND_RECORD) {
          if (records.length >= limits.maxRecords || (records.length > 0 && bytes + f.record.bytes.length > limits.maxBytes)) {
            following = f.record.at;
            break;
          }
          records.push(f.record);
          bytes += f.record.bytes.length;
        } else if (f.kind === 'damage' && !this.#damageReported.has(`${seg}:${f.error.offset}`)) {
          // Damage that appeared after the slot was opened (the disk, another hand): reported once too.
          this.#damageReported.add(`${seg}:${f.error.offset}`);
          this.#options.onCorrupt(f.error);
        }
        end = offset + f.end;
      }
      const more = step.done ? step.value : undefined;
      if (short && step.done) {
        const missing = new SpoolCorruptionError(path, offset + read, limit - offset - read, `the file ends ${limit - offset - read} bytes before what was written`);
        if (!this.#damageReported.has(`${seg}:${missing.offset}`)) {
          this.#damageReported.add(`${seg}:${missing.offset}`);
          this.#options.onCorrupt(missing);
        }
        end = limit;
      }
      if (more && end === offset) {
        // Nothing read before the problem: read that frame whole, or (damage) the rest of the segment, to resynchronise.
        size = more.announcedEnd !== undefined && offset + more.announcedEnd < limit && more.announcedEnd > size ? more.announcedEnd : limit - offset;
        continue;
      }
      this.#readPos = { seg, offset: end };
      if (records.length === 0) return undefined;
      this.#nextUnsentAt = following ?? records.at(-1)!.at;
      const batchEnd = { seg, offset: end };
      this.#handedOut.push({ end: batchEnd, firstAt: records[0]!.at });
      return { records, ack: () => this.#ack(batchEnd, records.length) };
    }
  }

  #readFdFor(seg: number): number {
    if (this.#readFd?.seg === seg) return this.#readFd.fd;
    if (this.#readFd) this.#fs.closeSync(this.#readFd.fd);
    this.#readFd = undefined;
    const fd = this.#fs.openSync(join(this.dir, segmentName(seg)), 'r');
    this.#readFd = { seg, fd };
    return fd;
  }

  #nextSegment(seg: number): number {
    for (const candidate of this.#closed.keys()) if (candidate > seg) return candidate;
    return this.#writeSeg;
  }

  #ack(end: Position, count: number): void {
    // An export that ended after close: the next process re-sends those records (a duplicate, never a loss).
    if (this.#closedForGood) return;
    this.#diskPending -= count;
    this.#ackPos = end;
    this.#handedOut.shift();
    for (const seg of this.#segmentFirstAt.keys()) if (seg < end.seg) this.#segmentFirstAt.delete(seg);
    this.#saveAckPosition();
    this.#deleteAcknowledged();
  }

  #ackWrite: Promise<void> = Promise.resolve();

  #saveAckPosition(): void {
    const state = JSON.stringify(this.#ackPos);
    const path = join(this.dir, 'ack.json');
    this.#ackWrite = this.#ackWrite.then(() => {
      try {
        this.#fs.writeFileSync(`${path}.tmp`, state, PRIVATE_FILE_MODE, false);
        this.#fs.renameSync(`${path}.tmp`, path);
      } catch {
        // A lost ack position only means re-sending (duplicates), never losing.
      }
    });
  }

  /** Deletes closed segments whose every record is acknowledged (after the position that says so). */
  #deleteAcknowledged(): void {
    for (const [seg, size] of this.#closed) {
      if (seg < this.#ackPos.seg || (seg === this.#ackPos.seg && this.#ackPos.offset >= size)) {
        if (this.#readFd?.seg === seg) {
          this.#fs.closeSync(this.#readFd.fd);
          this.#readFd = undefined;
        }
        this.#closed.delete(seg);
        void this.#ackWrite.then(() => {
          try {
            this.#fs.rmSync(join(this.dir, segmentName(seg)));
          } catch {
            // A read-only or failing disk: the next process that opens the slot deletes it (it is before ack.json).
          }
        });
      }
    }
  }

  /**
   * Writes what is buffered, tries once more to write what waits in memory, closes and releases
   * the slot. Returns the records that could not be kept (the disk still failing): the caller
   * reports them. Unacknowledged records on disk stay for the next process.
   */
  async close(): Promise<QueuedRecord[]> {
    await this.committed();
    clearInterval(this.#recoveryTimer);
    while (this.#recovering) await new Promise((resolve) => setImmediate(resolve));
    this.#closedForGood = true;
    let lost: QueuedRecord[] = [];
    // Everything in memory, handed out or not: the sender has stopped, so nothing of it will be acknowledged now.
    if (this.#tail.pending > 0) {
      const all = this.#tail.drain();
      if (!(await this.#writeToFreshSegment(() => all))) lost = this.#tail.drain();
      await this.committed();
    }
    await this.#ackWrite;
    for (const fd of [this.#writeFd, this.#readFd?.fd]) {
      try {
        if (fd !== undefined && fd >= 0) this.#fs.closeSync(fd);
      } catch {
        // already unusable; nothing more to release
      }
    }
    this.#readFd = undefined;
    this.#writeFd = -1;
    this.#lock.release();
    return lost;
  }
}

/** What one slot holds, read without changing it (for `otel-audit spool`). */
export interface SlotInspection {
  readonly slot: string;
  readonly streamId: string | undefined;
  readonly head: ChainHead | undefined;
  readonly segments: readonly { name: string; bytes: number }[];
  /** Records not yet acknowledged by the collector. */
  readonly pending: number;
  /** Damaged regions (each skipped up to the next intact frame). */
  readonly corrupt: number;
  /** Whether a running process holds the slot now. */
  readonly inUse: boolean;
}

export function inspectSlot(fs: FileSystem, dir: string): SlotInspection {
  const ack = readJson<Position>(fs, join(dir, 'ack.json')) ?? { seg: 0, offset: 0 };
  let pending = 0;
  let corrupt = 0;
  let head: ChainHead | undefined;
  const segments: { name: string; bytes: number }[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => SEGMENT.test(n)).sort()) {
    const seg = Number(SEGMENT.exec(name)![1]);
    const buf = fs.readFileSync(join(dir, name));
    segments.push({ name, bytes: buf.length });
    if (seg < ack.seg) continue;
    const scan = scanSegment(buf, seg === ack.seg ? Math.min(ack.offset, buf.length) : 0, join(dir, name));
    pending += scan.pending;
    corrupt += scan.damage.length;
    if (scan.head && (!head || scan.head.seq >= head.seq)) head = scan.head;
  }
  const lock = tryLockSlot(dir);
  lock?.release();
  return {
    slot: dir,
    streamId: readJson<{ streamId: string }>(fs, join(dir, 'stream.json'))?.streamId,
    head,
    segments,
    pending,
    corrupt,
    inUse: lock === undefined,
  };
}

/**
 * Free slots of `spoolDir` other than `own` that hold records no one delivers (a process died and
 * nothing took its slot over, or fewer processes run than before). The owner adopts them: it
 * delivers their backlog and releases them.
 */
export function orphanedSlots(fs: FileSystem, spoolDir: string, own: string): string[] {
  return slotsOf(fs, spoolDir).filter((dir) => {
    if (dir === own) return false;
    // Slots held by a process (its own, those it adopted, and every other writer's) are not read at all.
    const lock = tryLockSlot(dir);
    if (!lock) return false;
    lock.release();
    return inspectSlot(fs, dir).pending > 0;
  });
}

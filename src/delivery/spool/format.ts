import { crc32 } from 'node:zlib';
import type { FileSystem } from '../file-system.js';
import type { QueuedRecord } from '../queue.js';

/*
 * The spool on disk.
 *
 *   <spoolDir>/                      mode 0700
 *     slot-0000/                     one per writer, claimed with an exclusive OS-level lock (slots.ts, lock.ts):
 *       stream.json                  {"streamId": ...}: the slot's stream, written once
 *       000000000007.seg             segments, append-only, mode 0600
 *       000000000008.seg             <- the one being written
 *       ack.json                     {"seg": 7, "offset": 4113}: everything before it is acknowledged
 *       dead-letters.ndjson          records the collector refused for good (see ../dead-letters.ts)
 *     slot-0001/ ...
 *
 *   segment := frame*
 *   frame   := length u32le | crc32 u32le (of kind and payload) | kind u8 | payload (length bytes)
 *   kind 1 HEAD    payload: the writer's head when the segment opened, bytes the spool does not read
 *                  (the chain's: JSON {"streamId","seq","hash","sites"?}, see integrity/spooled-head.ts);
 *                  the first frame of every segment, so the head survives when every record before
 *                  it was acknowledged and deleted
 *   kind 2 RECORD  payload: at u48le (emit time, ms) | the writer's header (WRITER_HEADER_BYTES, not
 *                  read here: the chain's seq u48le and hash, 32 bytes, zeros outside the chain) |
 *                  the record's bytes (an OTLP LogRecord)
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
 * At open, every HEAD payload and every record's header are handed back to the writer, segment by
 * segment (`HeadKeeper`): it finds where it stood; the spool knows nothing of what records say.
 */

export const FRAME_HEADER_BYTES = 9;
const AT_BYTES = 6;
/** The writer's header before each record's bytes: its size is the format's, its content the writer's. */
export const WRITER_HEADER_BYTES = 38;
export const RECORD_HEADER_BYTES = AT_BYTES + WRITER_HEADER_BYTES;
export const KIND_HEAD = 1;
export const KIND_RECORD = 2;
export const STREAM_FILE = 'stream.json';
export const ACK_FILE = 'ack.json';
export const DEAD_LETTERS_FILE = 'dead-letters.ndjson';
export const SLOT = /^slot-(\d{4,})$/;
export const SEGMENT = /^(\d{12})\.seg$/;
export const segmentName = (seg: number): string => `${String(seg).padStart(12, '0')}.seg`;
export const slotName = (n: number): string => `slot-${String(n).padStart(4, '0')}`;
/** Kept for a record whose header is not of the format's size (none: a record no writer heads). */
const ZERO_HEADER = new Uint8Array(WRITER_HEADER_BYTES);

/**
 * What the spool keeps for its writer besides the records, as bytes it does not read: the writer's
 * head (the hash chain's), stated in each new segment's HEAD frame, and handed back at open with the
 * header of every record, so that the writer finds where it stood.
 */
export interface HeadKeeper {
  /** At open: the frames of one more segment follow (oldest segment first). */
  segment(): void;
  /** At open: a HEAD frame's payload. */
  head(payload: Uint8Array): void;
  /** At open: a RECORD frame's writer header and record bytes. */
  record(header: Uint8Array, bytes: Uint8Array): void;
  /** The bytes a new segment's HEAD frame keeps: where the writer stands now. */
  current(): Uint8Array;
}

/** What `HeadKeeper` is told at open; also what offline inspection hands back. */
export type HeadReadBack = Pick<HeadKeeper, 'segment' | 'head' | 'record'>;

/** A place in a slot: a segment and a byte offset in it. */
export interface Position {
  seg: number;
  offset: number;
}

/** A damaged frame: where it is (segment file and byte offset), for the report. */
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

/** A HEAD frame keeping `payload`. */
export function headFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  sealFrame(out, 0, KIND_HEAD, payload.length);
  return out;
}

/** A commit group's RECORD frames in one buffer: each record's bytes are copied once, into place. */
export function recordFrames(records: readonly QueuedRecord[]): Buffer {
  let size = 0;
  for (const record of records) size += FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + record.bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const record of records) {
    const payload = at + FRAME_HEADER_BYTES;
    out.writeUIntLE(record.at, payload, AT_BYTES);
    const header = record.header.length === WRITER_HEADER_BYTES ? record.header : ZERO_HEADER;
    out.set(header, payload + AT_BYTES);
    out.set(record.bytes, payload + RECORD_HEADER_BYTES);
    at = sealFrame(out, at, KIND_RECORD, RECORD_HEADER_BYTES + record.bytes.length);
  }
  return out;
}

/** A frame read back: a HEAD's payload, or a record (its writer header a view of the buffer read). */
export type Frame =
  | { readonly kind: typeof KIND_HEAD; readonly payload: Buffer; readonly end: number }
  | { readonly kind: typeof KIND_RECORD; readonly record: QueuedRecord; readonly end: number }
  /** Bytes that hold no frame, up to the next one whose header and checksum hold (or the end). */
  | { readonly kind: 'damage'; readonly error: SpoolCorruptionError; readonly start: number; readonly end: number };

/** Where reading stopped in a buffer that may end before the segment does: more must be read from `at`. */
export interface ReadMore {
  readonly at: number;
  /** The end the frame at `at` announces, when it is only cut by the end of the buffer. */
  readonly announcedEnd: number | undefined;
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
  if (kind === KIND_HEAD) return { frame: { kind, payload, end } };
  if (kind !== KIND_RECORD) return { problem: `unknown frame kind ${kind}`, announcedEnd: undefined };
  if (length < RECORD_HEADER_BYTES) return { problem: 'record frame shorter than its header', announcedEnd: undefined };
  return {
    frame: {
      kind,
      end,
      record: { at: payload.readUIntLE(0, AT_BYTES), header: payload.subarray(AT_BYTES, RECORD_HEADER_BYTES), bytes: payload.subarray(RECORD_HEADER_BYTES), ordinal: 0 },
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
export function* frames(buf: Buffer, base: number, segment: string, complete: boolean): Generator<Frame, ReadMore | undefined> {
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

/** What one whole segment holds: the records past `from`, their count and first emit time, each damaged region. */
export interface SegmentScan {
  readonly pending: number;
  readonly firstAt: number | undefined;
  readonly damage: readonly SpoolCorruptionError[];
}

/** Scans one whole segment, handing its HEAD payloads and record headers to `readBack` (the writer's), every frame, acknowledged or not. */
export function scanSegment(buf: Buffer, from: number, segment: string, readBack: HeadReadBack | undefined): SegmentScan {
  let pending = 0;
  let firstAt: number | undefined;
  const damage: SpoolCorruptionError[] = [];
  readBack?.segment();
  for (const f of frames(buf, 0, segment, true)) {
    if (f.kind === 'damage') damage.push(f.error);
    else if (f.kind === KIND_HEAD) readBack?.head(f.payload);
    else {
      readBack?.record(f.record.header, f.record.bytes);
      if (f.end > from) {
        pending++;
        firstAt ??= f.record.at;
      }
    }
  }
  return { pending, firstAt, damage };
}

/** The segments of a slot directory, by number, lowest first. */
export function segmentsOf(fs: FileSystem, dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** A small JSON file of the slot (stream.json, ack.json), or undefined when it is missing or not JSON. */
export function readJsonFile<T>(fs: FileSystem, path: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

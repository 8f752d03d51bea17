import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Decompress } from 'fzstd';
import { setJsonMember } from './canonical-json.js';
import { fromAnyValue, fromKeyValues, listOf, type OtlpAnyValue, type OtlpKeyValue } from './otlp-json.js';
import { fromSiemCopy, recordOfCefMessage, recordOfSiemJson } from './trail-siem.js';

/** One audit record as a destination kept it: the event (body) and the attributes that travelled with it. */
export interface TrailRecord {
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly eventName?: string;
  readonly timeUnixNano?: string;
  /** The log record's other fields, as OTLP/JSON has them, where the copy keeps them (a Collector's OTLP/JSON file): a replay sends them on unchanged. */
  readonly observedTimeUnixNano?: string;
  readonly severityNumber?: number;
  readonly severityText?: string;
  /** Hex, as OTLP/JSON writes them. */
  readonly traceId?: string;
  readonly spanId?: string;
  readonly flags?: number;
  /** Where it was read: file and line (`file:12`) or frame (`file#frame3`), and for a record of an OTLP request its place in it (`file:12#5`). */
  readonly source: string;
}

/** When a record's event happened: the event's own `timestamp`, else the log record's time (verify's order and silences, the panel's replay windows). */
export function eventTimeOfRecord(record: TrailRecord): number {
  const stamp = (record.body as { timestamp?: unknown } | null)?.timestamp;
  const stamped = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  if (!Number.isNaN(stamped)) return stamped;
  return record.timeUnixNano ? Number(record.timeUnixNano) / 1e6 : Number.NaN;
}

/**
 * Bytes of a copy that are not records, where they are:
 * - `damaged`: a frame or line that cannot be read (a corrupt length, a zstd frame that does not
 *   decode, a line that is not JSON), with readable data after it: a finding.
 * - `torn-tail`: the last bytes of the file are a write cut short (a frame whose length runs past
 *   the end, a last line without its newline, zeros a crash left): what a destination still
 *   writing, or one that died mid-write, leaves. A note: nothing readable follows it.
 * - `unrecognised`: a whole line that is no audit record in any format the reader knows (another
 *   program's syslog line, a header without its structured data): a note.
 */
export interface TrailDamage {
  readonly kind: 'damaged' | 'torn-tail' | 'unrecognised';
  readonly file: string;
  /** Byte offset where the region starts. */
  readonly offset: number;
  /** Bytes in the region (skipped). */
  readonly bytes: number;
  /** Line number, for line formats. */
  readonly line?: number;
  readonly reason: string;
}

export interface StreamTrailOptions {
  /**
   * Called for each damaged frame or line, torn tail and unrecognised line; reading goes on after
   * it (at the next frame that decodes, or the next line). Without it, damage throws an error
   * naming it, and a torn tail or an unrecognised line is skipped silently (a file still being written).
   */
  readonly onDamage?: (damage: TrailDamage) => void;
  /** Largest frame (compressed and decompressed) or line read; a larger one is damage. @default MAX_FRAME_BYTES */
  readonly maxFrameBytes?: number;
  /** Called with how many of the file's bytes are read, after each frame or line (how far a long read is). */
  readonly onRead?: (bytesRead: number) => void;
}

/**
 * The largest zstd frame (compressed, and decompressed) or line the reader takes by default: 64 MiB.
 * A Collector archive frame is one export request (the client sends 2 MiB of protobuf by default,
 * the gateway takes 20 MiB at most), so this leaves room while bounding what one frame can make
 * the reader hold (about three times the cap, with the parsed JSON).
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

/** A copy of the wrong shape: the reader reports it as damage at the frame or line where it was found. */
class ShapeError extends Error {}

function objectOf(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(`${what} is not an object`);
  return value as Json;
}

/** Records of one OTLP/JSON `ExportLogsServiceRequest` (a Collector file exporter line or frame); each record's source ends with its place in the request (`#3`). */
function recordsOfOtlpJson(request: Json, source: string): TrailRecord[] {
  const out: TrailRecord[] = [];
  for (const rl of listOf<unknown>(request['resourceLogs'], 'resourceLogs')) {
    const resourceLogs = objectOf(rl, 'a resourceLogs item');
    const resource = fromKeyValues((resourceLogs['resource'] as Json | undefined)?.['attributes'] as OtlpKeyValue[] | undefined);
    for (const sl of listOf<unknown>(resourceLogs['scopeLogs'], 'scopeLogs')) {
      for (const item of listOf<unknown>(objectOf(sl, 'a scopeLogs item')['logRecords'], 'logRecords')) {
        const record = objectOf(item, 'a log record');
        out.push(
          fromSiemCopy({
            body: fromAnyValue(record['body'] as OtlpAnyValue),
            attributes: fromKeyValues(record['attributes'] as OtlpKeyValue[]),
            resource,
            eventName: typeof record['eventName'] === 'string' ? record['eventName'] : undefined,
            timeUnixNano: typeof record['timeUnixNano'] === 'string' ? record['timeUnixNano'] : undefined,
            ...logRecordFields(record),
            source: `${source}#${out.length + 1}`,
          }),
        );
      }
    }
  }
  return out;
}

/** The fields of an OTLP/JSON log record a replay must keep, each only when it has the type OTLP/JSON gives it (anything else is left out, not damage). */
function logRecordFields(record: Json): Pick<TrailRecord, 'observedTimeUnixNano' | 'severityNumber' | 'severityText' | 'traceId' | 'spanId' | 'flags'> {
  const text = (key: string) => (typeof record[key] === 'string' && record[key] !== '' ? { [key]: record[key] } : {});
  const count = (key: string) => (Number.isSafeInteger(record[key]) && (record[key] as number) > 0 ? { [key]: record[key] } : {});
  return { ...text('observedTimeUnixNano'), ...count('severityNumber'), ...text('severityText'), ...text('traceId'), ...text('spanId'), ...count('flags') };
}

/** A file read by position, a bounded piece at a time. */
class FileBytes {
  readonly size: number;
  constructor(readonly fd: number) {
    this.size = fstatSync(fd).size;
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file), in a buffer of their own. */
  read(position: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.size - position)));
    let done = 0;
    while (done < buffer.length) {
      const read = readSync(this.fd, buffer, done, buffer.length - done, position + done);
      if (read === 0) return buffer.subarray(0, done);
      done += read;
    }
    return buffer;
  }
}

/** Bytes read from the file at a time: the reader holds about this much besides one frame or line. */
const CHUNK_BYTES = 1 << 20;

// ---- zstd archives: 4-byte big-endian length, then a zstd frame of OTLP/JSON, repeated ----

/** The zstd frame magic number, 28 b5 2f fd on disk. */
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const LENGTH_BYTES = 4;
/** Magic, frame header descriptor, window descriptor, dictionary id and content size at most. */
const ZSTD_HEADER_MAX = 18;
/** A frame header of 2 bytes and one block header of 3: less cannot be a zstd frame. */
const ZSTD_FRAME_MIN = ZSTD_MAGIC.length + 2 + 3;
/** The first read of a frame: enough for its header and first blocks, small enough that a false candidate costs little. */
const FIRST_READ_BYTES = 4096;

/**
 * Why the zstd frame header at the start of `header` cannot be one of the archive's, or undefined:
 * checked before any decoding, so that a hostile header cannot make the decoder allocate its
 * window (up to 2 GB) or a content size beyond `cap`.
 */
function zstdHeaderProblem(header: Buffer, cap: number): string | undefined {
  if (header.length < ZSTD_FRAME_MIN || !header.subarray(0, 4).equals(ZSTD_MAGIC)) return 'no zstd frame at this offset';
  const descriptor = header[4]!;
  if (descriptor & 0x08) return 'a zstd frame header with its reserved bit set';
  if (descriptor & 0x03) return 'a zstd frame that needs a dictionary';
  const singleSegment = (descriptor >> 5) & 1;
  const sizeFlag = descriptor >> 6;
  let at = 5;
  let window = 0;
  if (!singleSegment) {
    const exponent = header[at]! >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (header[at]! & 7);
    at++;
  }
  const sizeBytes = sizeFlag ? 1 << sizeFlag : singleSegment;
  if (at + sizeBytes > header.length) return 'a zstd frame header cut short';
  let contentSize = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + header[at + i]!;
  if (sizeFlag === 1) contentSize += 256;
  if (singleSegment) window = contentSize;
  if (window > cap || contentSize > cap) return `a zstd frame of more than ${cap} bytes decompressed (the cap)`;
  return undefined;
}

/** A frame decoded whole: its OTLP/JSON text, and where the next frame starts. */
interface DecodedFrame {
  readonly text: string;
  readonly end: number;
}

/** Why the bytes at `pos` are not a frame, and whether the frame's own length runs past the end of the file. */
interface NotAFrame {
  readonly reason: string;
  readonly pastEnd: boolean;
}

class FrameTooLarge extends Error {}

/** The frame at `pos`, decompressed with at most `cap` bytes of output, or why not. Never throws. */
function decodeFrameAt(file: FileBytes, pos: number, cap: number): DecodedFrame | NotAFrame {
  if (pos + LENGTH_BYTES > file.size) return { reason: 'a length prefix cut short', pastEnd: true };
  const head = file.read(pos, LENGTH_BYTES + FIRST_READ_BYTES);
  const length = head.readUInt32BE(0);
  if (length < ZSTD_FRAME_MIN) return { reason: `a length of ${length} bytes, too short for a zstd frame`, pastEnd: false };
  if (length > cap) return { reason: `a length of ${length} bytes, beyond the cap of ${cap}`, pastEnd: false };
  const header = head.subarray(LENGTH_BYTES, LENGTH_BYTES + ZSTD_HEADER_MAX);
  if (header.length >= ZSTD_MAGIC.length && !header.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) return { reason: 'no zstd frame at this offset', pastEnd: false };
  const end = pos + LENGTH_BYTES + length;
  // A frame being written, or cut short by a crash: what is there so far may be anything.
  if (end > file.size) return { reason: `a frame of ${length} bytes runs past the end of the file`, pastEnd: true };
  const headerProblem = zstdHeaderProblem(header, cap);
  if (headerProblem) return { reason: headerProblem, pastEnd: false };
  const parts: Uint8Array[] = [];
  let total = 0;
  let finished = false;
  const decoder = new Decompress((data, final) => {
    total += data.length;
    if (total > cap) throw new FrameTooLarge();
    if (data.length) parts.push(data);
    if (final) finished = true;
  });
  try {
    // The bytes already read, then the rest a chunk at a time: a bogus frame fails on its first block.
    let done = Math.min(length, head.length - LENGTH_BYTES);
    decoder.push(head.subarray(LENGTH_BYTES, LENGTH_BYTES + done), done === length);
    while (done < length) {
      const chunk = file.read(pos + LENGTH_BYTES + done, Math.min(CHUNK_BYTES, length - done));
      done += chunk.length;
      decoder.push(chunk, done === length);
    }
  } catch (error) {
    if (error instanceof FrameTooLarge) return { reason: `decompresses to more than ${cap} bytes (the cap)`, pastEnd: false };
    return { reason: `not a zstd frame (${(error as Error).message})`, pastEnd: false };
  }
  if (!finished) return { reason: 'the zstd frame ends after its length', pastEnd: false };
  return { text: Buffer.concat(parts, total).toString('utf8'), end };
}

/**
 * The next offset after `from` where a length prefix and a zstd frame decode, with that frame;
 * undefined when none does before the end of the file. Scans a chunk at a time for the frame
 * magic; each candidate is checked cheaply (length, header) before it is decoded.
 */
function resynchronise(file: FileBytes, from: number, cap: number): { offset: number; frame: DecodedFrame } | undefined {
  for (let chunkStart = from + LENGTH_BYTES; chunkStart < file.size; chunkStart += CHUNK_BYTES) {
    // Overlap by the magic's length less one, so that a magic across two chunks is found.
    const chunk = file.read(chunkStart, CHUNK_BYTES + ZSTD_MAGIC.length - 1);
    for (let hit = chunk.indexOf(ZSTD_MAGIC); hit !== -1 && hit < CHUNK_BYTES; hit = chunk.indexOf(ZSTD_MAGIC, hit + 1)) {
      const offset = chunkStart + hit - LENGTH_BYTES;
      const frame = decodeFrameAt(file, offset, cap);
      if ('text' in frame) return { offset, frame };
    }
  }
  return undefined;
}

/** Whether every byte of the file from `from` is zero (what a crash can leave after the last write). */
function zerosFrom(file: FileBytes, from: number): boolean {
  for (let at = from; at < file.size; at += CHUNK_BYTES) {
    const chunk = file.read(at, CHUNK_BYTES);
    if (chunk.some((byte) => byte !== 0)) return false;
  }
  return true;
}

/** OTLP/JSON text of each frame, in order; damage reported with its offset, and reading resumed at the next frame that decodes. */
function* framesOf(file: FileBytes, path: string, cap: number, report: (damage: TrailDamage) => void): Generator<{ text: string; offset: number; bytes: number }> {
  let pos = 0;
  while (pos < file.size) {
    const frame = decodeFrameAt(file, pos, cap);
    if ('text' in frame) {
      yield { text: frame.text, offset: pos, bytes: frame.end - pos };
      pos = frame.end;
      continue;
    }
    const next = resynchronise(file, pos + 1, cap);
    if (!next) {
      const torn = frame.pastEnd || zerosFrom(file, pos);
      report({ kind: torn ? 'torn-tail' : 'damaged', file: path, offset: pos, bytes: file.size - pos, reason: frame.reason });
      return;
    }
    report({ kind: 'damaged', file: path, offset: pos, bytes: next.offset - pos, reason: `${frame.reason}; reading resumed at offset ${next.offset}` });
    yield { text: next.frame.text, offset: next.offset, bytes: next.frame.end - next.offset };
    pos = next.frame.end;
  }
}

// ---- line formats: OTLP/JSON lines, NDJSON, syslog ----

/** One line: its bytes (undefined when longer than the cap), where it starts, its number, and whether a newline ended it. */
interface Line {
  readonly bytes: Buffer | undefined;
  readonly offset: number;
  readonly length: number;
  readonly number: number;
  readonly terminated: boolean;
}

/** The file's lines, a chunk at a time; a line longer than `cap` is given without its bytes (never held whole). */
function* linesOf(file: FileBytes, cap: number): Generator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let start = 0;
  let number = 0;
  for (let at = 0; at < file.size; at += CHUNK_BYTES) {
    const chunk = file.read(at, CHUNK_BYTES);
    let from = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, newline);
      length += piece.length;
      const bytes = length > cap ? undefined : parts.length ? Buffer.concat([...parts, piece]) : piece;
      yield { bytes, offset: start, length, number: ++number, terminated: true };
      parts = [];
      length = 0;
      from = newline + 1;
      start = at + from;
    }
    const rest = chunk.subarray(from);
    length += rest.length;
    parts = length > cap ? [] : [...parts, rest];
  }
  if (length > 0) yield { bytes: length > cap ? undefined : Buffer.concat(parts), offset: start, length, number: ++number, terminated: false };
}

/** A Splunk search export line (`{"result": {"_raw": ..., <fields>}}`), or a bare event with its fields. */
function recordOfSplunkResult(result: Json, source: string): TrailRecord {
  const { _raw: raw, ...fields } = result;
  const body = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (!key.startsWith('_')) setJsonMember(attributes, key, value);
  return fromSiemCopy({ body, attributes, resource: {}, source });
}

/** The SD-ID of the element the gateway's syslog pipeline writes the integrity attributes into. */
const AUDIT_SD_ID = 'audit@32473';
/** RFC 5424 HEADER: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID`, each field free of spaces. */
const SYSLOG_HEADER = /^<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ /;
/** SD-NAME: 1 to 32 printable US-ASCII characters but `=`, space, `]` and `"` (sticky: matched at lastIndex). */
const SD_NAME = /[!#-<>-\\^-~]{1,32}/y;

/**
 * RFC 5424 STRUCTURED-DATA at `text[at]`, by its grammar: `-`, or `[SD-ID *(SP NAME="VALUE")]`
 * elements where a VALUE escapes `"`, `\` and `]` with a backslash. Returns the elements and the
 * position after them, or undefined when the text does not follow the grammar.
 */
function parseStructuredData(text: string, at: number): { elements: Map<string, Record<string, string>[]>; end: number } | undefined {
  const elements = new Map<string, Record<string, string>[]>();
  if (text[at] === '-') return { elements, end: at + 1 };
  const name = (from: number): string | undefined => {
    SD_NAME.lastIndex = from;
    return SD_NAME.exec(text)?.[0];
  };
  let pos = at;
  while (text[pos] === '[') {
    const id = name(pos + 1);
    if (!id) return undefined;
    pos += 1 + id.length;
    const params: Record<string, string> = {};
    while (text[pos] === ' ') {
      const param = name(pos + 1);
      if (!param || text[pos + 1 + param.length] !== '=' || text[pos + 2 + param.length] !== '"') return undefined;
      pos += 3 + param.length;
      let value = '';
      for (;;) {
        const char = text[pos];
        if (char === undefined) return undefined;
        if (char === '"') break;
        if (char === '\\' && (text[pos + 1] === '"' || text[pos + 1] === '\\' || text[pos + 1] === ']')) {
          value += text[pos + 1];
          pos += 2;
        } else {
          // RFC 5424 section 6.3.3: a backslash before any other character is itself.
          value += char;
          pos++;
        }
      }
      setJsonMember(params, param, value);
      pos++;
    }
    if (text[pos] !== ']') return undefined;
    pos++;
    elements.set(id, [...(elements.get(id) ?? []), params]);
  }
  return pos === at ? undefined : { elements, end: pos };
}

/**
 * A syslog line from the gateway's syslog pipeline: a full RFC 5424 line, or what a daemon wrote
 * with a `%STRUCTURED-DATA% %msg%` template. The integrity attributes come from the one
 * `audit@32473` element of STRUCTURED-DATA, parsed by its grammar; the event is the JSON of MSG.
 * Nothing before STRUCTURED-DATA (MSGID included) or inside MSG can stand in for either. A line
 * with two `audit@32473` elements breaks RFC 5424: its record keeps no integrity attributes.
 */
function recordOfSyslogLine(line: string, source: string): TrailRecord | undefined {
  const header = SYSLOG_HEADER.exec(line);
  const sd = parseStructuredData(line, header ? header[0].length : 0);
  if (!sd || line[sd.end] !== ' ') return undefined;
  const message = line.slice(sd.end + 1).replace(/^\ufeff/, '');
  if (!message.startsWith('{')) return recordOfCefMessage(message, source);
  const audit = sd.elements.get(AUDIT_SD_ID);
  const attributes: Record<string, unknown> = audit?.length === 1 ? { ...audit[0] } : {};
  return { body: JSON.parse(message) as unknown, attributes, resource: {}, source };
}

/** The records of one line of a JSON-lines or syslog file; undefined for a line that is no audit record. */
function recordsOfLine(line: string, source: string): TrailRecord[] | undefined {
  if (!line.startsWith('{')) {
    const record = recordOfSyslogLine(line, source);
    return record && [record];
  }
  const json = objectOf(JSON.parse(line), 'the line');
  if (json['resourceLogs'] !== undefined) return recordsOfOtlpJson(json, source);
  if (json['result'] !== undefined) return [recordOfSplunkResult(objectOf(json['result'], 'result'), source)];
  return [recordOfSiemJson(json, source) ?? recordOfSplunkResult(json, source)];
}

/** Why a line or frame could not be read, in words. */
function why(error: unknown): string {
  // The parser's own words differ between Node versions; where it is, is in the report.
  if (error instanceof SyntaxError) return 'not JSON';
  if (error instanceof RangeError) return `not readable (${error.message})`;
  return `not an audit record (${(error as Error).message})`;
}

/** Whether the file holds zstd frames: a length and the magic at its start, or a `.zst` name (its first frame may be the damaged one). */
function isZstdArchive(file: FileBytes, path: string): boolean {
  return /\.zstd?$/.test(path) || file.read(LENGTH_BYTES, ZSTD_MAGIC.length).equals(ZSTD_MAGIC);
}

/**
 * Every audit record of a file a destination wrote, one at a time, reading the file a bounded piece
 * at a time (memory does not grow with the file): the Collector's file exporter output (OTLP/JSON
 * lines, or zstd-compressed frames), the HEC receiver's output (the same), NDJSON exported from a
 * Splunk search, or syslog lines carrying JSON. Damage is located (file, byte offset, line) and
 * handed to `onDamage`, and reading goes on after it: at the next line, or at the next offset where
 * a length and a zstd frame decode. A frame or line larger than `maxFrameBytes` is damage, so no
 * copy can make the reader hold more than about three times that. See `StreamTrailOptions` for the
 * behaviour without `onDamage`.
 */
export function* streamTrail(path: string, options: StreamTrailOptions = {}): Generator<TrailRecord> {
  const cap = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  const report =
    options.onDamage ??
    ((damage: TrailDamage) => {
      if (damage.kind === 'damaged') throw new Error(damage.line === undefined ? describeDamage(damage) : `${damage.file}:${damage.line}: ${damage.reason}`);
    });
  const fd = openSync(path, 'r');
  try {
    const file = new FileBytes(fd);
    if (file.size === 0) return;
    if (isZstdArchive(file, path)) {
      let n = 0;
      for (const frame of framesOf(file, path, cap, report)) {
        options.onRead?.(frame.offset + frame.bytes);
        const source = `${path}#frame${++n}`;
        let records: TrailRecord[];
        try {
          records = recordsOfOtlpJson(objectOf(JSON.parse(frame.text), 'the frame'), source);
        } catch (error) {
          report({ kind: 'damaged', file: path, offset: frame.offset, bytes: frame.bytes, reason: `frame ${n} is ${why(error)}` });
          continue;
        }
        yield* records;
      }
      return;
    }
    for (const line of linesOf(file, cap)) {
      options.onRead?.(line.offset + line.length + (line.terminated ? 1 : 0));
      const source = `${path}:${line.number}`;
      const damage = (kind: TrailDamage['kind'], reason: string) => report({ kind, file: path, offset: line.offset, bytes: line.length, line: line.number, reason });
      if (!line.bytes) {
        damage(line.terminated ? 'damaged' : 'torn-tail', `a line of more than ${cap} bytes (the cap)`);
        continue;
      }
      // Zeros a crash left after the last write (the file grew, its data never came).
      if (!line.terminated && line.bytes.every((byte) => byte === 0)) {
        damage('torn-tail', 'zeros after the last line');
        continue;
      }
      const text = line.bytes.toString('utf8');
      if (text.trim() === '') continue;
      let records: TrailRecord[] | undefined;
      try {
        records = recordsOfLine(text, source);
      } catch (error) {
        // A last line without its newline may be one the destination is still writing; anywhere else it is damage.
        damage(line.terminated ? 'damaged' : 'torn-tail', why(error));
        continue;
      }
      if (!records) damage(line.terminated ? 'unrecognised' : 'torn-tail', 'neither JSON nor an RFC 5424 line with structured data');
      else yield* records;
    }
  } finally {
    closeSync(fd);
  }
}

/** A sentence for a damaged region, with its file and offset. */
export function describeDamage(damage: TrailDamage): string {
  const where = `${damage.file} at offset ${damage.offset}${damage.line === undefined ? '' : ` (line ${damage.line})`}`;
  switch (damage.kind) {
    case 'damaged':
      return `damaged ${damage.line === undefined ? 'frame' : 'line'} in ${where}: ${damage.reason}`;
    case 'torn-tail':
      return `torn tail in ${where}: the last ${damage.bytes} byte(s) are a write cut short (${damage.reason})`;
    case 'unrecognised':
      return `not an audit record in ${where}: ${damage.reason}`;
  }
}

/** Every audit record of a file, in an array (see `streamTrail`, which reads without holding them all). */
export function readTrail(path: string, options: StreamTrailOptions = {}): TrailRecord[] {
  return [...streamTrail(path, options)];
}

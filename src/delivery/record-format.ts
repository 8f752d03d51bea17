import { setJsonMember } from '../integrity/canonical-json.js';

/**
 * The one owner of the record format: an audit record is encoded once, at emit, as the bytes of an
 * OTLP `LogRecord` message (opentelemetry/proto/logs/v1/logs.proto). The spool and the memory queue
 * keep those bytes; a batch is those bytes framed as one `ExportLogsServiceRequest` with this
 * process's `ResourceLogs`/`ScopeLogs` around them, sent without decoding and re-encoding.
 * `decodeLogRecord` exists for the slow paths only (OTLP/JSON, a custom exporter, dead letters).
 *
 * Field numbers (proto3):
 *   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }
 *   ResourceLogs  { Resource resource = 1; repeated ScopeLogs scope_logs = 2 }
 *   Resource      { repeated KeyValue attributes = 1 }
 *   ScopeLogs     { InstrumentationScope scope = 1; repeated LogRecord log_records = 2 }
 *   InstrumentationScope { string name = 1; string version = 2 }
 *   LogRecord     { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3;
 *                   AnyValue body = 5; repeated KeyValue attributes = 6; fixed32 flags = 8; bytes trace_id = 9;
 *                   bytes span_id = 10; fixed64 observed_time_unix_nano = 11; string event_name = 12 }
 *   KeyValue      { string key = 1; AnyValue value = 2 }
 *   AnyValue      { oneof { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
 *                   double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7 } }
 *   ArrayValue    { repeated AnyValue values = 1 }   KeyValueList { repeated KeyValue values = 1 }
 */

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const tag = (field: number, wireType: number): number => (field << 3) | wireType;
const TWO_32 = 2 ** 32;
/** Strings shorter than this are tried as ASCII, byte by byte. */
const ASCII_LOOP_MAX = 512;

/** An attribute value as the logger writes it. */
export type AttributeValue = string | number | boolean;

/** What one log record holds, in the logger's terms. */
export interface LogRecordFields {
  /** Event time, ms since the epoch. */
  readonly timeMillis: number;
  /** Emit time, ms since the epoch. */
  readonly observedMillis: number;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly eventName: string;
  /** Plain JSON data (already checked): the canonical event. */
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Hex ids of the active span, when there is one. */
  readonly traceId?: string;
  readonly spanId?: string;
  readonly traceFlags?: number;
}

/**
 * A growable byte buffer with protobuf primitives. Nested messages reserve one length byte and
 * shift their content when it needs more (rare for audit-sized fields): one pass, no size pre-pass.
 */
class ProtoWriter {
  buf: Buffer = Buffer.allocUnsafe(4096);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  varint(value: number): void {
    this.ensure(10);
    while (value > 0x7f) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  /** int64 as protobuf writes it: two's complement over ten bytes for negatives. */
  int64(value: number): void {
    if (value >= 0) return this.varint(value);
    this.ensure(10);
    let big = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  /** Milliseconds as fixed64 nanoseconds, exactly, without BigInt: ms < 2^42, split at 2^32. */
  fixed64Millis(millis: number): void {
    this.ensure(8);
    const ms = Math.trunc(millis);
    const high = Math.floor(ms / TWO_32);
    const low = (ms - high * TWO_32) * 1_000_000; // < 2^52: exact
    const lowWord = low % TWO_32;
    this.buf.writeUInt32LE(lowWord, this.pos);
    this.buf.writeUInt32LE(high * 1_000_000 + (low - lowWord) / TWO_32, this.pos + 4);
    this.pos += 8;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Length-delimited string; lone surrogates become U+FFFD, as in the canonical JSON. */
  string(field: number, value: string): void {
    this.varint(tag(field, LENGTH_DELIMITED));
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(value.length * 3 + 5);
    const start = this.begin();
    // Most audit strings are short ASCII: a byte loop beats a native call per string.
    const { buf } = this;
    let pos = this.pos;
    let i = 0;
    const n = value.length;
    if (n < ASCII_LOOP_MAX) for (; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      buf[pos++] = code;
    }
    this.pos = i === n ? pos : this.pos + buf.write(value, this.pos, 'utf8');
    this.end(start);
  }

  bytes(field: number, value: Uint8Array): void {
    this.varint(tag(field, LENGTH_DELIMITED));
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a nested message: one byte reserved for its length. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends a nested message: writes its length, moving the content when the length needs more bytes. */
  end(start: number): void {
    const length = this.pos - start - 1;
    if (length < 128) {
      this.buf[start] = length;
      return;
    }
    let size = 1;
    for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    this.pos = start;
    this.varint(length);
    this.pos += length;
  }

  take(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }
}

function anyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.string(1, value);
      return;
    case 'boolean':
      w.varint(tag(2, VARINT));
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      // As the OpenTelemetry SDK maps numbers: integers as int64 (within the exact range), others as double.
      if (Number.isSafeInteger(value)) {
        w.varint(tag(3, VARINT));
        w.int64(value);
      } else {
        w.varint(tag(4, FIXED64));
        w.double(value);
      }
      return;
    case 'object': {
      if (value === null) return; // an empty AnyValue: null
      if (Array.isArray(value)) {
        w.varint(tag(5, LENGTH_DELIMITED));
        const array = w.begin();
        for (const item of value) {
          w.varint(tag(1, LENGTH_DELIMITED));
          const element = w.begin();
          anyValue(w, item);
          w.end(element);
        }
        w.end(array);
        return;
      }
      w.varint(tag(6, LENGTH_DELIMITED));
      const list = w.begin();
      for (const key of Object.keys(value)) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        keyValue(w, 1, key, member);
      }
      w.end(list);
      return;
    }
    default:
      return; // undefined: the caller checked the data is JSON; nothing else reaches here
  }
}

function keyValue(w: ProtoWriter, field: number, key: string, value: unknown): void {
  w.varint(tag(field, LENGTH_DELIMITED));
  const kv = w.begin();
  w.string(1, key);
  w.varint(tag(2, LENGTH_DELIMITED));
  const v = w.begin();
  anyValue(w, value);
  w.end(v);
  w.end(kv);
}

// One writer for the whole process: records are encoded one at a time, synchronously.
const writer = new ProtoWriter();

/** The bytes of one OTLP `LogRecord`. */
export function encodeLogRecord(fields: LogRecordFields): Uint8Array {
  const w = writer;
  w.reset();
  w.varint(tag(1, FIXED64));
  w.fixed64Millis(fields.timeMillis);
  w.varint(tag(2, VARINT));
  w.varint(fields.severityNumber);
  w.string(3, fields.severityText);
  w.varint(tag(5, LENGTH_DELIMITED));
  const body = w.begin();
  anyValue(w, fields.body);
  w.end(body);
  for (const key of Object.keys(fields.attributes)) keyValue(w, 6, key, fields.attributes[key]);
  if (fields.traceId && fields.spanId) {
    w.varint(tag(8, FIXED32));
    w.fixed32(fields.traceFlags ?? 0);
    w.bytes(9, Buffer.from(fields.traceId, 'hex'));
    w.bytes(10, Buffer.from(fields.spanId, 'hex'));
  }
  w.varint(tag(11, FIXED64));
  w.fixed64Millis(fields.observedMillis);
  w.string(12, fields.eventName);
  return w.take();
}

/** The part of every request that names this process: resource attributes and scope. */
export interface Origin {
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly scope: { readonly name: string; readonly version: string };
}

/**
 * Frames encoded log records as one `ExportLogsServiceRequest` from `origin`. The resource and
 * scope bytes are written once per process and reused for every batch.
 */
export function requestFramer(origin: Origin): (records: readonly Uint8Array[]) => Uint8Array {
  const w = new ProtoWriter();
  w.varint(tag(1, LENGTH_DELIMITED));
  const resource = w.begin();
  for (const key of Object.keys(origin.resource)) keyValue(w, 1, key, origin.resource[key]);
  w.end(resource);
  const resourceField = w.take();
  w.reset();
  w.varint(tag(1, LENGTH_DELIMITED));
  const scope = w.begin();
  w.string(1, origin.scope.name);
  w.string(2, origin.scope.version);
  w.end(scope);
  const scopeField = w.take();

  return (records) => {
    let recordBytes = 0;
    for (const record of records) recordBytes += 1 + varintSize(record.length) + record.length;
    const scopeLogs = scopeField.length + recordBytes;
    const resourceLogs = resourceField.length + 1 + varintSize(scopeLogs) + scopeLogs;
    const out = new ProtoWriter();
    out.buf = Buffer.allocUnsafe(1 + varintSize(resourceLogs) + resourceLogs);
    out.varint(tag(1, LENGTH_DELIMITED));
    out.varint(resourceLogs);
    out.buf.set(resourceField, out.pos);
    out.pos += resourceField.length;
    out.varint(tag(2, LENGTH_DELIMITED));
    out.varint(scopeLogs);
    out.buf.set(scopeField, out.pos);
    out.pos += scopeField.length;
    for (const record of records) out.bytes(2, record);
    return out.buf;
  };
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** A decoded log record, for the slow paths (OTLP/JSON, a custom exporter, dead letters, tests). */
export interface DecodedLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  eventName: string;
  body: unknown;
  attributes: Record<string, unknown>;
  traceId?: string;
  spanId?: string;
  flags?: number;
}

/** Bytes that are not the protobuf message they were read as: truncated, a length past the end, a wire type protobuf does not have. */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
}

/** Deeper nesting than any event the logger accepts (`jsonValue` stops at 64 levels), and shallow enough for the stack. */
const MAX_DEPTH = 128;

/**
 * Reads protobuf fields of one message, `buf[pos..end)`, checking every length against what is
 * left: it never reads past `end`, never loops without consuming a byte, and never allocates from
 * a length it has not checked (strings and sub-messages are views of the input). Malformed input
 * throws `ProtoDecodeError`, for bytes from outside (a collector's answer, a dead-letter file) as
 * for our own.
 */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  #need(bytes: number): void {
    if (bytes > this.end - this.pos) throw new ProtoDecodeError(`truncated at offset ${this.pos}: ${bytes} byte(s) announced, ${this.end - this.pos} left`);
  }

  /** An unsigned varint of at most 10 bytes, as a double (exact below 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError(`truncated varint at offset ${this.pos}`);
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new ProtoDecodeError(`varint longer than 10 bytes at offset ${this.pos - 10}`);
  }

  /** A field key: field number (1 to 2^29 - 1) and wire type. */
  key(): { field: number; wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field < 1 || field > 0x1fffffff) throw new ProtoDecodeError(`field number ${field} at offset ${this.pos}`);
    return { field, wireType: key % 8 };
  }

  /** int64: two's complement over ten bytes for negatives, read exactly. */
  int64(): number {
    const start = this.pos;
    const value = this.varint();
    if (this.pos - start < 8) return value; // < 2^49: exact as a double
    let big = 0n;
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  fixed32(): number {
    this.#need(4);
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }

  fixed64(): bigint {
    this.#need(8);
    const value = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return value;
  }

  double(): number {
    this.#need(8);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** The length of a length-delimited field, checked against what is left. */
  length(): number {
    const length = this.varint();
    this.#need(length);
    return length;
  }

  /** A sub-message: a reader over its bytes, which this one skips. */
  sub(): ProtoReader {
    const length = this.length();
    const reader = new ProtoReader(this.buf, this.pos, this.pos + length);
    this.pos += length;
    return reader;
  }

  string(): string {
    const length = this.length();
    const text = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  hex(): string {
    const length = this.length();
    const text = this.buf.toString('hex', this.pos, this.pos + length);
    this.pos += length;
    return text;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        return this.#advance(8);
      case FIXED32:
        return this.#advance(4);
      case LENGTH_DELIMITED:
        return this.#advance(this.length());
      default:
        throw new ProtoDecodeError(`wire type ${wireType} at offset ${this.pos}`);
    }
  }

  #advance(bytes: number): void {
    this.#need(bytes);
    this.pos += bytes;
  }

  /** Checks a known field's wire type: the same field number with another type is not this message. */
  expect(wireType: number, expected: number): void {
    if (wireType !== expected) throw new ProtoDecodeError(`wire type ${wireType} where ${expected} was expected, at offset ${this.pos}`);
  }
}

function readAnyValue(r: ProtoReader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtoDecodeError(`values nested deeper than ${MAX_DEPTH} levels`);
  let value: unknown = null;
  while (!r.done) {
    const { field, wireType } = r.key();
    switch (field) {
      case 1: r.expect(wireType, LENGTH_DELIMITED); value = r.string(); break;
      case 2: r.expect(wireType, VARINT); value = r.varint() !== 0; break;
      case 3: r.expect(wireType, VARINT); value = r.int64(); break;
      case 4: r.expect(wireType, FIXED64); value = r.double(); break;
      case 5: {
        r.expect(wireType, LENGTH_DELIMITED);
        const array: unknown[] = [];
        const list = r.sub();
        while (!list.done) {
          const element = list.key();
          if (element.field !== 1) {
            list.skip(element.wireType);
            continue;
          }
          list.expect(element.wireType, LENGTH_DELIMITED);
          array.push(readAnyValue(list.sub(), depth + 1));
        }
        value = array;
        break;
      }
      case 6: {
        r.expect(wireType, LENGTH_DELIMITED);
        const map: Record<string, unknown> = {};
        const list = r.sub();
        while (!list.done) {
          const member = list.key();
          if (member.field !== 1) {
            list.skip(member.wireType);
            continue;
          }
          list.expect(member.wireType, LENGTH_DELIMITED);
          const [k, v] = readKeyValue(list.sub(), depth + 1);
          setJsonMember(map, k, v);
        }
        value = map;
        break;
      }
      default: r.skip(wireType);
    }
  }
  return value;
}

function readKeyValue(r: ProtoReader, depth: number): [string, unknown] {
  let k = '';
  let v: unknown = null;
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED);
      k = r.string();
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED);
      v = readAnyValue(r.sub(), depth);
    } else r.skip(wireType);
  }
  return [k, v];
}

/** Decodes an OTLP `LogRecord`; throws `ProtoDecodeError` on bytes that are not one. */
export function decodeLogRecord(bytes: Uint8Array): DecodedLogRecord {
  const r = new ProtoReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out: DecodedLogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    eventName: '',
    body: null,
    attributes: {},
  };
  while (!r.done) {
    const { field, wireType } = r.key();
    switch (field) {
      case 1: r.expect(wireType, FIXED64); out.timeUnixNano = r.fixed64(); break;
      case 2: r.expect(wireType, VARINT); out.severityNumber = r.varint(); break;
      case 3: r.expect(wireType, LENGTH_DELIMITED); out.severityText = r.string(); break;
      case 5: r.expect(wireType, LENGTH_DELIMITED); out.body = readAnyValue(r.sub(), 1); break;
      case 6: {
        r.expect(wireType, LENGTH_DELIMITED);
        const [k, v] = readKeyValue(r.sub(), 1);
        setJsonMember(out.attributes, k, v);
        break;
      }
      case 8: r.expect(wireType, FIXED32); out.flags = r.fixed32(); break;
      case 9: r.expect(wireType, LENGTH_DELIMITED); out.traceId = r.hex(); break;
      case 10: r.expect(wireType, LENGTH_DELIMITED); out.spanId = r.hex(); break;
      case 11: r.expect(wireType, FIXED64); out.observedTimeUnixNano = r.fixed64(); break;
      case 12: r.expect(wireType, LENGTH_DELIMITED); out.eventName = r.string(); break;
      default: r.skip(wireType);
    }
  }
  return out;
}

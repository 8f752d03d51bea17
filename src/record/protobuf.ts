/**
 * The protobuf wire format, as the record codec, the request framer and the answer parser use it:
 * a growable writer and a bounds-checked reader. Nothing here knows an OTLP message; the field
 * numbers live with the messages (encoder.ts, decoder.ts, delivery/framer.ts, delivery/answer.ts).
 */

/** Protobuf wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** A field's key: its number and wire type. */
export const tag = (field: number, wireType: number): number => (field << 3) | wireType;
const TWO_32 = 2 ** 32;
/** Strings shorter than this are tried as ASCII, byte by byte. */
const ASCII_LOOP_MAX = 512;

/**
 * A growable byte buffer with protobuf primitives. Nested messages reserve one length byte and
 * shift their content when it needs more (rare for audit-sized fields): one pass, no size pre-pass.
 */
export class ProtoWriter {
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

/** The bytes a varint of `value` takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Bytes that are not the protobuf message they were read as: truncated, a length past the end, a wire type protobuf does not have. */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
}

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

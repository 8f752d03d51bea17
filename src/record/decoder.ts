import { setJsonMember } from '../integrity/canonical-json.js';
import { FIXED32, FIXED64, LENGTH_DELIMITED, ProtoDecodeError, ProtoReader, VARINT } from './protobuf.js';

// The slow path back from the bytes `encodeLogRecord` writes (the field numbers are listed there):
// the JSON protocol, a custom exporter, dead letters and reports. Bounds-checked by `ProtoReader`.

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

/** Deeper nesting than any event the logger accepts (`jsonValue` stops at 64 levels), and shallow enough for the stack. */
const MAX_DEPTH = 128;

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

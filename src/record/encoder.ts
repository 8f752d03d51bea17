import type { AuditLogRecord } from './mapping.js';
import { FIXED32, FIXED64, LENGTH_DELIMITED, ProtoWriter, tag, VARINT } from './protobuf.js';

/**
 * The one owner of the record format: an audit record is encoded once, at emit, as the bytes of an
 * OTLP `LogRecord` message (opentelemetry/proto/logs/v1/logs.proto). The spool and the memory queue
 * keep those bytes; a batch is those bytes framed as one `ExportLogsServiceRequest` with this
 * process's `ResourceLogs`/`ScopeLogs` around them, sent without decoding and re-encoding.
 * `decodeLogRecord` (decoder.ts) exists for the slow paths only (OTLP/JSON, a custom exporter, dead
 * letters); the framing of a batch is delivery/framer.ts.
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

/** An attribute value as the logger writes it. */
export type AttributeValue = string | number | boolean;

/** What the encoder writes of a record: `toLogRecord`'s (the one mapping), its body any JSON data. */
export type EncodedFields = Omit<AuditLogRecord, 'body'> & { readonly body: unknown };

/** The active span a record is linked to: hex ids and flags. */
export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
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

/** A `KeyValue` as field `field` of the message being written (an attribute, a resource attribute, a map member). */
export function keyValue(w: ProtoWriter, field: number, key: string, value: unknown): void {
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

/** The bytes of one OTLP `LogRecord`: the record `toLogRecord` maps, linked to `span` when there is one. */
export function encodeLogRecord(record: EncodedFields, span?: SpanLink): Uint8Array {
  const w = writer;
  w.reset();
  w.varint(tag(1, FIXED64));
  w.fixed64Millis(record.timestamp);
  w.varint(tag(2, VARINT));
  w.varint(record.severityNumber);
  w.string(3, record.severityText);
  w.varint(tag(5, LENGTH_DELIMITED));
  const body = w.begin();
  anyValue(w, record.body);
  w.end(body);
  for (const key of Object.keys(record.attributes)) keyValue(w, 6, key, record.attributes[key]);
  if (span) {
    w.varint(tag(8, FIXED32));
    w.fixed32(span.traceFlags);
    w.bytes(9, Buffer.from(span.traceId, 'hex'));
    w.bytes(10, Buffer.from(span.spanId, 'hex'));
  }
  w.varint(tag(11, FIXED64));
  w.fixed64Millis(record.observedTimestamp);
  w.string(12, record.eventName);
  return w.take();
}

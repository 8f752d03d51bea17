// The record encoder against an oracle it shares nothing with: what encodeLogRecord and
// requestFramer write is decoded by protobufjs with the official OTLP .proto files (the
// OpenTelemetry project's own artifact, unpacked into .otlp-proto by scripts/otlp-proto/resolve.sh),
// and must say what was encoded: every field, every AnyValue kind (integers as int_value within the
// exact range, other numbers as double_value, null as an empty AnyValue), nested lengths of every
// size. Random records (seeded) and edge cases.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { requestFramer, type Origin } from '../../src/delivery/framer.js';
import { encodeLogRecord, type AttributeValue, type EncodedFields, type SpanLink } from '../../src/record/encoder.js';
import { ROOT } from '../helpers/processes.js';
import { pieces, random, value } from '../helpers/random.js';

const PROTO_DIR = join(ROOT, '.otlp-proto');
const SERVICE_PROTO = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';

function exportRequestType(): protobuf.Type {
  if (!existsSync(join(PROTO_DIR, SERVICE_PROTO))) throw new Error(`${PROTO_DIR} has no OTLP .proto files: run bash scripts/otlp-proto/resolve.sh`);
  const root = new protobuf.Root();
  // The files import each other by their path from the repository's root (opentelemetry/proto/...).
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(SERVICE_PROTO);
  return root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
}

/** What a decoded message holds: protobufjs sets the fields present on the wire, reads the rest as defaults. */
type Decoded = Record<string, any>;

/** An int64 or fixed64 as decimal text: protobufjs reads them as Long values, signed or not as the field's type says. */
const longText = (v: unknown): string => String(v ?? 0);
const hex = (v: unknown): string => Buffer.from((v as Uint8Array | undefined) ?? []).toString('hex');

/** An AnyValue as JSON data, checking the kind the encoder must choose for each number. */
function fromAnyValue(decoded: Decoded | null | undefined, path: string): unknown {
  if (!decoded) return null; // no AnyValue at all reads as an empty one
  const v = decoded;
  switch (v['value']) {
    case 'stringValue':
      return v['stringValue'];
    case 'boolValue':
      return v['boolValue'];
    case 'intValue': {
      const n = Number(longText(v['intValue']));
      assert.ok(Number.isSafeInteger(n), `${path}: int_value ${longText(v['intValue'])} is outside the exact range`);
      return n;
    }
    case 'doubleValue':
      assert.ok(!Number.isSafeInteger(v['doubleValue']), `${path}: the integer ${v['doubleValue']} is a double_value`);
      return v['doubleValue'];
    case 'arrayValue':
      return ((v['arrayValue'].values ?? []) as Decoded[]).map((item, i) => fromAnyValue(item, `${path}[${i}]`));
    case 'kvlistValue':
      return Object.fromEntries(((v['kvlistValue'].values ?? []) as Decoded[]).map((kv) => [kv['key'], fromAnyValue(kv['value'], `${path}.${kv['key']}`)]));
    case undefined:
      return null; // an empty AnyValue
    default:
      throw new Error(`${path}: unexpected AnyValue ${String(v['value'])}`);
  }
}

const attributesOf = (list: Decoded[] | undefined, path: string) => Object.fromEntries((list ?? []).map((kv) => [kv['key'], fromAnyValue(kv['value'], `${path}.${kv['key']}`)]));

/** The record's fields as the oracle reads them, in the encoder's terms. */
function fromLogRecord(r: Decoded, path: string) {
  return {
    timeUnixNano: longText(r['timeUnixNano']),
    observedTimeUnixNano: longText(r['observedTimeUnixNano']),
    severityNumber: r['severityNumber'] ?? 0,
    severityText: r['severityText'] ?? '',
    eventName: r['eventName'] ?? '',
    body: fromAnyValue(r['body'], `${path}.body`),
    attributes: attributesOf(r['attributes'], `${path}.attributes`),
    flags: r['flags'] ?? 0,
    traceId: hex(r['traceId']),
    spanId: hex(r['spanId']),
  };
}

/** A record as the test draws it: the encoder's fields and the span it is linked to, if any. */
type LogRecordFields = EncodedFields & { readonly span?: SpanLink };

/** What the record must decode to: JSON data as JSON has it (no undefined members, -0 is 0). */
function expected(fields: LogRecordFields) {
  const { span } = fields;
  return {
    timeUnixNano: (BigInt(Math.trunc(fields.timestamp)) * 1_000_000n).toString(),
    observedTimeUnixNano: (BigInt(Math.trunc(fields.observedTimestamp)) * 1_000_000n).toString(),
    severityNumber: fields.severityNumber,
    severityText: fields.severityText,
    eventName: fields.eventName,
    body: JSON.parse(JSON.stringify(fields.body ?? null)) as unknown,
    attributes: JSON.parse(JSON.stringify(fields.attributes)) as unknown,
    flags: span?.traceFlags ?? 0,
    traceId: span?.traceId ?? '',
    spanId: span?.spanId ?? '',
  };
}

/** Well-formed text of every width of UTF-8 (the encoder's input is checked JSON: no lone surrogates). */
function text(next: () => number): string {
  const kinds = [() => pieces[Math.floor(next() * pieces.length)]!, () => String.fromCodePoint(Math.floor(next() * 0xd7ff)), () => String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff)), () => 'x'.repeat(Math.floor(next() * 300))];
  return Array.from({ length: Math.floor(next() * 4) }, () => kinds[Math.floor(next() * kinds.length)]!()).join('');
}

const EDGE_NUMBERS = [0, -0, 1, -1, 127, 128, 2 ** 31, -(2 ** 31), 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 2 ** 63, 0.1, -2.5, 1e300, -1e-300, Number.MIN_VALUE, Number.MAX_VALUE];

function attributeValue(next: () => number): AttributeValue {
  const kind = Math.floor(next() * 3);
  return kind === 0 ? text(next) : kind === 1 ? next() < 0.5 : EDGE_NUMBERS[Math.floor(next() * EDGE_NUMBERS.length)]!;
}

/** Event and emit times in ms: OTLP's nanoseconds are a fixed64, so up to 2^64 - 1 ns. */
const EDGE_TIMES = [0, 1, 999, Date.UTC(2026, 0, 1), Date.UTC(2262, 3, 11), 18_446_744_073_709];

function randomRecord(next: () => number): LogRecordFields {
  const traced = next() < 0.5;
  const time = () => (next() < 0.3 ? EDGE_TIMES[Math.floor(next() * EDGE_TIMES.length)]! : Math.floor(next() * 4_102_444_800_000));
  const hexOf = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => Math.floor(next() * 256))).toString('hex');
  return {
    timestamp: time(),
    observedTimestamp: time(),
    severityNumber: Math.floor(next() * 25),
    severityText: next() < 0.2 ? '' : text(next),
    eventName: next() < 0.2 ? '' : text(next),
    body: value(next, 0),
    attributes: Object.fromEntries(Array.from({ length: Math.floor(next() * 8) }, (_, i) => [`${text(next)}.${i}`, attributeValue(next)])),
    ...(traced ? { span: { traceId: hexOf(16), spanId: hexOf(8), traceFlags: Math.floor(next() * 256) } } : {}),
  };
}

/**
 * Levels of `{ key: [...] }` in a body: each is 5 nested messages (KeyValueList, KeyValue, AnyValue,
 * ArrayValue, AnyValue) below the request's 5, and protoc-made readers (and protobufjs) refuse more
 * than 100 nested messages.
 */
const NESTING = 19;

/** Records at the edges: each kind of value alone, lengths that need 1 to 4 bytes, deep nesting, nothing at all. */
function edgeRecords(): LogRecordFields[] {
  const base: LogRecordFields = { timestamp: 0, observedTimestamp: 0, severityNumber: 0, severityText: '', eventName: '', body: null, attributes: {} };
  const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { [`level${depth}`]: [nested(depth - 1)] });
  return [
    base,
    ...EDGE_NUMBERS.map((n) => ({ ...base, body: n, attributes: { n } })),
    ...[127, 128, 16_383, 16_384, 2_097_151, 2_097_152].map((length) => ({ ...base, body: { text: 'é'.repeat(length / 2) + 'x'.repeat(length % 2) }, eventName: 'a'.repeat(length) })),
    { ...base, body: { empty: {}, list: [], nothing: null, inner: { deeper: [[], {}, [null]] } } },
    { ...base, body: nested(NESTING) },
    { ...base, body: [true, false, '', 0, -0] },
    { ...base, body: { skipped: undefined, kept: 1 } },
    ...EDGE_TIMES.map((t) => ({ ...base, timestamp: t, observedTimestamp: t, severityNumber: 24, severityText: 'FATAL4' })),
    { ...base, span: { traceId: '00'.repeat(16), spanId: 'ff'.repeat(8), traceFlags: 0 } },
    { ...base, span: { traceId: 'ab'.repeat(16), spanId: '01'.repeat(8), traceFlags: 255 } },
  ];
}

function randomOrigin(next: () => number): Origin {
  return {
    resource: Object.fromEntries(Array.from({ length: Math.floor(next() * 6) }, (_, i) => [`${text(next)}.${i}`, attributeValue(next)])),
    scope: { name: text(next), version: text(next) },
  };
}

describe('the record encoder, decoded by protobufjs with the official OTLP .proto files', () => {
  const ExportLogsServiceRequest = exportRequestType();

  /** Frames `records` as one request from `origin`, decodes it with the oracle and compares every field. */
  function check(origin: Origin, records: readonly LogRecordFields[], label: string): void {
    const bytes = requestFramer(origin)(records.map(({ span, ...fields }) => encodeLogRecord(fields, span)));
    const request = ExportLogsServiceRequest.decode(bytes) as unknown as Decoded;
    assert.equal(request['resourceLogs'].length, 1, label);
    const [resourceLogs] = request['resourceLogs'] as Decoded[];
    assert.deepEqual(attributesOf(resourceLogs!['resource']?.attributes, `${label}.resource`), JSON.parse(JSON.stringify(origin.resource)), label);
    assert.equal(resourceLogs!['scopeLogs'].length, 1, label);
    const [scopeLogs] = resourceLogs!['scopeLogs'] as Decoded[];
    assert.deepEqual({ name: scopeLogs!['scope']?.name ?? '', version: scopeLogs!['scope']?.version ?? '' }, origin.scope, label);
    const decoded = ((scopeLogs!['logRecords'] ?? []) as Decoded[]).map((record, i) => fromLogRecord(record, `${label}.record[${i}]`));
    assert.deepEqual(decoded, records.map(expected), label);
  }

  it('edge cases: every AnyValue kind and number edge, lengths of 1 to 4 varint bytes, the deepest nesting protoc reads, time limits, trace ids', () => {
    const records = edgeRecords();
    check({ resource: {}, scope: { name: '', version: '' } }, records, 'edges');
    for (const [i, record] of records.entries()) check({ resource: { 'service.name': 'edge' }, scope: { name: 'otel-audit', version: '1' } }, [record], `edge ${i}`);
  });

  it('5,000 random records (seeded), in requests of 1 to 19 records from random origins', () => {
    const next = random(2025);
    for (let records = 0, request = 0; records < 5_000; request++) {
      const batch = Array.from({ length: Math.min(5_000 - records, 1 + Math.floor(next() * 19)) }, () => randomRecord(next));
      check(randomOrigin(next), batch, `request ${request}`);
      records += batch.length;
    }
  });
});

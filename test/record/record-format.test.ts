// The record format: what the logger encodes once is what an independent protobuf reader (the
// test's own) decodes, for generated bodies too (non-ASCII, long strings, lone surrogates,
// negative and large numbers), and our own decoder (the slow paths) agrees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFramer } from '../../src/delivery/framer.js';
import { decodeLogRecord } from '../../src/record/decoder.js';
import { encodeLogRecord } from '../../src/record/encoder.js';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from '../../src/integrity/otlp-json.js';
import { decodeLogsRequest } from '../helpers/otlp-protobuf.js';
import { pieces, random, value } from '../helpers/random.js';

/** What the body is after a JSON-shaped trip: integers beyond the exact range travel as doubles. */
const expected = (body: unknown): unknown => JSON.parse(JSON.stringify(body));

describe('record format', () => {
  it('generated bodies: the independent reader and our decoder both read back what was encoded', () => {
    const next = random(7);
    const frame = requestFramer({ resource: { 'service.name': 'rf', 'host.name': 'h' }, scope: { name: 'otel-audit', version: '1' } });
    for (let n = 0; n < 300; n++) {
      const body = { id: `e${n}`, details: value(next, 0), text: pieces[n % pieces.length] };
      const attributes = { 'log.record.uid': `e${n}`, 'audit.seq': n + 1, 'audit.invalid': n % 2 === 0, 'user.name': pieces[n % pieces.length]! };
      const timeMillis = 1_731_477_651_518 + n;
      const bytes = encodeLogRecord({ timestamp: timeMillis, observedTimestamp: timeMillis + 1, severityNumber: 9, severityText: 'INFO', eventName: 'document.create', body, attributes });
      const request = decodeLogsRequest(Buffer.from(frame([bytes, bytes])));
      const resourceLogs = request.resourceLogs[0] as { resource: { attributes: OtlpKeyValue[] }; scopeLogs: { scope: { name: string }; logRecords: Record<string, unknown>[] }[] };
      assert.equal(fromKeyValues(resourceLogs.resource.attributes)['service.name'], 'rf');
      const [record, copy] = resourceLogs.scopeLogs[0]!.logRecords;
      assert.deepEqual(copy, record);
      assert.deepEqual(fromAnyValue(record!['body'] as OtlpAnyValue), expected(body));
      assert.deepEqual(fromKeyValues(record!['attributes'] as OtlpKeyValue[]), attributes);
      assert.equal(record!['timeUnixNano'], `${timeMillis}000000`);
      assert.equal(record!['observedTimeUnixNano'], `${timeMillis + 1}000000`);
      const ours = decodeLogRecord(bytes);
      assert.deepEqual(ours.body, expected(body));
      assert.deepEqual(ours.attributes, attributes);
      assert.equal(ours.timeUnixNano, BigInt(timeMillis) * 1_000_000n);
    }
  });

  it('a lone surrogate is written as U+FFFD, as the canonical JSON hashes it', () => {
    const bytes = encodeLogRecord({ timestamp: 1, observedTimestamp: 1, severityNumber: 9, severityText: 'INFO', eventName: 'x', body: { name: 'a\ud800b' }, attributes: {} });
    assert.deepEqual(decodeLogRecord(bytes).body, { name: 'a\ufffdb' });
  });

  it('a member named __proto__ (JSON data like any other, which jsonValue accepts) stays a member through the slow path', () => {
    const body = JSON.parse('{"details":{"__proto__":{"polluted":true},"kept":1}}') as Record<string, unknown>;
    const bytes = encodeLogRecord({ timestamp: 1, observedTimestamp: 1, severityNumber: 9, severityText: 'INFO', eventName: 'x', body, attributes: {} });
    const decoded = decodeLogRecord(bytes).body as { details: Record<string, unknown> };
    assert.deepEqual(Object.keys(decoded.details), ['__proto__', 'kept']);
    assert.deepEqual(decoded, body);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

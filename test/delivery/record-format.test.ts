// The record format: what the logger encodes once is what an independent protobuf reader (the
// test's own) decodes, for generated bodies too (non-ASCII, long strings, lone surrogates,
// negative and large numbers), and our own decoder (the slow paths) agrees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLogRecord, encodeLogRecord, requestFramer } from '../../src/delivery/record-format.js';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from '../../src/integrity/otlp-json.js';
import { decodeLogsRequest } from '../helpers/otlp-protobuf.js';

/** A small seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pieces = ['a', 'Zürich', '東京', '🎉', 'x'.repeat(600), '"\\\n', '\u00e9t\u00e9', ''];
function value(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0: return pieces[Math.floor(next() * pieces.length)]! + String(Math.floor(next() * 1000));
    case 1: return [0, -1, 42, -(2 ** 40), 2 ** 53 - 1, 1.5, -0.25, 1e300, 2 ** 60][Math.floor(next() * 9)];
    case 2: return next() < 0.5;
    case 3: return null;
    case 4: return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, (_, i) => [`k${i}${pieces[i % 3]}`, value(next, depth + 1)]));
  }
}

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
      const bytes = encodeLogRecord({ timeMillis, observedMillis: timeMillis + 1, severityNumber: 9, severityText: 'INFO', eventName: 'document.create', body, attributes });
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
    const bytes = encodeLogRecord({ timeMillis: 1, observedMillis: 1, severityNumber: 9, severityText: 'INFO', eventName: 'x', body: { name: 'a\ud800b' }, attributes: {} });
    assert.deepEqual(decodeLogRecord(bytes).body, { name: 'a\ufffdb' });
  });
});

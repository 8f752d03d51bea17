// Copies made to fool or exhaust the verifier: a decoy carrying a genuine checkpoint's id, sequence
// numbers spread so that each record would need a page of its own, and a member named __proto__.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ATTR } from '../../src/attributes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import type { JsonValue } from '../../src/catalog/json-value.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, linkHash } from '../../src/integrity/chain.js';
import { fromKeyValues, toKeyValues } from '../../src/integrity/otlp-json.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { TrailVerifier, verifyTrail } from '../../src/integrity/verify.js';
import { createAuditLogger } from '../../src/index.js';
import { syntheticTrail } from '../helpers/synthetic-trail.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

const keys = generateKeyPairSync('ed25519');
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-hostile-'));
const START = Date.parse('2026-01-01T00:00:00Z');
const seqOf = (r: TrailRecord) => r.attributes[ATTR.seq] as number | undefined;
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';
const isFinal = (r: TrailRecord) => isCheckpoint(r) && (r.body as { details: { final: boolean } }).details.final;

describe('a decoy checkpoint', () => {
  const trail = [...syntheticTrail({ start: START, signingKey: keys.privateKey, runs: [{ events: 30 }] })];
  const final = trail.find(isFinal)!;
  const now = Date.parse((final.body as { timestamp: string }).timestamp) + 1000;

  it("an unsigned record with the final checkpoint's id, read before it, cannot make the signed one a copy: the cut end is found", () => {
    // The copy is cut after seq 25, and an unsigned "final checkpoint" at seq 25 under the genuine id comes before the genuine one.
    const body = structuredClone(final.body) as { details: { seq: number; hash: string } };
    body.details.seq = 25;
    body.details.hash = trail.find((r) => seqOf(r) === 25)!.attributes[ATTR.hash] as string;
    const decoy: TrailRecord = { body, attributes: { [ATTR.recordUid]: final.attributes[ATTR.recordUid], [ATTR.streamId]: final.attributes[ATTR.streamId] }, resource: {}, source: 'decoy' };
    const cut = [...trail.filter((r) => !isCheckpoint(r) && seqOf(r)! <= 25), decoy, ...trail.filter(isCheckpoint)];
    const report = verifyTrail(cut, { publicKey: keys.publicKey, now });
    assert.equal(report.ok, false);
    const [stream] = report.streams;
    assert.deepEqual(stream!.gaps, [{ from: 26, to: 30 }], 'the genuine final checkpoint states seq 30');
    assert.deepEqual(stream!.badCheckpoints.map((c) => [c.source, c.reason]), [['decoy', `carries the id of another checkpoint with different content (${final.source})`]]);
  });

  it('an identical copy of a checkpoint (at-least-once delivery) is still one checkpoint, not a finding', () => {
    const report = verifyTrail([...trail, final], { publicKey: keys.publicKey, now });
    assert.equal(report.ok, true);
    assert.equal(report.streams[0]!.checkpoints, trail.filter(isCheckpoint).length);
  });
});

describe('memory bounded whatever the seqs claim', () => {
  it('records whose seqs are spread one per 4096 cost about what dense ones do, not a page each', () => {
    const verifier = new TrailVerifier({ now: START });
    const before = process.memoryUsage();
    const records = 3000;
    for (let i = 0; i < records; i++) {
      const seq = i * 4096 + 1;
      verifier.add({ body: { id: `h${i}`, timestamp: new Date(START).toISOString() }, attributes: { [ATTR.streamId]: 's', [ATTR.seq]: seq, [ATTR.prevHash]: GENESIS_HASH, [ATTR.hash]: 'f'.repeat(64) }, resource: {}, source: `h${i}` });
    }
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    // A page per record would be 3000 x 180 KB (over 500 MB).
    assert.ok(grown < 48 * 2 ** 20, `${(grown / 2 ** 20).toFixed(1)} MiB for ${records} records`);
    const report = verifier.report();
    assert.equal(report.streams[0]!.events, records);
    assert.equal(report.streams[0]!.missing, (records - 1) * 4095);
  });
});

describe('a member named __proto__ (a jsonValue detail)', () => {
  const value = JSON.parse('{"__proto__": {"admin": true}, "theme": "dark"}') as { [key: string]: JsonValue };

  it('survives the OTLP/JSON key-value lists both ways', () => {
    const back = fromKeyValues(JSON.parse(JSON.stringify(toKeyValues(value))));
    assert.deepEqual(Object.keys(back), ['__proto__', 'theme']);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(canonicalJson(back), canonicalJson(value));
  });

  it('a genuine event carrying it verifies from the wire (protobuf) and from the archive format', async () => {
    const listener = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, checkpoints: { intervalMillis: 60_000 }, onError: assert.fail });
    audit.logEvent('config.create', { details: { config: { id: 1, key: 'ui', value } } });
    await audit.shutdown();
    await listener.close();
    const trail = listener.records.map((r, i) => ({ body: r.body, attributes: r.attributes, resource: r.resource, source: `wire:${i + 1}` }));
    const event = trail.find((r) => !isCheckpoint(r))!;
    assert.deepEqual(Object.keys((event.body as { details: { config: { value: object } } }).details.config.value), ['__proto__', 'theme']);
    assert.equal(verifyTrail(trail, { now: Date.now() }).ok, true);
    // As the Collector's file exporter writes it: OTLP/JSON lines.
    const path = join(dir, 'proto.jsonl');
    const logRecords = trail.map((r) => ({ body: { kvlistValue: { values: toKeyValues(r.body as Record<string, unknown>) } }, attributes: toKeyValues(r.attributes) }));
    writeFileSync(path, `${JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords }] }] })}\n`);
    assert.equal(verifyTrail(readTrail(path), { now: Date.now() }).ok, true);
  });

  it('an attribute named __proto__ is an attribute, not a prototype the integrity attributes could be inherited from', () => {
    const body = { id: 'e1', action: 'document.create', timestamp: new Date(START).toISOString() };
    const chain = { [ATTR.streamId]: 's', [ATTR.seq]: 1, [ATTR.prevHash]: GENESIS_HASH, [ATTR.hash]: linkHash(GENESIS_HASH, canonicalJson(body)) };
    const path = join(dir, 'proto-attributes.jsonl');
    const attributes = [{ key: '__proto__', value: { kvlistValue: { values: toKeyValues(chain) } } }];
    writeFileSync(path, `${JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { kvlistValue: { values: toKeyValues(body) } }, attributes }] }] }] })}\n`);
    const [record] = readTrail(path);
    assert.equal(record!.attributes[ATTR.seq], undefined);
    assert.deepEqual(Object.keys(record!.attributes), ['__proto__']);
    const report = verifyTrail([record!]);
    assert.deepEqual([report.unchained, report.streams.length, report.ok], [1, 0, false]);
  });
});

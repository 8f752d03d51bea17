// Property tests of every decoder of outside bytes verify owns, with random and mutated inputs
// (seeded, so a failure can be replayed): archive frames (zstd), OTLP/JSON lines, Splunk HEC/NDJSON
// lines, syslog lines, the SIEM formats (OCSF, ECS, CIM, CEF); and the verifier behind them. For
// each input: no exception escapes the reader or the verifier, no input takes long (no hang), and
// memory stays bounded by the frame cap, not by what the input claims. The counts are printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ATTR } from '../../src/attributes.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, linkHash } from '../../src/integrity/chain.js';
import { toKeyValues } from '../../src/integrity/otlp-json.js';
import { streamTrail, type TrailDamage, type TrailRecord } from '../../src/integrity/trail.js';
import { TrailVerifier } from '../../src/integrity/verify.js';
import { syntheticTrail } from '../helpers/synthetic-trail.js';
import { archive, compressedFrame, rawFrame } from '../helpers/zstd-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The frame and line cap while fuzzing: what one input may make the reader hold is about three times this. */
const CAP = 1024 * 1024;
/** No single input may take longer than this (a hang, or work that grows with what the input claims). */
const SLOWEST_MILLIS = 2000;
/** Memory growth allowed across a whole decoder's inputs. */
const MEMORY_BOUND = 256 * 2 ** 20;
const counts: Record<string, number> = {};
after(() => console.log(`fuzzing, inputs tried per decoder: ${JSON.stringify(counts)}`));

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const trail = [...syntheticTrail({ runs: [{ events: 12 }] })];

/** Bytes changed the ways damage changes them: bits flipped, bytes overwritten, runs inserted, deleted, repeated, and a cut. */
function mutate(input: Buffer, next: () => number): Buffer {
  let bytes = Buffer.from(input);
  const int = (n: number) => Math.floor(next() * n);
  for (let round = 1 + int(4); round > 0; round--) {
    const at = int(bytes.length + 1);
    switch (int(7)) {
      case 0:
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)]! ^= 1 << int(8);
        break;
      case 1:
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = int(256);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), bytes.subarray(at)]);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(64))]);
        break;
      case 4:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(int(bytes.length), at), bytes.subarray(at)]);
        break;
      case 5:
        bytes = bytes.subarray(0, at);
        break;
      default:
        // A 4-byte length written over anything: huge, zero, or near the truth.
        if (bytes.length >= 4) bytes.writeUInt32BE([0xffffffff, 0, int(2 ** 32), int(bytes.length * 2)][int(4)]!, Math.min(at, bytes.length - 4));
    }
  }
  return bytes;
}

/**
 * Reads each file with streamTrail (damage reported, frames capped) and adds every record to a
 * verifier; checks nothing throws, each file is read quickly, and memory stays within the bound.
 */
function readAll(files: readonly string[]): { records: number; damage: number; slowest: number; grown: number } {
  const before = process.memoryUsage();
  let records = 0;
  let damage = 0;
  let slowest = 0;
  let grown = 0;
  for (const file of files) {
    const verifier = new TrailVerifier({ now: 0, maxListed: 50 });
    const started = performance.now();
    for (const record of streamTrail(file, { maxFrameBytes: CAP, onDamage: (d: TrailDamage) => (damage++, verifier.damaged(d)) })) {
      verifier.add(record);
      records++;
    }
    verifier.report();
    slowest = Math.max(slowest, performance.now() - started);
    const now = process.memoryUsage();
    grown = Math.max(grown, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
  }
  return { records, damage, slowest, grown };
}

function otlpLine(records: readonly TrailRecord[]): string {
  const logRecords = records.map((r) => ({ timeUnixNano: '1767225600000000000', body: { kvlistValue: { values: toKeyValues(r.body as Record<string, unknown>) } }, attributes: toKeyValues(r.attributes) }));
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: toKeyValues({ 'service.name': 'fuzz' }) }, scopeLogs: [{ scope: { name: 'otel-audit' }, logRecords }] }] });
}

/** Lines of one format, mutated: each line one input; a file holds a batch of them. */
function fuzzLines(name: string, seeds: readonly string[], inputs: number, seed: number): void {
  const next = random(seed);
  const files: string[] = [];
  const perFile = 250;
  for (let done = 0; done < inputs; done += perFile) {
    const lines: Buffer[] = [];
    for (let i = 0; i < perFile; i++) {
      const original = Buffer.from(seeds[Math.floor(next() * seeds.length)]!);
      // One in ten: random bytes of the line's size; the rest: the line mutated.
      lines.push(next() < 0.1 ? Buffer.from(Array.from({ length: original.length }, () => Math.floor(next() * 256))) : mutate(original, next));
    }
    const file = join(dir, `${name.replace(/\W+/g, '-')}-${done}.log`);
    writeFileSync(file, Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')])));
    files.push(file);
  }
  const result = readAll(files);
  counts[name] = inputs;
  assert.ok(result.slowest < SLOWEST_MILLIS * 5, `a file of ${perFile} lines took ${result.slowest.toFixed(0)} ms`);
  assert.ok(result.grown < MEMORY_BOUND, `${(result.grown / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(result.damage > 0 && result.records > 0, `${result.records} records, ${result.damage} damaged regions: the mutations reach both`);
}

describe('fuzzing the decoders (seeded; no throw escapes, no hang, bounded memory)', () => {
  it('archive frames: random bytes, and archives of raw and compressed frames mutated', { timeout: 300_000 }, () => {
    const next = random(0xa5c11e);
    const archives = [
      archive([rawFrame(Buffer.from(otlpLine(trail.slice(0, 6)))), rawFrame(Buffer.from(otlpLine(trail.slice(6))))]),
      archive([compressedFrame, compressedFrame]),
      archive([compressedFrame, rawFrame(Buffer.from(otlpLine(trail.slice(0, 3)))), compressedFrame]),
    ];
    const files: string[] = [];
    const inputs = 10_000;
    for (let i = 0; i < inputs; i++) {
      const input = i % 10 === 0 ? Buffer.from(Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256))) : mutate(archives[i % archives.length]!, next);
      const file = join(dir, `frames-${i}.zst`);
      writeFileSync(file, input);
      files.push(file);
    }
    const result = readAll(files);
    counts['archive frames (zstd)'] = inputs;
    assert.ok(result.slowest < SLOWEST_MILLIS, `slowest input: ${result.slowest.toFixed(0)} ms`);
    assert.ok(result.grown < MEMORY_BOUND, `${(result.grown / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(result.damage > 0 && result.records > 0, `${result.records} records, ${result.damage} damaged regions`);
  });

  it('OTLP/JSON lines (the Collector file exporter, the HEC receiver)', { timeout: 300_000 }, () => {
    fuzzLines('OTLP/JSON lines', [otlpLine(trail.slice(0, 4)), otlpLine(trail.slice(4, 5))], 20_000, 0x07179);
  });

  it('Splunk HEC / NDJSON search exports', { timeout: 300_000 }, () => {
    const seeds = trail.slice(0, 6).map((r) => JSON.stringify({ preview: false, result: { _raw: JSON.stringify(r.body), ...r.attributes } }));
    fuzzLines('HEC/NDJSON', [...seeds, JSON.stringify(trail[3]!.body)], 20_000, 0x5b1c);
  });

  it('syslog lines (RFC 5424, audit@32473 structured data)', { timeout: 300_000 }, () => {
    const sd = (r: TrailRecord) => `[audit@32473 ${Object.entries(r.attributes).map(([k, v]) => `${k}="${String(v).replace(/["\\\]]/g, '\\$&')}"`).join(' ')}]`;
    const seeds = trail.slice(0, 5).flatMap((r) => [`<110>1 2026-01-01T00:00:00Z host app - document.create ${sd(r)} ${JSON.stringify(r.body)}`, `${sd(r)} \ufeff${JSON.stringify(r.body)}`]);
    fuzzLines('syslog', seeds, 20_000, 0x5150);
  });

  it('SIEM formats (OCSF, ECS, CIM, CEF)', { timeout: 300_000 }, () => {
    const [event] = trail.filter((r) => (r.body as { action: string }).action !== 'audit.checkpoint');
    const body = event!.body as Record<string, unknown>;
    const chain = event!.attributes;
    const cef = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('=', '\\=').replaceAll('\n', '\\n');
    const seeds = [
      JSON.stringify({ class_uid: 6003, activity_id: 1, raw_data: JSON.stringify(body), unmapped: chain }),
      JSON.stringify({ '@timestamp': body['timestamp'], event: { original: JSON.stringify(body), id: body['id'], hash: chain[ATTR.hash], sequence: 1 }, audit: { stream_id: chain[ATTR.streamId], prev_hash: chain[ATTR.prevHash] } }),
      JSON.stringify({ result: { _raw: JSON.stringify({ ...body, integrity: chain }), action: 'created' } }),
      `<110>1 - host app document.create - - CEF:0|Acme\\|Corp|otel-audit|0.1.0|document.create|Created.|3|rt=1 cs2Label=auditHash cs2=${String(chain[ATTR.hash])} cs3Label=auditPrevHash cs3=${GENESIS_HASH} cs4Label=auditStreamId cs4=s cn1Label=auditSeq cn1=1 externalId=${String(body['id'])} OtelAuditEvent=${cef(JSON.stringify(body))}`,
    ];
    fuzzLines('SIEM (OCSF, ECS, CIM, CEF)', seeds, 20_000, 0x51e3);
  });

  it('the verifier: random records and checkpoints (seqs, hashes, links, ids, fields of any type)', { timeout: 300_000 }, () => {
    const next = random(0x7e21f1);
    const int = (n: number) => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const values = [undefined, null, 0, -1, 1, 2 ** 53, Number.NaN, '1', '', 'x'.repeat(64), GENESIS_HASH, true, {}, [], { length: 3 }];
    const inputs = 100_000;
    const before = process.memoryUsage();
    const started = performance.now();
    for (let batch = 0; batch < 20; batch++) {
      const verifier = new TrailVerifier({ now: 0, maxListed: 20 });
      const hashes = [GENESIS_HASH];
      for (let i = 0; i < inputs / 20; i++) {
        const seq = pick([int(8) + 1, int(2 ** 20), int(2 ** 53), pick(values)]);
        const body = next() < 0.3 ? { action: 'audit.checkpoint', id: pick(['c1', 'c2', `c${i}`]), timestamp: pick(['2026-01-01T00:00:00Z', 'bad', undefined]), details: { stream_id: pick(['s', 't']), seq: pick([seq, pick(values)]), hash: pick([...hashes, pick(values)]), interval_ms: pick([1000, pick(values)]), final: pick([true, false]), start: pick([true, false]) } } : { id: `e${int(50)}`, action: 'document.create', timestamp: new Date(int(2 ** 40)).toISOString() };
        const prevHash = pick([...hashes, pick(values)]);
        // Half the records chain (their hash links their content to prev_hash), when JSON can hold the body.
        let hash: unknown = pick([...hashes, pick(values)]);
        try {
          if (next() < 0.5 && typeof prevHash === 'string') hash = linkHash(prevHash, canonicalJson(body));
        } catch {
          // A NaN or such among the details: the record keeps the hash it drew.
        }
        if (typeof hash === 'string' && hashes.length < 64) hashes.push(hash);
        const attributes: Record<string, unknown> = { [ATTR.streamId]: pick(['s', 't', pick(values)]), [ATTR.seq]: seq, [ATTR.prevHash]: prevHash, [ATTR.hash]: hash, [ATTR.recordUid]: pick(['c1', `u${i}`, pick(values)]) };
        if (next() < 0.1) attributes['otel_audit.test'] = pick([true, 'true', 1]);
        verifier.add({ body: next() < 0.05 ? pick(values) : body, attributes, resource: next() < 0.1 ? { 'service.name': pick(values) } : {}, source: `fuzz:${i}` });
      }
      verifier.report();
    }
    const after = process.memoryUsage();
    counts['verifier (records)'] = inputs;
    assert.ok(performance.now() - started < 60_000);
    assert.ok(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers < MEMORY_BOUND);
  });
});

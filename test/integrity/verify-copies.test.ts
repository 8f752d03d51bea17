// verify on copies as they are in practice: large, cut to a window, with at-least-once duplicates,
// signed or not, and a stream that resumed after clean shutdowns. Synthetic trails are chained and
// checkpointed with the logger's own functions (test/helpers/synthetic-trail.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ATTR } from '../../src/attributes.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { checkpointEvent } from '../../src/integrity/checkpoint.js';
import { linkHash } from '../../src/integrity/chain.js';
import { readTrail, streamTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail, type VerifyOptions } from '../../src/integrity/verify.js';
import { ROOT } from '../helpers/processes.js';
import { syntheticTrail, writeOtlpJsonLines, type SyntheticTrailOptions } from '../helpers/synthetic-trail.js';

const keys = generateKeyPairSync('ed25519');
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-verify-copies-'));
const START = Date.parse('2026-01-01T00:00:00Z');
const seqOf = (r: TrailRecord) => r.attributes[ATTR.seq] as number | undefined;
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';
const detailsOf = (r: TrailRecord) => (r.body as { details: { final: boolean; start?: boolean; seq: number } }).details;
const trailOf = (options: Partial<SyntheticTrailOptions> & Pick<SyntheticTrailOptions, 'runs'>) => [...syntheticTrail({ start: START, signingKey: keys.privateKey, ...options })];
/** "Now" a little after the trail's last record: no silence at its end. */
const endOf = (trail: TrailRecord[]) => Date.parse((trail.at(-1)!.body as { timestamp: string }).timestamp) + 1000;
const signed = (trail: TrailRecord[], extra: VerifyOptions = {}): VerifyOptions => ({ publicKey: keys.publicKey, now: endOf(trail), ...extra });

function cli(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 }) };
  } catch (error) {
    const e = error as { status: number | null; signal: string | null; stdout: string; stderr: string };
    return { code: e.status ?? -1, out: `${e.signal ?? ''}${e.stdout}${e.stderr}` };
  }
}

function writeFile(name: string, records: Iterable<TrailRecord>): string {
  const path = join(dir, name);
  writeOtlpJsonLines(path, records);
  return path;
}

describe('verify at scale', () => {
  it('checks 200,000 events of one stream (more than a spread argument list holds), with the report intact', () => {
    const trail = trailOf({ runs: [{ events: 200_000 }], spacingMillis: 10 });
    const report = verifyTrail(trail, signed(trail));
    assert.equal(report.ok, true, JSON.stringify(report.streams[0]));
    assert.equal(report.streams[0]!.events, 200_000);
    assert.equal(report.streams[0]!.lastSeq, 200_000);
    assert.deepEqual(report.streams[0]!.expected, { from: 1, to: 200_000 });
  });

  it('a forged checkpoint claiming seq 10^12 ends at once with the missing range, and lists are capped', () => {
    const trail = trailOf({ runs: [{ events: 50, final: false }] });
    const streamId = trail[1]!.attributes[ATTR.streamId] as string;
    const forged = checkpointEvent({ streamId, seq: 1e12, hash: 'f'.repeat(64) }, 60_000, false, endOf(trail) - 500);
    // Every even seq missing too: 25 ranges, the last one 50..10^12.
    const odd = trail.filter((r) => seqOf(r) === undefined || seqOf(r)! % 2 === 1);
    const path = writeFile('forged.jsonl', [...odd, { body: forged.event, attributes: { [ATTR.streamId]: streamId }, resource: {}, source: 'forged' }]);
    // No public key: the forged checkpoint is taken at its word, as any unsigned one.
    const result = cli(['verify', path, '--json', '--max-listed', '10', '--at', new Date(endOf(trail)).toISOString()]);
    assert.equal(result.code, 1, result.out);
    const [stream] = JSON.parse(result.out).streams;
    assert.equal(stream.gaps.length, 10);
    assert.deepEqual(stream.gaps[0], { from: 2, to: 2 });
    assert.equal(stream.missing, 24 + (1e12 - 49));
    assert.equal(stream.omitted, 15);
  });
});

describe('verify on partial copies: windows', () => {
  const trail = trailOf({ runs: [{ events: 3000 }], spacingMillis: 1000, checkpointIntervalMillis: 60_000 });
  const at = (seq: number) => Date.parse((trail.find((r) => seqOf(r) === seq)!.body as { timestamp: string }).timestamp);
  // One "day" of the copy: events 1001..2000 and the checkpoints among them, as a SIEM export returns them.
  const since = at(1001);
  const until = at(2001);
  const dayExport = trail.filter((r) => {
    const time = Date.parse((r.body as { timestamp: string }).timestamp);
    return time >= since && time < until;
  });

  it('without a window, a copy that starts mid-stream misses everything before it', () => {
    const report = verifyTrail(dayExport, signed(trail, { now: until }));
    assert.deepEqual(report.streams[0]!.gaps, [{ from: 1, to: 1000 }]);
  });

  it('with --since/--until, the copy is complete from its first event to the last seq its checkpoints state', () => {
    const report = verifyTrail(dayExport, signed(trail, { since, until, now: endOf(trail) }));
    assert.equal(report.ok, true, JSON.stringify(report.streams[0]));
    assert.deepEqual(report.streams[0]!.expected, { from: 1001, to: 2000 });
    assert.equal(report.outsideWindow, 0);
  });

  it('the window of a whole trail skips what is outside it, and finds what is missing inside it and at its end', () => {
    const holed = trail.filter((r) => seqOf(r) !== 1500 && !(seqOf(r)! >= 1995 && seqOf(r)! <= 2000));
    const report = verifyTrail(holed, signed(trail, { since, until }));
    const [stream] = report.streams;
    assert.equal(report.ok, false);
    // The checkpoints inside the window state seqs up to 1980 (one a minute): a cut end after the last one shows as silence.
    assert.deepEqual(stream!.gaps, [{ from: 1500, to: 1500 }]);
    assert.equal(stream!.firstSeq, 1001);
    assert.ok(report.outsideWindow > 1900);
    const full = verifyTrail(holed, signed(trail));
    assert.deepEqual(full.streams[0]!.gaps, [{ from: 1500, to: 1500 }, { from: 1995, to: 2000 }]);
  });

  it('--from-seq checks from that seq: one before it missing is not a gap, the seq itself missing is', () => {
    const rotated = trail.filter((r) => seqOf(r) === undefined || seqOf(r)! > 1000);
    assert.equal(verifyTrail(rotated, signed(trail, { fromSeq: 1001 })).ok, true);
    const report = verifyTrail(rotated.filter((r) => seqOf(r) !== 1001), signed(trail, { fromSeq: 1001 }));
    assert.deepEqual(report.streams[0]!.gaps, [{ from: 1001, to: 1001 }]);
  });

  it('the CLI reads windows as RFC 3339 times and refuses what it cannot read', () => {
    const path = writeFile('day.jsonl', dayExport);
    const ok = cli(['verify', path, '--since', new Date(since).toISOString(), '--until', new Date(until).toISOString(), '--at', new Date(until).toISOString()]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /checked seq 1001-2000/);
    assert.equal(cli(['verify', path, '--at', new Date(until).toISOString()]).code, 1);
    assert.equal(cli(['verify', path, '--since', 'yesterday']).code, 2);
    assert.equal(cli(['verify', path, '--from-seq', '0']).code, 2);
  });
});

describe('verify: duplicates are information, a different record under the same seq is tampering', () => {
  const trail = trailOf({ runs: [{ events: 100 }] });
  const events = trail.filter((r) => !isCheckpoint(r));

  it('a batch resent after a partial failure (at-least-once) passes, its copies listed', () => {
    const resent = [...trail.slice(0, 60), ...events.slice(40, 55), ...trail.slice(60)];
    const report = verifyTrail(resent, signed(trail));
    assert.equal(report.ok, true, JSON.stringify(report.streams[0]));
    assert.equal(report.streams[0]!.duplicates.length, 15);
    assert.deepEqual(report.streams[0]!.reordered, []);
    const path = writeFile('resent.jsonl', resent);
    const out = cli(['verify', path, '--public-key', writePublicKey(), '--at', new Date(endOf(trail)).toISOString()]);
    assert.equal(out.code, 0, out.out);
    assert.match(out.out, /note: identical copies \(at-least-once delivery, not a problem\): 41 \(2 copies\)/);
  });

  it('another record under a seq already read, even one whose own hash verifies, is tampering', () => {
    const original = events[49]!;
    const body = { ...(original.body as object), details: { document: { id: 'doc-x', name: 'replaced' } } };
    const prevHash = original.attributes[ATTR.prevHash] as string;
    const impostor: TrailRecord = { ...original, body, attributes: { ...original.attributes, [ATTR.hash]: linkHash(prevHash, canonicalJson(body)) }, source: 'impostor' };
    const report = verifyTrail([...trail, impostor], signed(trail));
    assert.equal(report.ok, false);
    assert.deepEqual(report.streams[0]!.tampered.map((t) => [t.seq, t.source]), [[50, 'impostor']]);
    assert.match(report.streams[0]!.tampered[0]!.reason, /appears with different content/);
  });
});

function writePublicKey(): string {
  const path = join(dir, 'public.pem');
  writeFileSync(path, publicPem);
  return path;
}

describe('verify: keys and signatures', () => {
  it('--hmac-key-file is the key as raw bytes, as the library takes it (a trailing newline and non-UTF-8 bytes included)', () => {
    const key = Buffer.from([0xff, 0x00, 0x41, 0x0a]);
    const trail = trailOf({ runs: [{ events: 20 }], hmacKey: key });
    assert.equal(verifyTrail(trail, signed(trail, { hmacKey: key })).ok, true);
    const keyFile = join(dir, 'binary.key');
    writeFileSync(keyFile, key);
    const out = cli(['verify', writeFile('hmac.jsonl', trail), '--hmac-key-file', keyFile, '--at', new Date(endOf(trail)).toISOString()]);
    assert.equal(out.code, 0, out.out);
  });

  it('an unsigned trail passes with a note; --require-signed makes unsigned or missing checkpoints findings', () => {
    const unsigned = [...syntheticTrail({ start: START, runs: [{ events: 20 }] })];
    const at = new Date(endOf(unsigned)).toISOString();
    const path = writeFile('unsigned.jsonl', unsigned);
    const lenient = cli(['verify', path, '--public-key', writePublicKey(), '--at', at]);
    assert.equal(lenient.code, 0, lenient.out);
    assert.match(lenient.out, /note: 2 unsigned checkpoint\(s\)/);
    const strict = cli(['verify', path, '--public-key', writePublicKey(), '--require-signed', '--at', at, '--json']);
    assert.equal(strict.code, 1, strict.out);
    assert.deepEqual(JSON.parse(strict.out).streams[0].badCheckpoints.map((c: { reason: string }) => c.reason), ['unsigned', 'unsigned']);
    const none = verifyTrail(unsigned.filter((r) => !isCheckpoint(r)), { publicKey: keys.publicKey, requireSigned: true, now: endOf(unsigned) });
    assert.match(none.streams[0]!.badCheckpoints[0]!.reason, /no signed checkpoint/);
    const signedTrail = trailOf({ runs: [{ events: 20 }] });
    assert.equal(verifyTrail(signedTrail, signed(signedTrail, { requireSigned: true })).ok, true);
    assert.equal(cli(['verify', path, '--require-signed']).code, 2, 'needs --public-key');
    assert.throws(() => verifyTrail([], { requireSigned: true }), /requireSigned needs publicKey/);
  });
});

describe('verify: a stream that resumed after clean shutdowns', () => {
  const trail = trailOf({ runs: [{ events: 30 }, { events: 30 }, { events: 30 }] });
  /** Verified ten minutes after the last clean shutdown: long enough for any cut to show as silence. */
  const later = (t: TrailRecord[]) => signed(t, { now: endOf(trail) + 600_000 });
  const checkpoints = trail.filter(isCheckpoint);
  const starts = checkpoints.filter((c) => detailsOf(c).start);

  it('three runs, each started with its resume marker: complete and intact', () => {
    assert.equal(starts.length, 3);
    assert.equal(verifyTrail(trail, later(trail)).ok, true);
  });

  it('everything after the second restart cut (its marker kept): the stream fell silent', () => {
    const cut = trail.slice(0, trail.indexOf(starts[2]!) + 1);
    const report = verifyTrail(cut, later(cut));
    assert.equal(report.ok, false);
    assert.equal(report.streams[0]!.silences.length, 1);
    assert.deepEqual(report.streams[0]!.gaps, []);
  });

  it('everything after the first events of a resumed run cut: silent too (before the first periodic checkpoint)', () => {
    const cut = trail.slice(0, trail.indexOf(starts[1]!) + 6);
    assert.equal(seqOf(cut.at(-1)!), 35);
    const report = verifyTrail(cut, later(cut));
    assert.equal(report.ok, false);
    assert.equal(report.streams[0]!.silences.length, 1);
  });

  it('a run that resumed without its marker, or from another head than the clean shutdown, is a finding', () => {
    const unmarked = trail.filter((r) => r !== starts[1]);
    assert.match(verifyTrail(unmarked, signed(trail)).streams[0]!.badCheckpoints[0]!.reason, /went on after its clean shutdown at seq 30 .* without a resume marker/);
    const older = trailOf({ runs: [{ events: 30 }, { events: 30, startMarker: false }] });
    const report = verifyTrail(older, signed(older));
    assert.equal(report.ok, false);
    assert.match(report.streams[0]!.badCheckpoints.map((c) => c.reason).join('\n'), /without a resume marker/);
    const lastFinal = trail.indexOf(checkpoints.filter((c) => detailsOf(c).final)[1]!);
    const skipped = [...trail.slice(0, trail.indexOf(starts[1]!)), ...trail.slice(lastFinal + 1)];
    const behind = verifyTrail(skipped, signed(trail));
    assert.match(behind.streams[0]!.badCheckpoints.map((c) => c.reason).join('\n'), /resumed from seq 60, but the clean shutdown before it .* was at seq 30/);
  });
});

describe('streamTrail', () => {
  it('reads a file in chunks: lines across chunk boundaries and multi-byte characters split by them', () => {
    const name = 'é'.repeat(300_000);
    const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ result: { _raw: JSON.stringify({ id: `r${i}`, name }), 'audit.seq': String(i + 1) } }));
    const path = join(dir, 'big.ndjson');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const records = [...streamTrail(path)];
    assert.deepEqual(records.map((r) => (r.body as { id: string }).id), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    assert.ok(records.every((r) => (r.body as { name: string }).name === name));
    assert.deepEqual(records.map((r) => r.source), lines.map((_, i) => `${path}:${i + 1}`));
    assert.deepEqual(readTrail(path), records);
  });

  it('gives the records before a damaged line, then names it', () => {
    const path = join(dir, 'damaged-late.ndjson');
    writeFileSync(path, `${JSON.stringify({ result: { _raw: '{"id":"a"}' } })}\n{"result": broken\n${JSON.stringify({ result: { _raw: '{"id":"b"}' } })}\n`);
    const reader = streamTrail(path);
    assert.equal((reader.next().value as TrailRecord).source, `${path}:1`);
    assert.throws(() => reader.next(), /damaged-late\.ndjson:2: not JSON/);
  });
});

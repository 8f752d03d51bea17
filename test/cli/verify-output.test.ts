// otel-audit verify on real-looking copies, as a person reads it: streams named by their service,
// one verdict line per stream, every message a sentence with real values; the selection options
// (--stream, --service, --exclude-test) and --require-signed on a copy that holds test streams.
// The expected text is written out in full for representative copies.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ATTR } from '../../src/attributes.js';
import { toKeyValues } from '../../src/integrity/otlp-json.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { HashChain } from '../../src/integrity/chain.js';
import { checkpointEvent, startCheckpointEvent } from '../../src/integrity/checkpoint.js';
import { ROOT } from '../helpers/processes.js';
import { syntheticTrail, type SyntheticTrailOptions } from '../helpers/synthetic-trail.js';

const run = promisify(execFile);
const keys = generateKeyPairSync('ed25519');
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-verify-output-'));
const publicKey = join(dir, 'public.pem');
writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
const START = Date.parse('2026-03-01T09:00:00Z');
const DOCS = '053184b5-7f7e-4d5c-9a55-2b3c4d5e6f70';
const BILLING = '9a1c2e3f-0b1d-4c2e-8f3a-4b5c6d7e8f90';
const AT = new Date(START + 3_600_000).toISOString();
const seqOf = (r: TrailRecord) => r.attributes[ATTR.seq] as number | undefined;
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';

/** One stream of a service, chained and checkpointed by the logger's own functions. */
function stream(service: string, options: Partial<SyntheticTrailOptions> & Pick<SyntheticTrailOptions, 'runs'>): { service: string; records: TrailRecord[] } {
  return { service, records: [...syntheticTrail({ start: START, signingKey: keys.privateKey, checkpointIntervalMillis: 60_000, spacingMillis: 1000, ...options })] };
}

/** What `otel-audit emit` leaves in a copy: a stream of one event of its own (no checkpoints), resource marked as a test. */
function emitted(streamId: string): { service: string; resource: Record<string, unknown>; records: TrailRecord[] } {
  const records = [...syntheticTrail({ start: START + 5000, streamId, runs: [{ events: 1, final: false }] })].filter((r) => !isCheckpoint(r));
  return { service: 'otel-audit-emit', resource: { 'audit.test': true }, records };
}

/** The Admin Panel's Test button: a marked record without integrity attributes. */
const destinationTest: TrailRecord = {
  body: { id: 'admin-test-1', action: 'document.create', actor: { type: 'system' }, context: {}, timestamp: new Date(START + 6000).toISOString(), details: { document: { id: 'd', name: 'test' } } },
  attributes: { [ATTR.recordUid]: 'admin-test-1', 'otel_audit.test': true },
  resource: {},
  source: 'admin',
};

/** A copy as the Collector's file exporter writes it: one OTLP/JSON request per line, each stream under its service's resource. */
function copy(name: string, parts: readonly { service: string; resource?: Record<string, unknown>; records: readonly TrailRecord[] }[]): string {
  const path = join(dir, name);
  const lines = parts.map(({ service, resource, records }) => {
    const logRecords = records.map((r) => ({ timeUnixNano: `${Date.parse((r.body as { timestamp: string }).timestamp)}000000`, body: { kvlistValue: { values: toKeyValues(r.body as Record<string, unknown>) } }, attributes: toKeyValues(r.attributes) }));
    return JSON.stringify({ resourceLogs: [{ resource: { attributes: toKeyValues({ 'service.name': service, ...resource }) }, scopeLogs: [{ scope: { name: 'otel-audit' }, logRecords }] }] });
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Every output of this file, for the checks that hold for all of them. */
const outputs: string[] = [];

async function verify(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const normal = (text: string) => text.replaceAll(dir, '<dir>').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
  let result: { code: number; out: string; err: string };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', ...args, ...(args.includes('--at') ? [] : ['--at', AT])]);
    result = { code: 0, out: normal(stdout), err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    result = { code: e.code, out: normal(e.stdout), err: e.stderr };
  }
  outputs.push(result.out);
  return result;
}

/** Each stream's block: from its header line to the line before the next header (or the result line). */
function blocks(out: string): string[][] {
  const result: string[][] = [];
  for (const line of out.trimEnd().split('\n').slice(1, -1)) {
    if (!line.startsWith(' ')) result.push([line]);
    else result.at(-1)?.push(line);
  }
  return result;
}

/** The stream resumed from seq 5 after its first run died beyond its spool (a disk failure): seqs 6-8 of run 1 superseded. */
function forked(): { service: string; records: TrailRecord[] } {
  const first = [...syntheticTrail({ start: START, streamId: DOCS, signingKey: keys.privateKey, checkpointIntervalMillis: 60_000, spacingMillis: 1000, runs: [{ events: 8, final: false }] })];
  const head = { streamId: DOCS, seq: 5, hash: first.find((r) => seqOf(r) === 5)!.attributes[ATTR.hash] as string };
  const resumedAt = START + 300_000;
  const checkpoint = ({ event, signature }: ReturnType<typeof checkpointEvent>): TrailRecord => ({
    body: event,
    attributes: { [ATTR.recordUid]: event.id, [ATTR.streamId]: DOCS, [ATTR.signature]: signature },
    resource: {},
    source: 'checkpoint',
  });
  const chain = new HashChain(head);
  const resumed = [checkpoint(startCheckpointEvent(head, 60_000, resumedAt, keys.privateKey))];
  for (let seq = 6; seq <= 9; seq++) {
    const body = { id: `00000000-0000-4000-8000-10000000000${seq}`, action: 'document.create', actor: { type: 'system' }, context: {}, timestamp: new Date(resumedAt + seq * 1000).toISOString(), details: { document: { id: `r${seq}`, name: 'resumed' } } };
    const link = chain.next(canonicalJson(body));
    resumed.push({ body, attributes: { [ATTR.recordUid]: body.id, [ATTR.streamId]: DOCS, [ATTR.seq]: seq, [ATTR.prevHash]: link.prevHash, [ATTR.hash]: link.hash }, resource: {}, source: 'resumed' });
  }
  resumed.push(checkpoint(checkpointEvent(chain.head, 60_000, true, resumedAt + 10_000, keys.privateKey)));
  return { service: 'docs-api', records: [...first, ...resumed] };
}

describe('otel-audit verify, as a person reads it', () => {
  const docs = stream('docs-api', { streamId: DOCS, runs: [{ events: 30 }, { events: 10 }] });
  const billing = stream('billing', { streamId: BILLING, runs: [{ events: 5 }] });
  const emit = emitted('e0000000-0000-4000-8000-000000000001');
  const admin = { service: 'otel-audit-admin', records: [destinationTest] };
  const clean = copy('clean.jsonl', [docs, billing, emit, admin]);

  it('a clean copy holding a test stream and a destination test record: streams named by their service, one verdict each', async () => {
    const result = await verify([clean, '--public-key', publicKey]);
    assert.equal(result.code, 0, result.out);
    assert.equal(
      result.out,
      `53 record(s) read from 1 file(s), 3 stream(s)
  note: 1 destination test record(s) (otel_audit.test) without integrity attributes, not part of any stream
docs-api (stream 053184b5…): 40 event(s), seq 1..40, checked seq 1-40, 4 checkpoint(s)
  complete and intact
billing (stream 9a1c2e3f…): 5 event(s), seq 1..5, checked seq 1-5, 2 checkpoint(s)
  complete and intact
otel-audit-emit (stream e0000000…): 1 event(s), seq 1..1, checked seq 1, 0 checkpoint(s)
  note: no checkpoint: nothing proves where the stream ends
  complete and intact
result: OK
`,
    );
  });

  it('--exclude-test leaves out what emit, doctor and the Test button sent: --require-signed holds on a real copy', async () => {
    const strict = await verify([clean, '--public-key', publicKey, '--require-signed']);
    assert.equal(strict.code, 1, 'the test stream has no signed checkpoint');
    assert.match(strict.out, /otel-audit-emit \(stream e0000000…\): 1 event\(s\), seq 1\.\.1, checked seq 1, 0 checkpoint\(s\)\n {2}no signed checkpoint: nothing proves where the stream ends\n {2}1 finding\(s\)\n/);
    const result = await verify([clean, '--public-key', publicKey, '--require-signed', '--exclude-test']);
    assert.equal(result.code, 0, result.out);
    assert.equal(
      result.out,
      `53 record(s) read from 1 file(s), 2 stream(s)
  2 record(s) left out (--exclude-test)
docs-api (stream 053184b5…): 40 event(s), seq 1..40, checked seq 1-40, 4 checkpoint(s)
  complete and intact
billing (stream 9a1c2e3f…): 5 event(s), seq 1..5, checked seq 1-5, 2 checkpoint(s)
  complete and intact
result: OK
`,
    );
  });

  it('--stream (an id or its first characters, repeatable) and --service (repeatable) select what is checked', async () => {
    const headers = async (args: string[]) => (await verify([clean, '--public-key', publicKey, ...args])).out.split('\n').filter((line) => / \(stream /.test(line) && !line.startsWith(' ')).map((line) => line.split(':')[0]);
    assert.deepEqual(await headers(['--stream', '0531']), ['docs-api (stream 053184b5…)']);
    assert.deepEqual(await headers(['--stream', DOCS, '--stream', '9a1c']), ['docs-api (stream 053184b5…)', 'billing (stream 9a1c2e3f…)']);
    assert.deepEqual(await headers(['--service', 'billing']), ['billing (stream 9a1c2e3f…)']);
    assert.deepEqual(await headers(['--service', 'billing', '--service', 'otel-audit-emit']), ['billing (stream 9a1c2e3f…)', 'otel-audit-emit (stream e0000000…)']);
    const none = await verify([clean, '--stream', 'ffff']);
    assert.equal(none.code, 0);
    assert.match(none.out, /^53 record\(s\) read from 1 file\(s\), 0 stream\(s\)\n {2}53 record\(s\) left out \(--stream\)\nresult: OK\n$/);
  });

  it('a damaged copy: every finding a sentence with its values, then the verdict', async () => {
    const events = docs.records.filter((r) => !isCheckpoint(r));
    const checkpoints = docs.records.filter(isCheckpoint);
    const bySeq = (seq: number) => events.find((r) => seqOf(r) === seq)!;
    const altered = { ...bySeq(12), body: { ...(bySeq(12).body as object), details: { document: { id: 'doc-12', name: 'edited' } } } };
    const forged = { ...checkpoints[1]!, attributes: { ...checkpoints[1]!.attributes, [ATTR.signature]: Buffer.alloc(64, 7).toString('base64') } };
    // The second run crashed: no final checkpoint. Seq 7 deleted, 12 edited, 15 sent twice, 21 stored after 26.
    const kept = docs.records.filter((r) => r !== checkpoints.at(-1) && seqOf(r) !== 7).map((r) => (r === bySeq(12) ? altered : r === checkpoints[1] ? forged : r));
    const records = [...kept.slice(0, 20), bySeq(15), kept[25]!, ...kept.slice(20, 25), ...kept.slice(26)];
    const path = copy('broken.jsonl', [{ service: 'docs-api', records }, { service: 'legacy', records: [{ body: { id: 'x' }, attributes: {}, resource: {}, source: 'x' }] }]);
    // A line cut short in the middle of the file, and one at its end.
    const [first, second] = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, `${first}\n{"resourceLogs": [\n${second}\n{"resourceLogs":[{"sco`);
    const result = await verify([path, '--public-key', publicKey, '--at', new Date(START + 7_200_000).toISOString()]);
    assert.equal(result.code, 1);
    assert.equal(
      result.out,
      `44 record(s) read from 1 file(s), 1 stream(s)
  1 record(s) carry no integrity attributes (not written by otel-audit, or stripped)
  damaged line in <dir>/broken.jsonl at offset 65835 (line 2): not JSON
  note: torn tail in <dir>/broken.jsonl at offset 66142 (line 4): the last 22 byte(s) are a write cut short (not JSON)
docs-api (stream 053184b5…): 39 event(s), seq 1..40, checked seq 1-40, 3 checkpoint(s)
  missing: 1 event(s): 7
  altered: seq 12 (<dir>/broken.jsonl:1#12): content does not match its hash
  checkpoint <uuid> (<dir>/broken.jsonl:1#32): signature does not verify
  silent from 2026-03-01T09:00:31.000Z to 2026-03-01T11:00:00.000Z (7169 s, longer than the checkpoint interval)
  note: identical copies (at-least-once delivery, not a problem): 15 (2 copies)
  note: stored out of sequence order (exports in flight and queue consumers reorder; the chain gives the order): seq 26 (<dir>/broken.jsonl:1#22), seq 21 (<dir>/broken.jsonl:1#23)
  4 finding(s)
result: PROBLEMS FOUND
`,
    );
    const capped = await verify([path, '--public-key', publicKey, '--max-listed', '0']);
    assert.match(capped.out, /\n {2}1 more damaged frame\(s\) or line\(s\) not listed \(--max-listed\)\n {2}note: 1 more torn tail\(s\) or line\(s\) that are no audit record, not listed \(--max-listed\)\n/);
    assert.match(capped.out, /\n {2}\d+ more finding\(s\) not listed \(--max-listed\)\n(?: {2}note: .*\n)* {2}\d+ finding\(s\)\nresult: PROBLEMS FOUND\n$/);
  });

  it('a resumed fork and a downtime are notes; records out of order alone still end in "complete and intact"', async () => {
    const result = await verify([copy('forked.jsonl', [forked()]), '--public-key', publicKey]);
    assert.equal(result.code, 0, result.out);
    assert.equal(
      result.out,
      `15 record(s) read from 1 file(s), 1 stream(s)
docs-api (stream 053184b5…): 9 event(s), seq 1..9, checked seq 1-9, 3 checkpoint(s)
  note: seq 6-8 superseded: a run sent them beyond what its spool kept, then died; the next run resumed from seq 5 (resume marker at <dir>/forked.jsonl:1#10)
  note: down from 2026-03-01T09:00:00.000Z to 2026-03-01T09:05:00.000Z (300 s): the process stopped without its final checkpoint, and the next run resumed from seq 5
  complete and intact
result: OK
`,
    );
    const reversed = copy('reversed.jsonl', [{ service: 'billing', records: [...billing.records].reverse() }]);
    const order = await verify([reversed, '--public-key', publicKey]);
    assert.equal(order.code, 0, order.out);
    assert.equal(
      order.out,
      `7 record(s) read from 1 file(s), 1 stream(s)
billing (stream 9a1c2e3f…): 5 event(s), seq 1..5, checked seq 1-5, 2 checkpoint(s)
  note: stored out of sequence order (exports in flight and queue consumers reorder; the chain gives the order): seq 5 (<dir>/reversed.jsonl:1#2), seq 4 (<dir>/reversed.jsonl:1#3), seq 3 (<dir>/reversed.jsonl:1#4), seq 2 (<dir>/reversed.jsonl:1#5), seq 1 (<dir>/reversed.jsonl:1#6)
  complete and intact
result: OK
`,
    );
  });

  it('--require-signed on a stream without checkpoints says so in a sentence', async () => {
    const bare = copy('bare.jsonl', [{ service: 'docs-api', records: docs.records.filter((r) => !isCheckpoint(r)).slice(0, 3) }]);
    const result = await verify([bare, '--public-key', publicKey, '--require-signed']);
    assert.equal(result.code, 1);
    assert.equal(
      result.out,
      `3 record(s) read from 1 file(s), 1 stream(s)
docs-api (stream 053184b5…): 3 event(s), seq 1..3, checked seq 1-3, 0 checkpoint(s)
  no signed checkpoint: nothing proves where the stream ends
  1 finding(s)
result: PROBLEMS FOUND
`,
    );
  });

  it('in every output: each stream ends with exactly one verdict line, and no line holds an empty or placeholder value', () => {
    assert.ok(outputs.length >= 10, `${outputs.length} outputs`);
    for (const out of outputs) {
      for (const block of blocks(out)) {
        const verdicts = block.filter((line) => /^ {2}(complete and intact|\d+ finding\(s\))$/.test(line));
        assert.equal(verdicts.length, 1, block.join('\n'));
        assert.equal(block.at(-1), verdicts[0], block.join('\n'));
      }
      assert.doesNotMatch(out, /\(\(|\(none\)|undefined|NaN|: :| : |\(\)/);
    }
  });

  it('a usage error is one line and where the help is', async () => {
    for (const args of [['--bogus'], [], ['x.jsonl', '--since', 'yesterday'], ['x.jsonl', '--require-signed']]) {
      const result = await verify(args);
      assert.equal(result.code, 2);
      const lines = result.err.trimEnd().split('\n');
      assert.equal(lines.length, 2, result.err);
      assert.match(lines[0]!, /^otel-audit verify: \S/);
      assert.equal(lines[1], 'see otel-audit verify --help');
    }
    outputs.splice(-4);
  });
});

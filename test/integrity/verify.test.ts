import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, type AuditError } from '../../src/index.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { startOtlpListener, type ReceivedRecord } from '../helpers/otlp-listener.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const keys = generateKeyPairSync('ed25519');
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const HMAC_SECRET = 'hmac-secret-that-must-never-be-printed';

const asTrail = (records: ReceivedRecord[]): TrailRecord[] =>
  records.map((r, i) => ({ body: r.body, attributes: r.attributes, resource: r.resource, source: `test:${i + 1}` }));
const seqOf = (r: TrailRecord) => r.attributes['audit.seq'] as number;
const isCheckpoint = (r: TrailRecord) => (r.body as { action: string }).action === 'audit.checkpoint';

/** A splunk-export NDJSON line per record: `{"result": {"_raw": <event JSON>, <fields>}}`. */
function splunkExport(records: TrailRecord[]): string {
  return records.map((r) => JSON.stringify({ preview: false, result: { _raw: JSON.stringify(r.body), ...r.attributes } })).join('\n');
}

function cli(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
}

describe('verify', () => {
  let trail: TrailRecord[];
  let errors: AuditError[];
  let listener: Awaited<ReturnType<typeof startOtlpListener>>;
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-verify-'));

  before(async () => {
    listener = await startOtlpListener();
    errors = [];
    const audit = createAuditLogger({
      catalog: gristCatalog,
      endpoint: listener.url,
      hmacKey: HMAC_SECRET,
      checkpoints: { intervalMillis: 100, signingKey: privatePem },
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 30; i++) {
      audit.logEvent('document.create', { details: { document: { id: `v${i}`, name: `Doc ${i}` } } });
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 120));
    }
    audit.logEvent('document.create', { details: { document: { id: 3 } } } as never); // an invalid one is chained too
    await audit.shutdown({ timeoutMillis: 10_000 });
    trail = asTrail(listener.records);
  });
  after(() => listener.close());

  const options = () => ({ publicKey: keys.publicKey, hmacKey: Buffer.from(HMAC_SECRET), now: Date.now() });

  it('finds a clean trail complete and intact', () => {
    const report = verifyTrail(trail, options());
    assert.equal(report.ok, true, JSON.stringify(report, null, 1));
    const [stream] = report.streams;
    assert.equal(stream!.events, 31);
    assert.equal(stream!.firstSeq, 1);
    assert.equal(stream!.lastSeq, 31);
    assert.ok(stream!.checkpoints >= 3, `${stream!.checkpoints} checkpoints`);
  });

  it('names exactly the deleted, altered, duplicated and reordered records, by sequence number', () => {
    const events = trail.filter((r) => !isCheckpoint(r));
    const bySeq = (seq: number) => events.find((r) => seqOf(r) === seq)!;
    const altered = { ...bySeq(10), body: structuredClone(bySeq(10).body) as { details: { document: { name: string } } } };
    altered.body.details.document.name = 'Doc 9 (edited)';
    const tampered = [
      ...events.filter((r) => seqOf(r) < 5),
      ...events.filter((r) => seqOf(r) > 5 && seqOf(r) < 10),
      altered,
      ...events.filter((r) => seqOf(r) > 10 && seqOf(r) <= 15),
      bySeq(15),
      ...events.filter((r) => seqOf(r) > 15 && seqOf(r) < 20),
      bySeq(21),
      bySeq(20),
      ...events.filter((r) => seqOf(r) > 21),
      ...trail.filter(isCheckpoint),
    ];
    const report = verifyTrail(tampered, options());
    assert.equal(report.ok, false);
    const [stream] = report.streams;
    assert.deepEqual(stream!.gaps, [{ from: 5, to: 5 }]);
    assert.deepEqual(stream!.tampered.map((t) => t.seq), [10]);
    assert.deepEqual(stream!.duplicates, [{ seq: 15, copies: 2 }]);
    assert.deepEqual(stream!.reordered.map((r) => r.seq).sort(), [20, 21]);
    assert.deepEqual(stream!.badCheckpoints, []);
  });

  it('reports a checkpoint whose signature does not verify, and any signed with another key', () => {
    const checkpoints = trail.filter(isCheckpoint);
    const forged = { ...checkpoints[0]!, attributes: { ...checkpoints[0]!.attributes, 'audit.checkpoint.signature': Buffer.alloc(64, 7).toString('base64') } };
    const report = verifyTrail([...trail.filter((r) => r !== checkpoints[0]), forged], options());
    assert.deepEqual(report.streams[0]!.badCheckpoints.map((c) => c.reason), ['signature does not verify']);
    const otherKey = generateKeyPairSync('ed25519').publicKey;
    assert.equal(verifyTrail(trail, { ...options(), publicKey: otherKey }).streams[0]!.badCheckpoints.length, checkpoints.length);
  });

  it('reports a stream that fell silent for longer than its checkpoint interval (no final checkpoint: a crash)', () => {
    const crashed = trail.filter((r) => !(isCheckpoint(r) && (r.body as { details: { final: boolean } }).details.final));
    assert.equal(crashed.length, trail.length - 1);
    const lastCheckpoint = Math.max(...crashed.filter(isCheckpoint).map((r) => Date.parse((r.body as { timestamp: string }).timestamp)));
    const report = verifyTrail(crashed, { ...options(), now: lastCheckpoint + 10_000 });
    assert.equal(report.streams[0]!.silences.length, 1);
    assert.equal(report.streams[0]!.silences[0]!.ms, 10_000);
  });

  it('without the HMAC key, no record verifies', () => {
    const report = verifyTrail(trail, { publicKey: keys.publicKey, now: Date.now() });
    assert.equal(report.streams[0]!.tampered.length, 31);
  });

  it('the CLI reports the same, with exit codes, and never prints keys or secrets', () => {
    const clean = join(dir, 'clean.ndjson');
    const broken = join(dir, 'broken.ndjson');
    const keyFile = join(dir, 'hmac.key');
    const publicKeyFile = join(dir, 'public.pem');
    writeFileSync(clean, splunkExport(trail));
    writeFileSync(broken, splunkExport(trail.filter((r) => seqOf(r) !== 7)));
    writeFileSync(keyFile, HMAC_SECRET);
    writeFileSync(publicKeyFile, publicPem);
    const ok = cli(['verify', clean, '--hmac-key-file', keyFile, '--public-key', publicKeyFile]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /complete and intact/);
    const bad = cli(['verify', broken, '--hmac-key-file', keyFile, '--public-key', publicKeyFile, '--json']);
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.out).streams[0].gaps, [{ from: 7, to: 7 }]);
    const wrongKey = cli(['verify', clean, '--public-key', publicKeyFile]);
    assert.equal(wrongKey.code, 1);
    for (const output of [ok.out, bad.out, wrongKey.out, JSON.stringify(listener.records), errors.map((e) => e.message).join('\n')]) {
      assert.ok(!output.includes(HMAC_SECRET), 'the HMAC secret is never printed or sent');
      assert.ok(!output.includes(privatePem.split('\n')[1]!), 'the signing key is never printed or sent');
    }
    assert.equal(cli(['verify', join(dir, 'missing.ndjson')]).code, 3);
    assert.equal(cli(['verify']).code, 2);
  });
});

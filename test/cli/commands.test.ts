// The otel-audit command, run as a process: emit, doctor, spool, docs, schema, help and exit codes
// (its collector build, which needs Go and the Collector's builder: test/e2e/collector-build.test.ts).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

describe('otel-audit', () => {
  it('prints help for itself and each command; a usage error exits 2 naming the mistake', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['gateway', 'verify', 'emit', 'doctor', 'spool', 'docs', 'schema', 'collector']) {
      assert.match(help.stdout, new RegExp(`\\n  ${command} `));
      const own = await cli([command, '--help']);
      assert.equal(own.code, 0);
      assert.match(own.stdout, new RegExp(`^otel-audit ${command}`));
    }
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    const badFlag = await cli(['emit', 'document.create', '--no-such-flag']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /no-such-flag/);
  });

  it('emit sends a catalog sample and waits for the acknowledgement; header and protocol flags apply', async () => {
    const listener = await startOtlpListener((_, records) => (records.length ? { status: 200 } : { status: 400 }));
    const sent = await cli(['emit', 'document.create', '--endpoint', listener.url, '--protocol', 'http/json', '--header', 'authorization=Bearer t0k']);
    await listener.close();
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^acknowledged: document\.create [0-9a-f-]{36}/);
    assert.deepEqual((listener.records[0]!.body as { details: unknown }).details, gristCatalog.actions['document.create'].sample);
    assert.equal(listener.requests[0]!.headers['authorization'], 'Bearer t0k');
    assert.equal(listener.requests[0]!.contentType, 'application/json');
  });

  it('emit and doctor mark their events as tests, with no secret-looking sample values', async () => {
    const listener = await startOtlpListener();
    const emitted = await cli(['emit', 'config.create', '--endpoint', listener.url]);
    const doctor = await cli(['doctor', '--endpoint', listener.url, '--action', 'config.update']);
    await listener.close();
    assert.equal(emitted.code, 0, emitted.stderr);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    const [fromEmit, fromDoctor] = listener.records;
    assert.equal(fromEmit!.resource['service.name'], 'otel-audit-emit');
    assert.equal(fromDoctor!.resource['service.name'], 'otel-audit-doctor');
    for (const record of [fromEmit!, fromDoctor!]) {
      assert.equal(record.resource['audit.test'], true);
      // The Grist config samples hold a Splunk HEC token; the test events carry a placeholder instead.
      const details = JSON.stringify((record.body as { details: unknown }).details);
      assert.doesNotMatch(details, /Splunk [0-9A-F-]{8}|B5A79AAD/);
      assert.match(details, /"token":"redacted-in-test-event"/);
      assert.match(details, /"url":"https:\/\/hec\.example\.com:8088/);
    }
  });

  it('emit refuses an unknown action or invalid details (2), and reports a dead endpoint (3)', async () => {
    assert.equal((await cli(['emit', 'document.explode'])).code, 2);
    const invalid = await cli(['emit', 'document.create', '--details', '{"document":{"id":1}}']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /details\.document\.id/);
    const down = await cli(['emit', 'document.create', '--endpoint', `http://127.0.0.1:${await freePort()}/v1/logs`, '--timeout', '1500']);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /not delivered/);
  });

  it('doctor walks reachability, TLS, auth and protocol, and the round trip; it names a refused token', async () => {
    const listener = await startOtlpListener((n, records) => {
      const request = listener.requests.at(-1);
      void request;
      return { status: 200, body: records.length ? undefined : '' };
    });
    const ok = await cli(['doctor', '--endpoint', listener.url]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /ok {3}reachable/);
    assert.match(ok.stdout, /ok {3}protocol and auth: http\/protobuf accepted/);
    assert.match(ok.stdout, /ok {3}round trip: test event config\.create/);
    await listener.close();

    const guarded = await startOtlpListener(() => ({ status: 401 }));
    const refused = await cli(['doctor', '--endpoint', guarded.url, '--header', 'authorization=Bearer wrong']);
    await guarded.close();
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /FAIL protocol and auth: HTTP 401: the collector wants authentication/);

    const nobody = await cli(['doctor', '--endpoint', `http://127.0.0.1:${await freePort()}/v1/logs`]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stdout, /FAIL reachable/);
  });

  it('spool inspects what is pending, replays it, and exports dead letters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-cli-spool-'));
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, spoolDir: dir, timeoutMillis: 200, checkpoints: false, onError: () => undefined });
    for (let i = 0; i < 12; i++) await audit.logEventOrThrow('document.create', { details: { document: { id: `s${i}`, name: 'spooled' } } });
    await audit.shutdown({ timeoutMillis: 200 }).catch(() => undefined);

    const inspect = await cli(['spool', dir, '--json']);
    assert.equal(inspect.code, 0);
    const [state] = JSON.parse(inspect.stdout) as { pending: number; head: { seq: number }; inUse: boolean }[];
    assert.equal(state!.pending, 12);
    assert.equal(state!.head.seq, 12);
    assert.equal(state!.inUse, false);

    const listener = await startOtlpListener();
    const replay = await cli(['spool', dir, '--replay', '--endpoint', listener.url]);
    await listener.close();
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /slot-0000: replayed 12 record\(s\); acknowledged 12/);
    assert.equal(listener.records.length, 12);
    assert.equal(JSON.parse((await cli(['spool', dir, '--json'])).stdout)[0].pending, 0);
    assert.equal((await cli(['spool', dir, '--dead-letters'])).code, 0);
    assert.equal((await cli(['spool', join(dir, 'nope')])).code, 2);
  });

  it('verify speaks of unchecked signatures only when the checkpoints carry signatures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-cli-verify-'));
    const { privateKey } = generateKeyPairSync('ed25519');
    const outputs: string[] = [];
    for (const [name, checkpoints] of [['unsigned', {}], ['signed', { signingKey: privateKey }]] as const) {
      const listener = await startOtlpListener();
      const audit = createAuditLogger({ catalog: gristCatalog, endpoint: listener.url, checkpoints, onError: assert.fail });
      audit.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
      await audit.shutdown();
      await listener.close();
      // As exported from a Splunk search: one {"result": {"_raw": event, ...fields}} line per record.
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, listener.records.map((r) => JSON.stringify({ result: { _raw: JSON.stringify(r.body), ...r.attributes } })).join('\n'));
      const verified = await cli(['verify', file]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /[1-9] checkpoint\(s\)/);
      outputs.push(verified.stdout);
    }
    assert.doesNotMatch(outputs[0]!, /signature/);
    assert.match(outputs[1]!, /note: [1-9] checkpoint signature\(s\) not checked \(no --public-key\)/);
  });

  it('docs and schema print the generated references', async () => {
    const docs = await cli(['docs']);
    assert.equal(docs.code, 0);
    assert.equal(docs.stdout.match(/^## /gm)?.length, 40);
    const schema = await cli(['schema']);
    assert.equal(Object.keys(JSON.parse(schema.stdout).$defs).length, 40);
  });
});

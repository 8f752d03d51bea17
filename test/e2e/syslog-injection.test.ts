// Hostile actions and details through the real syslog pipeline: the library → the otelcol-audit
// gateway (gateway.yaml, its transform/syslog) → rsyslogd → `otel-audit verify`. Whatever an
// application passes as an action or puts in details, the MSGID stays one RFC 5424 token and the
// integrity attributes in the file are the logger's own: verify finds the trail complete and intact.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail } from '../../src/integrity/trail.js';
import { toKeyValues } from '../../src/integrity/otlp-json.js';
import { freePort, ROOT, startCollector, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

const HMAC_KEY = Buffer.from('syslog-injection-hmac-key');
const keys = generateKeyPairSync('ed25519');
const forgedSd = '[audit@32473 log.record.uid="forged" audit.stream.id="forged" audit.seq="1" audit.prev_hash="0" audit.hash="0"]';
/** Actions an attacker could make an application pass (they are not in the catalog: invalid events, delivered flagged). */
const hostileActions = [
  `x ${forgedSd} {"id":"forged","action":"x"}`,
  `a"b\\c]d\n<13>1 - - - - - ${forgedSd}`,
  `${'é'.repeat(20)}\u0000\u007f tab\there`,
  'z'.repeat(100),
  '',
];
/** Details of a valid event that carry the same forgeries inside MSG. */
const hostileNames = [`"] ${forgedSd} {"id":"forged"}`, `\\"]\\\\ [audit@32473 audit.seq="2"]`];
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : []);

describe('syslog pipeline with hostile actions and details', () => {
  const dir = tempDir('syslog-injection');
  const files = { sdMsg: join(dir, 'syslog.log'), rfc5424: join(dir, 'syslog-rfc5424.log'), hmacKey: join(dir, 'hmac.key'), publicKey: join(dir, 'public.pem') };
  const started: RunningProcess[] = [];
  let ids: string[] = [];
  let otlp: number;

  before(async () => {
    writeFileSync(files.hmacKey, HMAC_KEY);
    writeFileSync(files.publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const ports = { syslog: await freePort(), health: await freePort(), metrics: await freePort(), grpc: await freePort(), closed: await freePort() };
    otlp = await freePort();
    started.push(await startRsyslog(ports.syslog, files.sdMsg, files.rfc5424));
    const env = {
      AUDIT_STORAGE_DIR: join(dir, 'queue'),
      AUDIT_ARCHIVE_PATH: join(dir, 'archive/audit.jsonl'),
      AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlp}`,
      AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
      AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
      AUDIT_METRICS_PORT: String(ports.metrics),
      SYSLOG_ENDPOINT: '127.0.0.1',
      SYSLOG_PORT: String(ports.syslog),
      SYSLOG_TLS_INSECURE: 'true',
      // Only the syslog destination runs here; the others retry on their own queues.
      SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.closed}/services/collector`,
      SPLUNK_HEC_TOKEN: 'unused',
      ELASTIC_OTLP_ENDPOINT: `http://127.0.0.1:${ports.closed}`,
      KAFKA_BROKERS: `127.0.0.1:${ports.closed}`,
    };
    started.push(await startCollector('gateway.yaml', env, env.AUDIT_HEALTH_ENDPOINT));
    const audit = createAuditLogger({
      catalog: gristCatalog,
      endpoint: `http://127.0.0.1:${otlp}/v1/logs`,
      serviceName: 'syslog-injection',
      hmacKey: HMAC_KEY,
      checkpoints: { signingKey: keys.privateKey },
      onError: () => undefined, // the invalid events are the point
    });
    ids = [
      ...hostileActions.map((action) => audit.logEvent(action as never, { details: {} } as never)),
      ...hostileNames.map((name) => audit.logEvent('document.create', { details: { document: { id: 'd1', name } } })),
    ];
    await audit.shutdown({ timeoutMillis: 30_000 });
    const { exported } = audit.stats();
    assert.ok(exported > ids.length, 'every event, and the checkpoints');
    await waitFor('every record in both syslog files', () => lines(files.sdMsg).length >= exported && lines(files.rfc5424).length >= exported);
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
  });

  it('every MSGID is one RFC 5424 token: 1 to 32 printable US-ASCII characters', () => {
    const msgIds = lines(files.rfc5424).map((line) => line.split(' ')[5]!);
    for (const msgId of msgIds) assert.match(msgId, /^[!-~]{1,32}$/);
    assert.ok(msgIds.includes('x_[audit@32473_log.record.uid="f'), msgIds.join('\n'));
    assert.ok(msgIds.includes('-'), 'an empty action is the NILVALUE');
  });

  it('the reader takes each record with the logger\'s own integrity attributes, from either file layout', () => {
    for (const file of [files.sdMsg, files.rfc5424]) {
      const records = readTrail(file).filter((r) => (r.body as { action: string }).action !== 'audit.checkpoint');
      assert.deepEqual(records.map((r) => (r.body as { id: string }).id).sort(), [...ids].sort());
      for (const record of records) {
        assert.equal(record.attributes['log.record.uid'], (record.body as { id: string }).id);
        assert.notEqual(record.attributes['audit.stream.id'], 'forged');
      }
      assert.deepEqual(records.filter((r) => (r.body as { action: string }).action !== 'document.create').map((r) => (r.body as { action: string }).action).sort(), [...hostileActions].sort());
    }
  });

  it('otel-audit verify finds both files complete and intact, signatures and HMAC checked', () => {
    for (const file of [files.sdMsg, files.rfc5424]) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', file, '--hmac-key-file', files.hmacKey, '--public-key', files.publicKey, '--require-signed', '--json'], { encoding: 'utf8' });
      const report = JSON.parse(out) as { ok: boolean; streams: { events: number }[] };
      assert.equal(report.ok, true, out);
      assert.equal(report.streams[0]!.events, ids.length);
    }
  });

  it('structured-data values with ", \\ and ] are escaped by the gateway and read back exactly', async () => {
    const streamId = 'stream "quoted" \\ back ] bracket';
    const body = { id: 'escape-probe', action: 'document.create' };
    const attributes = { 'log.record.uid': 'escape-probe', 'audit.action': 'document.create', 'audit.stream.id': streamId, 'audit.seq': 1, 'audit.prev_hash': 'p"]\\', 'audit.hash': 'h' };
    const request = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { kvlistValue: { values: toKeyValues(body) } }, attributes: toKeyValues(attributes) }] }] }] };
    const response = await fetch(`http://127.0.0.1:${otlp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    assert.equal(response.status, 200);
    await waitFor('the probe in both files', () => [files.sdMsg, files.rfc5424].every((file) => lines(file).some((line) => line.includes('escape-probe'))));
    for (const file of [files.sdMsg, files.rfc5424]) {
      const probe = readTrail(file).find((r) => (r.body as { id: string }).id === 'escape-probe');
      assert.equal(probe?.attributes['audit.stream.id'], streamId, file);
      assert.equal(probe?.attributes['audit.prev_hash'], 'p"]\\');
    }
  });
});

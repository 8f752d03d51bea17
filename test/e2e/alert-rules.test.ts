// The shipped alert rules (collector-config/alerts/) load as Prometheus loads them, and every metric
// they select is one a running gateway exports; `otel-audit doctor --gateway-metrics` reads the same
// metrics and names the refusing destination. The gateway runs local.yaml in front of a Splunk HEC
// stand-in that refuses (403), rejects one record (400, "Invalid data format") and, with a queue
// made small for the test, overflows: every metric the rules use then exists. (A destination that
// refuses everything never reaches a poisoned record, so the stand-in refuses only once it has
// rejected the poisoned record alone.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { freePort, ROOT, startCollector, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';

const RULES = join(ROOT, 'collector-config/alerts/otel-audit.rules.yaml');

function rulescheck(file: string) {
  return spawnSync('go', ['run', '.', file], { cwd: join(ROOT, 'collector/rulescheck'), encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOSUMDB: 'off' } });
}

describe('alert rules and doctor --gateway-metrics', () => {
  const dir = tempDir('alerts');
  let gateway: RunningProcess;
  let hec: Server;
  let metricsUrl = '';
  let endpoint = '';
  let metricsText = '';

  before(async () => {
    const ports = { otlp: await freePort(), health: await freePort(), metrics: await freePort(), hec: await freePort() };
    let isolated = false;
    hec = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString();
        res.setHeader('content-type', 'application/json');
        if (text.includes('POISON')) {
          isolated ||= text.split('"event":').length === 2;
          res.writeHead(400).end('{"text":"Invalid data format","code":6}');
        } else if (isolated) res.writeHead(403).end('{"text":"Invalid token","code":4}');
        else res.writeHead(200).end('{"text":"Success","code":0}');
      });
    });
    await new Promise<void>((resolve) => hec.listen(ports.hec, '127.0.0.1', resolve));
    const overlay = join(dir, 'small-queue.yaml');
    writeFileSync(overlay, stringify({ exporters: { 'lossless/splunk': { sending_queue: { queue_size: 40, batch: { min_size: 10, max_size: 20 } } } } }));
    gateway = await startCollector(
      ['local.yaml', overlay],
      {
        AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
        AUDIT_METRICS_PORT: String(ports.metrics),
        AUDIT_STORAGE_DIR: join(dir, 'queue'),
        AUDIT_ARCHIVE_PATH: join(dir, 'archive.jsonl'),
        SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
        SPLUNK_HEC_TOKEN: 'rotated-token',
      },
      `127.0.0.1:${ports.health}`,
      'local.yaml',
    );
    metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
    endpoint = `http://127.0.0.1:${ports.otlp}/v1/logs`;
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`, checkpoints: false, maxBatchRecords: 10, retry: { initialDelayMillis: 100, maxDelayMillis: 500 }, onError: () => undefined });
    const details = gristCatalog.actions['document.create'].sample;
    audit.logEvent('document.create', { context: { session_id: 'POISON' }, details });
    for (let i = 0; i < 100; i++) audit.logEvent('document.create', { details });
    await waitFor(
      'the refusal, the dead letter and the full queue in the metrics',
      async () => {
        metricsText = await (await fetch(metricsUrl)).text();
        return /otelcol_lossless_refusing\{[^}]*lossless\/splunk[^}]*\} 1/.test(metricsText) && /otelcol_lossless_dead_lettered_log_records_total\{[^}]*\} [1-9]/.test(metricsText) && /otelcol_exporter_enqueue_failed_log_records_total\{[^}]*lossless\/splunk[^}]*\} [1-9]/.test(metricsText);
      },
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${metricsText.split('\n').filter((line) => /lossless|enqueue_failed/.test(line) && !line.startsWith('#')).join('\n')}\n${gateway.output().slice(-3000)}`);
    });
    await audit.shutdown({ timeoutMillis: 100 });
  });

  after(async () => {
    await gateway?.stop();
    await new Promise((resolve) => hec?.close(resolve));
  });

  it('load as Prometheus loads them (rulefmt and the PromQL parser), and a broken rule is refused', () => {
    const run = rulescheck(RULES);
    assert.equal(run.status, 0, run.stderr);
    const broken = join(dir, 'broken.rules.yaml');
    writeFileSync(broken, 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: max by (exporter (otelcol_lossless_refusing)\n');
    const refused = rulescheck(broken);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /parse error/);
  });

  it('select only metrics a gateway exports', () => {
    const names = rulescheck(RULES).stdout.split('\n').filter(Boolean);
    assert.ok(names.length >= 6, names.join(', '));
    // `up` is Prometheus' own series of every scrape target.
    for (const name of names.filter((n) => n !== 'up')) assert.match(metricsText, new RegExp(`^${name}\\{`, 'm'), `${name} is not among the gateway's metrics`);
  });

  it('doctor --gateway-metrics names the refusing destination, since when, what waits, and the dead letters', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'doctor', '--endpoint', endpoint, '--gateway-metrics', metricsUrl, '--timeout', '3000'], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    const splunk = run.stdout.split('\n').find((line) => line.includes('lossless/splunk:')) ?? '';
    assert.match(splunk, /^FAIL lossless\/splunk: refusing exports since \d{4}-\d\d-\d\dT[^;]+; 1 record\(s\) refused for good[^;]*; its queue was full \d+ time\(s\)[^;]*; \d+ event\(s\) wait in its queue of 40$/);
    assert.match(run.stdout, /^ok {3}lossless\/archive: delivering, \d+ sent/m);
  });
});

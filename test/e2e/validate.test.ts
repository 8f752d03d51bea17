// Every configuration we ship must load: `otelcol-audit validate` on each, with the environment
// a deployment would give it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { COLLECTOR, ROOT } from '../helpers/processes.js';
import { parseDestination } from '../../src/admin/destinations.js';
import { formatNames, loadFormats, renderCollectorConfig } from '../../src/admin/render.js';

const configRoot = join(ROOT, 'collector-config');

/** Folders of configs that only load merged with gateway.yaml: validated below, as they are used. */
const OVERLAYS = new Set(['formats', 'siem-formats']);
/** Files that only load merged with gateway.yaml: validated below, as the Admin Panel of a shard merges them. */
const OVERLAY_FILES = new Set(['topologies/gateway-pool-kafka/shard.yaml']);
/** Folders of YAML that is not a Collector config: Prometheus rules (test/e2e/alert-rules.test.ts checks them). */
const NOT_COLLECTOR = new Set(['alerts']);

function configs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'lock' || OVERLAYS.has(name) || NOT_COLLECTOR.has(name) ? [] : configs(path);
    return name.endsWith('.yaml') && name !== 'manifest.yaml' && !OVERLAY_FILES.has(relative(configRoot, path)) ? [path] : [];
  });
}

/** Each SIEM format fragment and the example that uses it with gateway.yaml. */
const SIEM_EXAMPLES = { ocsf: 'ocsf-hec', ecs: 'ecs-elasticsearch', cim: 'cim-splunk', cef: 'cef-syslog' } as const;

const deploymentEnv = {
  PATH: process.env['PATH'] ?? '',
  AUDIT_STORAGE_DIR: '/tmp/otel-audit-validate/queue',
  AUDIT_ARCHIVE_PATH: '/tmp/otel-audit-validate/archive/audit.jsonl',
  SPLUNK_HEC_ENDPOINT: 'https://splunk.example.com:8088/services/collector',
  SPLUNK_HEC_TOKEN: 'validate-hec-token',
  SECURITY_HEC_ENDPOINT: 'https://siem.example.com:8088/services/collector',
  SECURITY_HEC_TOKEN: 'validate-security-token',
  HEC_RECEIVER_OUTPUT: '/tmp/otel-audit-validate/hec.jsonl',
  OTLP_RECEIVER_OUTPUT: '/tmp/otel-audit-validate/otlp.jsonl',
  OCSF_HEC_ENDPOINT: 'https://lake.example.com:8088/services/collector',
  OCSF_HEC_TOKEN: 'validate-ocsf-token',
  REDACTION_KEY: 'validate-key',
  DATA_LAKE_PATH: '/tmp/otel-audit-validate/lake.jsonl',
};

describe('shipped Collector configurations', () => {
  const all = configs(configRoot);
  it('include the gateway, the local demo config and the examples', () => {
    const names = all.map((path) => relative(configRoot, path));
    for (const expected of [
      'gateway.yaml',
      'local.yaml',
      'examples/hec-receiver/config.yaml',
      'examples/otlp-receiver/config.yaml',
      'examples/routing-by-action/config.yaml',
      'examples/redaction-data-lake/config.yaml',
      'topologies/gateway-pool-kafka/gateway.yaml',
      'topologies/gateway-pool-kafka/consumer.yaml',
    ]) {
      assert.ok(names.includes(expected), `${expected} is shipped`);
    }
  });

  it('every listener defaults to loopback: a wildcard address only where a variable sets it', () => {
    const everyConfig = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) return name === 'lock' ? [] : everyConfig(path);
        return /\.(yaml|cfg)$/.test(name) ? [path] : [];
      });
    const wildcard = /(^|[\s:"'-])(0\.0\.0\.0|\[::\]|\*):\d+/;
    const found = everyConfig(configRoot).flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .map((line, n) => ({ line: line.replace(/#.*$/, ''), at: `${relative(configRoot, path)}:${n + 1}` }))
        .filter(({ line }) => wildcard.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    assert.deepEqual(found, []);
  });

  for (const config of all) {
    it(`${relative(configRoot, config)} passes otelcol-audit validate`, () => {
      execFileSync(COLLECTOR, ['validate', '--config', config], { env: deploymentEnv, stdio: 'pipe' });
    });
  }

  it('gateway.yaml also validates with bearer-token auth and TLS switched on by environment', () => {
    execFileSync(COLLECTOR, ['validate', '--config', join(configRoot, 'gateway.yaml')], {
      env: {
        ...deploymentEnv,
        AUDIT_OTLP_BEARER_AUTH: 'true',
        AUDIT_OTLP_TLS_CERT_FILE: '/etc/otel/tls.crt',
        AUDIT_OTLP_TLS_KEY_FILE: '/etc/otel/tls.key',
        SYSLOG_TLS_INSECURE: 'true',
      },
      stdio: 'pipe',
    });
  });

  it('gateway.yaml + topologies/gateway-pool-kafka/shard.yaml (a shard of sites) passes otelcol-audit validate, its archive pipeline reading the topic', () => {
    const files = ['gateway.yaml', 'topologies/gateway-pool-kafka/shard.yaml'];
    execFileSync(COLLECTOR, ['validate', ...files.flatMap((file) => ['--config', join(configRoot, file)])], { env: deploymentEnv, stdio: 'pipe' });
  });

  it('gateway.yaml switches each destination off by its variable, needing none of its settings; only off is a switch value', () => {
    const validate = (env: Record<string, string>) => execFileSync(COLLECTOR, ['validate', '--config', join(configRoot, 'gateway.yaml')], { env: { PATH: deploymentEnv.PATH, AUDIT_STORAGE_DIR: deploymentEnv.AUDIT_STORAGE_DIR, ...env }, stdio: 'pipe' });
    // Splunk is the one destination with settings that have no default: off, it needs neither.
    assert.throws(() => validate({}), /lossless\/splunk: exporter::splunk_hec: requires a non-empty "endpoint"/);
    validate({ AUDIT_SPLUNK: 'off' });
    for (const kept of ['SPLUNK', 'ARCHIVE', 'SYSLOG', 'ELASTIC', 'KAFKA']) {
      const off = Object.fromEntries(['SPLUNK', 'ARCHIVE', 'SYSLOG', 'ELASTIC', 'KAFKA'].filter((name) => name !== kept).map((name) => [`AUDIT_${name}`, 'off']));
      validate({ ...off, ...(kept === 'SPLUNK' ? { SPLUNK_HEC_ENDPOINT: deploymentEnv.SPLUNK_HEC_ENDPOINT, SPLUNK_HEC_TOKEN: deploymentEnv.SPLUNK_HEC_TOKEN } : {}) });
    }
    assert.throws(() => validate({ AUDIT_SPLUNK: 'off', AUDIT_KAFKA: 'on' }), /logs\/kafka: references exporter "lossless\/on" which is not configured/);
  });

  for (const gateway of ['gateway.yaml', 'topologies/gateway-pool-kafka/gateway.yaml']) {
    it(`${gateway} validates with TLS alone, with bearer auth and TLS, and with bearer auth in clear text only under the insecure flag`, () => {
      const validate = (env: Record<string, string>) => execFileSync(COLLECTOR, ['validate', '--config', join(configRoot, gateway)], { env: { ...deploymentEnv, ...env }, stdio: 'pipe' });
      const certificate = { AUDIT_OTLP_TLS_CERT_FILE: '/etc/otel/tls.crt', AUDIT_OTLP_TLS_KEY_FILE: '/etc/otel/tls.key' };
      validate({ AUDIT_OTLP_TLS: 'true', ...certificate });
      validate({ AUDIT_OTLP_BEARER_AUTH: 'true', ...certificate });
      validate({ AUDIT_OTLP_BEARER_AUTH: 'true', AUDIT_OTLP_TLS: 'false' });
      assert.throws(() => validate({ AUDIT_OTLP_BEARER_AUTH: 'true' }), /TLS configuration must include both certificate and key/);
    });
  }

  it('topologies/gateway-pool-kafka/haproxy.cfg passes haproxy -c', () => {
    execFileSync('haproxy', ['-c', '-q', '-f', join(configRoot, 'topologies/gateway-pool-kafka/haproxy.cfg')], {
      env: { PATH: deploymentEnv.PATH, LB_BIND: '0.0.0.0:4318', GATEWAY_1: '10.0.0.11:4318', GATEWAY_2: '10.0.0.12:4318', GATEWAY_1_HEALTH_PORT: '13133', GATEWAY_2_HEALTH_PORT: '13133' },
      stdio: 'pipe',
    });
  });

  for (const [format, example] of Object.entries(SIEM_EXAMPLES)) {
    it(`gateway.yaml + formats/${format}.yaml + examples/siem-formats/${example}.yaml pass otelcol-audit validate`, () => {
      const files = ['gateway.yaml', `formats/${format}.yaml`, `examples/siem-formats/${example}.yaml`];
      execFileSync(COLLECTOR, ['validate', ...files.flatMap((file) => ['--config', join(configRoot, file)])], { env: deploymentEnv, stdio: 'pipe' });
    });

    it(`formats/${format}.yaml holds only a processors map, every name ending in /${format}`, () => {
      const lines = readFileSync(join(configRoot, 'formats', `${format}.yaml`), 'utf8').split('\n');
      const topLevel = lines.filter((line) => /^[^\s#]/.test(line));
      assert.deepEqual(topLevel, ['processors:']);
      const names = lines.filter((line) => /^ {2}[^\s#]/.test(line)).map((line) => line.trim().replace(/:$/, ''));
      assert.ok(names.length > 0);
      for (const name of names) assert.ok(name.endsWith(`/${format}`), name);
    });
  }

  it('all four fragments load together (their processor names do not clash)', () => {
    const files = ['gateway.yaml', ...Object.keys(SIEM_EXAMPLES).map((f) => `formats/${f}.yaml`), ...Object.values(SIEM_EXAMPLES).map((e) => `examples/siem-formats/${e}.yaml`)];
    execFileSync(COLLECTOR, ['validate', ...files.flatMap((file) => ['--config', join(configRoot, file)])], { env: deploymentEnv, stdio: 'pipe' });
  });

  it('the Admin Panel renders a valid config from gateway.yaml for every destination type, PII policy and format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-validate-admin-'));
    const formats = loadFormats(join(configRoot, 'formats'));
    const samples = [
      { type: 'splunk_hec', url: 'https://splunk.example.com:8088/services/collector', token: 't', pii: 'hash', filter: { include: ['user.*', '*.change_access'], exclude: ['user.login'] } },
      { type: 'syslog', host: 'syslog.example.com', port: 6514, pii: 'drop' },
      { type: 'otlp_http', endpoint: 'https://siem.example.com/v1/logs', headers: { Authorization: 'Bearer x' }, paused: true },
      { type: 'kafka', brokers: ['kafka.example.com:9092'], topic: 'audit' },
      { type: 'elasticsearch', url: 'https://es.example.com:9200', apiKey: 'k', enabled: false },
    ];
    const names = formatNames(formats);
    const destinations = samples.flatMap((sample, i) =>
      names.map((format, j) => parseDestination({ id: `d${i}_${j}`, name: `d${i}_${j}`, format, ...sample }, { path: 'destination', formats: names, directPort: 20000 + i * 100 + j }).destination),
    );
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'validate-secret');
    const headers = join(dir, 'headers.yaml');
    writeFileSync(headers, 'Authorization: Bearer x\n');
    const config = join(dir, 'collector.yaml');
    writeFileSync(config, renderCollectorConfig({ base: readFileSync(join(configRoot, 'gateway.yaml'), 'utf8'), destinations, formats, secretFile: (_id, field) => (field === 'headers' ? headers : secret) }));
    execFileSync(COLLECTOR, ['validate', '--config', config], { env: deploymentEnv, stdio: 'pipe' });
  });

  it('validate rejects a broken configuration (the check can fail)', () => {
    assert.throws(() =>
      execFileSync(COLLECTOR, ['validate', '--config', 'yaml:exporters: {splunk_hec: {sending_queue: {no_such_key: 1}}}'], { env: deploymentEnv, stdio: 'pipe' }),
    );
  });
});

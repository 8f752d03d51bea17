// otel-audit gateway's command line: what it turns into gateway.yaml's environment, and the
// mistakes it refuses before anything starts (test/e2e/gateway-command.test.ts runs it for real).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { planGateway } from '../../src/cli/gateway.js';
import { pieces, random } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-gateway-plan-'));
const secret = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

describe('otel-audit gateway options', () => {
  it('turns the destinations named into gateway.yaml variables, secrets read from their files (a final newline dropped)', () => {
    const plan = planGateway({
      splunk: 'https://splunk.example.com:8088',
      'splunk-token-file': secret('hec', 'hec-0123\n'),
      archive: join(dir, 'archive'),
      syslog: 'logs.example.com:6514',
      'syslog-tls': true,
      elastic: 'https://elastic.example.com:443/',
      'elastic-api-key-file': secret('elastic', 'key==\r\n'),
      kafka: 'kafka.example.com:9092',
      'kafka-topic': 'audit.v1',
    });
    assert.deepEqual(plan.env, {
      SPLUNK_HEC_ENDPOINT: 'https://splunk.example.com:8088/services/collector',
      SPLUNK_HEC_TOKEN: 'hec-0123',
      AUDIT_ARCHIVE_PATH: join(dir, 'archive', 'audit.zst'),
      SYSLOG_ENDPOINT: 'logs.example.com',
      SYSLOG_PORT: '6514',
      SYSLOG_TLS_INSECURE: 'false',
      ELASTIC_OTLP_ENDPOINT: 'https://elastic.example.com',
      ELASTIC_API_KEY: 'key==',
      KAFKA_BROKERS: 'kafka.example.com:9092',
      KAFKA_TOPIC: 'audit.v1',
    });
    assert.deepEqual(plan.destinations.map((d) => d.name), ['splunk', 'archive', 'syslog', 'elastic', 'kafka']);
    assert.deepEqual(plan.ports, { http: 4318, grpc: 4317, metrics: undefined });
    // What is printed names where each destination is, never a secret.
    assert.ok(!JSON.stringify(plan.destinations).includes('hec-0123'));
    assert.ok(!JSON.stringify(plan.destinations).includes('key=='));
  });

  it('keeps a Splunk URL that has its path, plain TCP syslog by default, and the ports given', () => {
    const plan = planGateway({ splunk: 'http://127.0.0.1:8088/services/collector/event', 'splunk-token-file': secret('t', 't'), syslog: '127.0.0.1:514', port: '0', 'grpc-port': '14317', 'metrics-port': '18888' });
    assert.equal(plan.env['SPLUNK_HEC_ENDPOINT'], 'http://127.0.0.1:8088/services/collector/event');
    assert.equal(plan.env['SYSLOG_TLS_INSECURE'], 'true');
    assert.deepEqual(plan.ports, { http: 0, grpc: 14317, metrics: 18888 });
  });

  it('refuses, naming the option, before anything starts', () => {
    const token = secret('token', 'x');
    const cases: [Record<string, string | boolean>, RegExp][] = [
      [{}, /name at least one destination: --splunk, --archive, --syslog, --elastic or --kafka/],
      [{ splunk: 'https://s:8088' }, /--splunk needs --splunk-token-file/],
      [{ 'splunk-token-file': token, archive: dir }, /--splunk-token-file goes with --splunk/],
      [{ splunk: 'http://splunk.example.com:8088', 'splunk-token-file': token }, /--splunk: use https for splunk\.example\.com: its credentials would cross the network in clear text/],
      [{ splunk: 'https://user:pw@s:8088', 'splunk-token-file': token }, /--splunk: no credentials in the URL/],
      [{ splunk: 'splunk:8088', 'splunk-token-file': token }, /--splunk must be an http or https URL/],
      [{ splunk: 'https://s:8088', 'splunk-token-file': join(dir, 'missing') }, /--splunk-token-file: cannot read/],
      [{ splunk: 'https://s:8088', 'splunk-token-file': secret('empty', '\n') }, /--splunk-token-file: .* is empty/],
      [{ splunk: 'https://s:8088', 'splunk-token-file': secret('two', 'a\nb\n') }, /must hold one line/],
      [{ elastic: 'https://e:443' }, /--elastic needs --elastic-api-key-file/],
      [{ syslog: 'logs.example.com' }, /--syslog takes host:port, got "logs\.example\.com"/],
      [{ syslog: 'h:1', 'syslog-ca-file': token }, /--syslog-ca-file goes with --syslog-tls/],
      [{ kafka: 'a:9092,b:9092' }, /--kafka takes one bootstrap broker/],
      [{ kafka: 'k:9092', 'kafka-topic': 'bad topic' }, /--kafka-topic must be a Kafka topic name/],
      [{ archive: dir, port: '70000' }, /--port must be a port number from 0 to 65535, got "70000"/],
      [{ archive: dir, 'metrics-port': 'x' }, /--metrics-port must be a port number/],
    ];
    for (const [values, message] of cases) assert.throws(() => planGateway(values), (error: Error) => error instanceof UsageError && message.test(error.message), JSON.stringify(values));
  });

  it('any value of any option either plans a gateway or is a usage error: nothing else escapes', () => {
    const next = random(2611);
    const token = secret('fuzz', 'tok');
    const alphabet = ['h', '1', ':', '/', '.', '[', ']', '@', ',', ' ', '%', '?', '#', 'ä', '\u0000', 'http://', 'https://', '127.0.0.1', '::1', '65536', '-', ...pieces];
    const text = () => Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]!).join('');
    // Each option sometimes valid, sometimes mutated, sometimes random: both outcomes must happen.
    const valid: Record<string, string> = { splunk: 'https://s:8088', archive: dir, syslog: 'h:514', elastic: 'https://e:443', kafka: 'k:9092', 'kafka-topic': 'audit', port: '0', 'grpc-port': '4317', 'metrics-port': '8888', 'syslog-ca-file': token };
    const mutated = (good: string) => { const at = Math.floor(next() * (good.length + 1)); return good.slice(0, at) + text() + good.slice(at + Math.floor(next() * 3)); };
    const outcomes = { planned: 0, refused: 0 };
    for (let i = 0; i < 3000; i++) {
      const values: Record<string, string | boolean> = { 'splunk-token-file': token, 'elastic-api-key-file': token };
      for (const [option, good] of Object.entries(valid)) {
        const roll = next();
        if (roll < 0.3) values[option] = good;
        else if (roll < 0.4) values[option] = mutated(good);
        else if (roll < 0.45) values[option] = text();
      }
      if (next() < 0.3) values['syslog-tls'] = true;
      try {
        planGateway(values);
        outcomes.planned++;
      } catch (error) {
        assert.ok(error instanceof UsageError, `${JSON.stringify(values)}: ${String(error)}`);
        outcomes.refused++;
      }
    }
    assert.ok(outcomes.planned > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
  });

  it('says when a secret file can be read by other users, without refusing it', () => {
    const open = secret('open', 'tok');
    chmodSync(open, 0o644);
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
    try {
      assert.equal(planGateway({ splunk: 'https://s:8088', 'splunk-token-file': open }).env['SPLUNK_HEC_TOKEN'], 'tok');
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, [`otel-audit gateway: --splunk-token-file: ${open} can be read by other users (chmod 600 ${open})\n`]);
  });
});

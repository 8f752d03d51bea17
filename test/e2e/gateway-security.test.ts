// gateway.yaml is secure by default: loopback listeners; bearer auth switched on by one variable;
// bearer auth without TLS refused unless the explicit insecure flag says so. Real otelcol-audit
// processes, a real certificate (openssl), real HTTP and HTTPS requests.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gatewayEnv, gatewayPorts } from '../helpers/gateway.js';
import { COLLECTOR, CONFIG, freePort, startCollector, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

/** One OTLP/JSON log record: enough for the receiver to accept or refuse the request. */
const otlpBody = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'security test' } }] }] }] });

/** POSTs the record to an OTLP/HTTP endpoint and returns the status (HTTPS trusting `ca`). */
async function post(url: string, headers: Record<string, string> = {}, ca?: Buffer): Promise<number> {
  if (!url.startsWith('https:')) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: otlpBody });
    return response.status;
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ca }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(otlpBody);
  });
}

/** The same POST over HTTP/2 (TLS, ALPN h2): header values arrive exactly as sent. */
async function postHttp2(origin: string, headers: Record<string, string>, ca: Buffer): Promise<number> {
  const session = connect(origin, { ca });
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/v1/logs', 'content-type': 'application/json', ...headers });
      stream.once('response', (response) => resolve(Number(response[':status'])));
      stream.once('error', reject);
      stream.end(otlpBody);
    });
  } finally {
    session.close();
  }
}

/** A gateway.yaml environment on fresh ports; Elastic, Kafka and the rest need not run for these checks. */
async function securityEnv(dir: string, overrides: Record<string, string>) {
  const ports = await gatewayPorts();
  const closed = await freePort();
  return { ports, env: gatewayEnv(dir, ports, `127.0.0.1:${closed}`, overrides) };
}

describe('gateway.yaml security defaults', () => {
  const running: RunningProcess[] = [];
  after(async () => {
    for (const process of running.reverse()) await process.stop();
  });

  it('listens on loopback only (OTLP HTTP and gRPC, health check) when no endpoint is set', () => {
    // The Collector's own resolution of the config, with no AUDIT_* endpoint in the environment.
    const resolved = JSON.parse(
      execFileSync(COLLECTOR, ['print-config', '--format=json', '--config', CONFIG('gateway.yaml')], {
        env: { PATH: process.env['PATH'] ?? '', SPLUNK_HEC_ENDPOINT: 'https://splunk.example.com:8088/services/collector', SPLUNK_HEC_TOKEN: 'x' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { receivers: { otlp: { protocols: { http: { endpoint: string }; grpc: { endpoint: string } } } }; extensions: { health_check: { endpoint: string } } };
    assert.equal(resolved.receivers.otlp.protocols.http.endpoint, '127.0.0.1:4318');
    assert.equal(resolved.receivers.otlp.protocols.grpc.endpoint, '127.0.0.1:4317');
    assert.equal(resolved.extensions.health_check.endpoint, '127.0.0.1:13133');
  });

  it('refuses to start with bearer auth on and no TLS, naming what is missing', async () => {
    const dir = tempDir('security-refused');
    const { env } = await securityEnv(dir, { AUDIT_OTLP_BEARER_AUTH: 'true', AUDIT_INGEST_TOKEN_FILE: join(dir, 'token') });
    const child = spawn(COLLECTOR, ['--config', CONFIG('gateway.yaml')], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (exitCode) => (clearTimeout(timer), resolve(exitCode)));
    });
    assert.notEqual(code, 0, `the gateway must not run (${dir}):\n${output}`);
    assert.equal(child.signalCode, null, 'it exited by itself, not killed after running');
    assert.match(output, /tls: TLS configuration must include both certificate and key/);
    // `otelcol-audit validate` (what a deployment pipeline runs first) refuses it the same way.
    assert.throws(() => execFileSync(COLLECTOR, ['validate', '--config', CONFIG('gateway.yaml')], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'pipe' }), /TLS configuration must include both certificate and key/);
  });

  it('with the explicit insecure flag (AUDIT_OTLP_TLS=false) it runs bearer auth in clear text: no token, wrong token refused', async () => {
    const dir = tempDir('security-insecure');
    writeFileSync(join(dir, 'token'), 'insecure-flag-token', { mode: 0o600 });
    const { ports, env } = await securityEnv(dir, { AUDIT_OTLP_BEARER_AUTH: 'true', AUDIT_OTLP_TLS: 'false', AUDIT_INGEST_TOKEN_FILE: join(dir, 'token') });
    running.push(await startCollector('gateway.yaml', env, `127.0.0.1:${ports.health}`, 'gateway-insecure'));
    const url = `http://127.0.0.1:${ports.otlp}/v1/logs`;
    assert.equal(await post(url), 401);
    assert.equal(await post(url, { authorization: 'Bearer not-the-token' }), 401);
    assert.equal(await post(url, { authorization: 'Bearer insecure-flag-token' }), 200);
  });

  it('with bearer auth and a certificate: HTTPS with the token accepted, without it refused, clear text refused', async () => {
    const dir = tempDir('security-tls');
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'pipe' });
    writeFileSync(join(dir, 'token'), 'tls-token', { mode: 0o600 });
    // Only the switch, the token file and the certificate: TLS follows bearer auth by itself.
    const { ports, env } = await securityEnv(dir, { AUDIT_OTLP_BEARER_AUTH: 'true', AUDIT_INGEST_TOKEN_FILE: join(dir, 'token'), AUDIT_OTLP_TLS_CERT_FILE: cert, AUDIT_OTLP_TLS_KEY_FILE: key });
    running.push(await startCollector('gateway.yaml', env, `127.0.0.1:${ports.health}`, 'gateway-tls'));
    const ca = readFileSync(cert);
    const url = `https://127.0.0.1:${ports.otlp}/v1/logs`;
    assert.equal(await post(url, { authorization: 'Bearer tls-token' }, ca), 200);
    assert.equal(await post(url, {}, ca), 401);
    // HTTP/2 keeps a header value as sent: an empty bearer token must not pass (README: token file format).
    assert.equal(await postHttp2(`https://127.0.0.1:${ports.otlp}`, { authorization: 'Bearer ' }, ca), 401);
    assert.equal(await postHttp2(`https://127.0.0.1:${ports.otlp}`, { authorization: 'Bearer tls-token' }, ca), 200);
    // A clear-text request never reaches the receiver: the TLS listener answers it with 400.
    await waitFor('a clear-text answer', async () => (await post(`http://127.0.0.1:${ports.otlp}/v1/logs`, { authorization: 'Bearer tls-token' })) === 400, 5000);
  });
});

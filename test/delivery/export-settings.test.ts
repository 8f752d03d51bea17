// The audit stream has settings of its own: options and the OTEL_AUDIT_EXPORTER_OTLP_* variables
// decide where events go and what they carry; the application's generic OTEL_EXPORTER_OTLP_*
// variables (its APM vendor, with its API key) are ignored. Also on the wire: gzip, TLS with a
// private CA and a client certificate, the keep-alive connection.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditOptionsError, createAuditLogger, type AuditInfo } from '../../src/index.js';
import { decodeLogsRequest } from '../helpers/otlp-protobuf.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** Runs `fn` with these variables set (and every other OTEL_* variable unset), then restores the environment. */
async function withEnvironment<T>(variables: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}

/** Every generic OTLP exporter variable an application with an APM vendor may have set. */
function vendorEnvironment(vendorUrl: string): Record<string, string> {
  const base = vendorUrl.replace(/\/v1\/logs$/, '');
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: base,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: vendorUrl,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=vendor-secret-key,authorization=Bearer vendor-token',
    OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-api-key=vendor-secret-key',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1',
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'gzip',
  };
}

describe('the audit stream has settings of its own', () => {
  it('the generic OTEL_EXPORTER_OTLP_* variables are ignored: with an explicit endpoint, no vendor header reaches the audit gateway', async () => {
    const vendor = await startOtlpListener();
    const gateway = await startOtlpListener();
    await withEnvironment(vendorEnvironment(vendor.url), async () => {
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: gateway.url, onError: assert.fail });
      audit.logEvent('document.create', { details: details('explicit') });
      await audit.shutdown({ timeoutMillis: 5000 });
    });
    await Promise.all([vendor.close(), gateway.close()]);
    assert.equal(vendor.requests.length, 0, 'the vendor received nothing');
    assert.equal(gateway.records.length, 1);
    const [request] = gateway.requests;
    assert.equal(request!.headers['x-api-key'], undefined, "the vendor's API key did not travel");
    assert.equal(request!.headers['authorization'], undefined);
    assert.equal(request!.contentType, 'application/x-protobuf', 'the protocol is the audit default, not the vendor variable');
    assert.equal(request!.headers['content-encoding'], undefined);
  });

  it('OTEL_AUDIT_EXPORTER_OTLP_* decide where events go and what they carry, whatever the generic variables say', async () => {
    const vendor = await startOtlpListener();
    const gateway = await startOtlpListener();
    await withEnvironment(
      {
        ...vendorEnvironment(vendor.url),
        OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: gateway.url,
        OTEL_AUDIT_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20audit-token,x-tenant=acme',
        OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_AUDIT_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT: '5000',
      },
      async () => {
        const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, onError: assert.fail });
        audit.logEvent('document.create', { details: details('audit-env') });
        await audit.shutdown({ timeoutMillis: 5000 });
      },
    );
    await Promise.all([vendor.close(), gateway.close()]);
    assert.equal(vendor.requests.length, 0, 'the vendor received nothing');
    const [request] = gateway.requests;
    assert.equal(request!.headers['authorization'], 'Bearer audit-token');
    assert.equal(request!.headers['x-tenant'], 'acme');
    assert.equal(request!.headers['x-api-key'], undefined);
    assert.equal(request!.contentType, 'application/json');
    assert.equal(request!.headers['content-encoding'], 'gzip');
    assert.equal(gateway.records.length, 1);
  });

  it('options win over OTEL_AUDIT_EXPORTER_OTLP_*', async () => {
    const envGateway = await startOtlpListener();
    const optionGateway = await startOtlpListener();
    await withEnvironment({ OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: envGateway.url, OTEL_AUDIT_EXPORTER_OTLP_HEADERS: 'x-from=env' }, async () => {
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: optionGateway.url, headers: { 'x-from': 'option' }, onError: assert.fail });
      audit.logEvent('document.create', { details: details('option') });
      await audit.shutdown({ timeoutMillis: 5000 });
    });
    await Promise.all([envGateway.close(), optionGateway.close()]);
    assert.equal(envGateway.requests.length, 0);
    assert.equal(optionGateway.requests[0]!.headers['x-from'], 'option');
  });

  it('without any endpoint: http://localhost:4318/v1/logs, told once per logger as information (onInfo, never a process warning), never the vendor', async () => {
    const vendor = await startOtlpListener();
    const warnings: { code: string | undefined; message: string }[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push({ code: warning.code, message: warning.message });
    const infos: AuditInfo[] = [];
    process.on('warning', onWarning);
    try {
      await withEnvironment(vendorEnvironment(vendor.url), async () => {
        for (let i = 0; i < 2; i++) {
          const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, timeoutMillis: 200, onError: () => undefined, onInfo: (info) => infos.push(info) });
          audit.logEvent('document.create', { details: details(`default${i}`) });
          await tick(300);
          await audit.shutdown({ timeoutMillis: 100 });
        }
      });
      await tick(50); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
      await vendor.close();
    }
    assert.equal(vendor.requests.length, 0, 'the vendor received nothing');
    assert.deepEqual(warnings.filter((w) => w.code?.startsWith('OTEL_AUDIT')), [], 'information is no process warning');
    const notes = infos.filter((info) => info.reason === 'default_endpoint');
    assert.equal(notes.length, 2, JSON.stringify(infos));
    for (const note of notes) {
      assert.equal(note.level, 'info');
      assert.equal(note.reason === 'default_endpoint' && note.endpoint, 'http://localhost:4318/v1/logs');
      assert.match(note.message, /http:\/\/localhost:4318\/v1\/logs.*OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT/);
    }
  });

  it('a bad variable is refused at creation, naming the variable; a secret value is never printed', async () => {
    await withEnvironment({ OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT: 'soon' }, async () => {
      assert.throws(() => createAuditLogger({ catalog: gristCatalog }), (e: unknown) => e instanceof AuditOptionsError && /OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT must be/.test(e.message));
    });
    await withEnvironment({ OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: 'gateway:4318' }, async () => {
      assert.throws(() => createAuditLogger({ catalog: gristCatalog }), (e: unknown) => e instanceof AuditOptionsError && /OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/.test(e.message));
    });
    await withEnvironment({ OTEL_AUDIT_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%0Atop-secret' }, async () => {
      assert.throws(
        () => createAuditLogger({ catalog: gristCatalog }),
        (e: unknown) => e instanceof AuditOptionsError && /OTEL_AUDIT_EXPORTER_OTLP_HEADERS/.test(e.message) && !e.message.includes('top-secret'),
      );
    });
    await withEnvironment({ OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY: '/nonexistent/key.pem' }, async () => {
      assert.throws(() => createAuditLogger({ catalog: gristCatalog }), (e: unknown) => e instanceof AuditOptionsError && /OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY .*cannot be read/.test(e.message));
    });
  });
});

describe('on the wire', () => {
  it("compression: 'gzip' sends the request gzipped; a keep-alive connection carries the exports", async () => {
    const gateway = await startOtlpListener();
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: gateway.url, compression: 'gzip', maxBatchRecords: 1, onError: assert.fail });
    for (let i = 0; i < 5; i++) await audit.logEventOrThrow('document.create', { details: details(`gz${i}`) });
    assert.equal(gateway.connections, 1, 'one connection, kept open between exports');
    await audit.shutdown();
    await gateway.close();
    assert.equal(gateway.records.length, 5);
    assert.ok(gateway.requests.every((r) => r.headers['content-encoding'] === 'gzip'));
  });

  it('TLS: a private CA (certificateFile) and a client certificate (clientCertificateFile, clientKeyFile), also from OTEL_AUDIT_EXPORTER_OTLP_*', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    for (const [name, extension] of [['server', 'subjectAltName=IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      writeFileSync(join(dir, `${name}.ext`), `${extension}\n`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    }
    const read = (name: string) => readFileSync(join(dir, name));
    const received: { client: string | undefined; records: number }[] = [];
    const server = createHttpsServer({ key: read('server.key'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
        const records = decodeLogsRequest(body).resourceLogs.flatMap((rl) => (rl['scopeLogs'] as { logRecords: unknown[] }[]).flatMap((sl) => sl.logRecords)).length;
        const subject = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
        received.push({ client: Array.isArray(subject) ? subject.join(',') : subject, records });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
    try {
      const byOptions = createAuditLogger({
        catalog: gristCatalog,
        checkpoints: false,
        endpoint: url,
        certificateFile: join(dir, 'ca.pem'),
        clientCertificateFile: join(dir, 'client.pem'),
        clientKeyFile: join(dir, 'client.key'),
        onError: assert.fail,
      });
      await byOptions.logEventOrThrow('document.create', { details: details('tls-options') });
      await byOptions.shutdown();
      await withEnvironment(
        {
          OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: url,
          OTEL_AUDIT_EXPORTER_OTLP_CERTIFICATE: join(dir, 'ca.pem'),
          OTEL_AUDIT_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(dir, 'client.pem'),
          OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY: join(dir, 'client.key'),
        },
        async () => {
          const byEnvironment = createAuditLogger({ catalog: gristCatalog, checkpoints: false, onError: assert.fail });
          await byEnvironment.logEventOrThrow('document.create', { details: details('tls-env') });
          await byEnvironment.shutdown();
        },
      );
      // Without the CA, the certificate is not trusted: an outage (kept, retried), never an acknowledgement.
      const untrusted: string[] = [];
      const withoutCa = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: url, outage: { reportAfterMillis: 0 }, retry: { initialDelayMillis: 50, maxDelayMillis: 100 }, onError: (e) => untrusted.push(e.message) });
      withoutCa.logEvent('document.create', { details: details('tls-untrusted') });
      await tick(500);
      assert.equal(withoutCa.stats().exported, 0);
      await withoutCa.shutdown({ timeoutMillis: 100 });
      assert.match(untrusted.join('\n'), /collector_unreachable: .*(certificate|self-signed|issuer)/i);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    assert.deepEqual(received, [
      { client: 'client', records: 1 },
      { client: 'client', records: 1 },
    ]);
  });

  it('the exporter option: records decoded for any LogRecordExporter (the OpenTelemetry OTLP exporter here, reading the plain resource); its failures are retried', async () => {
    const gateway = await startOtlpListener();
    const otlp = new OTLPLogExporter({ url: gateway.url });
    let failures = 2;
    const seen: ReadableLogRecord[] = [];
    // Fails twice (an outage to the sender), then hands over to the real exporter.
    const exporter: LogRecordExporter = {
      export: (records, done) => {
        if (failures-- > 0) return done({ code: 1, error: new Error('not yet') });
        seen.push(...records);
        otlp.export(records, done);
      },
      forceFlush: () => otlp.forceFlush(),
      shutdown: () => otlp.shutdown(),
    };
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, serviceName: 'custom-exporter', exporter, retry: { initialDelayMillis: 20, maxDelayMillis: 50 }, onError: () => undefined });
    const id = await audit.logEventOrThrow('document.create', { details: details('custom') });
    await audit.shutdown();
    await gateway.close();
    assert.equal(audit.stats().retried, 2);
    assert.equal(seen[0]!.resource.attributes['service.name'], 'custom-exporter');
    assert.deepEqual(seen[0]!.resource.merge(null).attributes, seen[0]!.resource.attributes);
    assert.equal(gateway.records.length, 1);
    assert.equal(gateway.records[0]!.attributes['log.record.uid'], id);
    assert.equal(gateway.records[0]!.resource['service.name'], 'custom-exporter');
    assert.deepEqual((gateway.records[0]!.body as { details: unknown }).details, details('custom'));
  });
});

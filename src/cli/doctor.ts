import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { destinationMetrics } from '../gateway/metrics.js';
import { createAuditLogger } from '../logger.js';
import { readTrail } from '../integrity/trail.js';
import { EXIT, headersOf, type Command } from './args.js';
import { catalogHelp, catalogOption, loadCatalog } from './catalog-option.js';
import { endpointHelp, endpointOptions, millis, protocolOf, resolvedEndpoint } from './endpoint.js';
import { testDetails, testEventResource } from './test-event.js';

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new Promise<T>((_, reject) => {
    setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref();
  });
  return Promise.race([promise, timeout]);
}

async function reachable(url: URL, timeout: number): Promise<Check> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const started = Date.now();
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const socket = netConnect(port, url.hostname, () => (socket.destroy(), resolve()));
        socket.once('error', reject);
      }),
      timeout,
      'connect',
    );
    return { name: 'reachable', ok: true, detail: `${url.hostname}:${port} accepts connections (${Date.now() - started} ms)` };
  } catch (error) {
    return { name: 'reachable', ok: false, detail: `${url.hostname}:${port}: ${(error as Error).message}` };
  }
}

async function tls(url: URL, timeout: number): Promise<Check> {
  if (url.protocol !== 'https:') return { name: 'tls', ok: true, detail: 'plain HTTP (no TLS): use https:// beyond loopback' };
  try {
    const { authorized, error, cert } = await withTimeout(
      new Promise<{ authorized: boolean; error: Error | undefined; cert: PeerCertificate }>((resolve, reject) => {
        const socket = tlsConnect({ host: url.hostname, port: Number(url.port || 443), servername: url.hostname, rejectUnauthorized: false }, () => {
          resolve({ authorized: socket.authorized, error: socket.authorizationError, cert: socket.getPeerCertificate() });
          socket.destroy();
        });
        socket.once('error', reject);
      }),
      timeout,
      'TLS handshake',
    );
    const who = `${cert.subject?.CN ?? '?'} issued by ${cert.issuer?.CN ?? '?'}, valid until ${cert.valid_to}`;
    return authorized ? { name: 'tls', ok: true, detail: who } : { name: 'tls', ok: false, detail: `${who}: not trusted (${String(error)})` };
  } catch (error) {
    return { name: 'tls', ok: false, detail: (error as Error).message };
  }
}

/** An empty ExportLogsServiceRequest: tells apart accepted, auth refused, wrong path and wrong protocol. */
async function accepts(url: URL, protocol: string, headers: Record<string, string>, timeout: number): Promise<Check> {
  const json = protocol === 'http/json';
  const body = json ? '{}' : '';
  try {
    const status = await withTimeout(
      new Promise<number>((resolve, reject) => {
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = send(url, { method: 'POST', headers: { 'content-type': json ? 'application/json' : 'application/x-protobuf', ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end(body);
      }),
      timeout,
      'request',
    );
    const meaning: Record<number, string> = {
      401: 'the collector wants authentication: check the authorization header',
      403: 'the authorization header was refused',
      404: 'nothing at this path: the logs path is /v1/logs',
      415: `the collector does not accept ${protocol}`,
    };
    const ok = status >= 200 && status < 300;
    return { name: 'protocol and auth', ok, detail: ok ? `${protocol} accepted (HTTP ${status})${headers['authorization'] ? ', authorization accepted' : ''}` : `HTTP ${status}: ${meaning[status] ?? 'unexpected answer'}` };
  } catch (error) {
    return { name: 'protocol and auth', ok: false, detail: (error as Error).message };
  }
}

/**
 * What the gateway says of each destination, from its own metrics: refusing (since when, and what
 * waits), records dead-lettered, a full queue. One check per destination.
 */
export async function gatewayChecks(metricsUrl: string, timeout: number, now = Date.now()): Promise<Check[]> {
  let text: string;
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeout) });
    if (!response.ok) return [{ name: 'gateway metrics', ok: false, detail: `${metricsUrl} answered HTTP ${response.status}` }];
    text = await response.text();
  } catch (error) {
    return [{ name: 'gateway metrics', ok: false, detail: `${metricsUrl}: ${(error as Error).message}` }];
  }
  const destinations = destinationMetrics(text);
  if (destinations.length === 0) return [{ name: 'gateway metrics', ok: false, detail: `${metricsUrl} names no lossless destination: is this otelcol-audit's metrics endpoint?` }];
  return destinations.map((d) => {
    const problems: string[] = [];
    if (d.refusingSince !== undefined) {
      const minutes = Math.max(0, Math.round((now - d.refusingSince) / 60_000));
      problems.push(`refusing exports since ${new Date(d.refusingSince).toISOString()}, for ${minutes} min (the reason is in the gateway log: "Destination refuses the export")`);
    }
    if (d.deadLettered > 0) problems.push(`${d.deadLettered} record(s) refused for good, in its dead letters (otel-audit dead-letters)`);
    if (d.enqueueFailed > 0) problems.push(`its queue was full ${d.enqueueFailed} time(s) (clients were asked to retry)`);
    const waiting = `${d.queued} event(s) wait in its queue${d.capacity ? ` of ${d.capacity}` : ''}`;
    return { name: d.exporter, ok: problems.length === 0, detail: problems.length ? `${problems.join('; ')}; ${waiting}` : `delivering, ${d.sent} sent; ${waiting}` };
  });
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check an OTLP endpoint: reachability, TLS, auth, protocol, and a round trip',
  usage: `otel-audit doctor [options]

Checks, in order: the endpoint accepts connections; its TLS certificate is trusted (https); an empty
OTLP request is accepted with the given headers and protocol (telling apart refused auth, a wrong
path, a protocol it does not speak); a test event is acknowledged (service.name otel-audit-doctor and
audit.test=true on its resource; the catalog's sample with secret-looking values replaced); with
--expect-in, that the event landed in a destination's file (the HEC receiver's output, the archive);
with --gateway-metrics, what the gateway says of each destination: refusing since when, how many
events wait, records dead-lettered.

Options:
  --action <action>       the test event's action (default: the catalog's first)
  --expect-in <file>      wait for the test event in this file (any format verify reads)
  --gateway-metrics <url> the gateway's own metrics (gateway.yaml: http://127.0.0.1:8888/metrics)
${endpointHelp}
${catalogHelp}

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.`,
  options: { ...endpointOptions, ...catalogOption, action: { type: 'string' }, 'expect-in': { type: 'string' }, 'gateway-metrics': { type: 'string' } },
  async run(values) {
    const endpoint = resolvedEndpoint(values['endpoint'] as string | undefined);
    const url = new URL(endpoint);
    const timeout = millis(values['timeout'], '--timeout');
    const protocol = protocolOf(values['protocol']) ?? 'http/protobuf';
    const headers = headersOf(values['header'] as string[] | undefined) ?? {};
    const checks: Check[] = [];
    const print = (check: Check) => process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
    // The gateway's view first: it does not depend on this client's endpoint, headers or protocol.
    const metricsUrl = values['gateway-metrics'];
    let gatewayOk = true;
    if (typeof metricsUrl === 'string') {
      process.stdout.write(`gateway ${metricsUrl}\n`);
      const destinations = await gatewayChecks(metricsUrl, timeout);
      destinations.forEach(print);
      gatewayOk = destinations.every((check) => check.ok);
    }
    process.stdout.write(`endpoint ${endpoint}\n`);
    for (const step of [() => reachable(url, timeout), () => tls(url, timeout), () => accepts(url, protocol, headers, timeout)]) {
      const check = await step();
      checks.push(check);
      print(check);
      if (!check.ok) return EXIT.findings;
    }
    const catalog = await loadCatalog(String(values['catalog']));
    const action = String(values['action'] ?? Object.keys(catalog.actions)[0]);
    const definition = catalog.actions[action];
    if (!definition) {
      print({ name: 'round trip', ok: false, detail: `unknown action ${action}` });
      return EXIT.findings;
    }
    const audit = createAuditLogger({ catalog, ...testEventResource('doctor'), endpoint, protocol, headers, timeoutMillis: timeout, checkpoints: false, retry: { maxElapsedMillis: timeout }, onError: () => undefined });
    let id: string;
    try {
      id = await audit.logEventOrThrow(action as never, { actor: { type: 'system' }, details: testDetails(definition.sample) as never });
      print({ name: 'round trip', ok: true, detail: `test event ${action} ${id} acknowledged` });
    } catch (error) {
      print({ name: 'round trip', ok: false, detail: (error as Error).message });
      return EXIT.findings;
    } finally {
      await audit.shutdown({ timeoutMillis: 1000 }).catch(() => undefined);
    }
    const file = values['expect-in'];
    if (typeof file === 'string') {
      const deadline = Date.now() + timeout;
      let landed = false;
      while (!landed && Date.now() < deadline) {
        landed = existsSync(file) && readTrail(file).some((r) => (r.body as { id?: string } | null)?.id === id);
        if (!landed) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      print({ name: 'landed', ok: landed, detail: landed ? `found in ${file}` : `not in ${file} after ${timeout} ms` });
      if (!landed) return EXIT.findings;
    }
    return gatewayOk ? EXIT.ok : EXIT.findings;
  },
};

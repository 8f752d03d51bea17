// A small in-test OTLP/HTTP endpoint for unit tests of wire details (what the exporter encodes,
// status codes, Retry-After). Pipelines are proven against the real Collector in test/e2e.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from '../../src/integrity/otlp-json.js';
import { decodeLogsRequest } from './otlp-protobuf.js';

export interface ReceivedRecord {
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string };
  eventName?: string;
  body: unknown;
  attributes: Record<string, unknown>;
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber?: number;
  severityText?: string;
  traceId?: string;
  spanId?: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  status: number;
  records: number;
}

type Json = Record<string, unknown>;

function flatten(request: { resourceLogs?: Json[] }): ReceivedRecord[] {
  const out: ReceivedRecord[] = [];
  for (const rl of request.resourceLogs ?? []) {
    const resource = fromKeyValues(((rl['resource'] as Json | undefined)?.['attributes'] as OtlpKeyValue[]) ?? []);
    for (const sl of (rl['scopeLogs'] as Json[]) ?? []) {
      const scope = (sl['scope'] as ReceivedRecord['scope']) ?? {};
      for (const r of (sl['logRecords'] as Json[]) ?? []) {
        const hex = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
        out.push({
          resource,
          scope,
          eventName: r['eventName'] as string | undefined,
          body: fromAnyValue(r['body'] as OtlpAnyValue),
          attributes: fromKeyValues(r['attributes'] as OtlpKeyValue[]),
          timeUnixNano: String(r['timeUnixNano']),
          observedTimeUnixNano: String(r['observedTimeUnixNano']),
          severityNumber: r['severityNumber'] as number | undefined,
          severityText: r['severityText'] as string | undefined,
          traceId: hex(r['traceId']),
          spanId: hex(r['spanId']),
        });
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * Starts the listener on a free loopback port. `answer(n)` decides the reply to the n-th request
 * (0-based); records are kept only from requests answered 2xx.
 */
export async function startOtlpListener(answer: (n: number, records: ReceivedRecord[]) => Answer = () => ({ status: 200 }), port = 0) {
  const records: ReceivedRecord[] = [];
  const requests: ReceivedRequest[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    const decoded = contentType.includes('json') ? (JSON.parse(body.toString('utf8')) as Json) : decodeLogsRequest(body);
    const batch = flatten(decoded as { resourceLogs?: Json[] });
    const reply = answer(requests.length, batch);
    requests.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, contentType, status: reply.status, records: batch.length });
    if (reply.status >= 200 && reply.status < 300) records.push(...batch);
    res.writeHead(reply.status, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf', ...reply.headers });
    res.end(reply.body ?? (contentType.includes('json') ? '{}' : ''));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/v1/logs`,
    records,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

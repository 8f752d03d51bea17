// A small in-test OTLP/HTTP endpoint for tests of wire details (what the exporter encodes, status
// codes, bodies, Retry-After, resets and hangs). Pipelines are proven against the real Collector
// in test/e2e.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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
  /** Default: an empty OTLP response of the request's own content type. */
  body?: string | Uint8Array;
  /** Keep the records of this answer although it is not a 2xx (never, by default), or drop them although it is. */
  keep?: boolean;
  /** Wait this long before answering. */
  delayMillis?: number;
  /** Close the connection with a TCP reset instead of answering. */
  reset?: boolean;
  /** Send the status line, headers and half of the body, then reset the connection. */
  cut?: boolean;
  /** Never answer (the connection stays open until the client gives up or the listener closes). */
  hang?: boolean;
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

/** Protobuf bytes of a varint and of a length-delimited field: enough for the answers below. */
function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}
const field = (no: number, bytes: Uint8Array): number[] => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];

/** A `google.rpc.Status` as a collector answers a 4xx/5xx: `{ code, message }`, protobuf or JSON. */
export function otlpStatus(code: number, message: string, json = false): Answer['body'] {
  if (json) return JSON.stringify({ code, message });
  return Uint8Array.from([...varint(1 << 3), ...varint(code), ...field(2, Buffer.from(message))]);
}

/** An `ExportLogsServiceResponse` with a partial success, protobuf or JSON. */
export function partialSuccess(rejected: number, message: string, json = false): Answer['body'] {
  if (json) return JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } });
  return Uint8Array.from(field(1, Uint8Array.from([...varint(1 << 3), ...varint(rejected), ...field(2, Buffer.from(message))])));
}

/**
 * Starts the listener on a free loopback port. `answer(n)` decides the reply to the n-th request
 * (0-based); records are kept only from requests answered 2xx (unless the answer says otherwise).
 */
export async function startOtlpListener(answer: (n: number, records: ReceivedRecord[]) => Answer = () => ({ status: 200 }), port = 0) {
  const records: ReceivedRecord[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const pending = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const at = Date.now();
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    let batch: ReceivedRecord[] = [];
    try {
      const decoded = contentType.includes('json') ? (JSON.parse(body.toString('utf8')) as Json) : decodeLogsRequest(body);
      batch = flatten(decoded as { resourceLogs?: Json[] });
    } catch {
      // Not an OTLP request (a test sending its own bytes): answered all the same, no records kept.
    }
    const reply = answer(requests.length, batch);
    requests.push({ at, path: req.url ?? '', headers: req.headers, contentType, status: reply.status, records: batch.length });
    const respond = () => {
      pending.delete(res);
      if (reply.keep ?? (reply.status >= 200 && reply.status < 300)) records.push(...batch);
      if (reply.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      const answerBody = reply.body ?? (contentType.includes('json') ? '{}' : '');
      res.writeHead(reply.status, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf', 'content-length': String(Buffer.byteLength(answerBody)), ...reply.headers });
      if (!reply.cut) {
        res.end(answerBody);
        return;
      }
      res.write(typeof answerBody === 'string' ? answerBody.slice(0, answerBody.length >> 1) : answerBody.subarray(0, answerBody.length >> 1));
      setTimeout(() => req.socket.resetAndDestroy(), 20);
    };
    pending.add(res);
    if (reply.hang) return;
    if (reply.delayMillis) setTimeout(respond, reply.delayMillis);
    else respond();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/v1/logs`,
    port: address.port,
    records,
    requests,
    /** Connections open now (a keep-alive client holds one between requests). */
    get connections(): number {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        pending.clear();
        server.close(() => resolve());
      }),
  };
}

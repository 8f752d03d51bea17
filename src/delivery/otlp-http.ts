import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { toAnyValue, toKeyValues } from '../integrity/otlp-json.js';
import { VERSION } from '../version.js';
import { classifyAnswer, RESPONSE_BODY_LIMIT, type ExportOutcome } from './answer.js';
import type { QueuedRecord } from './queue.js';
import { decodeLogRecord, type DecodedLogRecord } from '../record/decoder.js';
import { requestFramer, type Origin } from './framer.js';
import type { ExportSettings, Transport } from './transport.js';

const gzipped = promisify(gzip);

/** OTLP/JSON of a decoded record (the JSON protocol's slow path). */
function jsonRecord(record: DecodedLogRecord): unknown {
  return {
    timeUnixNano: String(record.timeUnixNano),
    observedTimeUnixNano: String(record.observedTimeUnixNano),
    severityNumber: record.severityNumber,
    severityText: record.severityText,
    eventName: record.eventName,
    body: toAnyValue(record.body),
    attributes: toKeyValues(record.attributes),
    ...(record.traceId ? { traceId: record.traceId, spanId: record.spanId, flags: record.flags } : {}),
  };
}

/** The request body of a batch: the records' bytes framed once (protobuf), or decoded into OTLP/JSON. */
function requestEncoder(protocol: ExportSettings['protocol'], origin: Origin): (records: readonly QueuedRecord[]) => Uint8Array {
  if (protocol === 'http/protobuf') {
    const frame = requestFramer(origin);
    return (records) => frame(records.map((record) => record.bytes));
  }
  const resource = { attributes: toKeyValues(origin.resource) };
  return (records) =>
    Buffer.from(JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ scope: origin.scope, logRecords: records.map((r) => jsonRecord(decodeLogRecord(r.bytes))) }] }] }));
}

const outage = (message: string): ExportOutcome => ({ kind: 'outage', status: undefined, message, retryAfterMillis: undefined, tooLarge: false });

/**
 * OTLP/HTTP with node:http(s): one request per attempt and no retry of its own, so that the sender's
 * backoff and outage clock see every attempt. `timeoutMillis` covers connecting, sending and the
 * whole answer. A keep-alive agent carries consecutive exports; TLS takes the configured CA and
 * client certificate. The answer body is read up to `RESPONSE_BODY_LIMIT` and classified once
 * (answer.ts).
 */
export function createOtlpTransport(settings: ExportSettings, origin: Origin): Transport {
  const url = new URL(settings.endpoint);
  const secure = url.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...settings.tls }) : new HttpAgent({ keepAlive: true });
  const request = secure ? httpsRequest : httpRequest;
  const encode = requestEncoder(settings.protocol, origin);
  const contentType = settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  const gzipOn = settings.compression === 'gzip';
  const underWay = new Set<ClientRequest>();

  async function send(records: readonly QueuedRecord[], signal: AbortSignal): Promise<ExportOutcome> {
    let body: Uint8Array;
    try {
      body = encode(records);
    } catch (error) {
      // Only a damaged record can fail here (the JSON path decodes): the batch is split down to it.
      return { kind: 'rejection', status: undefined, message: `a record cannot be encoded for ${settings.protocol}: ${(error as Error).message}`, tooLarge: false };
    }
    if (gzipOn) body = await gzipped(body);
    if (signal.aborted) return outage('stopped before sending');
    return new Promise((resolve) => {
      let req: ClientRequest | undefined;
      let settled = false;
      const finish = (outcome: ExportOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (req) underWay.delete(req);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        finish(outage(`no answer within ${settings.timeoutMillis} ms from ${settings.endpoint}`));
        req?.destroy();
      }, settings.timeoutMillis);
      timer.unref();
      const onAbort = (): void => {
        finish(outage('stopped'));
        req?.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let sent: ClientRequest;
      try {
        sent = request(url, {
          method: 'POST',
          agent,
          headers: {
            ...settings.headers,
            'content-type': contentType,
            'content-length': String(body.length),
            'user-agent': `otel-audit/${VERSION}`,
            ...(gzipOn ? { 'content-encoding': 'gzip' } : {}),
          },
        });
      } catch (error) {
        finish({ kind: 'refusal', status: undefined, message: `the request to ${settings.endpoint} cannot be made: ${(error as Error).message}` });
        return;
      }
      req = sent;
      underWay.add(sent);
      sent.on('error', (error: NodeJS.ErrnoException) => finish(outage(`cannot reach ${settings.endpoint}: ${error.message}${error.code && !error.message.includes(error.code) ? ` (${error.code})` : ''}`)));
      sent.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answered = (truncated: boolean): void =>
          finish(
            classifyAnswer(
              {
                status: res.statusCode ?? 0,
                contentType: res.headers['content-type'],
                body: Buffer.concat(chunks),
                truncated,
                retryAfter: res.headers['retry-after'],
                location: res.headers.location,
              },
              settings.endpoint,
              Date.now(),
            ),
          );
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size <= RESPONSE_BODY_LIMIT) {
            chunks.push(chunk);
            return;
          }
          chunks.push(chunk.subarray(0, chunk.length - (size - RESPONSE_BODY_LIMIT)));
          answered(true);
          sent.destroy(); // the rest is not read: the connection cannot be reused
        });
        res.on('end', () => answered(false));
        // Cut short (reset, closed): the collector may or may not have the records; they are sent again.
        res.on('error', (error) => finish(outage(`the answer (HTTP ${res.statusCode}) from ${settings.endpoint} was cut short: ${error.message}`)));
        res.on('close', () => {
          if (!res.complete) finish(outage(`the answer (HTTP ${res.statusCode}) from ${settings.endpoint} was cut short`));
        });
      });
      sent.end(body);
    });
  }

  return {
    target: settings.endpoint,
    send,
    shutdown: async () => {
      for (const req of underWay) req.destroy();
      agent.destroy();
    },
  };
}

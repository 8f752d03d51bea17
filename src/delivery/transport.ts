import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { createOtlpHttpExportDelegate, convertLegacyHttpOptions, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base/node-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { decodeLogRecord, rejectedOf, requestFramer, type DecodedLogRecord, type Origin } from './record-format.js';
import type { QueuedRecord } from './queue.js';

/** OTLP over HTTP: protobuf (smaller and sent as encoded at emit, the default) or JSON (a slower path). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Where and how events leave the process. Every field falls back to the standard `OTEL_EXPORTER_OTLP_*` variables. */
export interface ExportOptions {
  /**
   * Full URL of the collector's OTLP/HTTP logs endpoint (its path is normally `/v1/logs`).
   * @default OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + '/v1/logs', else 'http://localhost:4318/v1/logs'
   * @example 'https://otel-gateway.internal:4318/v1/logs'
   */
  readonly endpoint?: string;
  /** @default OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf' */
  readonly protocol?: OtlpProtocol;
  /**
   * Extra HTTP headers, e.g. the collector's bearer token.
   * @default parsed from OTEL_EXPORTER_OTLP_LOGS_HEADERS / OTEL_EXPORTER_OTLP_HEADERS
   * @example { authorization: `Bearer ${process.env.AUDIT_TOKEN}` }
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per export request, including the transport's own retries on 429/502/503/504 (which honour Retry-After). @default OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT, else 10000 */
  readonly timeoutMillis?: number;
  /** @default OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION, else 'none' */
  readonly compression?: 'gzip' | 'none';
}

/** The answer to one export request. */
export type SendResult =
  | { readonly ok: true; /** Records the collector reported as rejected in a partial success. */ readonly rejected: number; readonly message: string }
  | { readonly ok: false; readonly error: Error; /** HTTP status, when there was an answer. */ readonly status: number | undefined };

/** Sends batches of encoded records: one request each. */
export interface Transport {
  send(records: readonly QueuedRecord[]): Promise<SendResult>;
  shutdown(): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function resultOf(result: ExportResult, partial: { rejected: number; message: string }): SendResult {
  if (result.code === ExportResultCode.SUCCESS) return { ok: true, ...partial };
  const error = result.error ?? new Error('export failed');
  return { ok: false, error, status: statusOf(error) };
}

/** OTLP/JSON of a decoded record (the JSON protocol's slow path). */
function jsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(jsonValue) } };
  return { kvlistValue: { values: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: jsonValue(v) })) } };
}

function jsonRecord(record: DecodedLogRecord): unknown {
  return {
    timeUnixNano: String(record.timeUnixNano),
    observedTimeUnixNano: String(record.observedTimeUnixNano),
    severityNumber: record.severityNumber,
    severityText: record.severityText,
    eventName: record.eventName,
    body: jsonValue(record.body),
    attributes: Object.entries(record.attributes).map(([key, v]) => ({ key, value: jsonValue(v) })),
    ...(record.traceId ? { traceId: record.traceId, spanId: record.spanId, flags: record.flags } : {}),
  };
}

/**
 * The OpenTelemetry OTLP/HTTP exporter's own transport (retries on 429/5xx within its timeout,
 * Retry-After, headers, compression, TLS, the `OTEL_EXPORTER_OTLP_*` variables) with a
 * pass-through serializer: a batch is the records' bytes framed once, never decoded.
 */
export function createOtlpTransport(options: ExportOptions & { protocol: OtlpProtocol }, origin: Origin): Transport {
  const config: OTLPExporterNodeConfigBase = {};
  if (options.endpoint !== undefined) config.url = options.endpoint;
  if (options.headers !== undefined) config.headers = { ...options.headers };
  if (options.timeoutMillis !== undefined) config.timeoutMillis = options.timeoutMillis;
  if (options.compression !== undefined) config.compression = options.compression as OTLPExporterNodeConfigBase['compression'];
  const json = options.protocol === 'http/json';
  const frame = requestFramer(origin);
  const resource = { attributes: Object.entries(origin.resource).map(([key, v]) => ({ key, value: jsonValue(v) })) };
  // The response is read synchronously just before the delegate calls back: one variable carries it across.
  let partial = { rejected: 0, message: '' };
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'LOGS', 'v1/logs', { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' }),
    {
      serializeRequest: (records: readonly QueuedRecord[]) =>
        json
          ? new TextEncoder().encode(
              JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ scope: origin.scope, logRecords: records.map((r) => jsonRecord(decodeLogRecord(r.bytes))) }] }] }),
            )
          : frame(records.map((record) => record.bytes)),
      deserializeResponse: (data: Uint8Array) => {
        if (json) {
          const answer = JSON.parse(new TextDecoder().decode(data) || '{}') as { partialSuccess?: { rejectedLogRecords?: number | string; errorMessage?: string } };
          partial = { rejected: Number(answer.partialSuccess?.rejectedLogRecords ?? 0), message: answer.partialSuccess?.errorMessage ?? '' };
        } else partial = rejectedOf(data);
        return partial;
      },
    },
    'otel_audit_otlp_http_log_exporter',
    { name: 'log', countItems: (records: readonly QueuedRecord[]) => records.length },
    undefined,
  );
  return {
    send: (records) =>
      new Promise((resolve) => {
        partial = { rejected: 0, message: '' };
        try {
          delegate.export(records, (result) => resolve(resultOf(result, partial)));
        } catch (error) {
          resolve({ ok: false, error: error as Error, status: undefined });
        }
      }),
    shutdown: () => delegate.shutdown(),
  };
}

/** Any `LogRecordExporter` (for example a gRPC one): records are decoded for it, a slower path. */
export function exporterTransport(exporter: LogRecordExporter, origin: Origin): Transport {
  const resource = resourceFromAttributes(origin.resource);
  const toReadable = (record: QueuedRecord): ReadableLogRecord => {
    const decoded = decodeLogRecord(record.bytes);
    const hr = (nanos: bigint): [number, number] => [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)];
    return {
      hrTime: hr(decoded.timeUnixNano),
      hrTimeObserved: hr(decoded.observedTimeUnixNano),
      severityNumber: decoded.severityNumber,
      severityText: decoded.severityText,
      eventName: decoded.eventName,
      body: decoded.body as ReadableLogRecord['body'],
      attributes: decoded.attributes as ReadableLogRecord['attributes'],
      spanContext: decoded.traceId && decoded.spanId ? { traceId: decoded.traceId, spanId: decoded.spanId, traceFlags: decoded.flags ?? 0 } : undefined,
      resource,
      instrumentationScope: origin.scope,
      droppedAttributesCount: 0,
    };
  };
  return {
    send: (records) =>
      new Promise((resolve) => {
        try {
          exporter.export(records.map(toReadable), (result) => resolve(resultOf(result, { rejected: 0, message: '' })));
        } catch (error) {
          resolve({ ok: false, error: error as Error, status: undefined });
        }
      }),
    shutdown: () => exporter.shutdown(),
  };
}

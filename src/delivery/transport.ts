import type { ExportedLogRecord, ExportedResource, LogRecordExporter } from './log-record-exporter.js';
import type { ExportOutcome } from './answer.js';
import { decodeLogRecord } from '../record/decoder.js';
import type { AttributeValue } from '../record/encoder.js';
import type { Origin } from './framer.js';
import type { QueuedRecord } from './queue.js';

/** OTLP over HTTP: protobuf (smaller and sent as encoded at emit, the default) or JSON (a slower path). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/**
 * Where and how audit events leave the process. Each field falls back to its own
 * `OTEL_AUDIT_EXPORTER_OTLP_*` variable, never to the application's generic `OTEL_EXPORTER_OTLP_*`
 * ones: those lead to the application's other telemetry (an APM vendor, with its API key).
 */
export interface ExportOptions {
  /**
   * Full URL of the collector's OTLP/HTTP logs endpoint (its path is normally `/v1/logs`).
   * @default OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT, else 'http://localhost:4318/v1/logs' (said once, as information: `default_endpoint` to `onInfo` and `diag`)
   * @example 'https://otel-gateway.internal:4318/v1/logs'
   */
  readonly endpoint?: string;
  /** @default OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf' */
  readonly protocol?: OtlpProtocol;
  /**
   * Extra HTTP headers, e.g. the collector's bearer token.
   * @default parsed from OTEL_AUDIT_EXPORTER_OTLP_HEADERS (`name=value,name2=value2`, values URL-encoded)
   * @example { authorization: `Bearer ${process.env.AUDIT_TOKEN}` }
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** One export attempt, from connecting to the end of the answer; the sender retries with its own backoff. @default OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT, else 10000 */
  readonly timeoutMillis?: number;
  /** @default OTEL_AUDIT_EXPORTER_OTLP_COMPRESSION, else 'none' */
  readonly compression?: 'gzip' | 'none';
  /** PEM file of the CA certificates that sign the collector's (https), read once at creation. @default OTEL_AUDIT_EXPORTER_OTLP_CERTIFICATE, else the system's */
  readonly certificateFile?: string;
  /** PEM file of the client certificate (mutual TLS). @default OTEL_AUDIT_EXPORTER_OTLP_CLIENT_CERTIFICATE */
  readonly clientCertificateFile?: string;
  /** PEM file of the client certificate's private key. @default OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY */
  readonly clientKeyFile?: string;
}

/** The export settings, resolved and checked (see options.ts). */
export interface ExportSettings {
  readonly endpoint: string;
  /** No endpoint was configured: the local gateway's default is used. */
  readonly defaultEndpoint: boolean;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  readonly compression: 'gzip' | 'none';
  /** The PEM contents, read at creation. */
  readonly tls: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** Sends batches of encoded records: one request per call, no retry of its own (the sender owns retries). */
export interface Transport {
  /** Where the records go, as reports name it: the endpoint's URL, or the custom exporter. */
  readonly target: string;
  /** Never rejects: every way an attempt can end is an `ExportOutcome`. `signal` ends the attempt (an outage). */
  send(records: readonly QueuedRecord[], signal: AbortSignal): Promise<ExportOutcome>;
  /** Ends every attempt under way and releases connections. */
  shutdown(): Promise<void>;
}

/** `ExportResultCode.SUCCESS` of @opentelemetry/core, which the transport does not load. */
const EXPORT_SUCCESS = 0;

/** The resource members exporters read, without @opentelemetry/resources (the package installs beside either SDK line). */
function plainResource(attributes: Readonly<Record<string, AttributeValue>>): ExportedResource {
  return {
    attributes: { ...attributes },
    merge: (other) => plainResource({ ...attributes, ...(other?.attributes as Record<string, AttributeValue> | undefined) }),
    getRawAttributes: () => Object.entries(attributes),
  };
}

const hrTime = (nanos: bigint): [number, number] => [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)];

/**
 * Any `LogRecordExporter` (for example a gRPC one): records are decoded for it, a slower path. Its
 * failures are outages (retried); a record that cannot be decoded is a rejection (dead-lettered
 * with the reason once the batch is split down to it).
 */
export function exporterTransport(exporter: LogRecordExporter, origin: Origin): Transport {
  const resource = plainResource(origin.resource);
  const toReadable = (record: QueuedRecord): ExportedLogRecord => {
    const decoded = decodeLogRecord(record.bytes);
    return {
      hrTime: hrTime(decoded.timeUnixNano),
      hrTimeObserved: hrTime(decoded.observedTimeUnixNano),
      severityNumber: decoded.severityNumber,
      severityText: decoded.severityText,
      eventName: decoded.eventName,
      body: decoded.body as ExportedLogRecord['body'],
      attributes: decoded.attributes as ExportedLogRecord['attributes'],
      spanContext: decoded.traceId && decoded.spanId ? { traceId: decoded.traceId, spanId: decoded.spanId, traceFlags: decoded.flags ?? 0 } : undefined,
      resource,
      instrumentationScope: origin.scope,
      droppedAttributesCount: 0,
    };
  };
  return {
    target: 'the exporter option',
    send: (records) =>
      new Promise((resolve) => {
        let readable: ExportedLogRecord[];
        try {
          readable = records.map(toReadable);
        } catch (error) {
          resolve({ kind: 'rejection', status: undefined, message: `a record cannot be decoded for the exporter: ${(error as Error).message}`, tooLarge: false });
          return;
        }
        try {
          exporter.export(readable, (result) =>
            resolve(result.code === EXPORT_SUCCESS ? { kind: 'ack' } : { kind: 'outage', status: undefined, message: `the exporter failed: ${result.error?.message ?? 'no reason given'}`, retryAfterMillis: undefined, tooLarge: false }),
          );
        } catch (error) {
          resolve({ kind: 'outage', status: undefined, message: `the exporter threw: ${(error as Error).message}`, retryAfterMillis: undefined, tooLarge: false });
        }
      }),
    shutdown: () => exporter.shutdown(),
  };
}

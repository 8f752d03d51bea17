import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';

/** OTLP over HTTP: protobuf (smaller, the default) or JSON. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Where and how events leave the process. Every field falls back to the standard `OTEL_EXPORTER_OTLP_*` variables. */
export interface ExportOptions {
  /**
   * Full URL of the collector's OTLP/HTTP logs endpoint.
   * @default OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + '/v1/logs', else 'http://localhost:4318/v1/logs'
   * @example 'https://otel-gateway.internal:4318/v1/logs'
   */
  readonly endpoint?: string;
  /**
   * @default OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf'
   */
  readonly protocol?: OtlpProtocol;
  /**
   * Extra HTTP headers, e.g. the collector's bearer token.
   * @default parsed from OTEL_EXPORTER_OTLP_LOGS_HEADERS / OTEL_EXPORTER_OTLP_HEADERS
   * @example { authorization: `Bearer ${process.env.AUDIT_TOKEN}` }
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per export request, including the exporter's own retries on 429/502/503/504. @default OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT, else 10000 */
  readonly timeoutMillis?: number;
  /** @default OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION, else 'none' */
  readonly compression?: 'gzip' | 'none';
}

/** Thrown by `createAuditLogger` for a protocol it cannot speak. */
export class UnsupportedProtocolError extends Error {
  override readonly name = 'UnsupportedProtocolError';
}

function protocolFromEnvironment(): string | undefined {
  const value = process.env['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL'] ?? process.env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  return value?.trim() || undefined;
}

/** The OTLP exporter for these options; certificates and the rest of `OTEL_EXPORTER_OTLP_*` are read by the exporter. */
export function createOtlpExporter(options: ExportOptions): LogRecordExporter {
  const protocol = options.protocol ?? protocolFromEnvironment() ?? 'http/protobuf';
  const config: OTLPExporterNodeConfigBase = {};
  if (options.endpoint !== undefined) config.url = options.endpoint;
  if (options.headers !== undefined) config.headers = { ...options.headers };
  if (options.timeoutMillis !== undefined) config.timeoutMillis = options.timeoutMillis;
  if (options.compression !== undefined) config.compression = options.compression as OTLPExporterNodeConfigBase['compression'];
  switch (protocol) {
    case 'http/protobuf':
      return new ProtobufLogExporter(config);
    case 'http/json':
      return new JsonLogExporter(config);
    default:
      throw new UnsupportedProtocolError(
        `OTLP protocol "${protocol}" is not supported by otel-audit; use http/protobuf or http/json`,
      );
  }
}

import type { OtlpProtocol } from '../delivery/transport.js';
import { UsageError } from './args.js';

export const endpointOptions = {
  endpoint: { type: 'string' },
  protocol: { type: 'string' },
  header: { type: 'string', multiple: true },
  timeout: { type: 'string', default: '10000' },
} as const;

export const endpointHelp = `  --endpoint <url>        OTLP/HTTP logs URL (default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else
                          OTEL_EXPORTER_OTLP_ENDPOINT + /v1/logs, else http://localhost:4318/v1/logs)
  --protocol <p>          http/protobuf (default) or http/json
  --header <name=value>   an HTTP header, e.g. "authorization=Bearer <token>" (repeatable;
                          default: OTEL_EXPORTER_OTLP_[LOGS_]HEADERS)
  --timeout <ms>          how long to wait for the collector (default: 10000)`;

/** The logs URL the exporter will use, resolved the way the OTLP exporter resolves it. */
export function resolvedEndpoint(endpoint: string | undefined): string {
  if (endpoint) return endpoint;
  const logs = process.env['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'];
  if (logs) return logs;
  const base = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return base ? `${base.replace(/\/$/, '')}/v1/logs` : 'http://localhost:4318/v1/logs';
}

export function protocolOf(value: unknown): OtlpProtocol | undefined {
  if (value === undefined) return undefined;
  if (value === 'http/protobuf' || value === 'http/json') return value;
  throw new UsageError(`--protocol must be http/protobuf or http/json, got ${String(value)}`);
}

export function millis(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} expects a number of milliseconds, got ${String(value)}`);
  return n;
}

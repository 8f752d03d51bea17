import type { OtlpProtocol } from '../delivery/transport.js';
import { resolveExportOptions } from '../options.js';
import { UsageError } from './args.js';

export const endpointOptions = {
  endpoint: { type: 'string' },
  protocol: { type: 'string' },
  header: { type: 'string', multiple: true },
  timeout: { type: 'string', default: '10000' },
} as const;

export const endpointHelp = `  --endpoint <url>        OTLP/HTTP logs URL (default: OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT, else
                          http://localhost:4318/v1/logs; the generic OTEL_EXPORTER_OTLP_* are not used)
  --protocol <p>          http/protobuf (default) or http/json
  --header <name=value>   an HTTP header, e.g. "authorization=Bearer <token>" (repeatable;
                          default: OTEL_AUDIT_EXPORTER_OTLP_HEADERS)
  --timeout <ms>          how long to wait for the collector (default: 10000)`;

/** The logs URL the logger will use: the flag, else the audit stream's own variable, else the local gateway. */
export function resolvedEndpoint(endpoint: string | undefined): string {
  return resolveExportOptions({ endpoint: endpoint || undefined }).endpoint;
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

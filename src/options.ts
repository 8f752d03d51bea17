import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { MeterProvider } from '@opentelemetry/api';
import type { LogRecordExporter } from './delivery/log-record-exporter.js';
import type { Catalog } from './catalog/define.js';
import { AuditError, type AuditInfo, type AuditReport } from './errors.js';
import type { RetryOptions } from './delivery/backoff.js';
import type { DeliverySettings } from './delivery/delivery.js';
import type { ExportOptions, ExportSettings } from './delivery/transport.js';

/** How events are kept and sent. The options type is the documentation: see each field. */
export interface DeliveryOptions {
  /**
   * Directory of the durable spool. Recommended in production: an event is on disk (fdatasynced)
   * before `logEventOrThrow` resolves, and survives a crash or restart until the collector
   * acknowledged it. Several processes may share it: each claims a slot of its own (see the README).
   * Without it, events wait in a bounded in-memory queue.
   * @default undefined (in-memory queue)
   * @example '/var/lib/myapp/audit-spool'
   */
  readonly spoolDir?: string;
  /** Bound of the in-memory queue (no spool, or while the spool cannot be written); an event beyond it is dropped, counted and reported. Also bounds the events of `logEvent` waiting to be chained. @default 20000 */
  readonly maxQueueRecords?: number;
  /** Records per export request. @default 1000 */
  readonly maxBatchRecords?: number;
  /** Encoded bytes per export request (a larger single record is still sent whole). @default 2097152 */
  readonly maxBatchBytes?: number;
  /** Export requests in flight at once; acknowledgements are applied in order. @default 8 */
  readonly maxConcurrentExports?: number;
  /** A spool segment file is closed past this size; acknowledged segments are deleted. @default 16777216 */
  readonly maxSegmentBytes?: number;
  /**
   * NDJSON file for records the collector will never accept (HTTP 400/413 after splitting the batch
   * down to the one record), with the reason; `otel-audit spool --redrive` sends them again.
   * @default '<spool slot>/dead-letters.ndjson' with a spool; otherwise the records travel in the `onError` report
   */
  readonly deadLetterFile?: string;
  /** Backoff between export attempts. */
  readonly retry?: RetryOptions;
  /** When an outage is reported (`collector_unreachable`), and how often while it lasts. */
  readonly outage?: { readonly reportAfterMillis?: number; readonly repeatEveryMillis?: number };
}

/** Options of `createAuditLogger`. Export fields fall back to the audit stream's own `OTEL_AUDIT_EXPORTER_OTLP_*` variables. */
export interface AuditLoggerOptions<C extends Catalog> extends ExportOptions, DeliveryOptions {
  /** The actions this logger accepts. @example gristCatalog */
  readonly catalog: C;
  /** `service.name` of the resource; `OTEL_SERVICE_NAME` overrides it. @default 'unknown_service:node' */
  readonly serviceName?: string;
  /** `service.version` of the resource. @default undefined */
  readonly serviceVersion?: string;
  /** More resource attributes; `OTEL_RESOURCE_ATTRIBUTES` overrides them. @example { 'deployment.environment.name': 'prod' } */
  readonly resourceAttributes?: Readonly<Record<string, string | number | boolean>>;
  /**
   * What happens to an event that fails validation: `deliver` sends it flagged `audit.invalid`
   * with its issues (a buggy audit record is still evidence); `drop` counts and reports it only.
   * Either way `onError` gets an `AuditValidationError`.
   * @default 'deliver'
   */
  readonly invalidEvents?: 'deliver' | 'drop';
  /**
   * Told of every problem: invalid events, drops, dead letters, spool trouble, refusals and
   * outages, each at `level` `error` (events lost or set aside) or `warn` (kept but late, flagged
   * or held in memory). `report.reason` tells them apart, each with its own fields (TypeScript
   * narrows on it); each is an `AuditError`. Errors thrown here are ignored.
   * @default a process warning (`process.emitWarning`, code `OTEL_AUDIT`)
   * @example onError: (report) => { if (report.reason === 'dead_letter') alert(`${report.count} in ${report.file}`) }
   */
  readonly onError?: (report: AuditReport) => void;
  /**
   * Told of what is worth knowing and is not a problem (`level` `info`): the collector is back
   * after a reported outage (`collector_recovered`), a backlog left by an earlier process is being
   * delivered (`backlog_replayed`), the default endpoint is used (`default_endpoint`). Errors
   * thrown here are ignored.
   * @default none: information goes to OpenTelemetry's `diag` only
   */
  readonly onInfo?: (info: AuditInfo) => void;
  /**
   * Key of the hash chain's HMAC-SHA-256 (raw bytes; a string is taken as UTF-8). Without it the
   * chain is plain SHA-256, which proves order and completeness but not who wrote it.
   * @default undefined
   */
  readonly hmacKey?: string | Buffer;
  /**
   * Checkpoints: every interval, and at shutdown, an `audit.checkpoint` event states the stream's
   * last sequence number and hash, signed with an Ed25519 private key when one is given. It is
   * also the stream's heartbeat: `otel-audit verify` reports silence longer than the interval.
   * `false` turns them off.
   * @default { intervalMillis: 60000 } (unsigned)
   * @example { intervalMillis: 30000, signingKey: readFileSync('/run/secrets/audit-ed25519.pem', 'utf8') }
   */
  readonly checkpoints?: false | { readonly intervalMillis?: number; readonly signingKey?: KeyObject | string };
  /**
   * Publishes `stats()` as OpenTelemetry metrics (`otel_audit.exported`, `otel_audit.dropped`, ...)
   * through this meter provider.
   * @default the global one (`metrics.getMeterProvider()` of `@opentelemetry/api`): the application's SDK's, when it registered one before `createAuditLogger`
   */
  readonly meterProvider?: MeterProvider;
  /** An exporter to use instead of OTLP/HTTP (for example a gRPC one); records are decoded for it (slower). @default OTLP/HTTP from the options above */
  readonly exporter?: LogRecordExporter;
}

/**
 * Every default, in one table (the README's option table is checked against it by a test).
 * Batches of 1000 (2 MiB: room for 1000 realistic records of about 1.5 KB) and 8 in flight: through
 * local.yaml, 8 in flight took 19% more events/s than 4 (the gateway's fsynced queue writes
 * overlap); larger requests alone changed nothing (bench/RESULTS.md, section 2).
 */
export const DEFAULTS = {
  endpoint: 'http://localhost:4318/v1/logs',
  protocol: 'http/protobuf',
  timeoutMillis: 10_000,
  compression: 'none',
  maxQueueRecords: 20_000,
  maxBatchRecords: 1000,
  maxBatchBytes: 2 * 1024 * 1024,
  maxConcurrentExports: 8,
  maxSegmentBytes: 16 * 1024 * 1024,
  retryInitialDelayMillis: 500,
  retryMaxDelayMillis: 30_000,
  retryMaxElapsedMillis: Infinity,
  outageReportAfterMillis: 60_000,
  outageRepeatEveryMillis: 300_000,
  invalidEvents: 'deliver',
  checkpointIntervalMillis: 60_000,
  flushTimeoutMillis: 30_000,
  shutdownTimeoutMillis: 30_000,
} as const;

/** How often a spool that could not be written tries again. */
const SPOOL_RECOVERY_MILLIS = 1000;
/** More exports in flight than this only queue up at the collector's receiver. */
const MAX_CONCURRENT_EXPORTS = 30;

/**
 * The audit stream's own variables, one per export option. The generic `OTEL_EXPORTER_OTLP_*`
 * variables are never read: they lead to the application's other telemetry (its APM vendor, with
 * that vendor's API key), and audit events (emails, IP addresses, session ids) must not follow them.
 */
export const EXPORT_VARIABLES = {
  endpoint: 'OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT',
  protocol: 'OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL',
  headers: 'OTEL_AUDIT_EXPORTER_OTLP_HEADERS',
  timeoutMillis: 'OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT',
  compression: 'OTEL_AUDIT_EXPORTER_OTLP_COMPRESSION',
  certificateFile: 'OTEL_AUDIT_EXPORTER_OTLP_CERTIFICATE',
  clientCertificateFile: 'OTEL_AUDIT_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  clientKeyFile: 'OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY',
} as const satisfies Record<keyof ExportOptions, string>;

/**
 * A bad option: the message names it (or the variable it came from) and says, in plain words, what
 * it must be and what it is. Thrown by `createAuditLogger`, once, at creation.
 */
export class AuditOptionsError extends AuditError {
  override readonly name = 'AuditOptionsError';
  constructor(readonly option: string, requirement: string, value: unknown) {
    super(`otel-audit: ${option.startsWith('OTEL_') ? 'variable' : 'option'} ${option} ${requirement}${shown(value)}`);
  }
}

/** Stands for a value an error message must not show (a header or a key may hold a secret). */
const NOT_SHOWN = Symbol('not shown');
/** The requirement says it all: no value to show. */
const NO_VALUE = Symbol('no value');

function shown(value: unknown): string {
  if (value === NO_VALUE) return '';
  if (value === NOT_SHOWN) return ' (its value is not shown here)';
  return `, not ${describe(value)}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (Buffer.isBuffer(value)) return value.length === 0 ? 'an empty Buffer' : 'a Buffer';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** A whole number within bounds; `why` says where a bound comes from when it is another option. */
function integer(option: string, value: unknown, min: number, bounds: { max?: number; infinity?: boolean; why?: string } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (bounds.infinity && value === Infinity) return value;
  const { max } = bounds;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `of at least ${min}${bounds.why ? ` (${bounds.why})` : ''}` : `from ${min} to ${max}`;
    throw new AuditOptionsError(option, `must be a whole number ${range}${bounds.infinity ? ', or Infinity' : ''}`, value);
  }
  return value;
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const listed = allowed.map((a) => `'${a}'`);
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new AuditOptionsError(option, `must be ${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}`, value);
  return value as T;
}

function text(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new AuditOptionsError(option, 'must be a string that is not empty', value);
  return value;
}

/** An object whose every value passes `check`; `each` says what a value must be ("a string"). Secret values (headers) are never shown. */
function record(option: string, value: unknown, check: (v: unknown) => boolean, each: string, secret = false): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AuditOptionsError(option, `must be an object whose values are each ${each}`, secret ? NOT_SHOWN : value);
  for (const [key, member] of Object.entries(value)) if (!check(member)) throw new AuditOptionsError(`${option}.${key}`, `must be ${each}`, secret ? NOT_SHOWN : member);
}

/** `name=value,name2=value2` with URL-encoded values, as the OpenTelemetry variables write headers. */
function headersOfVariable(variable: string, text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    let value: string | undefined;
    try {
      value = at > 0 ? decodeURIComponent(pair.slice(at + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (!name || value === undefined) throw new AuditOptionsError(variable, 'must be name=value pairs separated by commas, values URL-encoded', NOT_SHOWN);
    headers[name] = value;
  }
  return headers;
}

function checkHeaders(option: string, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
    } catch {
      throw new AuditOptionsError(option, `has a header name that HTTP does not allow (${JSON.stringify(name.slice(0, 40))})`, NOT_SHOWN);
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      throw new AuditOptionsError(option, `has a value for ${name} that HTTP does not allow (a line break or control character)`, NOT_SHOWN);
    }
  }
}

function pemFile(option: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
    throw new AuditOptionsError(option, `names a file that cannot be read (${why}): ${JSON.stringify(path)}`, NO_VALUE);
  }
}

/**
 * The export settings: each option, else its `OTEL_AUDIT_EXPORTER_OTLP_*` variable, else the
 * default; checked once, with errors naming the option or the variable (never showing a header's
 * value). TLS files are read here, once.
 */
export function resolveExportOptions(options: ExportOptions, env: NodeJS.ProcessEnv = process.env): ExportSettings {
  const given = <K extends keyof ExportOptions>(key: K): { source: string; value: unknown } => {
    if (options[key] !== undefined) return { source: key, value: options[key] };
    const variable = EXPORT_VARIABLES[key];
    const value = env[variable]?.trim();
    return { source: variable, value: value === '' ? undefined : value };
  };

  const endpoint = given('endpoint');
  let url: URL | undefined;
  try {
    url = typeof endpoint.value === 'string' ? new URL(endpoint.value) : undefined;
  } catch {
    url = undefined;
  }
  if (endpoint.value !== undefined && (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))) {
    throw new AuditOptionsError(endpoint.source, 'must be an http(s) URL such as https://gateway:4318/v1/logs', endpoint.value);
  }

  const protocol = given('protocol');
  const timeout = given('timeoutMillis');
  const timeoutValue = timeout.source === 'timeoutMillis' ? timeout.value : timeout.value === undefined ? undefined : /^\d+$/.test(String(timeout.value)) ? Number(timeout.value) : timeout.value;
  const compression = given('compression');

  const headers = given('headers');
  let headerValues: Record<string, string> = {};
  if (headers.source === 'headers') {
    record('headers', headers.value, (v) => typeof v === 'string', 'a string', true);
    headerValues = { ...(headers.value as Record<string, string>) };
  } else if (typeof headers.value === 'string') headerValues = headersOfVariable(headers.source, headers.value);
  checkHeaders(headers.source, headerValues);

  const files = (['certificateFile', 'clientCertificateFile', 'clientKeyFile'] as const).map((key) => {
    const { source, value } = given(key);
    return { key, source, contents: pemFile(source, text(source, value)) };
  });
  const [ca, cert, key] = files;
  const tls = { ...(ca!.contents ? { ca: ca!.contents } : {}), ...(cert!.contents ? { cert: cert!.contents } : {}), ...(key!.contents ? { key: key!.contents } : {}) };
  if (Object.keys(tls).length > 0) {
    const first = files.find((file) => file.contents)!;
    if (url?.protocol !== 'https:') throw new AuditOptionsError(first.source, `is only for an https:// endpoint, and the endpoint is ${url?.href ?? DEFAULTS.endpoint}`, NO_VALUE);
    if (Boolean(cert!.contents) !== Boolean(key!.contents)) {
      const missing = cert!.contents ? key! : cert!;
      throw new AuditOptionsError(missing.key, `(or ${EXPORT_VARIABLES[missing.key]}) is needed too: a client certificate goes with its key`, NO_VALUE);
    }
    for (const [file, part] of [
      [ca!, { ca: tls.ca }],
      [cert!, { cert: tls.cert, key: tls.key }],
    ] as const) {
      if (!file.contents) continue;
      try {
        createSecureContext(part);
      } catch (error) {
        throw new AuditOptionsError(file.source, `holds no certificate or key that can be used (${(error as Error).message})`, NO_VALUE);
      }
    }
  }

  return {
    endpoint: url?.href ?? DEFAULTS.endpoint,
    defaultEndpoint: url === undefined,
    protocol: oneOf(protocol.source, protocol.value, ['http/protobuf', 'http/json']) ?? DEFAULTS.protocol,
    headers: headerValues,
    timeoutMillis: integer(timeout.source, timeoutValue, 1) ?? DEFAULTS.timeoutMillis,
    compression: oneOf(compression.source, compression.value, ['gzip', 'none']) ?? DEFAULTS.compression,
    tls,
  };
}

/** The options after validation, with every default applied. */
export interface ResolvedOptions<C extends Catalog> {
  readonly catalog: C;
  readonly export: ExportSettings;
  readonly delivery: DeliverySettings;
  readonly serviceName: string | undefined;
  readonly serviceVersion: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string | number | boolean>>;
  readonly invalidEvents: 'deliver' | 'drop';
  readonly onError: ((report: AuditReport) => void) | undefined;
  readonly onInfo: ((info: AuditInfo) => void) | undefined;
  readonly hmacKey: Buffer | undefined;
  readonly checkpoints: { readonly intervalMillis: number; readonly signingKey: KeyObject | undefined } | undefined;
  readonly meterProvider: MeterProvider | undefined;
  readonly exporter: LogRecordExporter | undefined;
}

/** Validates every option once, at creation, with an error naming the option; applies the defaults. */
export function resolveOptions<C extends Catalog>(options: AuditLoggerOptions<C>): ResolvedOptions<C> {
  if (typeof options !== 'object' || options === null) throw new AuditOptionsError('options', 'must be an object', options);
  const o = options as AuditLoggerOptions<C> & Record<string, unknown>;
  if (typeof o.catalog !== 'object' || o.catalog === null || typeof (o.catalog as { actions?: unknown }).actions !== 'object') {
    throw new AuditOptionsError('catalog', 'must be a catalog made by defineCatalog or extendCatalog (or the bundled gristCatalog)', o.catalog);
  }
  const exportSettings = resolveExportOptions(o);
  record('resourceAttributes', o.resourceAttributes, (v) => ['string', 'number', 'boolean'].includes(typeof v), 'a string, a number or a boolean');

  const retry = o.retry ?? {};
  if (typeof retry !== 'object' || retry === null) throw new AuditOptionsError('retry', 'must be an object', retry);
  const initialDelayMillis = integer('retry.initialDelayMillis', retry.initialDelayMillis, 1) ?? DEFAULTS.retryInitialDelayMillis;
  const maxDelayMillis = integer('retry.maxDelayMillis', retry.maxDelayMillis, initialDelayMillis, { why: 'retry.initialDelayMillis' }) ?? Math.max(initialDelayMillis, DEFAULTS.retryMaxDelayMillis);
  const maxElapsedMillis = integer('retry.maxElapsedMillis', retry.maxElapsedMillis, 1, { infinity: true }) ?? DEFAULTS.retryMaxElapsedMillis;
  const outage = o.outage ?? {};
  if (typeof outage !== 'object' || outage === null) throw new AuditOptionsError('outage', 'must be an object', outage);

  const spoolDir = text('spoolDir', o.spoolDir);
  const deadLetterFile = text('deadLetterFile', o.deadLetterFile);
  const delivery: DeliverySettings = {
    spoolDir: spoolDir === undefined ? undefined : isAbsolute(spoolDir) ? spoolDir : resolve(spoolDir),
    maxQueueRecords: integer('maxQueueRecords', o.maxQueueRecords, 1) ?? DEFAULTS.maxQueueRecords,
    maxBatchRecords: integer('maxBatchRecords', o.maxBatchRecords, 1) ?? DEFAULTS.maxBatchRecords,
    maxBatchBytes: integer('maxBatchBytes', o.maxBatchBytes, 1024) ?? DEFAULTS.maxBatchBytes,
    maxConcurrentExports: integer('maxConcurrentExports', o.maxConcurrentExports, 1, { max: MAX_CONCURRENT_EXPORTS }) ?? DEFAULTS.maxConcurrentExports,
    maxSegmentBytes: integer('maxSegmentBytes', o.maxSegmentBytes, 64 * 1024) ?? DEFAULTS.maxSegmentBytes,
    deadLetterFile: deadLetterFile === undefined ? undefined : resolve(deadLetterFile),
    retry: { initialDelayMillis, maxDelayMillis, maxElapsedMillis },
    outage: {
      reportAfterMillis: integer('outage.reportAfterMillis', outage.reportAfterMillis, 0) ?? DEFAULTS.outageReportAfterMillis,
      repeatEveryMillis: integer('outage.repeatEveryMillis', outage.repeatEveryMillis, 1) ?? DEFAULTS.outageRepeatEveryMillis,
    },
    spoolRecoveryMillis: SPOOL_RECOVERY_MILLIS,
  };

  if (o.onError !== undefined && typeof o.onError !== 'function') throw new AuditOptionsError('onError', 'must be a function', o.onError);
  if (o.onInfo !== undefined && typeof o.onInfo !== 'function') throw new AuditOptionsError('onInfo', 'must be a function', o.onInfo);
  if (o.hmacKey !== undefined && !((typeof o.hmacKey === 'string' || Buffer.isBuffer(o.hmacKey)) && o.hmacKey.length > 0)) {
    throw new AuditOptionsError('hmacKey', 'must be a string or a Buffer that is not empty', typeof o.hmacKey === 'string' || Buffer.isBuffer(o.hmacKey) ? o.hmacKey : NOT_SHOWN);
  }
  let checkpoints: ResolvedOptions<C>['checkpoints'];
  if (o.checkpoints !== false) {
    const given = o.checkpoints ?? {};
    if (typeof given !== 'object' || given === null) throw new AuditOptionsError('checkpoints', 'must be false or an object', given);
    const intervalMillis = integer('checkpoints.intervalMillis', given.intervalMillis, 100) ?? DEFAULTS.checkpointIntervalMillis;
    let signingKey: KeyObject | undefined;
    if (given.signingKey !== undefined) {
      try {
        signingKey = typeof given.signingKey === 'string' ? createPrivateKey(given.signingKey) : given.signingKey;
      } catch {
        signingKey = undefined;
      }
      if (signingKey?.type !== 'private' || signingKey.asymmetricKeyType !== 'ed25519') {
        throw new AuditOptionsError('checkpoints.signingKey', 'must be an Ed25519 private key (PEM text or a KeyObject)', NOT_SHOWN);
      }
    }
    checkpoints = { intervalMillis, signingKey };
  }
  const meterProvider = o.meterProvider as { getMeter?: unknown } | undefined;
  if (meterProvider !== undefined && (typeof meterProvider !== 'object' || meterProvider === null || typeof meterProvider.getMeter !== 'function')) {
    throw new AuditOptionsError('meterProvider', 'must be an OpenTelemetry MeterProvider (an object with getMeter)', o.meterProvider);
  }
  const exporter = o.exporter as { export?: unknown; shutdown?: unknown } | undefined;
  if (exporter !== undefined && (typeof exporter !== 'object' || exporter === null || typeof exporter.export !== 'function' || typeof exporter.shutdown !== 'function')) {
    throw new AuditOptionsError('exporter', 'must be a LogRecordExporter (an object with export and shutdown)', o.exporter);
  }
  return {
    catalog: o.catalog,
    export: exportSettings,
    delivery,
    serviceName: text('serviceName', o.serviceName),
    serviceVersion: text('serviceVersion', o.serviceVersion),
    resourceAttributes: o.resourceAttributes ?? {},
    invalidEvents: oneOf('invalidEvents', o.invalidEvents, ['deliver', 'drop']) ?? DEFAULTS.invalidEvents,
    onError: o.onError,
    onInfo: o.onInfo,
    hmacKey: o.hmacKey === undefined ? undefined : Buffer.from(o.hmacKey),
    checkpoints,
    meterProvider: o.meterProvider,
    exporter: o.exporter,
  };
}

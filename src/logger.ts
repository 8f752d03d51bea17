import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type { MeterProvider } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { detectResources, envDetector, resourceFromAttributes, defaultResource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { z } from 'zod';
import type { ActionOf, Catalog, DetailsOf, KnownAction } from './catalog/define.js';
import { eventSchemaFor, type Actor, type AuditContext, type AuditEvent } from './catalog/envelope.js';
import { currentAuditContext } from './context/request-context.js';
import { rememberSerializedBody } from './delivery/encoding.js';
import { createOtlpExporter, type ExportOptions } from './delivery/exporter.js';
import { AuditLogRecordProcessor, type DeliveryOptions } from './delivery/processor.js';
import { publishStats } from './delivery/metrics.js';
import { emptyStats, type DeliveryStats } from './delivery/stats.js';
import { AuditError, AuditValidationError, AuditDeliveryError } from './errors.js';
import { canonicalJson } from './integrity/canonical-json.js';
import { GENESIS_HASH, HashChain } from './integrity/chain.js';
import { checkpointEvent } from './integrity/checkpoint.js';
import { ATTR } from './attributes.js';
import { toLogRecord, type ValidationIssue } from './record.js';
import { safeString, toJsonSafe } from './sanitize.js';
import { VERSION } from './version.js';

/** What `logEvent` takes besides the action. */
export interface LogEventProps<C extends Catalog, A extends ActionOf<C>> {
  /** @default the request's actor (see `runWithAuditContext`), else `{ type: 'unknown' }` */
  readonly actor?: Actor;
  /** Merged over the request's context, field by field: explicit values win. @default the request's context, else `{}` */
  readonly context?: AuditContext;
  readonly details: DetailsOf<C, A>;
}

/** Options of `createAuditLogger`. Export fields fall back to the standard `OTEL_*` variables. */
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
   * Told of every problem: invalid events, drops, dead letters, spool trouble. Never called
   * synchronously with an exception thrown back: errors thrown here are ignored.
   * @default a process warning (`process.emitWarning`)
   */
  readonly onError?: (error: AuditError) => void;
  /**
   * Key of the hash chain's HMAC-SHA-256. Without it the chain is plain SHA-256, which proves
   * order and completeness but not who wrote it.
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
   * through the application's meter provider.
   * @default undefined (counters readable with `stats()` only)
   */
  readonly meterProvider?: MeterProvider;
  /** An exporter to use instead of OTLP/HTTP (for example a gRPC one). @default OTLP/HTTP from the options above */
  readonly exporter?: LogRecordExporter;
}

/** The logger. Immutable; create one per process and share it. */
export interface AuditLogger<C extends Catalog> {
  readonly catalog: C;
  /**
   * Logs an event and returns its id. Never throws: problems go to `onError` and `stats()`.
   * @example audit.logEvent('document.create', { details: { document: { id, name } } })
   */
  logEvent<A extends string>(action: KnownAction<C, A>, props: LogEventProps<C, A & ActionOf<C>>): string;
  /**
   * Logs an event once it is valid, resolving with its id when it is durable: fsynced in the spool,
   * or acknowledged by the collector without one. Rejects with `AuditValidationError` (naming each
   * failing field) or `AuditDeliveryError`.
   */
  logEventOrThrow<A extends string>(action: KnownAction<C, A>, props: LogEventProps<C, A & ActionOf<C>>): Promise<string>;
  /** Resolves when every earlier event is acknowledged; rejects with `FlushTimeoutError` (carrying `pending`) at the deadline. */
  flush(options?: { timeoutMillis?: number }): Promise<void>;
  /** Flushes until the deadline, then stops; a spool keeps what is left for the next start. Runs once. */
  shutdown(options?: { timeoutMillis?: number }): Promise<void>;
  /** A snapshot of the delivery counters. */
  stats(): DeliveryStats;
}

function defaultReport(error: AuditError): void {
  process.emitWarning(error.message, { type: error.name, code: 'OTEL_AUDIT' });
}

function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

function resourceFor<C extends Catalog>(options: AuditLoggerOptions<C>) {
  const own: Record<string, string | number | boolean> = {
    'service.instance.id': randomUUID(),
    'host.name': hostname(),
    ...options.resourceAttributes,
  };
  if (options.serviceName !== undefined) own['service.name'] = options.serviceName;
  if (options.serviceVersion !== undefined) own['service.version'] = options.serviceVersion;
  // Later merges win: SDK defaults < the application's options < OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME.
  return defaultResource().merge(resourceFromAttributes(own)).merge(detectResources({ detectors: [envDetector] }));
}

/**
 * Creates an audit logger: schemas compiled, spool opened and the chain head recovered here,
 * once, so that `logEvent` does no I/O and no set-up work.
 *
 * @example
 * const audit = createAuditLogger({ catalog: gristCatalog, serviceName: 'docs-api', spoolDir: '/var/lib/docs-api/audit' });
 * audit.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
 */
export function createAuditLogger<C extends Catalog>(options: AuditLoggerOptions<C>): AuditLogger<C> {
  const userReport = options.onError ?? defaultReport;
  const report = (error: AuditError): void => {
    try {
      userReport(error);
    } catch {
      // A failing error hook must not turn logging into a crash.
    }
  };
  const stats = emptyStats();
  const validators = new Map<string, z.ZodType>();
  for (const [action, definition] of Object.entries(options.catalog.actions)) {
    validators.set(action, eventSchemaFor(action, definition.details));
  }
  const dropInvalid = options.invalidEvents === 'drop';
  const resource = resourceFor(options);
  const processor = new AuditLogRecordProcessor({
    exporter: options.exporter ?? createOtlpExporter(options),
    resource,
    scope: { name: 'otel-audit', version: VERSION },
    stats,
    report,
    delivery: options,
  });
  const provider = new LoggerProvider({ resource, processors: [processor] });
  if (options.meterProvider) publishStats(options.meterProvider, () => ({ ...stats }), VERSION);
  const otelLogger: Logger = provider.getLogger('otel-audit', VERSION);
  const hmacKey = options.hmacKey === undefined ? undefined : Buffer.from(options.hmacKey);
  const chain = new HashChain(processor.spooledHead ?? { streamId: randomUUID(), seq: 0, hash: GENESIS_HASH }, hmacKey);
  const checkpointOptions = options.checkpoints === false ? undefined : (options.checkpoints ?? {});
  const checkpointInterval = checkpointOptions?.intervalMillis ?? 60_000;
  const signingKey =
    typeof checkpointOptions?.signingKey === 'string' ? createPrivateKey(checkpointOptions.signingKey) : checkpointOptions?.signingKey;

  function emitCheckpoint(final: boolean): void {
    try {
      const now = Date.now();
      const { event, signature } = checkpointEvent(chain.head, checkpointInterval, final, now, signingKey);
      const record = toLogRecord(event, { observedAt: now });
      record.attributes = { ...record.attributes, [ATTR.streamId]: chain.head.streamId, ...(signature ? { [ATTR.signature]: signature } : {}) };
      otelLogger.emit(record);
    } catch (error) {
      report(new AuditError(`checkpoint failed: ${safeString(error)}`, { cause: error }));
    }
  }
  const checkpointTimer = checkpointOptions ? setInterval(() => emitCheckpoint(false), checkpointInterval) : undefined;
  checkpointTimer?.unref();

  /** Builds, validates, chains and emits one event; returns the issues when it was invalid. */
  function emit(id: string, action: string, props: unknown, rejectInvalid: boolean): ValidationIssue[] | undefined {
    const now = Date.now();
    const given = (typeof props === 'object' && props !== null ? props : {}) as Partial<LogEventProps<C, ActionOf<C>>>;
    const request = currentAuditContext();
    const event: AuditEvent = {
      id,
      action,
      actor: given.actor ?? request?.actor ?? { type: 'unknown' },
      context: request?.context && given.context ? { ...request.context, ...given.context } : (given.context ?? request?.context ?? {}),
      timestamp: new Date(now).toISOString(),
      details: given.details,
    };
    const validator = validators.get(action);
    const actionName = safeString(action);
    let issues: ValidationIssue[] | undefined;
    if (!validator) issues = [{ path: 'action', message: `unknown action "${actionName}": not in the catalog` }];
    else {
      try {
        const result = validator.safeParse(event);
        if (!result.success) issues = issuesOf(result.error);
      } catch (error) {
        // zod lets exceptions of hostile getters and proxies through.
        issues = [{ path: '', message: `the event could not be read: ${safeString(error)}` }];
      }
    }
    if (issues) {
      stats.invalid++;
      const error = new AuditValidationError(actionName, id, issues);
      if (rejectInvalid) throw error;
      report(error);
      if (dropInvalid) {
        stats.dropped++;
        report(new AuditDeliveryError('invalid_dropped', `invalid event ${id} dropped (invalidEvents: 'drop')`, 1));
        return issues;
      }
    }
    // The valid path sends the caller's objects as they are (already checked to be plain JSON);
    // an invalid event is copied into JSON-safe data first.
    const body = (issues ? toJsonSafe(event) : event) as AuditEvent;
    const json = canonicalJson(body);
    rememberSerializedBody(body, json);
    const link = chain.next(json);
    otelLogger.emit(toLogRecord(body, { observedAt: now, link, issues }));
    stats.emitted++;
    return issues;
  }

  let shutDown = false;
  const logger: AuditLogger<C> = {
    catalog: options.catalog,
    logEvent(action, props) {
      const id = randomUUID();
      try {
        emit(id, action, props, false);
      } catch (error) {
        report(new AuditError(`logEvent("${safeString(action)}") failed unexpectedly: ${safeString(error)}`, { cause: error }));
      }
      return id;
    },
    async logEventOrThrow(action, props) {
      const id = randomUUID();
      emit(id, action, props, true);
      const ordinal = processor.lastOrdinal;
      if (ordinal === 0) throw new AuditDeliveryError('queue_full', `event ${id} was not accepted (see onError)`, 1);
      await processor.whenAccepted(ordinal);
      return id;
    },
    flush: (flushOptions) => processor.forceFlush(flushOptions),
    shutdown: async (shutdownOptions) => {
      if (checkpointTimer && !shutDown) {
        clearInterval(checkpointTimer);
        emitCheckpoint(true);
      }
      shutDown = true;
      await processor.shutdown(shutdownOptions);
      await provider.shutdown();
    },
    stats: () => ({ ...stats }),
  };
  return Object.freeze(logger);
}

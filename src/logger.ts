import { randomUUID } from 'node:crypto';
import { metrics, trace, context as otelContext, type SpanContext } from '@opentelemetry/api';
import type { ActionOf, Catalog, DetailsOf, KnownAction } from './catalog/define.js';
import type { Actor, AuditContext, AuditEvent } from './catalog/envelope.js';
import { currentAuditContext, type RequestAuditContext } from './context/request-context.js';
import { Delivery, type ShutdownResult } from './delivery/delivery.js';
import { nodeFileSystem, type FileSystem } from './delivery/file-system.js';
import type { Origin } from './delivery/framer.js';
import { publishStats } from './delivery/metrics.js';
import { createOtlpTransport } from './delivery/otlp-http.js';
import { emptyStats, oldestOf, type DeliveryStats, type PendingReport } from './delivery/stats.js';
import { exporterTransport } from './delivery/transport.js';
import { AuditValidationError, deliveryReport, info, loggerReport } from './errors.js';
import { GENESIS_HASH, HashChain } from './integrity/chain.js';
import { SpooledHead } from './integrity/spooled-head.js';
import { ChainStep } from './logger/chaining.js';
import { CheckpointScheduler } from './logger/checkpoints.js';
import { EventBuilder, type BuiltEvent } from './logger/event-builder.js';
import { PendingEvents } from './logger/pending-events.js';
import { ReportRouter } from './logger/reports.js';
import { auditResource } from './logger/resource.js';
import { safeString } from './logger/sanitize.js';
import { DEFAULTS, resolveOptions, type AuditLoggerOptions } from './options.js';
import type { ValidationIssue } from './record/mapping.js';
import { VERSION } from './version.js';

export type { AuditLoggerOptions, DeliveryOptions } from './options.js';
export type { ShutdownResult } from './delivery/delivery.js';

/** What `logEvent` takes besides the action. */
export interface LogEventProps<C extends Catalog, A extends ActionOf<C>> {
  /** @default the request's actor (see `runWithAuditContext`), else `{ type: 'unknown' }` */
  readonly actor?: Actor;
  /** Merged over the request's context, field by field: explicit values win. @default the request's context, else `{}` */
  readonly context?: AuditContext;
  readonly details: DetailsOf<C, A>;
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
   * Logs an event once it is valid, resolving with its id when it is durable: fdatasynced in the
   * spool, or acknowledged by the collector without one. Rejects with `AuditValidationError`
   * (naming each failing field) or `AuditDeliveryError`.
   */
  logEventOrThrow<A extends string>(action: KnownAction<C, A>, props: LogEventProps<C, A & ActionOf<C>>): Promise<string>;
  /**
   * Resolves when every earlier event is acknowledged; rejects with `FlushTimeoutError` (carrying
   * `pending`) at the deadline. After `shutdown`, settles at once.
   */
  flush(options?: { timeoutMillis?: number }): Promise<void>;
  /**
   * Delivers until everything is acknowledged or the deadline (events logged meanwhile are kept as
   * usual: an HTTP server may still be draining), then stops taking events, writes the final
   * checkpoint (the true last seq: nothing can follow it) and stops. With a spool, what is left
   * stays on disk for the next start; without one, it is counted as dropped and reported. Runs
   * once; never rejects.
   */
  shutdown(options?: { timeoutMillis?: number }): Promise<ShutdownResult>;
  /** A snapshot of the delivery counters (see the README's table). Only reads: cheap enough for every metrics scrape. */
  stats(): DeliveryStats;
  /** What waits: how many, the oldest, by spool slot, and the dead letters; for a health endpoint. Only reads, no I/O. */
  pending(): PendingReport;
}

/** What `emit` returns for an event that waits in `pending`: kept, its ordinal not known yet. */
const DEFERRED = -1;

/** Seams for tests and `otel-audit spool`: the file system under the spool, the clock, one given slot. Not part of the public API. */
export interface LoggerInternals {
  readonly fs: FileSystem;
  readonly now: () => number;
  /** Open exactly this spool slot (it must be free) instead of claiming the lowest free one. */
  readonly slot?: string;
}

/**
 * Creates an audit logger: options validated, schemas compiled, spool opened and the chain head
 * recovered here, once, so that `logEvent` does no I/O and no set-up work.
 *
 * @example
 * const audit = createAuditLogger({ catalog: gristCatalog, serviceName: 'docs-api', spoolDir: '/var/lib/docs-api/audit' });
 * audit.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
 */
export function createAuditLogger<C extends Catalog>(options: AuditLoggerOptions<C>): AuditLogger<C> {
  return createAuditLoggerWith(options, { fs: nodeFileSystem, now: Date.now });
}

/**
 * The wiring, and nothing else: options resolved once; reports routed (`ReportRouter`); events
 * built and checked (`EventBuilder`); `logEvent`'s events wait for the end of the caller's
 * synchronous code (`PendingEvents`) and are then chained, mapped, encoded and queued
 * (`ChainStep`) into the delivery, whose spool keeps the chain's head (`SpooledHead`);
 * checkpoints on their own schedule (`CheckpointScheduler`); `stats()` and `pending()` read.
 */
export function createAuditLoggerWith<C extends Catalog>(options: AuditLoggerOptions<C>, internals: LoggerInternals): AuditLogger<C> {
  const resolved = resolveOptions(options);
  const reports = new ReportRouter(resolved.onError, resolved.onInfo);
  const report = (given: Parameters<ReportRouter['report']>[0]): void => reports.report(given);
  const stats = emptyStats();
  const events = new EventBuilder(resolved.catalog);
  const dropInvalid = resolved.invalidEvents === 'drop';
  const resource = auditResource({ ...resolved, version: VERSION }, process.env);
  if (resource.problem) reports.give(loggerReport('resource_ignored', resource.problem, { variable: 'OTEL_RESOURCE_ATTRIBUTES' }));
  if (resolved.export.defaultEndpoint && !resolved.exporter) {
    const { endpoint } = resolved.export;
    reports.give(
      info('default_endpoint', `audit events go to ${endpoint}, the local gateway's default: no endpoint option and no OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT is set (the generic OTEL_EXPORTER_OTLP_* variables are not used for the audit stream)`, { endpoint }),
    );
  }
  let ownSlot: SpooledHead | undefined;
  const origin: Origin = { resource: resource.attributes, scope: { name: 'otel-audit', version: VERSION } };
  const delivery = new Delivery({
    settings: resolved.delivery,
    transport: resolved.exporter ? exporterTransport(resolved.exporter, origin) : createOtlpTransport(resolved.export, origin),
    stats,
    report,
    fs: internals.fs,
    now: internals.now,
    slot: internals.slot,
    // The chain owns its head: the spool keeps it as bytes and hands it back here at open; each
    // new segment states the chain's head once the chain below is followed.
    heads: { own: (streamId) => (ownSlot = new SpooledHead(streamId)), adopted: (streamId) => new SpooledHead(streamId) },
  });
  const chain = new HashChain(ownSlot?.recovered ?? { streamId: randomUUID(), seq: 0, hash: GENESIS_HASH }, resolved.hmacKey);
  ownSlot?.follow(chain);
  const step = new ChainStep(chain, (bytes, at, header) => delivery.accept(bytes, at, header), (link, now) => checkpoints?.siteLinked(link, now));

  /** Set once shutdown has written the final checkpoint: from then on no event is taken. */
  let stopped = false;

  /** Chains and queues a checked event; returns its ordinal (0: not kept, reported). */
  function chainEvent(built: BuiltEvent, now: number, span: SpanContext | undefined, issues: ValidationIssue[] | undefined): number {
    const ordinal = step.event(built.event, now, span, built.canonical(built.event), issues, built.siteScoped);
    stats.emitted++;
    return ordinal;
  }

  /** An event of `logEvent`, checked and captured in the call, waiting to be chained. */
  interface Waiting {
    readonly built: BuiltEvent;
    readonly now: number;
    readonly span: SpanContext | undefined;
    readonly issues: ValidationIssue[] | undefined;
    readonly request: RequestAuditContext | undefined;
  }
  const pending = new PendingEvents<Waiting>(
    (waiting) =>
      reports.whileChaining(waiting.request, () => {
        const { event } = waiting.built;
        if (stopped) return void refuseAfterShutdown(event.id, event.action);
        try {
          chainEvent(waiting.built, waiting.now, waiting.span, waiting.issues);
        } catch (error) {
          // Only a schema whose output JSON cannot carry gets here (its walk was skipped as needless).
          stats.dropped++;
          const action = safeString(event.action);
          report(deliveryReport('unserializable', `event ${event.id} ("${action}") could not be written as JSON: ${safeString(error)}; it was dropped`, 1, { eventId: event.id, action }, error));
        }
      }),
    () => reports.giveHeld(),
    resolved.delivery.maxBatchRecords,
    resolved.delivery.maxQueueRecords,
  );

  const checkpoints =
    resolved.checkpoints &&
    new CheckpointScheduler({
      chain,
      ...resolved.checkpoints,
      now: internals.now,
      write: (checkpoint, now, site) => step.checkpoint(checkpoint, now, site),
      before: () => pending.drain(),
      report,
    });
  checkpoints?.start();

  /** Emit time of the oldest record or event not yet acknowledged: in the queues, else the first waiting to be chained (newer than anything queued). */
  const oldestPendingAt = (): number | undefined => delivery.oldestPendingAt() ?? pending.first?.now;
  // Reads only: events waiting to be chained are counted as emitted and pending, not chained here.
  const snapshot = (): DeliveryStats => {
    const oldest = oldestPendingAt();
    return {
      ...stats,
      emitted: stats.emitted + pending.size,
      pending: stats.pending + pending.size,
      oldestPendingAgeMillis: oldest === undefined ? 0 : Math.max(0, internals.now() - oldest),
    };
  };
  const waiting = (): PendingReport => {
    const now = internals.now();
    return { count: stats.pending + pending.size, oldest: oldestOf(oldestPendingAt(), now), unchained: pending.size, ...delivery.waiting(now) };
  };
  // The application's global MeterProvider unless one is given (a no-op one when the application registered none).
  publishStats(resolved.meterProvider ?? metrics.getMeterProvider(), snapshot, VERSION, chain.head.streamId);

  function refuseAfterShutdown(id: string, action: unknown): 0 {
    stats.dropped++;
    report(deliveryReport('logger_shut_down', `event ${id} ("${safeString(action)}") was logged after shutdown; it was not kept`, 1, { eventId: id, records: undefined }));
    return 0;
  }

  /**
   * Builds and checks one event, then chains and queues it: in the call for `logEventOrThrow`
   * (`rejectInvalid`), after the caller's synchronous code for `logEvent` (see `pending`). Returns
   * the ordinal (0 when it was not kept, DEFERRED when it waits); throws the validation error when
   * `rejectInvalid`.
   */
  function emit(id: string, action: string, props: unknown, rejectInvalid: boolean): number {
    const now = internals.now();
    if (stopped) return refuseAfterShutdown(id, action);
    const request = currentAuditContext();
    const result = events.build(id, action, props, now, request);
    let built: BuiltEvent;
    let issues: ValidationIssue[] | undefined;
    if (result.kind === 'unserializable') {
      const error = deliveryReport('unserializable', `event ${id} ("${result.action}") is not JSON data after validation (a Date, bigint, class instance or cycle in its schema's output); it was dropped`, 1, { eventId: id, action: result.action });
      stats.dropped++;
      if (rejectInvalid) throw error;
      report(error);
      return 0;
    }
    if (result.kind === 'invalid') {
      if (rejectInvalid) {
        stats.rejected++;
        throw new AuditValidationError(result.action, id, result.issues);
      }
      stats.invalid++;
      report(new AuditValidationError(result.action, id, result.issues));
      if (dropInvalid) {
        stats.dropped++;
        report(deliveryReport('invalid_dropped', `invalid event ${id} dropped (invalidEvents: 'drop')`, 1, { eventId: id, action: result.action }));
        return 0;
      }
      built = result.evidence();
      issues = result.issues;
    } else built = result;
    const span = trace.getSpanContext(otelContext.active());
    if (!rejectInvalid) {
      // What waits must be what was checked: a copy where zod handed the caller's own objects through.
      const held = built.detached ? built : { ...built, event: structuredClone(built.event) as AuditEvent };
      pending.add({ built: held, now, span, issues, request }, reports.givingHeld);
      return DEFERRED;
    }
    // What was logged before goes first: the chain follows the order of the calls.
    pending.drain();
    return chainEvent(built, now, span, issues);
  }

  /**
   * Until everything is acknowledged or the deadline, takes what is logged meanwhile (through the
   * same drain as any event); then stops taking events and writes the final checkpoint, so that it
   * states the stream's true last seq and the next run's resume marker matches it. What the
   * deadline leaves (the final checkpoint included) stays in the spool for the next start.
   */
  async function drainAndStop(timeoutMillis: number): Promise<ShutdownResult> {
    checkpoints?.stop();
    const deadline = internals.now() + timeoutMillis;
    for (;;) {
      pending.drain();
      const left = deadline - internals.now();
      if (stats.pending === 0 || left <= 0) break;
      await delivery.flush(left).catch(() => undefined);
    }
    pending.drain();
    checkpoints?.finish();
    stopped = true;
    return delivery.shutdown(Math.max(0, deadline - internals.now()), () => pending.drain());
  }

  let shutdown: Promise<ShutdownResult> | undefined;
  const logger: AuditLogger<C> = {
    catalog: resolved.catalog,
    logEvent(action, props) {
      const id = randomUUID();
      try {
        emit(id, action, props, false);
      } catch (error) {
        report(loggerReport('log_failed', `logEvent("${safeString(action)}") failed unexpectedly: ${safeString(error)}`, { eventId: id, action: safeString(action) }, error));
      }
      return id;
    },
    async logEventOrThrow(action, props) {
      const id = randomUUID();
      const ordinal = emit(id, action, props, true);
      if (ordinal === 0) {
        const why = `event ${id} was not kept (see onError)`;
        throw stopped ? deliveryReport('logger_shut_down', why, 1, { eventId: id, records: undefined }) : deliveryReport('queue_full', why, 1, { records: undefined });
      }
      await delivery.whenDurable(ordinal);
      return id;
    },
    flush: (flushOptions) => {
      pending.drain();
      return delivery.flush(flushOptions?.timeoutMillis ?? DEFAULTS.flushTimeoutMillis);
    },
    shutdown: (shutdownOptions) => (shutdown ??= drainAndStop(shutdownOptions?.timeoutMillis ?? DEFAULTS.shutdownTimeoutMillis)),
    stats: snapshot,
    pending: waiting,
  };
  return Object.freeze(logger);
}

import { randomUUID } from 'node:crypto';
import { metrics, trace, context as otelContext, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import type { z } from 'zod';
import { unknownActionMessage, type ActionOf, type Catalog, type DetailsOf, type KnownAction } from './catalog/define.js';
import { eventSchemaFor, type Actor, type AuditContext, type AuditEvent } from './catalog/envelope.js';
import { isJsonOutput } from './catalog/json-value.js';
import { currentAuditContext, runInAuditContext, type RequestAuditContext } from './context/request-context.js';
import { PendingEvents } from './pending-events.js';
import { Delivery, type ShutdownResult } from './delivery/delivery.js';
import { nodeFileSystem, type FileSystem } from './delivery/file-system.js';
import { publishStats } from './delivery/metrics.js';
import type { Origin } from './delivery/framer.js';
import { emptyStats, oldestOf, type DeliveryStats, type PendingReport } from './delivery/stats.js';
import { createOtlpTransport } from './delivery/otlp-http.js';
import { exporterTransport } from './delivery/transport.js';
import { AuditValidationError, deliveryReport, info, loggerReport, type AuditInfo, type AuditReport } from './errors.js';
import { canonicalJson } from './integrity/canonical-json.js';
import { GENESIS_HASH, HashChain, type ChainHead, type ChainLink, type SiteHead } from './integrity/chain.js';
import { checkpointEvent, SiteCheckpoints, siteCheckpointEvent, startCheckpointEvent, type CheckpointEvent, type CheckpointKind } from './integrity/checkpoint.js';
import { compileCanonicalWriter, outputIsDetached } from './integrity/canonical-writer.js';
import { linkHeader, SpooledHead } from './integrity/spooled-head.js';
import { ATTR } from './attributes.js';
import { DEFAULTS, resolveOptions, type AuditLoggerOptions } from './options.js';
import { encodeLogRecord } from './record/encoder.js';
import { siteIdOf, toLogRecord, type AuditLogRecord, type ValidationIssue } from './record/mapping.js';
import { auditResource } from './resource.js';
import { reportToDiag } from './diagnostics.js';
import { safeString, toJsonSafe } from './sanitize.js';
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

/** Periodic site checkpoints written per turn of the event loop (about 50 µs each, signed): no turn is held much longer than 10 ms by them. */
const SITE_CHECKPOINTS_PER_TURN = 200;

/** What `emit` returns for an event that waits in `pending`: kept, its ordinal not known yet. */
const DEFERRED = -1;

function defaultReport(report: AuditReport): void {
  process.emitWarning(report.message, { type: report.name, code: 'OTEL_AUDIT' });
}

function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

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

export function createAuditLoggerWith<C extends Catalog>(options: AuditLoggerOptions<C>, internals: LoggerInternals): AuditLogger<C> {
  const resolved = resolveOptions(options);
  const onError = resolved.onError ?? defaultReport;
  // Information goes to diag only, unless the application asks for it.
  const onInfo = resolved.onInfo;
  const giveReport = (report: AuditReport | AuditInfo): void => {
    reportToDiag(report);
    try {
      if (report.level !== 'info') onError(report);
      else onInfo?.(report);
    } catch {
      // A failing hook must not turn logging into a crash.
    }
  };
  /** The deferred event being chained: a report raised meanwhile waits for the end of the drain and is given in that event's request context. */
  let processing: { readonly request: RequestAuditContext | undefined } | undefined;
  const held: { report: AuditReport | AuditInfo; request: RequestAuditContext | undefined }[] = [];
  /** True while held reports are given: an event a hook logs then waits for the next turn (a hook that logs on every error cannot loop in the call). */
  let reporting = false;
  const report = (given: AuditReport | AuditInfo): void => {
    if (processing) held.push({ report: given, request: processing.request });
    else giveReport(given);
  };
  const stats = emptyStats();
  // Compiled once per action: the validator, the canonical JSON writer with its keys pre-sorted,
  // whether zod's output is JSON data detached from the caller's objects (else it is checked to be
  // JSON, and copied before it waits), and whether its scopes include `site` (its events with a
  // site get a link in their site's chain).
  const compiled = new Map<string, { validator: z.ZodType; canonical: (event: unknown) => string; detached: boolean; siteScoped: boolean }>();
  for (const [action, definition] of Object.entries(resolved.catalog.actions)) {
    const validator = eventSchemaFor(action, definition.details);
    compiled.set(action, { validator, canonical: compileCanonicalWriter(validator), detached: outputIsDetached(validator), siteScoped: definition.scopes.includes('site') });
  }
  const dropInvalid = resolved.invalidEvents === 'drop';
  const resource = auditResource({ ...resolved, version: VERSION }, process.env);
  if (resource.problem) giveReport(loggerReport('resource_ignored', resource.problem, { variable: 'OTEL_RESOURCE_ATTRIBUTES' }));
  if (resolved.export.defaultEndpoint && !resolved.exporter) {
    const { endpoint } = resolved.export;
    giveReport(
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
    // The chain owns its head: the spool keeps it as bytes, hands it back here at open, and states
    // the chain's head in each new segment once the chain below follows it.
    heads: { own: (streamId) => (ownSlot = new SpooledHead(streamId)), adopted: (streamId) => new SpooledHead(streamId) },
  });
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
  const chain: HashChain = new HashChain(ownSlot?.recovered ?? { streamId: randomUUID(), seq: 0, hash: GENESIS_HASH }, resolved.hmacKey);
  ownSlot?.follow(chain);
  // The application's global MeterProvider unless one is given (a no-op one when the application registered none).
  publishStats(resolved.meterProvider ?? metrics.getMeterProvider(), snapshot, VERSION, chain.head.streamId);
  const checkpoints = resolved.checkpoints;
  const siteCheckpoints = checkpoints && new SiteCheckpoints(checkpoints.intervalMillis);

  /** Set once shutdown has written the final checkpoint: from then on no event is taken. */
  let stopped = false;

  /** Encodes and queues one record (the one mapping's, `toLogRecord`); returns its ordinal (0: not kept, reported). */
  function send(record: AuditLogRecord, link: ChainLink | undefined, span: SpanContext | undefined): number {
    const bytes = encodeLogRecord(record, span && isSpanContextValid(span) ? span : undefined);
    return delivery.accept(bytes, record.observedTimestamp, linkHeader(link));
  }

  /**
   * Chains, encodes and queues a validated (or flagged) event; returns its ordinal (0: not kept,
   * reported). An event of a site-scoped action with a site is linked into its site's chain too;
   * a site's first event in the stream comes after its resume marker (at seq 0), stamped with the
   * event's own time.
   */
  function chainAndSend(event: AuditEvent, now: number, span: SpanContext | undefined, canonical: string, issues: ValidationIssue[] | undefined, siteScoped: boolean): number {
    const link = chain.next(canonical, siteScoped ? siteIdOf(event) : undefined);
    if (link.site && siteCheckpoints) {
      const { site, seq } = link.site;
      if (seq === 1) checkpointing('start', () => sendSiteCheckpoint('start', site, { seq: 0, hash: GENESIS_HASH }, checkpoints!.intervalMillis, now));
      siteCheckpoints.advanced(site);
    }
    const ordinal = send(toLogRecord(event, { observedAt: now, link, issues }), link, span);
    stats.emitted++;
    return ordinal;
  }

  /** An event of `logEvent`, validated and captured in the call, waiting to be chained. */
  interface Waiting {
    readonly event: AuditEvent;
    readonly now: number;
    readonly span: SpanContext | undefined;
    readonly canonical: (event: unknown) => string;
    readonly issues: ValidationIssue[] | undefined;
    readonly siteScoped: boolean;
    readonly request: RequestAuditContext | undefined;
  }
  const pending = new PendingEvents<Waiting>(
    (waiting) => {
      processing = waiting;
      try {
        if (stopped) return refuseAfterShutdown(waiting.event.id, waiting.event.action);
        chainAndSend(waiting.event, waiting.now, waiting.span, waiting.canonical(waiting.event), waiting.issues, waiting.siteScoped);
      } catch (error) {
        // Only a schema whose output JSON cannot carry gets here (its walk was skipped as needless).
        stats.dropped++;
        const action = safeString(waiting.event.action);
        report(deliveryReport('unserializable', `event ${waiting.event.id} ("${action}") could not be written as JSON: ${safeString(error)}; it was dropped`, 1, { eventId: waiting.event.id, action }, error));
      } finally {
        processing = undefined;
      }
    },
    () => {
      // One delivery at a time: reports that a hook's own logging raises meanwhile join this loop.
      if (reporting) return;
      reporting = true;
      try {
        for (let next = held.shift(); next; next = held.shift()) {
          const { report: given, request } = next;
          runInAuditContext(request, () => giveReport(given));
        }
      } finally {
        reporting = false;
      }
    },
    resolved.delivery.maxBatchRecords,
    resolved.delivery.maxQueueRecords,
  );

  /** Queues a checkpoint record: the stream's, or (`site`) a site's, with the site head it states among its attributes, so that it passes the site's filter. */
  function sendCheckpoint(checkpoint: { event: CheckpointEvent; signature?: string }, now: number, site?: SiteHead): void {
    const record = toLogRecord(checkpoint.event, { observedAt: now });
    const { attributes } = record;
    attributes[ATTR.streamId] = chain.head.streamId;
    if (site) {
      attributes[ATTR.siteSeq] = site.seq;
      attributes[ATTR.siteHash] = site.hash;
    }
    if (checkpoint.signature) attributes[ATTR.signature] = checkpoint.signature;
    send(record, undefined, undefined);
  }

  function sendSiteCheckpoint(kind: CheckpointKind, site: string, head: SiteHead, intervalMillis: number, now: number): void {
    sendCheckpoint(siteCheckpointEvent(kind, chain.head.streamId, site, head, intervalMillis, now, checkpoints!.signingKey), now, head);
    siteCheckpoints!.checkpointed(site, now, intervalMillis);
  }

  /** Runs a checkpoint's writing: a failure is reported, never thrown into the event that triggered it. */
  function checkpointing(kind: CheckpointKind, write: () => void): void {
    try {
      write();
    } catch (error) {
      report(loggerReport('checkpoint_failed', `checkpoint failed: ${safeString(error)}`, { checkpoint: kind }, error));
    }
  }

  /** Periodic site checkpoints not written yet: a signed checkpoint takes about 50 µs, so many sites' are written a slice per turn of the event loop. */
  const siteBacklog: { site: string; intervalMillis: number }[] = [];

  function writeSiteCheckpoints(): void {
    if (stopped) return;
    pending.drain();
    checkpointing('periodic', () => {
      const now = internals.now();
      for (const { site, intervalMillis } of siteBacklog.splice(0, SITE_CHECKPOINTS_PER_TURN)) sendSiteCheckpoint('periodic', site, chain.sites.get(site)!, intervalMillis, now);
    });
    if (siteBacklog.length > 0) setImmediate(writeSiteCheckpoints).unref();
  }

  /**
   * The stream's checkpoint and its sites': at the start (a resume marker for each site the run
   * resumes), periodically (the sites `SiteCheckpoints` says are due, a slice per turn), and at the
   * end (every site, at once: nothing follows them).
   */
  function emitCheckpoint(kind: CheckpointKind): void {
    pending.drain();
    if (!checkpoints || !siteCheckpoints || stopped) return;
    checkpointing(kind, () => {
      const now = internals.now();
      const { intervalMillis, signingKey } = checkpoints;
      sendCheckpoint(
        kind === 'start' ? startCheckpointEvent(chain.head, intervalMillis, now, signingKey) : checkpointEvent(chain.head, intervalMillis, kind === 'final', now, signingKey),
        now,
      );
      if (kind === 'periodic') {
        const idle = siteBacklog.length === 0;
        for (const due of siteCheckpoints.due(now)) siteBacklog.push(due);
        if (idle) writeSiteCheckpoints();
        return;
      }
      // A resumed site is quiet until its chain advances; after a final one, silence is expected anyway.
      const promised = kind === 'start' ? siteCheckpoints.quietMillis : intervalMillis;
      for (const [site, head] of chain.sites) sendSiteCheckpoint(kind, site, head, promised, now);
    });
  }
  // The resume marker: where this run continues the stream, before any event (verify detects a copy cut after a restart).
  emitCheckpoint('start');
  const checkpointTimer = checkpoints ? setInterval(() => emitCheckpoint('periodic'), checkpoints.intervalMillis) : undefined;
  checkpointTimer?.unref();

  function refuseAfterShutdown(id: string, action: unknown): 0 {
    stats.dropped++;
    report(deliveryReport('logger_shut_down', `event ${id} ("${safeString(action)}") was logged after shutdown; it was not kept`, 1, { eventId: id, records: undefined }));
    return 0;
  }

  /**
   * Builds and validates one event, then chains and queues it: in the call for `logEventOrThrow`
   * (`rejectInvalid`), after the caller's synchronous code for `logEvent` (see `pending`). Returns
   * the ordinal (0 when it was not kept, DEFERRED when it waits); throws the validation error when
   * `rejectInvalid`.
   */
  function emit(id: string, action: string, props: unknown, rejectInvalid: boolean): number {
    const now = internals.now();
    if (stopped) return refuseAfterShutdown(id, action);
    const given = (typeof props === 'object' && props !== null ? props : {}) as Partial<LogEventProps<C, ActionOf<C>>>;
    const request = currentAuditContext();
    const raw: AuditEvent = {
      id,
      action,
      actor: given.actor ?? request?.actor ?? { type: 'unknown' },
      context: request?.context && given.context ? { ...request.context, ...given.context } : (given.context ?? request?.context ?? {}),
      timestamp: new Date(now).toISOString(),
      details: given.details,
    };
    const forAction = compiled.get(action);
    const validator = forAction?.validator;
    const actionName = safeString(action);
    let issues: ValidationIssue[] | undefined;
    let event: AuditEvent | undefined;
    if (!validator) issues = [{ path: 'action', message: unknownActionMessage(actionName, compiled.keys()) }];
    else {
      try {
        const result = validator.safeParse(raw);
        // What is sent is what was validated: zod's output (unknown keys stripped, transforms and defaults applied).
        if (result.success) event = result.data as AuditEvent;
        else issues = issuesOf(result.error);
      } catch (error) {
        // zod lets exceptions of hostile getters and proxies through.
        issues = [{ path: '', message: `the event could not be read: ${safeString(error)}` }];
      }
    }
    if (issues) {
      if (rejectInvalid) {
        stats.rejected++;
        throw new AuditValidationError(actionName, id, issues);
      }
      stats.invalid++;
      report(new AuditValidationError(actionName, id, issues));
      if (dropInvalid) {
        stats.dropped++;
        report(deliveryReport('invalid_dropped', `invalid event ${id} dropped (invalidEvents: 'drop')`, 1, { eventId: id, action: actionName }));
        return 0;
      }
      // An invalid event is copied into JSON-safe data first: the evidence is kept, nothing can throw later.
      event = toJsonSafe(raw) as AuditEvent;
    } else if (!forAction!.detached && !isJsonOutput(event)) {
      // A schema may output what JSON cannot carry (z.date(), z.bigint(), a class instance): refuse it loudly.
      const error = deliveryReport('unserializable', `event ${id} ("${actionName}") is not JSON data after validation (a Date, bigint, class instance or cycle in its schema's output); it was dropped`, 1, { eventId: id, action: actionName });
      stats.dropped++;
      if (rejectInvalid) throw error;
      report(error);
      return 0;
    }
    const span = trace.getSpanContext(otelContext.active());
    const canonical = issues ? canonicalJson : forAction!.canonical;
    if (!rejectInvalid) {
      // What waits must be what was validated: a copy where zod handed the caller's own objects through.
      pending.add({ event: issues || forAction!.detached ? event! : structuredClone(event!), now, span, canonical, issues, siteScoped: forAction?.siteScoped ?? false, request }, reporting);
      return DEFERRED;
    }
    // What was logged before goes first: the chain follows the order of the calls.
    pending.drain();
    return chainAndSend(event!, now, span, canonical(event), issues, forAction?.siteScoped ?? false);
  }

  /**
   * Until everything is acknowledged or the deadline, takes what is logged meanwhile (through the
   * same drain as any event); then stops taking events and writes the final checkpoint, so that it
   * states the stream's true last seq and the next run's resume marker matches it. What the
   * deadline leaves (the final checkpoint included) stays in the spool for the next start.
   */
  async function drainAndStop(timeoutMillis: number): Promise<ShutdownResult> {
    clearInterval(checkpointTimer);
    const deadline = internals.now() + timeoutMillis;
    for (;;) {
      pending.drain();
      const left = deadline - internals.now();
      if (stats.pending === 0 || left <= 0) break;
      await delivery.flush(left).catch(() => undefined);
    }
    pending.drain();
    emitCheckpoint('final');
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

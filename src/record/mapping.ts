import { ATTR } from '../attributes.js';
import type { AuditEvent } from '../catalog/envelope.js';
import type { ChainLink } from '../integrity/chain.js';

/** One failed check of an invalid event: where (dotted path) and what. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** What the logger knows about an event besides the event itself. */
export interface RecordExtras {
  /** Emit time, ms since the epoch. */
  readonly observedAt: number;
  readonly link?: ChainLink;
  /** Set only for an event that failed validation. */
  readonly issues?: readonly ValidationIssue[];
}

/** OpenTelemetry's severities INFO and WARN (the logs data model): plain numbers, the same in every API version. */
const INFO = Object.freeze({ severityNumber: 9, severityText: 'INFO' } as const);
const WARN = Object.freeze({ severityNumber: 13, severityText: 'WARN' } as const);

/**
 * A record's severity: INFO for an event, WARN for one that failed validation (delivered flagged
 * `audit.invalid`), so that a SIEM's alerts on warnings see it: a buggy audit record is evidence
 * that the application's auditing is broken somewhere.
 */
export function severityOf(invalid: boolean): { readonly severityNumber: number; readonly severityText: 'INFO' | 'WARN' } {
  return invalid ? WARN : INFO;
}

/** A log record's body: any value OpenTelemetry logs carry (the `AnyValue` of its API). */
export type LogBody = string | number | boolean | Uint8Array | null | undefined | readonly LogBody[] | { readonly [key: string]: LogBody };

/**
 * An audit event as an OpenTelemetry log record: the shape of the API's `LogRecord` (in
 * `@opentelemetry/api` 1.10, and `@opentelemetry/api-logs` before), so either line's
 * `logger.emit()` takes it.
 */
export interface AuditLogRecord {
  readonly eventName: string;
  readonly severityNumber: number;
  readonly severityText: string;
  /** Event time, ms since the epoch. */
  readonly timestamp: number;
  /** Emit time, ms since the epoch. */
  readonly observedTimestamp: number;
  /** The canonical event. */
  readonly body: { readonly [key: string]: LogBody };
  readonly attributes: Record<string, string | number | boolean>;
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function id(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * The site of an event, as `audit.site.id` carries it (`context.site.id`, a number as its digits),
 * or undefined when it has none. Defensive on shape: invalid events have sites too.
 */
export function siteIdOf(event: AuditEvent): string | undefined {
  return id(record(record(event.context)['site'])['id']);
}

/**
 * The attributes of an event's log record (see the README's mapping table). Pure: it reads only
 * its arguments. Defensive on shape, because invalid events are mapped too.
 */
export function recordAttributes(event: AuditEvent, extras: Omit<RecordExtras, 'observedAt'>): Record<string, string | number | boolean> {
  const actor = record(event.actor);
  const user = record(actor['user']);
  const context = record(event.context);
  const site = record(context['site']);
  const attributes: Record<string, string | number | boolean> = {};
  const put = (name: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) attributes[name] = value;
  };
  put(ATTR.recordUid, text(event.id));
  put(ATTR.action, text(event.action));
  put(ATTR.actorType, text(actor['type']));
  put(ATTR.userId, id(user['id']));
  put(ATTR.userEmail, text(user['email']));
  put(ATTR.userFullName, text(user['name']));
  put(ATTR.userLogin, text(user['login']));
  put(ATTR.clientAddress, text(context['ip_address']));
  put(ATTR.userAgent, text(context['user_agent']));
  put(ATTR.sessionId, text(context['session_id']));
  put(ATTR.siteId, siteIdOf(event));
  put(ATTR.siteName, text(site['name']));
  put(ATTR.siteDomain, text(site['domain']));
  const { link, issues } = extras;
  if (link) {
    attributes[ATTR.streamId] = link.streamId;
    attributes[ATTR.seq] = link.seq;
    attributes[ATTR.prevHash] = link.prevHash;
    attributes[ATTR.hash] = link.hash;
    if (link.site) {
      attributes[ATTR.siteSeq] = link.site.seq;
      attributes[ATTR.sitePrevHash] = link.site.prevHash;
      attributes[ATTR.siteHash] = link.site.hash;
    }
  }
  if (issues) {
    attributes[ATTR.invalid] = true;
    attributes[ATTR.validationIssues] = JSON.stringify(issues);
  }
  return attributes;
}

/** The event time of a record: the event's timestamp, or the emit time when it has none that parses. */
export function eventTimeOf(event: AuditEvent, observedAt: number): number {
  const eventTime = Date.parse(event.timestamp);
  return Number.isNaN(eventTime) ? observedAt : eventTime;
}

/**
 * Maps an audit event to an OpenTelemetry log record: the canonical event is the body, everything
 * a SIEM indexes travels as attributes (see the README's mapping table). Pure: it reads only its
 * arguments.
 */
export function toLogRecord(event: AuditEvent, extras: RecordExtras): AuditLogRecord {
  return {
    eventName: text(event.action) ?? 'audit.unknown',
    ...severityOf(extras.issues !== undefined),
    timestamp: eventTimeOf(event, extras.observedAt),
    observedTimestamp: extras.observedAt,
    // The event is JSON data (validated, or copied into JSON-safe data when invalid).
    body: event as unknown as AuditLogRecord['body'],
    attributes: recordAttributes(event, extras),
  };
}

import { SeverityNumber, type AnyValueMap, type LogRecord } from '@opentelemetry/api-logs';
import { ATTR } from './attributes.js';
import type { AuditEvent } from './catalog/envelope.js';
import type { ChainLink } from './integrity/chain.js';

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

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function id(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * Maps an audit event to an OpenTelemetry log record: the canonical event is the body, everything
 * a SIEM indexes travels as attributes (see the README's mapping table). Pure: it reads only its
 * arguments. Defensive on shape, because invalid events are mapped too.
 */
export function toLogRecord(event: AuditEvent, extras: RecordExtras): LogRecord {
  const actor = record(event.actor);
  const user = record(actor['user']);
  const context = record(event.context);
  const site = record(context['site']);
  const candidates: [string, string | number | boolean | undefined][] = [
    [ATTR.recordUid, text(event.id)],
    [ATTR.action, text(event.action)],
    [ATTR.actorType, text(actor['type'])],
    [ATTR.userId, id(user['id'])],
    [ATTR.userEmail, text(user['email'])],
    [ATTR.userName, text(user['name'])],
    [ATTR.clientAddress, text(context['ip_address'])],
    [ATTR.userAgent, text(context['user_agent'])],
    [ATTR.sessionId, text(context['session_id'])],
    [ATTR.siteId, id(site['id'])],
    [ATTR.siteName, text(site['name'])],
    [ATTR.siteDomain, text(site['domain'])],
  ];
  const { link, issues } = extras;
  if (link) {
    candidates.push(
      [ATTR.streamId, link.streamId],
      [ATTR.seq, link.seq],
      [ATTR.prevHash, link.prevHash],
      [ATTR.hash, link.hash],
    );
  }
  if (issues) candidates.push([ATTR.invalid, true], [ATTR.validationIssues, JSON.stringify(issues)]);

  const attributes: AnyValueMap = {};
  for (const [name, value] of candidates) if (value !== undefined) attributes[name] = value;

  const eventTime = Date.parse(event.timestamp);
  return {
    eventName: text(event.action) ?? 'audit.unknown',
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    timestamp: Number.isNaN(eventTime) ? extras.observedAt : eventTime,
    observedTimestamp: extras.observedAt,
    body: event as unknown as AnyValueMap,
    attributes,
  };
}

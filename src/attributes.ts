/**
 * Every attribute name otel-audit writes, in one place. Semantic-convention names first
 * (semantic-conventions 1.45); `audit.*` for what the conventions do not cover yet.
 * The README's mapping table documents each; test/readme.test.ts checks the table against this
 * file, and test/semantic-conventions.test.ts checks every convention name against the
 * `@opentelemetry/semantic-conventions` package (present, not deprecated).
 */
export const ATTR = {
  /** The event id: lets a SIEM deduplicate (semconv `log.record.uid`). */
  recordUid: 'log.record.uid',
  /** The action, because exporters such as Splunk HEC do not map the OTLP `eventName`. */
  action: 'audit.action',
  actorType: 'audit.actor.type',
  userId: 'user.id',
  userEmail: 'user.email',
  /** The display name (`actor.user.name`, e.g. "Flapjack Toasty"). */
  userFullName: 'user.full_name',
  /** The login (`actor.user.login`), only where the application has one: semconv's `user.name` is a short name or login, never a display name. */
  userLogin: 'user.name',
  clientAddress: 'client.address',
  userAgent: 'user_agent.original',
  sessionId: 'session.id',
  siteId: 'audit.site.id',
  siteName: 'audit.site.name',
  siteDomain: 'audit.site.domain',
  /** Gap-free sequence number of the event in its site's chain within the stream (site-scoped actions with a site only). */
  siteSeq: 'audit.site.seq',
  sitePrevHash: 'audit.site.prev_hash',
  siteHash: 'audit.site.hash',
  /** Present (true) only on events that failed validation. */
  invalid: 'audit.invalid',
  /** JSON array of `{path, message}` for an invalid event. */
  validationIssues: 'audit.validation.issues',
  streamId: 'audit.stream.id',
  seq: 'audit.seq',
  hash: 'audit.hash',
  prevHash: 'audit.prev_hash',
  /** On `audit.checkpoint` records: Ed25519 signature (base64) over the checkpoint body. */
  signature: 'audit.checkpoint.signature',
} as const;

/**
 * The records of a site's copy: those whose `audit.site.id` is the site and that carry a site
 * sequence number, which the logger writes only on events of site-scoped actions with that site
 * in their context, and on that site's checkpoints. An installation-only action, or an event
 * without a site, never has one, whatever its context says.
 */
export function inSiteCopy(attributes: Readonly<Record<string, unknown>>, site: string): boolean {
  return attributes[ATTR.siteId] === site && attributes[ATTR.siteSeq] !== undefined;
}

/**
 * `inSiteCopy` as an OTTL condition on a log record that is true for every record NOT in the
 * site's copy: what a Collector `filter` processor (`logs: { log_record: [...] }`, which drops the
 * records a condition matches) needs first in a site destination's pipeline. The site id is
 * written as a quoted string literal (JSON escapes, which OTTL reads as Go does); a renderer of
 * Collector YAML still doubles any `$` (the Collector's `${...}` expansion).
 */
export function siteCopyDropCondition(site: string): string {
  if (typeof site !== 'string' || site === '') throw new TypeError('site must be a non-empty string (the audit.site.id of its events)');
  const id = `attributes[${JSON.stringify(ATTR.siteId)}]`;
  return `${id} == nil or ${id} != ${JSON.stringify(site)} or attributes[${JSON.stringify(ATTR.siteSeq)}] == nil`;
}

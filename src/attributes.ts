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

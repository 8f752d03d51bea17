export { createAuditLogger } from './logger.js';
export type { AuditLogger, AuditLoggerOptions, LogEventProps, ShutdownResult } from './logger.js';
export { replaySpool } from './spool-replay.js';
export type { SlotReplay } from './spool-replay.js';
export { AuditOptionsError } from './options.js';
export { defineCatalog, extendCatalog, CatalogDefinitionError } from './catalog/define.js';
export type { ActionDefinition, ActionOf, Catalog, DetailsOf, Scope } from './catalog/define.js';
export { actorSchema, contextSchema } from './catalog/envelope.js';
export type { Actor, AuditContext, AuditEvent } from './catalog/envelope.js';
export { jsonValue } from './catalog/json-value.js';
export type { JsonValue } from './catalog/json-value.js';
export { toLogRecord } from './record/mapping.js';
export type { AuditLogRecord, LogBody, ValidationIssue } from './record/mapping.js';
export { ATTR, inSiteCopy, siteCopyDropCondition } from './attributes.js';
export { AuditError, AuditValidationError, AuditDeliveryError, AuditLoggerError, FlushTimeoutError } from './errors.js';
export type {
  AuditInfo,
  AuditReport,
  DeliveryFailureReason,
  DeliveryReport,
  DeliveryReportFields,
  InfoFields,
  InfoReason,
  LoggerReport,
  LoggerReportFields,
  LoggerReportReason,
  ReportLevel,
} from './errors.js';
export type { DeliveryStats, Oldest, PendingReport, PendingSlot } from './delivery/stats.js';
export type { DeliveryOptions } from './options.js';
export type { RetryOptions } from './delivery/backoff.js';
export type { ExportOptions, OtlpProtocol } from './delivery/transport.js';
export type { ExportedLogRecord, LogRecordExporter } from './delivery/log-record-exporter.js';
export { runWithAuditContext, currentAuditContext } from './context/request-context.js';
export type { RequestAuditContext } from './context/request-context.js';
export { canonicalJson } from './integrity/canonical-json.js';
export { auditContext, auditContextFromRequest, clientAddress, fastifyAuditContext, setAuditActor, withAuditContext } from './context/http.js';
export type { ForwardedHeader, HttpContextOptions, Identity } from './context/http.js';
export { describeDamage, MAX_FRAME_BYTES, readTrail, streamTrail } from './integrity/trail.js';
export type { StreamTrailOptions, TrailDamage, TrailRecord } from './integrity/trail.js';
export { TrailVerifier, verifyTrail } from './integrity/verify.js';
export type { Downtime, RecordRef, StreamReport, SupersededBranch, VerifyOptions, VerifyReport } from './integrity/verify.js';

// Type-level tests of the reports: onError narrows by `reason` without casts, each reason with its
// own fields; information has its own hook. Compiled by `tsc --noEmit` and by test/types.test.ts.
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { AuditDeliveryError, AuditError, createAuditLogger, type AuditInfo, type AuditReport, type PendingReport, type ReportLevel } from '../../src/index.js';

const seen: unknown[] = [];

function handle(report: AuditReport): void {
  // Every report is an AuditError with a level that is never `info`.
  const error: AuditError = report;
  const level: 'error' | 'warn' = report.level;
  seen.push(error, level);
  switch (report.reason) {
    case 'collector_refused': {
      const status: number | undefined = report.status;
      const url: string = report.url;
      const answer: string = report.answer;
      seen.push(status, url, answer, report.count);
      break;
    }
    case 'dead_letter':
    case 'retry_exhausted': {
      const file: string | undefined = report.file;
      const records: readonly string[] | undefined = report.records;
      seen.push(file, records, report.count, report.why);
      break;
    }
    case 'queue_full':
      seen.push(report.count, report.records);
      // @ts-expect-error a queue_full report has no file
      seen.push(report.file);
      break;
    case 'spool_corrupt': {
      const segment: string = report.segment;
      const offset: number = report.offset;
      seen.push(segment, offset, report.skippedBytes);
      break;
    }
    case 'spool_unavailable':
      seen.push(report.path, report.operation);
      break;
    case 'collector_unreachable':
      seen.push(report.downMillis, report.oldestPendingAgeMillis, report.url);
      break;
    case 'invalid_event':
      seen.push(report.issues.map((issue) => issue.path), report.eventId);
      // @ts-expect-error a validation report carries no count
      seen.push(report.count);
      break;
    case 'invalid_dropped':
    case 'unserializable':
      seen.push(report.eventId, report.action);
      break;
    case 'shutdown_pending':
      seen.push(report.records);
      break;
    case 'logger_shut_down':
      seen.push(report.eventId);
      break;
    case 'resource_ignored':
      seen.push(report.variable);
      break;
    case 'checkpoint_failed':
      seen.push(report.checkpoint);
      break;
    case 'log_failed':
      seen.push(report.eventId);
      break;
    // @ts-expect-error information never reaches onError
    case 'collector_recovered':
      break;
    default: {
      // Every reason is handled above: nothing is left.
      const rest: never = report;
      seen.push(rest);
    }
  }
  // instanceof still works, and narrows too.
  if (report instanceof AuditDeliveryError) seen.push(report.count);
}

function handleInfo(info: AuditInfo): void {
  const level: ReportLevel = info.level;
  seen.push(level);
  if (info.reason === 'collector_recovered') seen.push(info.downMillis, info.url);
  else if (info.reason === 'backlog_replayed') seen.push(info.count, info.slot, info.adopted);
  else seen.push(info.endpoint);
  // @ts-expect-error information is not an error
  const error: AuditError = info;
  seen.push(error);
}

const audit = createAuditLogger({ catalog: gristCatalog, onError: handle, onInfo: handleInfo });
const waiting: PendingReport = audit.pending();
seen.push(waiting.count, waiting.oldest?.ageMillis, waiting.slots[0]?.dir, waiting.deadLetters.count, audit.stats().rejected);

// @ts-expect-error onError takes reports, and information is not one
createAuditLogger({ catalog: gristCatalog, onError: (report: AuditInfo) => seen.push(report) });

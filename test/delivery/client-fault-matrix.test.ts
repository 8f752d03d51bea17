// The client fault matrix: the public API (createAuditLogger) against small listeners that answer
// each way a collector, a proxy or a stranger can answer, for a while, then recover to a plain
// OTLP acknowledgement; with the in-memory queue and with a spool. Every cell checks that the event
// loop stayed responsive, that every event was delivered after the recovery or dead-lettered with
// its reason (only where the answer blamed the records: a 400 with an OTLP Status, a 413), which
// reports were given, and that what arrived (with the dead letters) verifies clean. The matrix is
// printed. No Collector is needed: the wire details are the point; test/e2e proves pipelines.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { decodeLogRecord } from '../../src/record/decoder.js';
import { AuditDeliveryError, createAuditLogger, type AuditError, type AuditInfo } from '../../src/index.js';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { checkDocSection } from '../helpers/doc-sections.js';
import { otlpStatus, startOtlpListener, type Answer, type ReceivedRecord } from '../helpers/otlp-listener.js';

/** How long each listener answers its fault before it recovers. */
const FAULT_MILLIS = 1500;
const MAX_LAG_MILLIS = 100;

const html = (title: string) => `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`;
const nginx = (status: number, title: string): Answer => ({ status, headers: { 'content-type': 'text/html' }, body: html(`${status} ${title}`) });

interface Row {
  readonly answer: string;
  readonly fault: Answer;
  /** Reports every cell of the row must have given. */
  readonly reports: readonly string[];
  /** The answer blames the records: what arrives during the fault is dead-lettered, with this reason. */
  readonly deadLetters?: RegExp;
}

const rows: Row[] = [
  { answer: '200 OTLP', fault: { status: 200, body: Uint8Array.from([0x0a, 0x00]) }, reports: [] },
  { answer: '200 empty (application/x-protobuf)', fault: { status: 200, body: '' }, reports: [] },
  { answer: '200 empty, no content type', fault: { status: 200, headers: { 'content-type': '' }, body: '', keep: false }, reports: ['collector_refused'] },
  { answer: '200 HTML', fault: { ...nginx(200, 'Welcome'), keep: false }, reports: ['collector_refused'] },
  { answer: '200 garbage protobuf', fault: { status: 200, body: '\n\n', keep: false }, reports: ['collector_refused'] },
  { answer: '400 OTLP Status', fault: { status: 400, body: otlpStatus(3, 'log record rejected by the test') }, reports: ['dead_letter'], deadLetters: /^HTTP 400: log record rejected by the test$/ },
  { answer: '400 HTML', fault: nginx(400, 'Bad Request'), reports: ['collector_refused'] },
  { answer: '401', fault: { status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized' }, reports: ['collector_refused'] },
  { answer: '403', fault: nginx(403, 'Forbidden'), reports: ['collector_refused'] },
  { answer: '404', fault: { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' }, reports: ['collector_refused'] },
  { answer: '413', fault: nginx(413, 'Request Entity Too Large'), reports: ['dead_letter'], deadLetters: /^HTTP 413: too large for http:\/\/127\.0\.0\.1:\d+\/v1\/logs \(one record of \d+ bytes\)$/ },
  { answer: '415', fault: { status: 415, headers: { 'content-type': 'text/plain' }, body: 'unsupported media type' }, reports: ['collector_refused'] },
  { answer: '429 + Retry-After', fault: { status: 429, headers: { 'retry-after': '1' }, body: otlpStatus(8, 'slow down') }, reports: ['collector_unreachable', 'collector_recovered'] },
  { answer: '500', fault: { status: 500, body: otlpStatus(13, 'internal') }, reports: ['collector_unreachable', 'collector_recovered'] },
  { answer: '503', fault: nginx(503, 'Service Unavailable'), reports: ['collector_unreachable', 'collector_recovered'] },
  { answer: 'reset', fault: { status: 0, reset: true }, reports: ['collector_unreachable', 'collector_recovered'] },
  { answer: 'hang', fault: { status: 0, hang: true }, reports: ['collector_unreachable', 'collector_recovered'] },
];

/** Reports that no row may give: each is a loss or a failure of the logger itself. */
const NEVER = ['queue_full', 'shutdown_pending', 'spool_unavailable', 'spool_corrupt', 'logger_shut_down', 'unserializable'];

interface Cell {
  delivered: number;
  deadLettered: number;
  /** The reason the first dead letter carries. */
  deadReason: string | undefined;
  reports: string[];
  maxLagMillis: number;
  verified: boolean;
}

const matrix = new Map<string, { memory?: Cell; spool?: Cell }>();

const trailOf = (record: ReceivedRecord, source: string): TrailRecord => ({ body: record.body, attributes: record.attributes, resource: record.resource, eventName: record.eventName, timeUnixNano: record.timeUnixNano, source });

/** A cell's listener and logger, made before any cell runs: creating a logger compiles the catalog, which is not what the lag measures. */
interface Setup {
  readonly listener: Awaited<ReturnType<typeof startOtlpListener>>;
  readonly audit: ReturnType<typeof createAuditLogger>;
  readonly dir: string;
  readonly errors: AuditError[];
  /** What onInfo was told (collector_recovered): information, apart from the errors. */
  readonly infos: AuditInfo[];
  /** Until when the listener answers its fault; before the cell starts, it acknowledges. */
  faultUntil: number;
}

async function setUp(row: Row, spool: boolean): Promise<Setup> {
  const setup = { faultUntil: 0 } as Setup;
  const listener = await startOtlpListener(() => (Date.now() < setup.faultUntil ? row.fault : { status: 200 }));
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-matrix-'));
  const errors: AuditError[] = [];
  const infos: AuditInfo[] = [];
  const audit = createAuditLogger({
    catalog: gristCatalog,
    endpoint: listener.url,
    ...(spool ? { spoolDir: dir } : {}),
    maxBatchRecords: 10,
    timeoutMillis: 2000,
    retry: { initialDelayMillis: 100, maxDelayMillis: 500 },
    outage: { reportAfterMillis: 1000 },
    onError: (error) => errors.push(error),
    onInfo: (info) => infos.push(info),
  });
  return Object.assign(setup, { listener, audit, dir, errors, infos });
}

const setups = new Map<string, Setup>();
const key = (row: Row, spool: boolean) => `${row.answer}|${spool}`;

/** Cells start this far apart: 34 applications share this process's event loop, and their bursts of logEvent calls must not all land in one turn. */
const STAGGER_MILLIS = 50;

async function cell(row: Row, spool: boolean, index: number): Promise<Cell> {
  await new Promise((resolve) => setTimeout(resolve, index * STAGGER_MILLIS));
  const setup = setups.get(key(row, spool))!;
  const { listener, audit, dir, errors, infos } = setup;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  setup.faultUntil = Date.now() + FAULT_MILLIS;
  const ids: string[] = [];
  const log = (n: number) => {
    for (let i = 0; i < n; i++) ids.push(audit.logEvent('document.create', { details: { document: { id: `${row.answer}-${ids.length}`, name: 'fault matrix' } } }));
  };
  log(30);
  await new Promise((resolve) => setTimeout(resolve, FAULT_MILLIS / 2));
  log(10);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, setup.faultUntil - Date.now())));
  log(10);
  await audit.flush({ timeoutMillis: 20_000 });
  const result = await audit.shutdown({ timeoutMillis: 5000 });
  lag.disable();
  await listener.close();

  const delivered = new Set(listener.records.map((r) => String(r.attributes['log.record.uid'])));
  // What was dead-lettered: the file of the slot with a spool; the reports' records without.
  const dead: { id: string; error: string; trail: TrailRecord }[] = [];
  const file = join(dir, 'slot-0000', 'dead-letters.ndjson');
  if (spool && existsSync(file)) {
    for (const [n, line] of readFileSync(file, 'utf8').trim().split('\n').entries()) {
      const letter = JSON.parse(line) as { id: string; error: string; record: string };
      const decoded = decodeLogRecord(Buffer.from(letter.record, 'base64'));
      dead.push({ id: letter.id, error: letter.error, trail: { body: decoded.body, attributes: decoded.attributes, resource: {}, source: `dead letter ${n + 1}` } });
    }
  }
  for (const error of errors) {
    if (!(error instanceof AuditDeliveryError) || error.reason !== 'dead_letter' || !error.records) continue;
    const why = /not accepted by the collector \((.*)\); attached to this report$/.exec(error.message)?.[1] ?? error.message;
    for (const json of error.records) {
      const { event, attributes } = JSON.parse(json) as { event: { id: string }; attributes: Record<string, unknown> };
      dead.push({ id: String(attributes['log.record.uid']), error: why, trail: { body: event, attributes, resource: {}, source: 'dead letter (report)' } });
    }
  }
  const reasons = [...new Set([...errors.map((e) => (e instanceof AuditDeliveryError ? e.reason : e.name)), ...infos.map((i) => i.reason)])];
  const trail = [...listener.records.map((r, n) => trailOf(r, `received ${n + 1}`)), ...dead.map((d) => d.trail)];
  const report = verifyTrail(trail);
  const outcome: Cell = {
    delivered: ids.filter((id) => delivered.has(id)).length,
    deadLettered: dead.filter((d) => ids.includes(d.id)).length,
    deadReason: dead[0]?.error.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:<port>'),
    reports: reasons, maxLagMillis: Math.round(lag.max / 1e6), verified: report.ok };

  const place = matrix.get(row.answer) ?? {};
  place[spool ? 'spool' : 'memory'] = outcome;
  matrix.set(row.answer, place);

  const deadIds = new Set(dead.map((d) => d.id));
  assert.deepEqual(ids.filter((id) => !delivered.has(id) && !deadIds.has(id)), [], 'every event delivered or dead-lettered');
  if (row.deadLetters) {
    for (const d of dead) assert.match(d.error, row.deadLetters);
  } else assert.equal(dead.length, 0, `nothing dead-lettered: ${dead.map((d) => d.error).join('; ')}`);
  for (const reason of row.reports) assert.ok(reasons.includes(reason), `reported ${reason} (reports: ${reasons.join(', ')})`);
  for (const reason of NEVER) assert.ok(!reasons.includes(reason), `never ${reason}: ${errors.map((e) => e.message).join('\n')}`);
  assert.equal(result.undelivered, 0, 'shutdown found nothing left');
  assert.ok(report.ok, `verify: ${JSON.stringify(report.streams.map((s) => ({ gaps: s.gaps, tampered: s.tampered, badCheckpoints: s.badCheckpoints })))}; unchained ${report.unchained}`);
  assert.ok(outcome.maxLagMillis < MAX_LAG_MILLIS, `the event loop lagged ${outcome.maxLagMillis} ms`);
  return outcome;
}

function printMatrix(): void {
  const text = (c: Cell | undefined): string => {
    if (!c) return 'not run';
    const parts = [`delivered ${c.delivered}`];
    if (c.deadLettered) parts.push(`dead-lettered ${c.deadLettered} ("${c.deadReason}")`);
    parts.push(c.reports.length ? c.reports.join(', ') : 'no report');
    parts.push(`lag ${c.maxLagMillis} ms`, c.verified ? 'verify ok' : 'VERIFY FAILED');
    return parts.join('; ');
  };
  const lines = ['| answer (then 200 OTLP) | memory queue | spool |', '| --- | --- | --- |'];
  for (const row of rows) {
    const cells = matrix.get(row.answer);
    lines.push(`| ${row.answer} | ${text(cells?.memory)} | ${text(cells?.spool)} |`);
  }
  console.log(`client fault matrix (each answer for ${FAULT_MILLIS} ms, then 200 OTLP; 50 events per cell):\n${lines.join('\n')}`);
}

/**
 * The matrix in the words its assertions make true whatever the timing (docs/delivery.md shows it):
 * delivered or dead-lettered with its reason, the reports every cell of the row gave, the lag bound,
 * verify. The printed matrix above has the figures of a run.
 */
function matrixInWords(): string {
  const words = (row: Row, c: Cell | undefined): string => {
    if (!c) return 'not run';
    const parts = [row.deadLetters ? 'what the fault blamed dead-lettered with its reason, the rest delivered' : 'delivered'];
    parts.push(row.reports.length ? row.reports.join(', ') : 'no report', `lag under ${MAX_LAG_MILLIS} ms`, c.verified ? 'verify ok' : 'VERIFY FAILED');
    return parts.join('; ');
  };
  const lines = [`Each answer for ${FAULT_MILLIS} ms, then 200 OTLP; 50 events per cell.`, '', '| answer (then 200 OTLP) | memory queue | spool |', '| --- | --- | --- |'];
  for (const row of rows) lines.push(`| ${row.answer} | ${words(row, matrix.get(row.answer)?.memory)} | ${words(row, matrix.get(row.answer)?.spool)} |`);
  return lines.join('\n');
}

describe('client fault matrix', { concurrency: true }, () => {
  before(async () => {
    for (const row of rows) for (const spool of [false, true]) setups.set(key(row, spool), await setUp(row, spool));
  });
  after(printMatrix);
  let index = 0;
  for (const row of rows) {
    for (const spool of [false, true]) {
      const start = index++;
      it(`${row.answer}, ${spool ? 'spool' : 'memory queue'}`, () => cell(row, spool, start).then(() => undefined));
    }
  }
});

describe('the client fault matrix in the docs', () => {
  it('docs/delivery.md shows the matrix as the cells above came out', () => {
    checkDocSection('docs/delivery.md', 'client-fault-matrix', matrixInWords());
  });
});

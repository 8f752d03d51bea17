// The logger's report router, alone: levels to onError, onInfo and diag; hooks that throw; the
// process warning without onError; reports raised while a waiting event is chained, held and
// given after the drain in that event's request context.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { currentAuditContext, type RequestAuditContext } from '../../src/context/request-context.js';
import { AuditValidationError, deliveryReport, info, type AuditInfo, type AuditReport } from '../../src/errors.js';
import { ReportRouter } from '../../src/logger/reports.js';

const warn = () => new AuditValidationError('a.b', 'id', [{ path: 'details', message: 'bad' }]);
const error = () => deliveryReport('queue_full', 'full', 1, { records: undefined });
const information = () => info('default_endpoint', 'the default', { endpoint: 'http://localhost:4318/v1/logs' });

/** What diag's logger is given by the otel-audit component logger: `<level> otel-audit <message>`. */
function recordingDiag(): { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (...args: unknown[]) => void (args[0] === 'otel-audit' && lines.push(`${level} ${args.join(' ')}`));
  const logger: DiagLogger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('verbose') };
  diag.setLogger(logger, DiagLogLevel.ALL);
  return { lines };
}

afterEach(() => diag.disable());

describe('report router', () => {
  it('errors and warnings to onError, information to onInfo, each to diag at its own level', () => {
    const { lines } = recordingDiag();
    const errors: AuditReport[] = [];
    const infos: AuditInfo[] = [];
    const router = new ReportRouter((report) => errors.push(report), (given) => infos.push(given));
    router.give(error());
    router.give(warn());
    router.give(information());
    assert.deepEqual(errors.map((report) => report.reason), ['queue_full', 'invalid_event']);
    assert.deepEqual(infos.map((given) => given.reason), ['default_endpoint']);
    assert.deepEqual(lines, [`error otel-audit ${error().message}`, `warn otel-audit ${warn().message}`, 'info otel-audit the default']);
  });

  it('without onInfo, information goes to diag only, never to onError', () => {
    const { lines } = recordingDiag();
    const errors: AuditReport[] = [];
    new ReportRouter((report) => errors.push(report), undefined).give(information());
    assert.deepEqual(errors, []);
    assert.equal(lines.length, 1);
  });

  it('a hook or a diag logger that throws is ignored', () => {
    diag.setLogger({ error: () => { throw new Error('diag'); }, warn: () => undefined, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.ALL);
    const router = new ReportRouter(() => { throw new Error('hook'); }, () => { throw new Error('hook'); });
    assert.doesNotThrow(() => router.give(error()));
    assert.doesNotThrow(() => router.give(information()));
  });

  it('without onError, a problem is a process warning with code OTEL_AUDIT', async () => {
    const warned = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    new ReportRouter(undefined, undefined).give(error());
    const warning = await warned;
    assert.equal(warning.code, 'OTEL_AUDIT');
    assert.equal(warning.name, 'AuditDeliveryError');
  });

  it('while a waiting event is chained, its reports are held; after the drain each is given in that event\'s request context, in order', () => {
    const seen: { reason: string; request: RequestAuditContext | undefined }[] = [];
    const router = new ReportRouter((report) => seen.push({ reason: report.reason, request: currentAuditContext() }), undefined);
    const first = { context: { session_id: 'first' } };
    const second = { context: { session_id: 'second' } };
    router.whileChaining(first, () => router.report(error()));
    router.whileChaining(second, () => router.report(warn()));
    assert.equal(seen.length, 0, 'held until the drain ends');
    router.report(error());
    assert.equal(seen.length, 1, 'outside any chaining: given at once');
    router.giveHeld();
    assert.deepEqual(seen.map(({ reason, request }) => [reason, request?.context?.session_id]), [['queue_full', undefined], ['queue_full', 'first'], ['invalid_event', 'second']]);
  });

  it('a hook that raises a report while held ones are given: it joins the same loop, and givingHeld says so meanwhile', () => {
    const seen: string[] = [];
    const during: boolean[] = [];
    let router: ReportRouter;
    router = new ReportRouter((report) => {
      seen.push(report.message);
      during.push(router.givingHeld);
      if (report.reason === 'queue_full') router.whileChaining(undefined, () => router.report(warn()));
      router.giveHeld(); // re-entered: does nothing, the outer loop gives it
    }, undefined);
    router.whileChaining(undefined, () => router.report(error()));
    router.giveHeld();
    assert.equal(seen.length, 2);
    assert.deepEqual(during, [true, true]);
    assert.equal(router.givingHeld, false);
  });
});

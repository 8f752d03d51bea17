// The outage every shipped pipeline must ride out, and the events sent all through it.
import assert from 'node:assert/strict';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';

// 5.5 minutes: longer than every timeout in the shipped pipelines (exporter timeouts 10 s, retry
// and backoff intervals up to 30 s, memory_limiter 1 s) and than the 300 s after which an
// exporter's default retry gives up (max_elapsed_time, set to 0 in every shipped config), and three
// times the 90 s after which the elasticsearch exporter dropped.
export const OUTAGE_MILLIS = 330_000;
const WAVE_EVERY_MILLIS = 30_000;
const EVENTS_PER_WAVE = 100;
/** What a pipeline must have been sent for the outage to count: a wave every interval. */
export const MIN_EVENTS_THROUGH_OUTAGE = (OUTAGE_MILLIS / WAVE_EVERY_MILLIS) * EVENTS_PER_WAVE;
/** How long the destinations, once back, get to hold every event before the tests name what is missing. */
export const DRAIN_MILLIS = 180_000;
/**
 * The options of a before hook that starts the pipelines, rides out the outage and waits for the
 * drain: five minutes for starting and stopping on top, more than the runner's 10-minute default.
 */
export const OUTAGE_HOOK = { timeout: 5 * 60_000 + OUTAGE_MILLIS + DRAIN_MILLIS };

type OutageLogger = ReturnType<typeof outageLogger>;
/** `document.change_access` is an action routing-by-action sends to security. */
type WaveAction = 'document.create' | 'document.change_access';

/** A logger whose reports are kept: the gateways stay up through a destination's outage, so none is expected. */
function outageLogger(endpoint: string) {
  const reports: string[] = [];
  const audit = createAuditLogger({ catalog: gristCatalog, endpoint, serviceName: 'outage-test', checkpoints: false, onError: (error) => reports.push(`${error.name}: ${error.message}`) });
  return { audit, reports };
}

export interface OutageTarget {
  /** The Collector's OTLP/HTTP logs endpoint. */
  endpoint: string;
  action?: WaveAction;
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/**
 * Sends a wave of events to each target every WAVE_EVERY_MILLIS for OUTAGE_MILLIS (each wave
 * flushed: acknowledged by the Collector), shuts the loggers down, checks that every event was
 * acknowledged, and returns the ids sent to each target.
 */
export async function sendThroughOutage<const Targets extends readonly OutageTarget[]>(targets: Targets): Promise<{ [K in keyof Targets]: string[] }> {
  const loggers: OutageLogger[] = targets.map((target) => outageLogger(target.endpoint));
  const sent: string[][] = targets.map(() => []);
  const start = Date.now();
  /** What a failure message needs: which gateway, when, and what its logger reported. */
  const context = (i: number) => `${targets[i]!.endpoint}, ${((Date.now() - start) / 1000).toFixed(1)} s into the outage; reports: ${JSON.stringify(loggers[i]!.reports)}`;
  while (Date.now() - start < OUTAGE_MILLIS) {
    targets.forEach((target, i) => {
      const action = target.action ?? 'document.create';
      for (let n = 0; n < EVENTS_PER_WAVE; n++) sent[i]!.push(loggers[i]!.audit.logEvent(action, { details: gristCatalog.actions[action].sample as never }));
    });
    await Promise.all(loggers.map(({ audit }, i) => audit.flush({ timeoutMillis: 20_000 }).catch((error: Error) => assert.fail(`${error.message}: ${context(i)}`))));
    await sleep(Math.min(WAVE_EVERY_MILLIS, OUTAGE_MILLIS - (Date.now() - start)));
  }
  await Promise.all(loggers.map(({ audit }) => audit.shutdown({ timeoutMillis: 20_000 })));
  loggers.forEach(({ audit, reports }, i) => {
    assert.equal(audit.stats().exported, sent[i]!.length, `every event acknowledged: ${context(i)}`);
    assert.deepEqual(reports, [], `nothing reported: ${context(i)}`);
  });
  return sent as { [K in keyof Targets]: string[] };
}

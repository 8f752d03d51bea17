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

type OutageLogger = ReturnType<typeof outageLogger>;
/** `document.change_access` is an action routing-by-action sends to security. */
type WaveAction = 'document.create' | 'document.change_access';

function outageLogger(endpoint: string) {
  return createAuditLogger({ catalog: gristCatalog, endpoint, serviceName: 'outage-test', checkpoints: false, onError: (error) => assert.fail(error) });
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
  while (Date.now() - start < OUTAGE_MILLIS) {
    targets.forEach((target, i) => {
      const action = target.action ?? 'document.create';
      for (let n = 0; n < EVENTS_PER_WAVE; n++) sent[i]!.push(loggers[i]!.logEvent(action, { details: gristCatalog.actions[action].sample as never }));
    });
    await Promise.all(loggers.map((audit) => audit.flush({ timeoutMillis: 20_000 })));
    await sleep(Math.min(WAVE_EVERY_MILLIS, OUTAGE_MILLIS - (Date.now() - start)));
  }
  await Promise.all(loggers.map((audit) => audit.shutdown({ timeoutMillis: 20_000 })));
  loggers.forEach((audit, i) => assert.equal(audit.stats().exported, sent[i]!.length, `${targets[i]!.endpoint} acknowledged every event during the outage`));
  return sent as { [K in keyof Targets]: string[] };
}

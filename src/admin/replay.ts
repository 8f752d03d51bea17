// Replay from the archive (the system of record) to one destination only: the archived records,
// unchanged (same id, seq and hash), posted to that destination's own loopback OTLP receiver,
// which feeds its pipeline and no other. Its copy then passes `otel-audit verify`; records at the
// edges of the window may arrive twice, as identical duplicates.
import { inSiteCopy } from '../attributes.js';
import type { TrailRecord } from '../integrity/trail.js';
import { toKeyValues, toAnyValue } from '../integrity/otlp-json.js';
import type { Archive, ArchivePosition } from './archive.js';
import type { Destination } from './destinations.js';

/** One OTLP/JSON export request: records grouped by their resource. */
export function otlpRequest(records: readonly TrailRecord[]): unknown {
  const byResource = new Map<string, TrailRecord[]>();
  for (const record of records) {
    const key = JSON.stringify(record.resource);
    const group = byResource.get(key);
    if (group) group.push(record);
    else byResource.set(key, [record]);
  }
  return {
    resourceLogs: [...byResource.values()].map((group) => ({
      resource: { attributes: toKeyValues(group[0]!.resource) },
      scopeLogs: [
        {
          scope: { name: 'otel-audit-replay' },
          // The log record as archived: times, severity, trace link, event name, body, attributes.
          logRecords: group.map((record) => ({
            ...(record.timeUnixNano ? { timeUnixNano: record.timeUnixNano } : {}),
            ...(record.observedTimeUnixNano ? { observedTimeUnixNano: record.observedTimeUnixNano } : {}),
            ...(record.severityNumber ? { severityNumber: record.severityNumber } : {}),
            ...(record.severityText ? { severityText: record.severityText } : {}),
            ...(record.traceId ? { traceId: record.traceId } : {}),
            ...(record.spanId ? { spanId: record.spanId } : {}),
            ...(record.flags ? { flags: record.flags } : {}),
            ...(record.eventName ? { eventName: record.eventName } : {}),
            body: toAnyValue(record.body),
            attributes: toKeyValues(record.attributes),
          })),
        },
      ],
    })),
  };
}

const BATCH = 500;

/** Posts records to an OTLP/HTTP receiver, a batch at a time, each retried until accepted or the deadline passes. Resolves with how many. */
export async function postRecords(endpoint: string, batches: Iterable<readonly TrailRecord[]> | AsyncIterable<readonly TrailRecord[]>, timeoutMillis = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMillis;
  let posted = 0;
  for await (const batch of batches) {
    const body = JSON.stringify(otlpRequest(batch));
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      try {
        const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        if (response.ok) break;
        problem = `HTTP ${response.status} ${await response.text()}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`replay to ${endpoint} stopped after ${posted} records: ${problem}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)));
    }
    posted += batch.length;
  }
  return posted;
}

/** What a replay sends: the records of an event-time window, or those archived between two positions (a pause's gap). */
export type ReplayWindow = { readonly since: number; readonly until: number } | { readonly from: ArchivePosition; readonly to: ArchivePosition };

/**
 * Replays archived records to one destination's own receiver, reading the archive a batch at a
 * time; returns how many. A site destination's pipeline would drop the other sites' records: they
 * are neither sent nor counted. `scratchDir`: where a part of an archive file is copied to be read.
 */
export function replayArchive(options: { archive: Archive; window: ReplayWindow; destination: Pick<Destination, 'site' | 'directPort'>; scratchDir: string }): Promise<number> {
  const { archive, window, destination } = options;
  const batches = 'since' in window ? archive.inWindow(window.since, window.until, BATCH) : archive.between(window.from, window.to, BATCH, options.scratchDir);
  const { site } = destination;
  return postRecords(`http://127.0.0.1:${destination.directPort}/v1/logs`, site === undefined ? batches : ofSite(batches, site));
}

async function* ofSite(batches: AsyncIterable<TrailRecord[]>, site: string): AsyncGenerator<TrailRecord[]> {
  for await (const batch of batches) {
    const chosen = batch.filter((record) => inSiteCopy(record.attributes, site));
    if (chosen.length) yield chosen;
  }
}

// Replay from the archive (the system of record) to one destination only: the archived records,
// unchanged (same id, seq and hash), posted to that destination's own loopback OTLP receiver,
// which feeds its pipeline and no other. Its copy then passes `otel-audit verify`; records at the
// edges of the window may arrive twice, as identical duplicates.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readTrail, type TrailRecord } from '../integrity/trail.js';
import type { OtlpAnyValue, OtlpKeyValue } from '../integrity/otlp-json.js';

/** The archive file and its rotated backups (`audit-<time>.jsonl`), oldest first. */
export function archiveFiles(archivePath: string): string[] {
  const dir = dirname(archivePath);
  if (!existsSync(dir)) return [];
  const ext = extname(archivePath);
  const stem = basename(archivePath, ext);
  const backups = readdirSync(dir)
    .filter((f) => f.startsWith(`${stem}-`) && f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
  return [...backups, ...(existsSync(archivePath) ? [archivePath] : [])];
}

/** When the event happened: its own timestamp, else when the record was made. */
function eventTime(record: TrailRecord): number {
  const timestamp = (record.body as { timestamp?: unknown } | null)?.timestamp;
  if (typeof timestamp === 'string') return Date.parse(timestamp);
  return record.timeUnixNano ? Number(BigInt(record.timeUnixNano) / 1_000_000n) : Number.NaN;
}

/** A rotated file last written this long before `since` cannot hold an event of the window (clock skew allowed for). */
const SKEW_MILLIS = 10 * 60_000;

/** Archived records whose event time is in [since, until]. */
export function archivedRecords(archivePath: string, since: number, until: number): TrailRecord[] {
  return archiveFiles(archivePath)
    .filter((file) => file === archivePath || statSync(file).mtimeMs >= since - SKEW_MILLIS)
    .flatMap((file) => readTrail(file))
    .filter((record) => {
      const time = eventTime(record);
      return time >= since && time <= until;
    });
}

export function toAnyValue(value: unknown): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  if (value !== null && typeof value === 'object') return { kvlistValue: { values: toKeyValues(value as Record<string, unknown>) } };
  return {};
}

function toKeyValues(values: Readonly<Record<string, unknown>>): OtlpKeyValue[] {
  return Object.entries(values).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

/** One OTLP/JSON export request: records grouped by their resource. */
export function otlpRequest(records: readonly TrailRecord[]): unknown {
  const byResource = new Map<string, TrailRecord[]>();
  for (const record of records) {
    const key = JSON.stringify(record.resource);
    byResource.set(key, [...(byResource.get(key) ?? []), record]);
  }
  return {
    resourceLogs: [...byResource.values()].map((group) => ({
      resource: { attributes: toKeyValues(group[0]!.resource) },
      scopeLogs: [
        {
          scope: { name: 'otel-audit-replay' },
          logRecords: group.map((record) => ({
            ...(record.timeUnixNano ? { timeUnixNano: record.timeUnixNano } : {}),
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

/** Posts records to an OTLP/HTTP receiver in batches, each retried until accepted or the deadline passes. */
export async function postRecords(endpoint: string, records: readonly TrailRecord[], timeoutMillis = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (let start = 0; start < records.length; start += BATCH) {
    const body = JSON.stringify(otlpRequest(records.slice(start, start + BATCH)));
    for (let attempt = 1; ; attempt++) {
      let problem: string;
      try {
        const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        if (response.ok) break;
        problem = `HTTP ${response.status} ${await response.text()}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`replay to ${endpoint} stopped after record ${start} of ${records.length}: ${problem}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * attempt)));
    }
  }
}

/** Replays the archived records of [since, until] to the receiver at `port` (a destination's own); returns how many. */
export async function replayArchive(options: { archivePath: string; since: number; until: number; port: number }): Promise<number> {
  const records = archivedRecords(options.archivePath, options.since, options.until);
  await postRecords(`http://127.0.0.1:${options.port}/v1/logs`, records);
  return records.length;
}

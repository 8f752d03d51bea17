// A trail as a destination would hold it, made without a logger or a Collector: for verify's
// tests and its measurements at scale (scripts/verify-scale.ts). Records are chained and
// checkpointed exactly as the logger does, with the same functions.
import type { KeyObject } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { ATTR } from '../../src/attributes.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { GENESIS_HASH, HashChain, type ChainHead } from '../../src/integrity/chain.js';
import { checkpointEvent, startCheckpointEvent } from '../../src/integrity/checkpoint.js';
import { toKeyValues } from '../../src/integrity/otlp-json.js';
import type { TrailRecord } from '../../src/integrity/trail.js';

export interface SyntheticRun {
  /** Events in this run (one logger's life). */
  readonly events: number;
  /** Ends with a clean shutdown (a final checkpoint). @default true */
  readonly final?: boolean;
  /** Starts with the resume marker (a start checkpoint), as a logger that writes it does. @default true */
  readonly startMarker?: boolean;
  /** Time between the previous run's end and this run's start. @default 1000 */
  readonly pauseMillis?: number;
}

export interface SyntheticTrailOptions {
  readonly runs: readonly SyntheticRun[];
  readonly streamId?: string;
  /** Time of the first event, ms since the epoch. @default 2026-01-01T00:00:00Z */
  readonly start?: number;
  /** Time between events. @default 100 */
  readonly spacingMillis?: number;
  /** Checkpoint interval (event time). @default 60000 */
  readonly checkpointIntervalMillis?: number;
  readonly hmacKey?: Buffer;
  readonly signingKey?: KeyObject;
}

/** The records of one stream, in emit order: events and checkpoints, as `readTrail` returns them. */
export function* syntheticTrail(options: SyntheticTrailOptions): Generator<TrailRecord> {
  const streamId = options.streamId ?? '0b7c1d2e-0000-4000-8000-000000000001';
  const spacing = options.spacingMillis ?? 100;
  const interval = options.checkpointIntervalMillis ?? 60_000;
  const chain = new HashChain({ streamId, seq: 0, hash: GENESIS_HASH }, options.hmacKey);
  let now = options.start ?? Date.parse('2026-01-01T00:00:00Z');
  const checkpoint = (kind: 'start' | 'periodic' | 'final', head: ChainHead): TrailRecord => {
    const { event, signature } =
      kind === 'start' ? startCheckpointEvent(head, interval, now, options.signingKey) : checkpointEvent(head, interval, kind === 'final', now, options.signingKey);
    const attributes: Record<string, unknown> = { [ATTR.recordUid]: event.id, [ATTR.action]: event.action, [ATTR.streamId]: streamId };
    if (signature) attributes[ATTR.signature] = signature;
    return { body: event, attributes, resource: {}, source: `synthetic:checkpoint@${head.seq}` };
  };
  for (const [index, run] of options.runs.entries()) {
    if (index > 0) now += run.pauseMillis ?? 1000;
    if (run.startMarker ?? true) yield checkpoint('start', chain.head);
    let nextCheckpoint = now + interval;
    for (let i = 0; i < run.events; i++) {
      now += spacing;
      if (now >= nextCheckpoint) {
        yield checkpoint('periodic', chain.head);
        nextCheckpoint += interval;
      }
      const seq = chain.head.seq + 1;
      const body = {
        id: `00000000-0000-4000-8000-${seq.toString().padStart(12, '0')}`,
        action: 'document.create',
        actor: { type: 'user', user: { id: seq % 1000, email: `user${seq % 1000}@example.com`, name: `User ${seq % 1000}` } },
        context: { ip_address: '192.0.2.10', user_agent: 'synthetic/1.0', session_id: `s-${seq % 97}` },
        timestamp: new Date(now).toISOString(),
        details: { document: { id: `doc-${seq}`, name: `Document ${seq}` } },
      };
      const link = chain.next(canonicalJson(body));
      yield {
        body,
        attributes: { [ATTR.recordUid]: body.id, [ATTR.action]: body.action, [ATTR.streamId]: streamId, [ATTR.seq]: seq, [ATTR.prevHash]: link.prevHash, [ATTR.hash]: link.hash },
        resource: {},
        source: `synthetic:${seq}`,
      };
    }
    if (run.final ?? true) yield checkpoint('final', chain.head);
  }
}

/** Writes records as the Collector's file exporter does (uncompressed): one OTLP/JSON request per batch and line. */
export function writeOtlpJsonLines(path: string, records: Iterable<TrailRecord>, batchSize = 500): number {
  const fd = openSync(path, 'w', 0o600);
  let written = 0;
  let batch: TrailRecord[] = [];
  const flush = () => {
    if (!batch.length) return;
    const logRecords = batch.map((r) => ({ timeUnixNano: `${Date.parse((r.body as { timestamp: string }).timestamp)}000000`, body: { kvlistValue: { values: toKeyValues(r.body as Record<string, unknown>) } }, attributes: toKeyValues(r.attributes) }));
    writeSync(fd, `${JSON.stringify({ resourceLogs: [{ resource: { attributes: toKeyValues({ 'service.name': 'synthetic' }) }, scopeLogs: [{ scope: { name: 'otel-audit' }, logRecords }] }] })}\n`);
    batch = [];
  };
  try {
    for (const record of records) {
      batch.push(record);
      written++;
      if (batch.length >= batchSize) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return written;
}

// 1. Hot path: the synchronous cost of one call, ours against the raw OpenTelemetry SDK and pino.
// 5. Integrity: the share of the hash chain in it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { eventSchemaFor } from '../src/catalog/envelope.js';
import { encodeLogRecord } from '../src/record/encoder.js';
import pino from 'pino';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { canonicalJson } from '../src/integrity/canonical-json.js';
import { linkHash, GENESIS_HASH } from '../src/integrity/chain.js';
import { recordAttributes, toLogRecord } from '../src/record/mapping.js';
import { compare, DiscardingExporter, fmt, propsFor, startNullSink, table, type Row } from './lib.js';
import { sampleEvent } from '../test/helpers/fixtures.js';

const PER_ROUND = 20_000;

export async function hotPath(): Promise<string> {
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  // The raw SDK, as users would set it up: batch processor (a queue large enough not to drop here).
  const rawExporter = new DiscardingExporter();
  const rawProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: rawExporter, maxQueueSize: PER_ROUND * 2, maxExportBatchSize: 512, scheduledDelayMillis: 50 })] });
  const raw = rawProvider.getLogger('raw');
  // Records with the same body and attributes as ours, built before timing (the raw SDK has no mapping step).
  const prebuilt = Array.from({ length: 40 }, (_, i) => {
    const { action, props } = propsFor(i);
    const event = { id: crypto.randomUUID(), action, ...props, timestamp: new Date().toISOString() };
    return toLogRecord(event as never, { observedAt: Date.now() });
  });
  // The raw SDK's whole cost: emit, and the OTLP protobuf serialization its exporter does per batch (here every 1000 records, in the timed loop).
  const collected: ReadWriteLogRecord[] = [];
  const collecting: LogRecordProcessor = { onEmit: (record) => void collected.push(record), forceFlush: async () => undefined, shutdown: async () => undefined };
  const rawWhole = new LoggerProvider({ resource, processors: [collecting] }).getLogger('raw-whole');
  const destination = pino.destination({ dest: '/dev/null', sync: true });
  const pinoLogger = pino({ base: undefined }, destination);
  const pinoEvents = prebuilt.map((r) => r.body as object);

  // Ours sends to a null sink in its own process, between rounds (flush): the bytes are sent as encoded at emit.
  const sink = await startNullSink();
  const makeOurs = (spoolDir?: string) => {
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: sink.url, spoolDir, checkpoints: false, maxQueueRecords: PER_ROUND * 2, onError: () => undefined });
    return { audit, between: () => audit.flush({ timeoutMillis: 60_000 }) };
  };
  const ours = makeOurs();
  const oursSpool = makeOurs(mkdtempSync(join(tmpdir(), 'bench-spool-')));
  const oursInvalid = makeOurs();
  // The same events without a site in their context: the stream's chain only, no site's (see the whole cost below).
  const oursNoSite = makeOurs();
  const { site: _site, ...contextWithoutSite } = sampleEvent.context;
  const bad = { details: { document: { id: 42 } } } as never;

  const rows: Row[] = await compare(
    [
      { name: 'raw sdk-logs logger.emit() + BatchLogRecordProcessor', run: (i) => raw.emit({ ...prebuilt[i % 40]!, severityNumber: SeverityNumber.INFO }), between: () => rawProvider.forceFlush() },
      { name: 'pino (sync destination, /dev/null)', run: (i) => pinoLogger.info(pinoEvents[i % 40]!) },
      { name: 'otel-audit logEvent() (memory queue)', run: (i) => { const { action, props } = propsFor(i); ours.audit.logEvent(action, props); }, between: ours.between },
      { name: 'otel-audit logEvent() (spool: buffered append, group commit)', run: (i) => { const { action, props } = propsFor(i); oursSpool.audit.logEvent(action, props); }, between: oursSpool.between },
      { name: 'otel-audit logEvent(), invalid event (flagged, sanitized, reported)', run: () => oursInvalid.audit.logEvent('document.create', bad), between: oursInvalid.between },
    ],
    PER_ROUND,
  );
  // The call and the work it leaves for later, every 1000 calls, inside the timed loop.
  const whole: Row[] = await compare(
    [
      {
        name: 'raw sdk-logs logger.emit() + OTLP protobuf serialization of each 1000',
        run: (i) => {
          rawWhole.emit({ ...prebuilt[i % 40]!, severityNumber: SeverityNumber.INFO });
          if (collected.length === 1000) ProtobufLogsSerializer.serializeRequest(collected.splice(0));
        },
      },
      {
        name: 'otel-audit logEvent() + chaining, canonical JSON, SHA-256 and encoding of each 1000 (memory queue)',
        run: (i) => {
          const { action, props } = propsFor(i);
          ours.audit.logEvent(action, props);
          // flush() chains what waits, synchronously (stats() only reads); its promise is awaited between rounds.
          if (i % 1000 === 999) void ours.audit.flush({ timeoutMillis: 60_000 }).catch(() => undefined);
        },
        between: ours.between,
      },
      {
        name: "the same, events without a site (no site's chain: one hash per event instead of two for the 34 of 40 site-scoped actions)",
        run: (i) => {
          const { action, props } = propsFor(i);
          oursNoSite.audit.logEvent(action, { ...props, context: contextWithoutSite });
          if (i % 1000 === 999) oursNoSite.audit.stats();
        },
        between: oursNoSite.between,
      },
    ],
    PER_ROUND,
  );
  const events = prebuilt.map((r) => r.body);
  const key = Buffer.from('bench-hmac-key');
  const [chain, hmacChain] = await compare(
    [
      { name: 'hash chain step (RFC 8785 JSON + SHA-256)', run: (i) => linkHash(GENESIS_HASH, canonicalJson(events[i % 40])) },
      { name: 'hash chain step, HMAC-SHA-256', run: (i) => linkHash(GENESIS_HASH, canonicalJson(events[i % 40]), key) },
    ],
    PER_ROUND,
  );
  // Where logEvent's time goes: each stage alone, on the same events.
  const validators = new Map(Object.entries(gristCatalog.actions).map(([action, d]) => [action, eventSchemaFor(action, d.details)]));
  const link = { streamId: 's', seq: 1, prevHash: GENESIS_HASH, hash: GENESIS_HASH };
  const attributes = events.map((e) => recordAttributes(e as never, { link }));
  const stages = await compare(
    [
      { name: 'id and timestamp (randomUUID, toISOString)', run: () => [crypto.randomUUID(), new Date().toISOString()] },
      { name: 'validation (zod safeParse of the envelope and details)', run: (i) => validators.get((events[i % 40] as { action: string }).action)!.safeParse(events[i % 40]) },
      { name: 'canonical JSON (RFC 8785)', run: (i) => canonicalJson(events[i % 40]) },
      { name: 'SHA-256 of the link', run: (i) => linkHash(GENESIS_HASH, JSON.stringify(events[i % 40])) },
      { name: 'mapping (recordAttributes)', run: (i) => recordAttributes(events[i % 40] as never, { link }) },
      {
        name: 'OTLP protobuf encoding of the record (once: the spool and the wire use these bytes)',
        run: (i) =>
          encodeLogRecord({ timestamp: 1, observedTimestamp: 1, severityNumber: 9, severityText: 'INFO', eventName: 'x', body: events[i % 40], attributes: attributes[i % 40]! }),
      },
    ],
    PER_ROUND,
    4,
  );
  for (const a of [ours, oursSpool, oursInvalid, oursNoSite]) await a.audit.shutdown();
  sink.stop();
  await rawProvider.shutdown();

  const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!;
  const base = byName('raw sdk');
  const pinoRow = byName('pino');
  const [rawWholeRow, oursWholeRow, noSiteRow] = whole as [Row, Row, Row];
  return [
    '## 1. Hot path: one call, synchronous cost',
    '',
    `The same 40 realistic events (every catalog sample, with the sample actor and context), ${PER_ROUND.toLocaleString()} calls per round, 6 timed rounds after a warm-up, contenders alternating; medians. Exporters discard (the sending side is measured in section 2). What the call costs its caller: logEvent() validates and captures the event in the call and chains and encodes it after the caller's synchronous code, as the SDK's batch processor serializes after it.`,
    '',
    table(
      ['contender', 'µs/event', 'events/s', 'vs raw SDK', 'vs pino'],
      rows.map((r) => [r.name, fmt(r.microsPerEvent), fmt(r.eventsPerSecond, 0), `${fmt(r.microsPerEvent / base.microsPerEvent)}×`, `${fmt(r.microsPerEvent / pinoRow.microsPerEvent)}×`]),
    ),
    '',
    '### The whole cost: the call and the work it defers',
    '',
    'The same events; the deferred work (the SDK: OTLP protobuf serialization; otel-audit: chain, canonical JSON, SHA-256, encoding once for the spool and the wire) is done every 1000 calls inside the timed loop.',
    '',
    table(['contender', 'µs/event', 'events/s', 'vs raw SDK'], whole.map((r) => [r.name, fmt(r.microsPerEvent), fmt(r.eventsPerSecond, 0), `${fmt(r.microsPerEvent / rawWholeRow.microsPerEvent)}×`])),
    '',
    '### Where the time of logEvent() goes',
    '',
    'Each stage alone, on the same events (medians), as a share of the whole cost above. The raw SDK does none of validation or hashing; otel-audit encodes each record once, and the spool and the wire reuse those bytes.',
    '',
    table(['stage', 'µs/event', 'share'], stages.map((r) => [r.name, fmt(r.microsPerEvent), `${fmt((100 * r.microsPerEvent) / oursWholeRow.microsPerEvent, 0)} %`])),
    '',
    '### Integrity: the cost of the hash chain (benchmark 5)',
    '',
    table(
      ['step', 'µs/event', 'share of the whole cost'],
      [chain!, hmacChain!].map((r) => [r.name, fmt(r.microsPerEvent), `${fmt((100 * r.microsPerEvent) / oursWholeRow.microsPerEvent, 0)} %`]),
    ),
    '',
    `Without the chain an event would cost about ${fmt(oursWholeRow.microsPerEvent - chain!.microsPerEvent)} µs in all (${fmt(oursWholeRow.microsPerEvent)} µs with it).`,
    '',
    `The sample events carry site 42 in their context, so the 34 of 40 actions whose scopes include \`site\` are linked into site 42's chain too (a second hash over the same canonical JSON, three more attributes): ${fmt(oursWholeRow.microsPerEvent)} µs against ${fmt(noSiteRow.microsPerEvent)} µs without a site (${fmt(oursWholeRow.microsPerEvent - noSiteRow.microsPerEvent)} µs, ${fmt((100 * (oursWholeRow.microsPerEvent - noSiteRow.microsPerEvent)) / noSiteRow.microsPerEvent, 0)} %).`,
    '',
  ].join('\n');
}

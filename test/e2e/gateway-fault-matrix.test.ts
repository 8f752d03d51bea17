// The gateway's fault matrix: every shipped config, every destination, every fault a destination
// shows users (issue #21). Each row holds one fault at every destination of a config it applies to,
// while an application logs events before, during and after it; then every destination must hold
// every event id: delivered, or kept in that destination's dead letters with its reason (only for a
// per-record rejection) and delivered once re-driven. Copies per id stay within one batch, and
// `verifyTrail` on every canonical copy is clean. The matrix is printed (the README's promise
// table is that print).
//
// Real parts: otelcol-audit with each shipped config, the Splunk HEC receiver, an OTLP receiver,
// rsyslogd, Apache Kafka, a real full disk (tmpfs). The fault stand-ins in front of them carry only
// the wire details of a fault (test/helpers/fault-proxy.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { fileRecordUids, gatewayEnv, kafkaRecordUids, startOtlpReceiver, tally } from '../../scripts/lib/gateway.js';
import { startKafka, type KafkaBroker } from '../../scripts/lib/kafka.js';
import { freePort, ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../../scripts/lib/processes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { parseDestination, type Destination as AdminDestination } from '../../src/admin/destinations.js';
import { formatNames, loadFormats, renderCollectorConfig } from '../../src/admin/render.js';
import { HttpFaultProxy, TcpFaultProxy, type HttpFault, type TcpFault } from '../helpers/fault-proxy.js';

/** The kinds of destination a fault is expressed for. */
type Kind = 'hec' | 'otlp' | 'elastic' | 'syslog' | 'archive' | 'kafka';

interface Fault {
  readonly name: string;
  /** The fault of an HTTP destination, by its kind (the body a record rejection carries differs). */
  readonly http?: (kind: 'hec' | 'otlp', marker: string) => HttpFault;
  readonly tcp?: TcpFault;
  /** Kafka's message size limit lowered to this for the row: batches must be split to fit. */
  readonly kafkaMessageBytes?: number;
  /** The archive's disk is full for the fault's duration (a real tmpfs). */
  readonly diskFull?: boolean;
  /** How long the fault lasts. */
  readonly holdMillis: number;
  /** Whether destinations may dead-letter records (a per-record rejection). */
  readonly deadLetters: boolean;
}

/** A Splunk HEC or OTLP answer that refuses records for what they are. */
function recordRejection(kind: 'hec' | 'otlp') {
  return kind === 'hec'
    ? { status: 400, contentType: 'application/json', body: '{"text":"Invalid data format","code":6,"invalid-event-number":0}' }
    : { status: 400, contentType: 'application/x-protobuf', body: otlpStatus(3, 'invalid log record') };
}

/** A google.rpc.Status message: code (field 1), message (field 2). */
function otlpStatus(code: number, message: string): Uint8Array {
  const text = Buffer.from(message);
  return Buffer.concat([Buffer.from([0x08, code, 0x12, text.length]), text]);
}

const answer = (status: number, hec: { text: string; code: number } | undefined, headers?: Record<string, string>) => (kind: 'hec' | 'otlp'): HttpFault =>
  kind === 'hec' && hec
    ? { kind: 'answer', status, contentType: 'application/json', body: JSON.stringify(hec), ...(headers ? { headers } : {}) }
    : { kind: 'answer', status, ...(headers ? { headers } : {}) };

// 2 s of exporter timeout is what the configs below are run with... no: the shipped timeouts (10 s)
// stay; a hang is held past them, and "down" past every timeout and retry interval of the configs.
const FAULTS: readonly Fault[] = [
  { name: '400 one record', http: (kind, marker) => ({ kind: 'reject-containing', needle: marker, answer: recordRejection(kind) }), holdMillis: 6000, deadLetters: true },
  { name: '400 every record', http: (kind) => ({ kind: 'answer', ...recordRejection(kind) }), holdMillis: 6000, deadLetters: true },
  { name: '400 HTML page (proxy)', http: () => ({ kind: 'answer', status: 400, contentType: 'text/html', body: '<html><head><title>400 Bad Request</title></head><body>Request blocked</body></html>' }), holdMillis: 6000, deadLetters: false },
  { name: '401', http: answer(401, { text: 'Token is required', code: 2 }), holdMillis: 6000, deadLetters: false },
  { name: '403 (rotated token)', http: answer(403, { text: 'Invalid token', code: 4 }), holdMillis: 8000, deadLetters: false },
  { name: '404', http: (kind) => ({ kind: 'answer', status: 404, contentType: 'text/plain', body: kind === 'hec' ? '{"text":"The requested URL was not found on this server.","code":404}' : '404 page not found' }), holdMillis: 6000, deadLetters: false },
  { name: '413 (body limit)', http: () => ({ kind: 'body-limit', limit: 4000 }), holdMillis: 6000, deadLetters: false },
  { name: '429 + Retry-After', http: answer(429, { text: 'Server is busy', code: 9 }, { 'retry-after': '2' }), holdMillis: 6000, deadLetters: false },
  { name: '500', http: answer(500, { text: 'Internal server error', code: 8 }), holdMillis: 6000, deadLetters: false },
  { name: '503', http: answer(503, { text: 'Server is busy', code: 9 }), holdMillis: 6000, deadLetters: false },
  { name: '2xx unreadable body', http: () => ({ kind: 'answer', status: 200, contentType: 'text/html', body: '<html><head><title>Welcome</title></head><body>captive portal</body></html>' }), holdMillis: 6000, deadLetters: false },
  { name: 'reset', http: () => ({ kind: 'reset' }), tcp: 'reset', holdMillis: 6000, deadLetters: false },
  { name: 'hang past the timeout', http: () => ({ kind: 'hang' }), tcp: 'hang', holdMillis: 12_000, deadLetters: false },
  { name: 'down past every timeout', http: () => ({ kind: 'down' }), tcp: 'down', holdMillis: 35_000, deadLetters: false },
  { name: 'Kafka message over its limit', kafkaMessageBytes: 4000, holdMillis: 3000, deadLetters: false },
  { name: 'archive disk full', diskFull: true, holdMillis: 10_000, deadLetters: false },
];

/** One destination of a config, as the matrix sees it. */
interface Destination {
  readonly column: string;
  readonly kind: Kind;
  /** Its lossless exporter's name (its dead-letter file is `lossless__<name>.ndjson`). */
  readonly exporter: string;
  /** Which of the ids the row sent it must hold (a routing filter keeps only some). */
  readonly wants?: (action: string) => boolean;
}

/** What a row gives a config to start one gateway of it. */
interface RowEnvironment {
  readonly dir: string;
  readonly ports: { otlp: number; grpc: number; health: number; metrics: number; direct: readonly number[] };
  readonly proxies: Partial<Record<'hec' | 'otlp' | 'elastic' | 'syslog', number>>;
  readonly archivePath: string;
  readonly kafkaTopic: string;
  readonly overlays: string[];
}

interface Config {
  readonly name: string;
  /** The archive's file name: its extension says its format (zstd frames, or JSON lines). */
  readonly archiveFile: 'audit.zst' | 'archive.jsonl';
  readonly destinations: readonly Destination[];
  /** The action every event of the row has (the routing example sends only some to security). */
  readonly action: 'document.create' | 'document.change_access';
  readonly configs: (row: RowEnvironment) => string[];
  readonly env: (row: RowEnvironment) => Record<string, string>;
}

const shared = {
  dir: tempDir('fault-matrix'),
  hec: { port: 0, file: '' },
  otlp: { port: 0, file: '' },
  /** A second OTLP receiver: the Admin Panel's Elasticsearch destination (Elastic's OTLP intake) beside its OTLP one. */
  elastic: { port: 0, file: '' },
  syslog: { port: 0, file: '' },
  kafka: undefined as KafkaBroker | undefined,
  kafkaData: '',
  running: [] as RunningProcess[],
};

/** For working on one part: MATRIX_CONFIGS / MATRIX_FAULTS, regular expressions of the names to run (CI runs all). */
const only = (variable: string) => (name: string) => new RegExp(process.env[variable] ?? '.').test(name);

const ALL_CONFIGS: readonly Config[] = [
  {
    name: 'gateway.yaml',
    archiveFile: 'audit.zst',
    action: 'document.create',
    destinations: [
      { column: 'splunk', kind: 'hec', exporter: 'splunk' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
      { column: 'syslog', kind: 'syslog', exporter: 'syslog' },
      { column: 'elastic', kind: 'otlp', exporter: 'elastic' },
      { column: 'kafka', kind: 'kafka', exporter: 'kafka' },
    ],
    configs: (row) => ['gateway.yaml', ...row.overlays],
    env: (row) => ({
      ...gatewayEnv(row.dir, { ...row.ports, hec: row.proxies.hec!, syslog: row.proxies.syslog!, elastic: row.proxies.otlp! }, shared.kafka!.bootstrap),
      AUDIT_ARCHIVE_PATH: row.archivePath,
      KAFKA_TOPIC: row.kafkaTopic,
    }),
  },
  {
    name: 'local.yaml',
    archiveFile: 'archive.jsonl',
    action: 'document.create',
    destinations: [
      { column: 'splunk', kind: 'hec', exporter: 'splunk' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    configs: () => ['local.yaml'],
    env: (row) => ({
      AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${row.ports.otlp}`,
      AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${row.ports.health}`,
      AUDIT_METRICS_PORT: String(row.ports.metrics),
      AUDIT_STORAGE_DIR: join(row.dir, 'queue'),
      AUDIT_ARCHIVE_PATH: row.archivePath,
      SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${row.proxies.hec}/services/collector`,
      SPLUNK_HEC_TOKEN: 'local-token',
    }),
  },
  {
    name: 'examples/routing-by-action',
    archiveFile: 'archive.jsonl',
    action: 'document.change_access',
    destinations: [
      { column: 'security (routed)', kind: 'hec', exporter: 'security' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    // Its own metrics are off (it binds no port): the matrix reads the queues through them.
    configs: (row) => ['examples/routing-by-action/config.yaml', metricsOverlay(row)],
    env: (row) => ({
      AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${row.ports.otlp}`,
      AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${row.ports.health}`,
      AUDIT_STORAGE_DIR: join(row.dir, 'queue'),
      AUDIT_ARCHIVE_PATH: row.archivePath,
      SECURITY_HEC_ENDPOINT: `http://127.0.0.1:${row.proxies.hec}/services/collector`,
      SECURITY_HEC_TOKEN: 'security-token',
    }),
  },
  {
    name: 'Admin Panel (one destination of each kind)',
    archiveFile: 'audit.zst',
    action: 'document.create',
    destinations: [
      { column: 'splunk_hec', kind: 'hec', exporter: 'splunk' },
      { column: 'syslog', kind: 'syslog', exporter: 'syslog' },
      { column: 'otlp_http', kind: 'otlp', exporter: 'siem' },
      { column: 'elasticsearch', kind: 'elastic', exporter: 'elastic' },
      { column: 'kafka', kind: 'kafka', exporter: 'kafka' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    configs: (row) => [adminConfig(row)],
    env: (row) => ({
      ...gatewayEnv(row.dir, { ...row.ports, hec: 0, syslog: 0, elastic: 0 }, shared.kafka!.bootstrap),
      AUDIT_ARCHIVE_PATH: row.archivePath,
    }),
  },
];

/** A config overlay that exposes the Collector's own metrics on the row's port. */
function metricsOverlay(row: RowEnvironment): string {
  const path = join(row.dir, 'metrics.yaml');
  writeFileSync(path, stringify({ service: { telemetry: { metrics: { level: 'normal', readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: row.ports.metrics } } } }] } } } }));
  return path;
}

/**
 * What the Admin Panel renders from gateway.yaml for one destination of each kind, each pointed at
 * the row's stand-ins (the panel's own code: parseDestination and renderCollectorConfig).
 */
function adminConfig(row: RowEnvironment): string {
  const secrets = join(row.dir, 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const secretFile = (id: string, field: string) => {
    const path = join(secrets, `${id}.${field}`);
    writeFileSync(path, field === 'headers' ? '{}' : `${id}-secret`, { mode: 0o600 });
    return path;
  };
  const inputs = [
    { id: 'splunk', name: 'Splunk', type: 'splunk_hec', url: `http://127.0.0.1:${row.proxies.hec}/services/collector`, allowInsecure: true, token: 't' },
    { id: 'syslog', name: 'Syslog', type: 'syslog', host: '127.0.0.1', port: row.proxies.syslog, tls: false },
    { id: 'siem', name: 'OTLP SIEM', type: 'otlp_http', endpoint: `http://127.0.0.1:${row.proxies.otlp}/v1/logs`, allowInsecure: true },
    { id: 'elastic', name: 'Elastic', type: 'elasticsearch', url: `http://127.0.0.1:${row.proxies.elastic}`, allowInsecure: true, apiKey: 'k' },
    { id: 'kafka', name: 'Kafka', type: 'kafka', brokers: [shared.kafka!.bootstrap], topic: row.kafkaTopic },
  ];
  const formats = loadFormats(join(ROOT, 'collector-config/formats'));
  const destinations = inputs.map((input, i) => {
    const destination = parseDestination(input, { path: 'destination', formats: formatNames(formats), directPort: row.ports.direct[i]! }).destination;
    // The matrix names dead-letter files by destination: no queue generation here.
    const { generation: _generation, ...plain } = destination;
    return plain as AdminDestination;
  });
  const path = join(row.dir, 'admin-rendered.yaml');
  writeFileSync(path, renderCollectorConfig({ base: readFileSync(join(ROOT, 'collector-config/gateway.yaml'), 'utf8'), destinations, formats, secretFile }));
  return path;
}

const CONFIGS = ALL_CONFIGS.filter((config) => only('MATRIX_CONFIGS')(config.name));

interface Cell {
  sent: number;
  delivered: number;
  deadLettered: number;
  duplicates: number;
  missing: number;
  verified: 'clean' | 'findings' | '';
  detail: string;
}

const results = new Map<string, Map<string, Map<string, Cell>>>();

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** A destination's dead-letter file (lossless' store). */
function deadLetterFile(row: RowEnvironment, exporter: string): string {
  return join(row.dir, 'queue/dead-letters', `lossless__${exporter}.ndjson`);
}

function readLetters(path: string): { record: unknown; message: string; status?: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { record: unknown; message: string; status?: number });
}

function letterIds(path: string): string[] {
  return readLetters(path).flatMap((letter) => JSON.stringify(letter.record).match(/"key":"log\.record\.uid","value":\{"stringValue":"([^"]+)"\}/)?.[1] ?? []);
}

/** What the gateway's lossless exporters still hold in their queues (its own metrics). */
async function queued(row: RowEnvironment): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${row.ports.metrics}/metrics`)).text();
    return [...text.matchAll(/^otelcol_exporter_queue_size\{[^}]*exporter="lossless\/[^"]+"[^}]*\} (\S+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The uids a destination holds (every copy). */
function held(destination: Destination, row: RowEnvironment): string[] {
  switch (destination.kind) {
    case 'hec':
      return fileRecordUids(shared.hec.file);
    case 'otlp':
      return fileRecordUids(shared.otlp.file);
    case 'elastic':
      return fileRecordUids(shared.elastic.file);
    case 'syslog':
      return fileRecordUids(shared.syslog.file);
    case 'archive':
      return fileRecordUids(row.archivePath);
    case 'kafka':
      return kafkaRecordUids(shared.kafkaData, row.kafkaTopic);
  }
}

/** The canonical copy a destination holds of one stream, for verify (Kafka's is checked by id only). */
function copyOf(destination: Destination, row: RowEnvironment, streamId: string) {
  const file = { hec: shared.hec.file, otlp: shared.otlp.file, elastic: shared.elastic.file, syslog: shared.syslog.file, archive: row.archivePath, kafka: undefined }[destination.kind];
  return file ? readTrail(file).filter((record) => record.attributes['audit.stream.id'] === streamId) : undefined;
}

async function startRow(config: Config, fault: Fault, index: number) {
  const dir = join(shared.dir, `${config.name}-${index}`);
  mkdirSync(dir, { recursive: true });
  const kinds = new Set(config.destinations.map((d) => d.kind));
  const proxies: { hec?: HttpFaultProxy; otlp?: HttpFaultProxy; elastic?: HttpFaultProxy; syslog?: TcpFaultProxy } = {};
  if (kinds.has('hec')) proxies.hec = await HttpFaultProxy.start(await freePort(), `127.0.0.1:${shared.hec.port}`);
  if (kinds.has('otlp')) proxies.otlp = await HttpFaultProxy.start(await freePort(), `127.0.0.1:${shared.otlp.port}`);
  if (kinds.has('elastic')) proxies.elastic = await HttpFaultProxy.start(await freePort(), `127.0.0.1:${shared.elastic.port}`);
  if (kinds.has('syslog')) proxies.syslog = await TcpFaultProxy.start(await freePort(), `127.0.0.1:${shared.syslog.port}`);
  let archiveDir = join(dir, 'archive');
  const overlays: string[] = [];
  if (fault.diskFull) {
    // A real full disk: a 1 MiB tmpfs for the archive alone (the queues stay on the test's disk).
    archiveDir = join(dir, 'archive-disk');
    mkdirSync(archiveDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', archiveDir]);
  }
  if (fault.kafkaMessageBytes !== undefined) {
    const overlay = join(dir, 'kafka-limit.yaml');
    writeFileSync(overlay, stringify({ exporters: { 'lossless/kafka': { exporter: { kafka: { producer: { max_message_bytes: fault.kafkaMessageBytes } } } } } }));
    overlays.push(overlay);
  }
  const row: RowEnvironment = {
    dir,
    ports: { otlp: await freePort(), grpc: await freePort(), health: await freePort(), metrics: await freePort(), direct: await Promise.all(Array.from({ length: 5 }, () => freePort())) },
    proxies: { hec: proxies.hec?.port, otlp: proxies.otlp?.port, elastic: proxies.elastic?.port, syslog: proxies.syslog?.port },
    archivePath: join(archiveDir, config.archiveFile),
    kafkaTopic: `matrix-${index}-${config.name.replace(/\W/g, '-')}`,
    overlays,
  };
  try {
    const gateway = await startCollector(config.configs(row), config.env(row), `127.0.0.1:${row.ports.health}`, `${config.name} (${fault.name})`);
    return { row, proxies, gateway, archiveDir };
  } catch (error) {
    for (const proxy of Object.values(proxies)) await proxy.stop();
    if (fault.diskFull) execFileSync('umount', ['-l', archiveDir]);
    throw error;
  }
}

/** startRow, again on fresh ports when one it picked was taken by another process before the gateway bound it. */
async function startRowOnFreePorts(config: Config, fault: Fault, index: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRow(config, fault, index * 10 + attempt);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

async function runRow(config: Config, fault: Fault, index: number): Promise<Map<string, Cell>> {
  const { row, proxies, gateway, archiveDir } = await startRowOnFreePorts(config, fault, index);
  const reports: string[] = [];
  const audit = createAuditLogger({
    catalog: gristCatalog,
    endpoint: `http://127.0.0.1:${row.ports.otlp}/v1/logs`,
    serviceName: `fault-matrix-${index}`,
    checkpoints: { intervalMillis: 5000 },
    onError: (error) => reports.push(error.message),
  });
  const details = gristCatalog.actions[config.action].sample as never;
  const marker = `POISON-${index}-${Date.now()}`;
  const sent: string[] = [];
  const log = (count: number, phase: string) => {
    for (let i = 0; i < count; i++) sent.push(audit.logEvent(config.action, { context: { session_id: `${phase}-${i}` }, details }));
  };
  const cells = new Map<string, Cell>();
  try {
    log(10, 'before');
    await audit.flush({ timeoutMillis: 30_000 });
    let filler = '';
    if (fault.diskFull) {
      filler = join(archiveDir, 'filler');
      // Fill what is left (dd stops at ENOSPC and exits non-zero: the disk is full).
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
      } catch {
        // full, as intended
      }
    }
    for (const [kind, proxy] of [['hec', proxies.hec], ['otlp', proxies.otlp], ['otlp', proxies.elastic]] as const) if (proxy && fault.http) await proxy.set(fault.http(kind, marker));
    if (proxies.syslog && fault.tcp) await proxies.syslog.set(fault.tcp);
    log(4, 'during');
    sent.push(audit.logEvent(config.action, { context: { session_id: marker }, details }));
    log(5, 'during-late');
    await audit.flush({ timeoutMillis: 30_000 });
    await sleep(fault.holdMillis);
    for (const proxy of [proxies.hec, proxies.otlp, proxies.elastic]) await proxy?.set({ kind: 'pass' });
    await proxies.syslog?.set('pass');
    if (filler) rmSync(filler);
    log(10, 'after');
    await audit.shutdown({ timeoutMillis: 30_000 });
    const { pending, dropped, deadLettered } = audit.stats();
    assert.deepEqual({ pending, dropped, deadLettered }, { pending: 0, dropped: 0, deadLettered: 0 }, `the gateway accepted every event (${config.name}, ${fault.name}); reports: ${reports.join('; ')}`);
    const streamId = (readTrail(row.archivePath)[0]?.attributes['audit.stream.id'] ?? '') as string;

    // Everything delivered or dead-lettered, then the dead letters re-driven.
    const expected = (destination: Destination) => (destination.wants ? sent.filter(() => destination.wants!(config.action)) : sent);
    const settled = () =>
      config.destinations.every((destination) => {
        const counts = tally(expected(destination), [...held(destination, row), ...letterIds(deadLetterFile(row, destination.exporter))]);
        return counts.missing.length === 0;
      });
    // Every event delivered or dead-lettered, and every queue empty (checkpoints travel in batches of their own).
    await waitFor(`${config.name} (${fault.name}): every event delivered or dead-lettered`, async () => settled() && (await queued(row)) === 0, 150_000).catch(() => undefined);
    const letters = new Map(config.destinations.map((d) => [d.column, readLetters(deadLetterFile(row, d.exporter))]));
    if ([...letters.values()].some((list) => list.length > 0)) {
      // The operator's re-drive, once the cause is fixed (the fault is over).
      execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'dead-letters', join(row.dir, 'queue/dead-letters'), '--redrive'], { stdio: 'pipe' });
      await waitFor(
        `${config.name} (${fault.name}): every event delivered after the re-drive`,
        async () => config.destinations.every((destination) => tally(expected(destination), held(destination, row)).missing.length === 0) && (await queued(row)) === 0,
        90_000,
      ).catch(() => undefined);
    }

    for (const destination of config.destinations) {
      const counts = tally(expected(destination), held(destination, row));
      const dead = letters.get(destination.column)!;
      const copy = copyOf(destination, row, streamId);
      const report = copy ? verifyTrail(copy) : undefined;
      cells.set(destination.column, {
        sent: counts.sent,
        delivered: counts.delivered,
        deadLettered: dead.length,
        duplicates: counts.duplicates,
        missing: counts.missing.length,
        verified: report ? (report.ok ? 'clean' : 'findings') : '',
        detail: `${dead.map((letter) => `${letter.status ?? ''} ${letter.message}`).slice(0, 1).join('')}${report && !report.ok ? ` ${JSON.stringify(report.streams.map((s) => ({ gaps: s.gaps, tampered: s.tampered.slice(0, 2), bad: s.badCheckpoints.slice(0, 2), silences: s.silences.length })))}` : ''}`,
      });
    }
    assert.doesNotMatch(gateway.output(), /Dropping data/, `${config.name} (${fault.name}) dropped data:\n${gateway.output()}`);
  } finally {
    await gateway.stop();
    for (const proxy of [proxies.hec, proxies.otlp, proxies.elastic, proxies.syslog]) await proxy?.stop();
    if (fault.diskFull) execFileSync('umount', ['-l', archiveDir]);
  }
  return cells;
}

function cellText(cell: Cell | undefined): string {
  if (!cell) return '—';
  if (cell.missing > 0) return `✗ ${cell.missing} missing`;
  const parts = ['✓'];
  if (cell.deadLettered > 0) parts.push(`${cell.deadLettered} dead-lettered, re-driven`);
  if (cell.duplicates > 0) parts.push(`${cell.duplicates} dup`);
  if (cell.verified === 'findings') parts.push('verify ✗');
  return parts.join(' ');
}

function printMatrix(): void {
  const lines: string[] = [];
  for (const config of CONFIGS) {
    const rows = results.get(config.name);
    if (!rows) continue;
    lines.push(`\n${config.name}`, `| fault | ${config.destinations.map((d) => d.column).join(' | ')} |`, `| --- | ${config.destinations.map(() => '---').join(' | ')} |`);
    for (const fault of FAULTS) {
      const cells = rows.get(fault.name);
      if (!cells) continue;
      lines.push(`| ${fault.name} | ${config.destinations.map((d) => cellText(cells.get(d.column))).join(' | ')} |`);
    }
  }
  console.log(`gateway fault matrix (✓: every event delivered; dead-lettered: kept with its reason, then re-driven; dup: extra copies):${lines.join('\n')}`);
}

describe('the gateway fault matrix', { timeout: 30 * 60_000 }, () => {
  before(async () => {
    shared.hec = { port: await freePort(), file: join(shared.dir, 'hec-received.jsonl') };
    shared.otlp = { port: await freePort(), file: join(shared.dir, 'otlp-received.jsonl') };
    shared.syslog = { port: await freePort(), file: join(shared.dir, 'syslog.log') };
    shared.running.push(await startHecReceiver(shared.hec.port, shared.hec.file, 'hec receiver'));
    shared.running.push(await startOtlpReceiver(shared.otlp.port, shared.otlp.file, 'otlp receiver'));
    shared.elastic = { port: await freePort(), file: join(shared.dir, 'elastic-received.jsonl') };
    shared.running.push(await startOtlpReceiver(shared.elastic.port, shared.elastic.file, 'elastic receiver'));
    shared.running.push(await startRsyslog(shared.syslog.port, shared.syslog.file));
    shared.kafka = await startKafka(join(shared.dir, 'kafka'));
    shared.kafkaData = join(shared.dir, 'kafka/data');
  });

  after(async () => {
    printMatrix();
    for (const process of shared.running.reverse()) await process.stop();
    await shared.kafka?.stop();
  });

  for (const config of CONFIGS) {
    describe(config.name, () => {
      const rows = new Map<string, Map<string, Cell>>();
      results.set(config.name, rows);
      const applicable = FAULTS.filter(
        (fault) =>
          only('MATRIX_FAULTS')(fault.name) &&
          ((fault.http && config.destinations.some((d) => d.kind === 'hec' || d.kind === 'otlp' || d.kind === 'elastic')) ||
          (fault.tcp && config.destinations.some((d) => d.kind === 'syslog')) ||
          (fault.kafkaMessageBytes !== undefined && config.destinations.some((d) => d.kind === 'kafka')) ||
          (fault.diskFull && config.destinations.some((d) => d.kind === 'archive'))),
      );
      before(async () => {
        // Every row of a config at once, each with its own gateway and stand-ins.
        const done = await Promise.allSettled(applicable.map((fault, i) => runRow(config, fault, CONFIGS.indexOf(config) * 100 + i)));
        done.forEach((result, i) => {
          if (result.status === 'fulfilled') rows.set(applicable[i]!.name, result.value);
          else rows.set(applicable[i]!.name, new Map([['error', { sent: 0, delivered: 0, deadLettered: 0, duplicates: 0, missing: 1, verified: '', detail: String(result.reason) }]]));
        });
      });
      for (const fault of applicable) {
        it(`${fault.name}: every event delivered${fault.deadLetters ? ' or dead-lettered with its reason, then re-driven' : ''}; copies within one batch; verify clean`, () => {
          const cells = rows.get(fault.name)!;
          const error = cells.get('error');
          assert.equal(error, undefined, error?.detail);
          for (const destination of config.destinations) {
            const cell = cells.get(destination.column)!;
            assert.equal(cell.missing, 0, `${destination.column}: ${cell.missing} missing (${cell.detail})`);
            if (!fault.deadLetters) assert.equal(cell.deadLettered, 0, `${destination.column} dead-lettered ${cell.deadLettered} on a fault that is not a record rejection (${cell.detail})`);
            assert.ok(cell.duplicates <= cell.sent, `${destination.column}: ${cell.duplicates} extra copies of ${cell.sent} events`);
            assert.notEqual(cell.verified, 'findings', `${destination.column}: verify found ${cell.detail}`);
          }
          if (fault.name === '400 one record') {
            const rejecting = config.destinations.filter((d) => d.kind === 'hec' || d.kind === 'otlp' || d.kind === 'elastic');
            for (const destination of rejecting) assert.equal(cells.get(destination.column)!.deadLettered, 1, `${destination.column} kept exactly the one rejected record`);
          }
        });
      }
    });
  }
});

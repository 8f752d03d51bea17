// The gateway's fault matrix: every shipped config, every destination, every fault a destination
// shows users (issue #21). Each row holds one fault at every destination of a config it applies to,
// while an application logs events before, during and after it; then every destination must hold
// every event id: delivered, or kept in that destination's dead letters with its reason (only for a
// per-record rejection) and delivered once re-driven. Copies per id stay within one batch, and
// `verifyTrail` on every canonical copy is clean. The matrix is printed with the figures of the
// run, and docs/delivery.md shows it in the words its assertions make true (checked after a whole
// run); the README's promise table sums it up.
//
// Real parts: otelcol-audit with each shipped config (the pool's gateway and consumer behind
// HAProxy too), the Splunk HEC receiver, an OTLP receiver, rsyslogd, Apache Kafka, a real full disk
// (tmpfs). Each destination of a row has a stand-in of its own in front of its receiver, carrying
// only the wire details of a fault (test/helpers/fault-proxy.ts); Elasticsearch's bulk API, which
// answers per document, is a small listener (test/helpers/elasticsearch-bulk.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { fileRecordUids, gatewayEnv, kafkaRecordUids, startOtlpReceiver, tally } from '../helpers/gateway.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { freePort, ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { startLoadBalancerFor } from '../helpers/topology.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { parseDestination, type Destination as AdminDestination } from '../../src/admin/destinations.js';
import { formatNames, loadFormats, renderCollectorConfig } from '../../src/admin/render.js';
import { documentEventIds, startElasticsearchBulkEndpoint, type ElasticsearchBulkEndpoint } from '../helpers/elasticsearch-bulk.js';
import { checkDocSection } from '../helpers/doc-sections.js';
import { HttpFaultProxy, TcpFaultProxy, type HttpFault, type TcpFault } from '../helpers/fault-proxy.js';

/** The kinds of destination a fault is expressed for. */
type Kind = 'hec' | 'otlp' | 'elasticsearch' | 'syslog' | 'archive' | 'kafka';

/** The receivers every row shares (a row's ids are its own): what HEC, OTLP and syslog destinations reach through their stand-ins. */
type SharedReceiver = 'hec' | 'ocsf' | 'otlp' | 'elastic' | 'syslog' | 'cef';

interface Fault {
  readonly name: string;
  /** The fault of an HTTP destination, by its kind (the body a record rejection carries differs). */
  readonly http?: (kind: 'hec' | 'otlp', marker: string) => HttpFault;
  /** Elasticsearch refuses documents inside a 200 bulk answer (its mapping): the marked one, or all. */
  readonly elasticsearchRejects?: 'marked' | 'all';
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
  { name: '400 one record', http: (kind, marker) => ({ kind: 'reject-containing', needle: marker, answer: recordRejection(kind) }), elasticsearchRejects: 'marked', holdMillis: 6000, deadLetters: true },
  { name: '400 every record', http: (kind) => ({ kind: 'answer', ...recordRejection(kind) }), elasticsearchRejects: 'all', holdMillis: 6000, deadLetters: true },
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
  /** Where its stand-in forwards to (HEC, OTLP and syslog destinations; the others hold their own copies). */
  readonly receiver?: SharedReceiver;
  /** Which of the ids the row sent it must hold (a routing filter keeps only some). */
  readonly wants?: (action: string) => boolean;
}

/** What a row gives a config to start its gateway. */
interface RowEnvironment {
  readonly name: string;
  readonly dir: string;
  readonly ports: { otlp: number; grpc: number; health: number; metrics: number; direct: readonly number[] };
  /** Each destination's stand-in port, by column. */
  readonly standIns: Readonly<Record<string, number>>;
  readonly archivePath: string;
  /** The row's own topic (and, for a Kafka receiver, consumer group). */
  readonly kafkaTopic: string;
  readonly overlays: string[];
  /** The row's Elasticsearch, when a destination is one. */
  readonly elasticsearch?: ElasticsearchBulkEndpoint;
}

/** A config's gateway (or the pool's parts) running for a row. */
interface Gateway {
  /** Where the application sends. */
  readonly endpoint: string;
  /** The Prometheus endpoints of the Collectors with lossless exporters. */
  readonly metricsPorts: readonly number[];
  output(): string;
  stop(): Promise<void>;
}

interface Config {
  readonly name: string;
  /** The archive's file name: its extension says its format (zstd frames, or JSON lines). */
  readonly archiveFile: 'audit.zst' | 'archive.jsonl';
  readonly destinations: readonly Destination[];
  /** The action every event of the row has (the routing example sends only some to security). */
  readonly action: 'document.create' | 'document.change_access';
  /** Its gateway writes to Kafka without a Kafka column of its own (the "Kafka message over its limit" row applies). */
  readonly producesToKafka?: boolean;
  /** The row's topic is created before the gateway starts (a Kafka receiver joins its group only once its topic exists). */
  readonly createsTopic?: boolean;
  readonly start: (row: RowEnvironment) => Promise<Gateway>;
}

/** A config that is one otelcol-audit with these config files and this environment. */
function collector(configs: (row: RowEnvironment) => string[], env: (row: RowEnvironment) => Record<string, string>): Config['start'] {
  return async (row) => {
    const process = await startCollector(configs(row), env(row), `127.0.0.1:${row.ports.health}`, row.name);
    return { endpoint: `http://127.0.0.1:${row.ports.otlp}/v1/logs`, metricsPorts: [row.ports.metrics], output: () => process.output(), stop: () => process.stop() };
  };
}

const POOL = 'topologies/gateway-pool-kafka';

/**
 * The gateway pool as its README runs it: HAProxy in front of the pool's gateway.yaml, which only
 * writes to Kafka, and consumer.yaml delivering from the topic to Splunk HEC and the archive.
 */
async function startPool(row: RowEnvironment): Promise<Gateway> {
  const deadLetters = join(row.dir, 'queue/dead-letters');
  const kafka = { KAFKA_BROKERS: shared.kafka!.bootstrap, KAFKA_TOPIC: row.kafkaTopic };
  const gatewayEnv = {
    ...kafka,
    AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${row.ports.otlp}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${row.ports.health}`,
    AUDIT_METRICS_PORT: String(row.ports.metrics),
    AUDIT_DEAD_LETTER_DIR: deadLetters,
  };
  const [consumerHealth, consumerMetrics] = row.ports.direct as [number, number];
  const parts: RunningProcess[] = [];
  try {
    parts.push(await startCollector([`${POOL}/gateway.yaml`, ...row.overlays], gatewayEnv, gatewayEnv.AUDIT_HEALTH_ENDPOINT, `${row.name}: gateway`));
    parts.push(
      await startCollector(
        `${POOL}/consumer.yaml`,
        {
          ...kafka,
          KAFKA_GROUP_PREFIX: row.kafkaTopic,
          KAFKA_SESSION_TIMEOUT: '6s',
          KAFKA_HEARTBEAT_INTERVAL: '1s',
          SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${row.standIns['splunk (consumer)']}/services/collector`,
          SPLUNK_HEC_TOKEN: 'pool-token',
          AUDIT_ARCHIVE_PATH: row.archivePath,
          AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${consumerHealth}`,
          AUDIT_METRICS_PORT: String(consumerMetrics),
          AUDIT_DEAD_LETTER_DIR: deadLetters,
        },
        `127.0.0.1:${consumerHealth}`,
        `${row.name}: consumer`,
      ),
    );
    const balancer = await startLoadBalancerFor([gatewayEnv]);
    parts.push(balancer.process);
    return {
      endpoint: `http://127.0.0.1:${balancer.port}/v1/logs`,
      metricsPorts: [row.ports.metrics, consumerMetrics],
      output: () => parts.map((part) => part.output()).join('\n'),
      stop: async () => {
        for (const part of parts.reverse()) await part.stop();
      },
    };
  } catch (error) {
    for (const part of parts.reverse()) await part.stop();
    throw error;
  }
}

const shared = {
  dir: tempDir('fault-matrix'),
  /** hec and ocsf: HEC receivers (Splunk, and the OCSF lake of siem-formats); otlp and elastic: OTLP receivers; syslog and cef: rsyslogds. */
  receivers: {} as Record<SharedReceiver, { port: number; file: string }>,
  kafka: undefined as KafkaBroker | undefined,
  kafkaData: '',
  running: [] as RunningProcess[],
};

/** For working on one part: MATRIX_CONFIGS / MATRIX_FAULTS, regular expressions of the names to run (CI runs all). */
const only = (variable: string) => (name: string) => new RegExp(process.env[variable] ?? '.').test(name);

/** gateway.yaml's environment for a row: its destinations at their stand-ins. */
const gatewayYamlEnv = (row: RowEnvironment) => ({
  ...gatewayEnv(row.dir, { ...row.ports, hec: row.standIns['splunk']!, syslog: row.standIns['syslog']!, elastic: row.standIns['elastic']! }, shared.kafka!.bootstrap),
  AUDIT_ARCHIVE_PATH: row.archivePath,
  KAFKA_TOPIC: row.kafkaTopic,
});

const GATEWAY_YAML_DESTINATIONS: readonly Destination[] = [
  { column: 'splunk', kind: 'hec', exporter: 'splunk', receiver: 'hec' },
  { column: 'archive', kind: 'archive', exporter: 'archive' },
  { column: 'syslog', kind: 'syslog', exporter: 'syslog', receiver: 'syslog' },
  { column: 'elastic', kind: 'otlp', exporter: 'elastic', receiver: 'elastic' },
  { column: 'kafka', kind: 'kafka', exporter: 'kafka' },
];

const SIEM_FORMATS = ['ocsf', 'ecs', 'cim', 'cef'];
const SIEM_EXAMPLES = ['ocsf-hec', 'ecs-elasticsearch', 'cim-splunk', 'cef-syslog'];

const ALL_CONFIGS: readonly Config[] = [
  {
    name: 'gateway.yaml',
    archiveFile: 'audit.zst',
    action: 'document.create',
    destinations: GATEWAY_YAML_DESTINATIONS,
    start: collector((row) => ['gateway.yaml', ...row.overlays], gatewayYamlEnv),
  },
  {
    name: 'local.yaml',
    archiveFile: 'archive.jsonl',
    action: 'document.create',
    destinations: [
      { column: 'splunk', kind: 'hec', exporter: 'splunk', receiver: 'hec' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    start: collector(
      () => ['local.yaml'],
      (row) => ({
        AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${row.ports.otlp}`,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${row.ports.health}`,
        AUDIT_METRICS_PORT: String(row.ports.metrics),
        AUDIT_STORAGE_DIR: join(row.dir, 'queue'),
        AUDIT_ARCHIVE_PATH: row.archivePath,
        SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${row.standIns['splunk']}/services/collector`,
        SPLUNK_HEC_TOKEN: 'local-token',
      }),
    ),
  },
  {
    name: 'examples/routing-by-action',
    archiveFile: 'archive.jsonl',
    action: 'document.change_access',
    destinations: [
      { column: 'security (routed)', kind: 'hec', exporter: 'security', receiver: 'hec' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    // Its own metrics are off (it binds no port): the matrix reads the queues through them.
    start: collector(
      (row) => ['examples/routing-by-action/config.yaml', metricsOverlay(row)],
      (row) => ({
        AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${row.ports.otlp}`,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${row.ports.health}`,
        AUDIT_STORAGE_DIR: join(row.dir, 'queue'),
        AUDIT_ARCHIVE_PATH: row.archivePath,
        SECURITY_HEC_ENDPOINT: `http://127.0.0.1:${row.standIns['security (routed)']}/services/collector`,
        SECURITY_HEC_TOKEN: 'security-token',
      }),
    ),
  },
  {
    name: 'examples/siem-formats (gateway.yaml, OCSF, ECS, CIM, CEF)',
    archiveFile: 'audit.zst',
    action: 'document.create',
    createsTopic: true,
    destinations: [
      { column: 'splunk (CIM)', kind: 'hec', exporter: 'splunk', receiver: 'hec' },
      { column: 'ocsf (HEC)', kind: 'hec', exporter: 'ocsf', receiver: 'ocsf' },
      { column: 'cef (syslog)', kind: 'syslog', exporter: 'cef', receiver: 'cef' },
      { column: 'elasticsearch (ECS, from Kafka)', kind: 'elasticsearch', exporter: 'elasticsearch' },
      ...GATEWAY_YAML_DESTINATIONS.filter((d) => d.column !== 'splunk'),
    ],
    start: collector(
      (row) => ['gateway.yaml', ...SIEM_FORMATS.map((f) => `formats/${f}.yaml`), ...SIEM_EXAMPLES.map((e) => `examples/siem-formats/${e}.yaml`), ...row.overlays],
      (row) => ({
        ...gatewayYamlEnv({ ...row, standIns: { ...row.standIns, splunk: row.standIns['splunk (CIM)']! } }),
        OCSF_HEC_ENDPOINT: `http://127.0.0.1:${row.standIns['ocsf (HEC)']}/services/collector`,
        OCSF_HEC_TOKEN: 'ocsf-token',
        SYSLOG_CEF_ENDPOINT: '127.0.0.1',
        SYSLOG_CEF_PORT: String(row.standIns['cef (syslog)']),
        SYSLOG_CEF_TLS_INSECURE: 'true',
        ELASTICSEARCH_ENDPOINT: `http://127.0.0.1:${row.standIns['elasticsearch (ECS, from Kafka)']}`,
        ELASTICSEARCH_GROUP_ID: row.kafkaTopic,
      }),
    ),
  },
  {
    name: 'topologies/gateway-pool-kafka (HAProxy, gateway, Kafka, consumer)',
    archiveFile: 'archive.jsonl',
    action: 'document.create',
    createsTopic: true,
    // The topic is the gateway's buffer, written in protobuf with zstd: its columns are what the consumer delivered from it.
    producesToKafka: true,
    destinations: [
      { column: 'splunk (consumer)', kind: 'hec', exporter: 'splunk', receiver: 'hec' },
      { column: 'archive (consumer)', kind: 'archive', exporter: 'archive' },
    ],
    start: startPool,
  },
  {
    name: 'Admin Panel (one destination of each kind)',
    archiveFile: 'audit.zst',
    action: 'document.create',
    destinations: [
      { column: 'splunk_hec', kind: 'hec', exporter: 'splunk', receiver: 'hec' },
      { column: 'syslog', kind: 'syslog', exporter: 'syslog', receiver: 'syslog' },
      { column: 'otlp_http', kind: 'otlp', exporter: 'siem', receiver: 'otlp' },
      { column: 'elasticsearch', kind: 'otlp', exporter: 'elastic', receiver: 'elastic' },
      { column: 'kafka', kind: 'kafka', exporter: 'kafka' },
      { column: 'archive', kind: 'archive', exporter: 'archive' },
    ],
    start: collector(
      (row) => [adminConfig(row)],
      (row) => ({
        ...gatewayEnv(row.dir, { ...row.ports, hec: 0, syslog: 0, elastic: 0 }, shared.kafka!.bootstrap),
        AUDIT_ARCHIVE_PATH: row.archivePath,
      }),
    ),
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
    { id: 'splunk', name: 'Splunk', type: 'splunk_hec', url: `http://127.0.0.1:${row.standIns['splunk_hec']}/services/collector`, allowInsecure: true, token: 't' },
    { id: 'syslog', name: 'Syslog', type: 'syslog', host: '127.0.0.1', port: row.standIns['syslog'], tls: false },
    { id: 'siem', name: 'OTLP SIEM', type: 'otlp_http', endpoint: `http://127.0.0.1:${row.standIns['otlp_http']}/v1/logs`, allowInsecure: true },
    { id: 'elastic', name: 'Elastic', type: 'elasticsearch', url: `http://127.0.0.1:${row.standIns['elasticsearch']}`, allowInsecure: true, apiKey: 'k' },
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

/** What the gateway's lossless exporters still hold in their queues (their Collectors' own metrics). */
async function queued(gateway: Gateway): Promise<number> {
  try {
    let sum = 0;
    for (const port of gateway.metricsPorts) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const match of text.matchAll(/^otelcol_exporter_queue_size\{[^}]*exporter="lossless\/[^"]+"[^}]*\} (\S+)$/gm)) sum += Number(match[1]);
    }
    return sum;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The file holding a destination's copy (Elasticsearch's documents are written out as an export would keep them). */
function copyFile(destination: Destination, row: RowEnvironment): string | undefined {
  if (destination.receiver) return shared.receivers[destination.receiver].file;
  if (destination.kind === 'archive') return row.archivePath;
  if (destination.kind === 'elasticsearch') {
    const file = join(row.dir, 'elasticsearch-documents.jsonl');
    writeFileSync(file, row.elasticsearch!.documents.map((document) => `${JSON.stringify(document)}\n`).join(''));
    return file;
  }
  return undefined;
}

/** The uids a destination holds (every copy). */
function held(destination: Destination, row: RowEnvironment): string[] {
  if (destination.kind === 'kafka') return kafkaRecordUids(shared.kafkaData, row.kafkaTopic);
  if (destination.kind === 'elasticsearch') return documentEventIds(row.elasticsearch!.documents);
  return fileRecordUids(copyFile(destination, row)!);
}

/** The canonical copy a destination holds of one stream, for verify (Kafka's is checked by id only). */
function copyOf(destination: Destination, row: RowEnvironment, streamId: string) {
  const file = copyFile(destination, row);
  return file ? readTrail(file).filter((record) => record.attributes['audit.stream.id'] === streamId) : undefined;
}

/** A destination's stand-in: an HTTP or TCP fault proxy in front of what receives its copies. */
type StandIn = { readonly kind: 'http'; readonly proxy: HttpFaultProxy } | { readonly kind: 'tcp'; readonly proxy: TcpFaultProxy };

async function startStandIn(destination: Destination, elasticsearch: ElasticsearchBulkEndpoint | undefined): Promise<StandIn | undefined> {
  switch (destination.kind) {
    case 'hec':
    case 'otlp':
      return { kind: 'http', proxy: await HttpFaultProxy.start(await freePort(), `127.0.0.1:${shared.receivers[destination.receiver!].port}`) };
    case 'elasticsearch':
      return { kind: 'http', proxy: await HttpFaultProxy.start(await freePort(), `127.0.0.1:${elasticsearch!.port}`) };
    case 'syslog':
      return { kind: 'tcp', proxy: await TcpFaultProxy.start(await freePort(), `127.0.0.1:${shared.receivers[destination.receiver!].port}`) };
    default:
      return undefined;
  }
}

async function startRow(config: Config, fault: Fault, index: number) {
  const name = `${config.name} (${fault.name})`;
  const dir = join(shared.dir, `${config.name.replace(/\W+/g, '-')}-${index}`);
  mkdirSync(dir, { recursive: true });
  const elasticsearch = config.destinations.some((d) => d.kind === 'elasticsearch') ? await startElasticsearchBulkEndpoint(await freePort()) : undefined;
  const standIns = new Map<string, StandIn>();
  let archiveDir = join(dir, 'archive');
  let mounted = false;
  const stopStandIns = async () => {
    for (const standIn of standIns.values()) await standIn.proxy.stop();
    await elasticsearch?.close();
    if (mounted) execFileSync('umount', ['-l', archiveDir]);
  };
  try {
    for (const destination of config.destinations) {
      const standIn = await startStandIn(destination, elasticsearch);
      if (standIn) standIns.set(destination.column, standIn);
    }
    const overlays: string[] = [];
    if (fault.diskFull) {
      // A real full disk: a 1 MiB tmpfs for the archive alone (the queues stay on the test's disk).
      archiveDir = join(dir, 'archive-disk');
      mkdirSync(archiveDir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', archiveDir]);
      mounted = true;
    }
    if (fault.kafkaMessageBytes !== undefined) {
      const overlay = join(dir, 'kafka-limit.yaml');
      writeFileSync(overlay, stringify({ exporters: { 'lossless/kafka': { exporter: { kafka: { producer: { max_message_bytes: fault.kafkaMessageBytes } } } } } }));
      overlays.push(overlay);
    }
    const row: RowEnvironment = {
      name,
      dir,
      ports: { otlp: await freePort(), grpc: await freePort(), health: await freePort(), metrics: await freePort(), direct: await Promise.all(Array.from({ length: 5 }, () => freePort())) },
      standIns: Object.fromEntries([...standIns].map(([column, standIn]) => [column, standIn.proxy.port])),
      archivePath: join(archiveDir, config.archiveFile),
      kafkaTopic: `matrix-${index}-${config.name.replace(/\W+/g, '-')}`.slice(0, 120),
      overlays,
      ...(elasticsearch ? { elasticsearch } : {}),
    };
    if (config.createsTopic) await shared.kafka!.createTopic(row.kafkaTopic, 2);
    const gateway = await config.start(row);
    return { row, standIns, gateway, archiveDir, stopStandIns };
  } catch (error) {
    await stopStandIns();
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

/** Sets the fault at every stand-in of the row (or lifts it: `undefined`). */
async function setFault(config: Config, fault: Fault | undefined, standIns: ReadonlyMap<string, StandIn>, row: RowEnvironment, marker: string): Promise<void> {
  for (const destination of config.destinations) {
    const standIn = standIns.get(destination.column);
    if (destination.kind === 'elasticsearch' && fault?.elasticsearchRejects) {
      // Elasticsearch refuses a document in its bulk answer (200, an item with 400), never the request.
      row.elasticsearch!.rejecting = fault.elasticsearchRejects === 'all' ? () => true : (document) => document.includes(marker);
      continue;
    }
    if (destination.kind === 'elasticsearch') row.elasticsearch!.rejecting = undefined;
    if (standIn?.kind === 'http') await standIn.proxy.set(fault?.http ? fault.http(destination.kind === 'hec' ? 'hec' : 'otlp', marker) : { kind: 'pass' });
    if (standIn?.kind === 'tcp') await standIn.proxy.set(fault?.tcp ?? 'pass');
  }
}

async function runRow(config: Config, fault: Fault, index: number): Promise<Map<string, Cell>> {
  const { row, standIns, gateway, archiveDir, stopStandIns } = await startRowOnFreePorts(config, fault, index);
  const reports: string[] = [];
  const audit = createAuditLogger({
    catalog: gristCatalog,
    endpoint: gateway.endpoint,
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
    await setFault(config, fault, standIns, row, marker);
    log(4, 'during');
    sent.push(audit.logEvent(config.action, { context: { session_id: marker }, details }));
    log(5, 'during-late');
    await audit.flush({ timeoutMillis: 30_000 });
    await sleep(fault.holdMillis);
    await setFault(config, undefined, standIns, row, marker);
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
    await waitFor(`${config.name} (${fault.name}): every event delivered or dead-lettered`, async () => settled() && (await queued(gateway)) === 0, 150_000).catch(() => undefined);
    const letters = new Map(config.destinations.map((d) => [d.column, readLetters(deadLetterFile(row, d.exporter))]));
    if ([...letters.values()].some((list) => list.length > 0)) {
      // The operator's re-drive, once the cause is fixed (the fault is over).
      execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'dead-letters', join(row.dir, 'queue/dead-letters'), '--redrive'], { stdio: 'pipe' });
      await waitFor(
        `${config.name} (${fault.name}): every event delivered after the re-drive`,
        async () => config.destinations.every((destination) => tally(expected(destination), held(destination, row)).missing.length === 0) && (await queued(gateway)) === 0,
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
    await stopStandIns();
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

/**
 * The matrix in the words its assertions make true whatever the timing (docs/delivery.md shows it):
 * each event delivered, or dead-lettered with its reason then re-driven and delivered. The printed
 * matrix above has the figures of a run (how many dead-lettered, extra copies).
 */
function matrixInWords(): string {
  const words = (cell: Cell | undefined): string => {
    if (!cell) return 'not run';
    if (cell.missing > 0 || cell.verified === 'findings') return 'FAILED';
    return cell.deadLettered > 0 ? 'dead-lettered with its reason, re-driven, delivered' : 'delivered';
  };
  const lines = ['Every event of each row delivered to each destination (copies within one batch, verify clean on every canonical copy), or dead-lettered with its reason and delivered once re-driven:'];
  for (const config of CONFIGS) {
    const rows = results.get(config.name);
    lines.push('', `**${config.name}**`, '', `| fault | ${config.destinations.map((d) => d.column).join(' | ')} |`, `| --- | ${config.destinations.map(() => '---').join(' | ')} |`);
    for (const fault of FAULTS) {
      const cells = rows?.get(fault.name);
      if (cells) lines.push(`| ${fault.name} | ${config.destinations.map((d) => words(cells.get(d.column))).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

describe('the gateway fault matrix', { timeout: 30 * 60_000 }, () => {
  before(async () => {
    const start = { hec: startHecReceiver, ocsf: startHecReceiver, otlp: startOtlpReceiver, elastic: startOtlpReceiver, syslog: startRsyslog, cef: startRsyslog };
    const wanted = new Set(CONFIGS.flatMap((config) => config.destinations.flatMap((d) => d.receiver ?? [])));
    for (const receiver of wanted) {
      shared.receivers[receiver] = { port: await freePort(), file: join(shared.dir, `${receiver}-received.${receiver === 'syslog' || receiver === 'cef' ? 'log' : 'jsonl'}`) };
      shared.running.push(await start[receiver](shared.receivers[receiver].port, shared.receivers[receiver].file, `${receiver} receiver`));
    }
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
          ((fault.http && config.destinations.some((d) => d.kind === 'hec' || d.kind === 'otlp' || d.kind === 'elasticsearch')) ||
          (fault.tcp && config.destinations.some((d) => d.kind === 'syslog')) ||
          (fault.kafkaMessageBytes !== undefined && (config.producesToKafka || config.destinations.some((d) => d.kind === 'kafka'))) ||
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
            const rejecting = config.destinations.filter((d) => d.kind === 'hec' || d.kind === 'otlp' || d.kind === 'elasticsearch');
            for (const destination of rejecting) assert.equal(cells.get(destination.column)!.deadLettered, 1, `${destination.column} kept exactly the one rejected record`);
          }
        });
      }
    });
  }

  // Only a whole run is the matrix the docs show (MATRIX_CONFIGS / MATRIX_FAULTS run a part).
  if (process.env['MATRIX_CONFIGS'] === undefined && process.env['MATRIX_FAULTS'] === undefined) {
    it('docs/delivery.md shows the matrix as these rows came out', () => {
      checkDocSection('docs/delivery.md', 'gateway-fault-matrix', matrixInWords());
    });
  }
});

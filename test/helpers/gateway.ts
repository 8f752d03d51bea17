// collector-config/gateway.yaml and its destinations, all on loopback, for the end-to-end tests:
// ports, output files, the gateway's environment, the Elastic stand-in, and what reached Kafka.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTrail } from '../../src/integrity/trail.js';
import { freePort, startCollector, type RunningProcess } from './processes.js';

export interface GatewayPorts {
  otlp: number;
  grpc: number;
  health: number;
  metrics: number;
  hec: number;
  syslog: number;
  elastic: number;
}

export async function gatewayPorts(): Promise<GatewayPorts> {
  return {
    otlp: await freePort(),
    grpc: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
    hec: await freePort(),
    syslog: await freePort(),
    elastic: await freePort(),
  };
}

/** Where each destination's stand-in writes what it received (the archive is the gateway's own). */
export function gatewayFiles(dir: string) {
  return {
    hec: join(dir, 'hec-received.jsonl'),
    archive: join(dir, 'archive/audit.jsonl'),
    syslog: join(dir, 'syslog.log'),
    elastic: join(dir, 'elastic-received.jsonl'),
  };
}

/**
 * gateway.yaml's environment: listeners on `ports`, queues and archive under `dir`, every
 * destination on loopback (HEC, rsyslog and the Elastic stand-in on their ports, Kafka at
 * `kafkaBrokers`), no auth (loopback); `overrides` switch auth or TLS on.
 */
export function gatewayEnv(dir: string, ports: GatewayPorts, kafkaBrokers: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AUDIT_STORAGE_DIR: join(dir, 'queue'),
    AUDIT_ARCHIVE_PATH: gatewayFiles(dir).archive,
    AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
    AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
    AUDIT_METRICS_PORT: String(ports.metrics),
    SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
    SPLUNK_HEC_TOKEN: 'e2e-hec-token',
    SPLUNK_INDEX: 'audit_e2e',
    SPLUNK_SOURCETYPE: 'otel:audit',
    SYSLOG_ENDPOINT: '127.0.0.1',
    SYSLOG_PORT: String(ports.syslog),
    SYSLOG_TLS_INSECURE: 'true',
    ELASTIC_OTLP_ENDPOINT: `http://127.0.0.1:${ports.elastic}`,
    KAFKA_BROKERS: kafkaBrokers,
    ...overrides,
  };
}

/** The Elastic stand-in: collector-config/examples/otlp-receiver, writing what it receives to `output`. */
export async function startOtlpReceiver(port: number, output: string, name = 'otlp-receiver'): Promise<RunningProcess> {
  const health = `127.0.0.1:${await freePort()}`;
  return startCollector('examples/otlp-receiver/config.yaml', { OTLP_RECEIVER_ENDPOINT: `127.0.0.1:${port}`, OTLP_RECEIVER_OUTPUT: output, OTLP_RECEIVER_HEALTH: health }, health, name);
}

/**
 * The `log.record.uid` of every log record a Kafka topic holds, one entry per stored copy, read
 * from the broker's own log segments under `dataDir` (the Kafka exporter writes uncompressed
 * OTLP/JSON messages; reading the files needs no consumer group, no JVM and no offsets to commit).
 */
export function kafkaRecordUids(dataDir: string, topic: string): string[] {
  if (!existsSync(dataDir)) return [];
  const uids: string[] = [];
  for (const partition of readdirSync(dataDir).filter((name) => name.startsWith(`${topic}-`))) {
    for (const segment of readdirSync(join(dataDir, partition)).filter((name) => name.endsWith('.log'))) {
      const text = readFileSync(join(dataDir, partition, segment)).toString('latin1');
      for (const match of text.matchAll(/"key":"log\.record\.uid","value":\{"stringValue":"([^"]+)"\}/g)) uids.push(match[1]!);
    }
  }
  return uids;
}

/** The `log.record.uid` of every record a destination's file holds, one entry per stored copy. */
export function fileRecordUids(path: string): string[] {
  return existsSync(path) ? readTrail(path).map((record) => String(record.attributes['log.record.uid'] ?? (record.body as { id?: string }).id)) : [];
}

/** What a destination holds of the ids sent: how many arrived, which are missing, extra copies. */
export function tally(sent: readonly string[], held: readonly string[]) {
  const wanted = new Set(sent);
  const copies = held.filter((uid) => wanted.has(uid));
  const arrived = new Set(copies);
  return { sent: sent.length, delivered: arrived.size, missing: sent.filter((id) => !arrived.has(id)), duplicates: copies.length - arrived.size };
}

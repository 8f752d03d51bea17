// The scale-out topology of collector-config/topologies/gateway-pool-kafka/, all real and on
// loopback: HAProxy in front of N gateways (gateway.yaml), a single-node Kafka, M consumers
// (consumer.yaml) delivering to the HEC stand-in and each to its own archive file. What the
// topology fault tests and the throughput script run; each part can be killed and started again
// on the same ports and data.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ATTR, readTrail, type AuditLogger, type Catalog, type TrailRecord } from '../../src/index.js';
import { startKafka, type KafkaBroker } from './kafka.js';
import { CONFIG, freePort, listening, startCollector, startHecReceiver, track, waitFor, type RunningProcess } from './processes.js';

const TOPOLOGY = 'topologies/gateway-pool-kafka';
/** The HAProxy config names two gateway slots; with one gateway both point at it. */
const LOAD_BALANCER_SLOTS = 2;
const CHECKPOINT_ACTION = 'audit.checkpoint';

export interface TopologyOptions {
  /** 1 or 2 gateways behind the load balancer. @default 2 */
  readonly gateways?: number;
  /** Consumers in each consumer group. @default 2 */
  readonly consumers?: number;
  /** Partitions of the topic. @default 4 */
  readonly partitions?: number;
  /** How long a consumer's HEC exporter retries one message before the receiver backs off. @default '60s' */
  readonly splunkRetryWindow?: string;
  /** The consumers' group session timeout (the broker's minimum is 6 s). @default '6s' */
  readonly sessionTimeout?: string;
  /** Leave the consumers for the caller to start (`startConsumer`), e.g. to let a backlog build. @default false */
  readonly deferConsumers?: boolean;
}

export type Topology = Awaited<ReturnType<typeof startTopology>>;

/**
 * Runs `start`, again (at most three times in all) when one of the free ports it picked was taken
 * by another process before it could bind it: a free port is only free until someone binds it.
 */
async function onFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test((error as Error).message)) throw error;
    }
  }
}

/**
 * Whether both consumer groups have every partition assigned, none to two consumers and some to
 * each, from the consumers' logs (the franz-go client logs each assignment it syncs). Traffic
 * sent while a group still rebalances can hit the kafka receiver's stuck-partition bug (see the
 * README's limits), so the tests start the applications only once the groups are settled.
 */
function groupsSettled(consumerLogs: readonly string[], partitions: number): boolean {
  return ['-splunk', '-archive'].every((suffix) => {
    const owned = consumerLogs.map((log) => {
      const synced = [...log.matchAll(/"group": "[^"]*(-splunk|-archive)", "assigned": "(?:[^"[]*\[([\d ]*)\])?"/g)].filter((m) => m[1] === suffix);
      return (synced.at(-1)?.[2] ?? '').split(' ').filter(Boolean);
    });
    const all = owned.flat();
    return owned.every((mine) => mine.length > 0) && all.length === partitions && new Set(all).size === partitions;
  });
}

/**
 * HAProxy with the topology's haproxy.cfg in front of the gateways whose environments are given
 * (their AUDIT_OTLP_HTTP_ENDPOINT and AUDIT_HEALTH_ENDPOINT), one per slot of the config; fewer
 * gateways than slots repeat the last. On fresh ports if the one it picked was taken.
 */
export function startLoadBalancerFor(gatewayEnvs: readonly Record<string, string>[]): Promise<{ port: number; process: RunningProcess }> {
  const slot = (i: number) => gatewayEnvs[Math.min(i, gatewayEnvs.length - 1)]!;
  return onFreshPorts(async () => {
    const port = await freePort();
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', LB_BIND: `127.0.0.1:${port}` };
    for (let i = 0; i < LOAD_BALANCER_SLOTS; i++) {
      env[`GATEWAY_${i + 1}`] = slot(i)['AUDIT_OTLP_HTTP_ENDPOINT']!;
      env[`GATEWAY_${i + 1}_HEALTH_PORT`] = slot(i)['AUDIT_HEALTH_ENDPOINT']!.split(':')[1]!;
    }
    const child = spawn('haproxy', ['-db', '-f', CONFIG(`${TOPOLOGY}/haproxy.cfg`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const haproxy = track(child, 'haproxy');
    try {
      await waitFor('HAProxy to listen', () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${haproxy.output()}`);
        return listening(port);
      });
    } catch (error) {
      await haproxy.stop();
      throw error;
    }
    return { port, process: haproxy };
  });
}

/** Starts every part, in the order data flows backwards (destinations first), in `dir`. */
export async function startTopology(dir: string, options: TopologyOptions = {}) {
  const { gateways: gatewayCount = 2, consumers: consumerCount = 2, partitions = 4, splunkRetryWindow = '60s', sessionTimeout = '6s', deferConsumers = false } = options;
  if (gatewayCount < 1 || gatewayCount > LOAD_BALANCER_SLOTS) throw new Error(`gateways must be 1 or ${LOAD_BALANCER_SLOTS}`);
  const topic = 'audit-events';
  const running = new Set<RunningProcess>();
  const started = async (process: Promise<RunningProcess>): Promise<RunningProcess> => {
    const p = await process;
    running.add(p);
    return p;
  };

  const kafka: KafkaBroker = await onFreshPorts(() => startKafka(join(dir, 'kafka'), { partitions }));
  const stopped = async (process: RunningProcess | undefined, signal?: NodeJS.Signals): Promise<void> => {
    if (!process) return;
    await process.stop(signal);
    running.delete(process);
  };
  const stopAll = async (): Promise<void> => {
    for (const process of [...running].reverse()) await stopped(process);
    await kafka.stop();
  };

  let hecPort = 0;
  /** Every file the HEC stand-in wrote: a restarted stand-in writes a new one. */
  const hecFiles: string[] = [];
  let hec: RunningProcess | undefined;
  const startHec = async (): Promise<void> => {
    const file = join(dir, `hec-received-${hecFiles.length + 1}.jsonl`);
    hecFiles.push(file);
    hec = await started(startHecReceiver(hecPort, file));
  };

  // Restarts (startGateway, startConsumer) reuse the environment, and so the ports, of the first start.
  const gatewayEnvs: Record<string, string>[] = [];
  const gateways: (RunningProcess | undefined)[] = [];
  const startGateway = async (i: number): Promise<void> => {
    const env = gatewayEnvs[i]!;
    gateways[i] = await started(startCollector(`${TOPOLOGY}/gateway.yaml`, env, env['AUDIT_HEALTH_ENDPOINT']!, `gateway-${i + 1}`));
  };
  const archiveFiles = Array.from({ length: consumerCount }, (_, i) => join(dir, `archive-consumer-${i + 1}.jsonl`));
  const consumerEnvs: Record<string, string>[] = [];
  const consumers: (RunningProcess | undefined)[] = [];
  const runConsumer = async (i: number): Promise<void> => {
    const env = consumerEnvs[i]!;
    consumers[i] = await started(startCollector(`${TOPOLOGY}/consumer.yaml`, env, env['AUDIT_HEALTH_ENDPOINT']!, `consumer-${i + 1}`));
  };
  const startConsumer = async (i: number): Promise<void> => {
    if (consumerEnvs[i]) return runConsumer(i);
    await onFreshPorts(async () => {
      consumerEnvs[i] = {
        KAFKA_BROKERS: kafka.bootstrap,
        KAFKA_TOPIC: topic,
        KAFKA_SESSION_TIMEOUT: sessionTimeout,
        KAFKA_HEARTBEAT_INTERVAL: '1s',
        SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${hecPort}/services/collector`,
        SPLUNK_HEC_TOKEN: 'topology-token',
        SPLUNK_RETRY_WINDOW: splunkRetryWindow,
        AUDIT_ARCHIVE_PATH: archiveFiles[i]!,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${await freePort()}`,
        AUDIT_METRICS_PORT: String(await freePort()),
      };
      await runConsumer(i);
    });
  };
  const startLoadBalancer = async (): Promise<number> => {
    const balancer = await startLoadBalancerFor(gatewayEnvs);
    running.add(balancer.process);
    return balancer.port;
  };

  // Whatever started is stopped again if a later part fails to start.
  let lbPort = 0;
  try {
    await kafka.createTopic(topic, partitions);
    await onFreshPorts(async () => {
      hecPort = await freePort();
      await startHec();
    });
    for (let i = 0; i < gatewayCount; i++) {
      await onFreshPorts(async () => {
        gatewayEnvs[i] = {
          AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${await freePort()}`,
          AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${await freePort()}`,
          AUDIT_METRICS_PORT: String(await freePort()),
          KAFKA_BROKERS: kafka.bootstrap,
          KAFKA_TOPIC: topic,
        };
        await startGateway(i);
      });
    }
    lbPort = await startLoadBalancer();
    if (!deferConsumers) {
      for (let i = 0; i < consumerCount; i++) await startConsumer(i);
      await waitFor('both consumer groups to settle', () => groupsSettled(consumers.map((c) => c?.output() ?? ''), partitions), 60_000);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    /** The applications' OTLP/HTTP endpoint: the load balancer. */
    endpoint: `http://127.0.0.1:${lbPort}/v1/logs`,
    kafka,
    /** The HEC stand-in's output files (one per start). */
    hecFiles: () => [...hecFiles],
    archiveFiles,
    startHec,
    stopHec: (signal?: NodeJS.Signals) => stopped(hec, signal),
    startGateway,
    stopGateway: (i: number, signal?: NodeJS.Signals) => stopped(gateways[i], signal),
    startConsumer,
    stopConsumer: (i: number, signal?: NodeJS.Signals) => stopped(consumers[i], signal),
    /** Consumer i's Prometheus endpoint (the Collector's own metrics); known once it was started. */
    consumerMetrics: (i: number) => `http://127.0.0.1:${consumerEnvs[i]?.['AUDIT_METRICS_PORT']}/metrics`,
    /** What consumer i logged (its last run). */
    consumerOutput: (i: number) => consumers[i]?.output() ?? '',
    /** Every process still running (Kafka's JVM included). */
    processes: (): RunningProcess[] => [...running, kafka.process()],
    /** Output of every process still running, for a failure message. */
    output: () => [...running].map((p) => `--- ${p.name} ---\n${p.output().slice(-4000)}`).join('\n'),
    stopAll,
  };
}

/** Every record a destination kept across its files (missing files count as empty). */
export function readCopies(files: readonly string[]): TrailRecord[] {
  return files.filter((file) => existsSync(file) && statSync(file).size > 0).flatMap((file) => readTrail(file));
}

/**
 * A destination's records across its files, read again at most every `intervalMillis` and only
 * when a file grew: a test polls it while the files grow.
 */
export function watchCopies(files: () => readonly string[], intervalMillis = 500): () => TrailRecord[] {
  let sizes = '';
  let readAt = 0;
  let records: TrailRecord[] = [];
  return () => {
    if (Date.now() - readAt < intervalMillis) return records;
    const now = files().map((file) => (existsSync(file) ? statSync(file).size : 0)).join(',');
    if (now !== sizes) {
      records = readCopies(files());
      sizes = now;
      readAt = Date.now();
    }
    return records;
  };
}

const isCheckpoint = (record: TrailRecord): boolean => record.attributes[ATTR.action] === CHECKPOINT_ACTION;

/** What a destination holds of the events `sent`: counts of delivered, missing and duplicated ids. */
export function countDelivery(records: readonly TrailRecord[], sent: readonly string[]) {
  const events = records.filter((record) => !isCheckpoint(record));
  const ids = new Set(events.map((record) => String(record.attributes[ATTR.recordUid])));
  const missing = sent.filter((id) => !ids.has(id));
  return { sent: sent.length, delivered: ids.size, missing: missing.length, duplicates: events.length - ids.size, firstMissing: missing.slice(0, 5) };
}

/** Final checkpoints (written at each logger's shutdown) a destination holds, one per stream. */
export function finalCheckpoints(records: readonly TrailRecord[]): number {
  const streams = new Set<string>();
  for (const record of records) {
    const details = (record.body as { details?: { final?: unknown; stream_id?: unknown } } | null)?.details;
    if (isCheckpoint(record) && details?.final === true) streams.add(String(details.stream_id));
  }
  return streams.size;
}

/**
 * Several applications (one logger each: its own resource and stream) sending `total` events
 * together at `perSecond`, in ticks of 50 ms, round-robin over the loggers. `ids` fills as they are
 * logged (a test can inject a fault once it has reached some length); `done` resolves at the end.
 */
export function streamEvents<C extends Catalog>(
  loggers: readonly AuditLogger<C>[],
  total: number,
  perSecond: number,
  log: (logger: AuditLogger<C>, i: number) => string,
): { ids: string[]; done: Promise<void> } {
  const ids: string[] = [];
  const perTick = Math.max(1, Math.round(perSecond / 20));
  const started = Date.now();
  const done = (async () => {
    while (ids.length < total) {
      for (let i = 0; i < perTick && ids.length < total; i++) ids.push(log(loggers[ids.length % loggers.length]!, ids.length));
      // Paced against the clock, not the previous tick, so a slow tick does not lower the rate.
      const due = started + (ids.length / perSecond) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  })();
  return { ids, done };
}

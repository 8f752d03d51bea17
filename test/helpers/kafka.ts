// A real Apache Kafka broker for the end-to-end tests: single-node KRaft (broker and controller in
// one JVM) on free loopback ports, run by scripts/kafka/kafka.sh from the jars that
// `bash scripts/kafka/kafka.sh resolve` fetched from Maven Central into .kafka/lib.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT, track, waitFor, type RunningProcess } from './processes.js';

const KAFKA_SCRIPT = join(ROOT, 'scripts/kafka/kafka.sh');
const KAFKA_LIB = join(ROOT, '.kafka/lib');
/** The broker's log line once it serves clients (scripts/kafka/log4j2.properties keeps it). */
const READY_LINE = 'Kafka Server started';

export interface KafkaBroker {
  /** host:port for the clients' bootstrap. */
  readonly bootstrap: string;
  /** The running JVM; replaced by each `start()`. */
  process(): RunningProcess;
  /** Starts it again on the same ports and data directory (after `stop`). */
  start(): Promise<void>;
  /** SIGTERM (a clean, controlled shutdown) or the given signal, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Creates a topic (one replica) unless it exists: consumers join their group only once it does. */
  createTopic(topic: string, partitions: number): Promise<void>;
}

/**
 * Formats `dir` (unless it already holds a cluster) and starts a broker whose topics, when created
 * on first use, get `partitions` partitions; resolves once the broker serves clients.
 */
export async function startKafka(dir: string, { partitions = 4 }: { partitions?: number } = {}): Promise<KafkaBroker> {
  if (!existsSync(KAFKA_LIB)) throw new Error(`${KAFKA_LIB} is missing: run bash scripts/kafka/kafka.sh resolve`);
  const port = await freePort();
  const controllerPort = await freePort();
  let running: RunningProcess | undefined;
  const start = async (): Promise<void> => {
    const child = spawn('bash', [KAFKA_SCRIPT, 'run', dir, String(port), String(controllerPort), String(partitions)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = track(child, 'kafka');
    running = started;
    await waitFor(
      'the Kafka broker to start',
      () => {
        if (child.exitCode !== null) throw new Error(`the Kafka broker exited with ${child.exitCode}:\n${started.output()}`);
        return started.output().includes(READY_LINE);
      },
      90_000,
    );
  };
  await start();
  return {
    bootstrap: `127.0.0.1:${port}`,
    process: () => running!,
    start,
    stop: async (signal) => running?.stop(signal),
    createTopic: async (topic, partitions) => {
      await promisify(execFile)('bash', [KAFKA_SCRIPT, 'create-topic', `127.0.0.1:${port}`, topic, String(partitions)], { timeout: 60_000 });
    },
  };
}

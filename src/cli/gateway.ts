// otel-audit gateway: the shipped gateway.yaml run with the destinations named on the command line,
// from the installed package. The destinations left out are switched off through gateway.yaml's
// own switches (AUDIT_<DESTINATION>=off); secrets go to the Collector in its environment, read
// from files, never in its arguments and never printed.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { CollectorSupervisor, conciseError } from '../gateway/supervisor.js';
import { freePort } from '../gateway/ports.js';
import { tryLockSlot } from '../delivery/spool/lock.js';
import { EXIT, stringOption as str, UsageError, type Command } from './args.js';
import { buildCollector, packageRoot } from './collector.js';

/** The destinations of gateway.yaml, by the name of their switch variable and their pipeline. */
const DESTINATIONS = { splunk: 'AUDIT_SPLUNK', archive: 'AUDIT_ARCHIVE', syslog: 'AUDIT_SYSLOG', elastic: 'AUDIT_ELASTIC', kafka: 'AUDIT_KAFKA' } as const;
type Destination = keyof typeof DESTINATIONS;

/** Where the state goes when --state-dir is not given: beside the project that runs the gateway. */
export const DEFAULT_STATE_DIR = '.otel-audit-gateway';
/** gateway.yaml's own default ports, which applications' defaults point at (createAuditLogger: 4318). */
const DEFAULT_PORTS = { port: 4318, 'grpc-port': 4317 } as const;
/** The Splunk HEC path the exporter posts to, when a URL gives none. */
const HEC_PATH = '/services/collector';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run an otelcol-audit gateway to the destinations you name (loopback, durable queues)',
  usage: `otel-audit gateway <destinations> [options]

Runs otelcol-audit with the package's collector-config/gateway.yaml, sending every audit event to the
destinations named below (at least one) and to no other. Listens on loopback only; every
destination has its own persistent queue, so nothing is lost while one is down or refuses. Builds
the Collector first, or reuses the binary built before (needs Go the first time). Runs until
SIGINT (Ctrl-C) or SIGTERM, which stop the Collector cleanly; a second one stops it at once.

Destinations:
  --splunk <url>               Splunk HTTP Event Collector (https://splunk:8088/services/collector;
                               without a path, /services/collector)
  --splunk-token-file <file>   its HEC token (required with --splunk)
  --archive <dir>              a rotating, zstd-compressed archive in <dir>/audit.zst
                               (otel-audit verify reads it)
  --syslog <host:port>         RFC 5424 syslog over TCP, octet-counted
  --syslog-tls                 over TLS, verified with the system roots or --syslog-ca-file
  --syslog-ca-file <file>      the CA that signs the syslog server's certificate (with --syslog-tls)
  --elastic <url>              Elastic's OTLP intake (managed OTLP endpoint, APM Server, EDOT gateway)
  --elastic-api-key-file <file> an API key with ingest privileges (required with --elastic)
  --kafka <host:port>          a bootstrap broker of the Kafka cluster
  --kafka-topic <topic>        the topic (default audit-events)

Options:
  --state-dir <dir>            the persistent queues, dead letters and the Collector's log
                               (default ${DEFAULT_STATE_DIR} in the current directory; one gateway per directory)
  --port <n>                   OTLP/HTTP port on 127.0.0.1 (default ${DEFAULT_PORTS.port}; 0 picks a free one)
  --grpc-port <n>              OTLP/gRPC port on 127.0.0.1 (default ${DEFAULT_PORTS['grpc-port']}; 0 picks a free one)
  --metrics-port <n>           the Collector's Prometheus metrics on 127.0.0.1 (default: a free port)
  --collector <path>           an otelcol-audit binary to run as it is (default: .collector/otelcol-audit
                               in the current directory, built or reused as \`otel-audit collector build\` does)

Secrets are read from files (one line; a final newline is ignored), handed to the Collector in its
environment and never printed. Other variables of gateway.yaml (SPLUNK_INDEX, SPLUNK_SOURCETYPE,
SPLUNK_INSECURE_SKIP_VERIFY, ...) are taken from this command's environment. To listen beyond
loopback (bearer tokens, TLS), run gateway.yaml yourself: docs/collector.md, "Expose the gateway".

Exit codes: 0 stopped cleanly, 2 usage error, 3 the Collector could not be built, validated or started, or failed.`,
  options: {
    splunk: { type: 'string' },
    'splunk-token-file': { type: 'string' },
    archive: { type: 'string' },
    syslog: { type: 'string' },
    'syslog-tls': { type: 'boolean' },
    'syslog-ca-file': { type: 'string' },
    elastic: { type: 'string' },
    'elastic-api-key-file': { type: 'string' },
    kafka: { type: 'string' },
    'kafka-topic': { type: 'string' },
    'state-dir': { type: 'string' },
    port: { type: 'string' },
    'grpc-port': { type: 'string' },
    'metrics-port': { type: 'string' },
    collector: { type: 'string' },
  },
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const plan = planGateway(values);
    const stateDir = resolve(str(values['state-dir']) ?? DEFAULT_STATE_DIR);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // The queues are bbolt files: two Collectors on one directory would wait on each other's locks.
    const lock = tryLockSlot(stateDir);
    if (!lock) throw new UsageError(`another otel-audit gateway runs on ${stateDir} (one gateway per --state-dir)`);
    try {
      return await runGateway(plan, stateDir, values);
    } finally {
      lock.release();
    }
  },
};

/** What the command line asks for: the Collector's environment (secrets included) and what to print. */
interface GatewayPlan {
  readonly env: Record<string, string>;
  readonly destinations: readonly { readonly name: Destination; readonly where: string }[];
  readonly ports: { readonly http: number; readonly grpc: number; readonly metrics: number | undefined };
}

/** Checks the options and turns them into gateway.yaml's environment; throws UsageError naming the option. */
export function planGateway(values: Record<string, string | boolean | string[] | undefined>): GatewayPlan {
  const env: Record<string, string> = {};
  const destinations: { name: Destination; where: string }[] = [];
  const requireWith = (option: string, needs: string) => {
    if (str(values[needs]) === undefined) throw new UsageError(`--${option} needs --${needs}`);
  };
  const onlyWith = (option: string, needs: string) => {
    if (values[option] !== undefined && values[needs] === undefined) throw new UsageError(`--${option} goes with --${needs}`);
  };
  onlyWith('splunk-token-file', 'splunk');
  onlyWith('syslog-tls', 'syslog');
  onlyWith('syslog-ca-file', 'syslog-tls');
  onlyWith('elastic-api-key-file', 'elastic');
  onlyWith('kafka-topic', 'kafka');

  const splunk = str(values['splunk']);
  if (splunk !== undefined) {
    requireWith('splunk', 'splunk-token-file');
    const url = destinationUrl('splunk', splunk);
    if (url.pathname === '/' || url.pathname === '') url.pathname = HEC_PATH;
    env['SPLUNK_HEC_ENDPOINT'] = url.href;
    env['SPLUNK_HEC_TOKEN'] = secretFrom('splunk-token-file', str(values['splunk-token-file'])!);
    destinations.push({ name: 'splunk', where: url.href });
  }
  const archive = str(values['archive']);
  if (archive !== undefined) {
    if (archive === '') throw new UsageError('--archive needs a directory');
    const path = join(resolve(archive), 'audit.zst');
    env['AUDIT_ARCHIVE_PATH'] = path;
    destinations.push({ name: 'archive', where: `${path} (rotated at 256 MB; otel-audit verify ${path})` });
  }
  const syslog = str(values['syslog']);
  if (syslog !== undefined) {
    const { host, port } = hostPort('syslog', syslog);
    const tls = values['syslog-tls'] === true;
    env['SYSLOG_ENDPOINT'] = host;
    env['SYSLOG_PORT'] = String(port);
    env['SYSLOG_TLS_INSECURE'] = String(!tls);
    const caFile = str(values['syslog-ca-file']);
    if (caFile !== undefined) env['SYSLOG_CA_FILE'] = readableFile('syslog-ca-file', caFile);
    destinations.push({ name: 'syslog', where: `${host}:${port} (${tls ? 'TLS' : 'plain TCP'})` });
  }
  const elastic = str(values['elastic']);
  if (elastic !== undefined) {
    requireWith('elastic', 'elastic-api-key-file');
    const url = destinationUrl('elastic', elastic);
    env['ELASTIC_OTLP_ENDPOINT'] = url.href.replace(/\/$/, '');
    env['ELASTIC_API_KEY'] = secretFrom('elastic-api-key-file', str(values['elastic-api-key-file'])!);
    destinations.push({ name: 'elastic', where: env['ELASTIC_OTLP_ENDPOINT'] });
  }
  const kafka = str(values['kafka']);
  if (kafka !== undefined) {
    if (kafka.includes(',')) throw new UsageError('--kafka takes one bootstrap broker (host:port): the client learns the rest of the cluster from it');
    const { host, port } = hostPort('kafka', kafka);
    const topic = str(values['kafka-topic']) ?? 'audit-events';
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new UsageError(`--kafka-topic must be a Kafka topic name (letters, digits, . _ -), got "${topic}"`);
    env['KAFKA_BROKERS'] = `${host}:${port}`;
    env['KAFKA_TOPIC'] = topic;
    destinations.push({ name: 'kafka', where: `${host}:${port}, topic ${topic}` });
  }
  if (destinations.length === 0) throw new UsageError('name at least one destination: --splunk, --archive, --syslog, --elastic or --kafka');

  const metrics = str(values['metrics-port']);
  return {
    env,
    destinations,
    ports: {
      http: portOption('port', str(values['port']) ?? String(DEFAULT_PORTS.port)),
      grpc: portOption('grpc-port', str(values['grpc-port']) ?? String(DEFAULT_PORTS['grpc-port'])),
      metrics: metrics === undefined ? undefined : portOption('metrics-port', metrics),
    },
  };
}

async function runGateway(plan: GatewayPlan, stateDir: string, values: Record<string, string | boolean | string[] | undefined>): Promise<number> {
  const say = (line: string) => process.stderr.write(`otel-audit gateway: ${line}\n`);
  let binary = str(values['collector']);
  if (binary === undefined) {
    const out = resolve('.collector');
    // The build's progress is not the gateway's output: stdout says where the gateway is.
    if (!(await buildCollector(out, ['ignore', process.stderr, process.stderr]))) {
      say('the Collector could not be built (see above); build it with `otel-audit collector build`, or name a binary with --collector');
      return EXIT.failure;
    }
    binary = join(out, 'otelcol-audit');
  } else binary = readableFile('collector', binary);

  const queue = join(stateDir, 'queue');
  const logFile = join(stateDir, 'otelcol-audit.log');
  closeSync(openSync(logFile, 'a', 0o600));
  const ports = {
    http: plan.ports.http || (await freePort()),
    grpc: plan.ports.grpc || (await freePort()),
    metrics: plan.ports.metrics || (await freePort()),
    health: await freePort(),
  };
  const env: Record<string, string> = {
    ...inheritedEnvironment(),
    ...plan.env,
    AUDIT_STORAGE_DIR: queue,
    AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.http}`,
    AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
    AUDIT_METRICS_HOST: '127.0.0.1',
    AUDIT_METRICS_PORT: String(ports.metrics),
    // Loopback: no token to check, and nothing to encrypt between two processes of one host.
    AUDIT_OTLP_BEARER_AUTH: 'false',
    AUDIT_OTLP_TLS: 'false',
  };
  // gateway.yaml's switches: a destination named on the command line is on (its switch unset,
  // whatever this shell has), every other one off.
  for (const [name, variable] of Object.entries(DESTINATIONS)) {
    if (plan.destinations.some((d) => d.name === name)) delete env[variable];
    else env[variable] = 'off';
  }

  let stopRequested = false;
  let failed: string | undefined;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const config = join(packageRoot(), 'collector-config/gateway.yaml');
  const supervisor = new CollectorSupervisor({
    binary,
    configPath: config,
    env,
    healthEndpoint: env['AUDIT_HEALTH_ENDPOINT']!,
    pidFile: join(stateDir, 'otelcol-audit.pid'),
    onOutput: collectorOutput(logFile),
    onUnexpectedExit: (code, signal) => {
      if (stopRequested) return;
      failed = `otelcol-audit exited with ${signal ?? code}: ${conciseError(supervisor.log()) || `see ${logFile}`}`;
      wake();
    },
  });

  const checked = supervisor.validate(config);
  if (!checked.ok) {
    say(`otelcol-audit validate refused the configuration: ${checked.message}`);
    return EXIT.failure;
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      say(`${signal} again: stopping the Collector at once (its queues are on disk: nothing is lost)`);
      void supervisor.stop('SIGKILL');
      return;
    }
    stopRequested = true;
    say(`${signal}: stopping the Collector (a batch in flight ends within 10 s; what is queued stays in ${queue})`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await supervisor.start();
    } catch (error) {
      if (stopRequested) return EXIT.ok;
      say(`otelcol-audit did not start: ${(error as Error).message} (log: ${logFile})`);
      return EXIT.failure;
    }
    process.stdout.write(summary(plan, ports, { stateDir, queue, logFile, binary, pid: supervisor.pid }));
    await stopped;
    await supervisor.stop();
    if (failed) {
      say(failed);
      return EXIT.failure;
    }
    say('stopped');
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function summary(plan: GatewayPlan, ports: { http: number; grpc: number; metrics: number; health: number }, paths: { stateDir: string; queue: string; logFile: string; binary: string; pid: number | undefined }): string {
  const endpoint = `http://127.0.0.1:${ports.http}/v1/logs`;
  const width = Math.max(...plan.destinations.map((d) => d.name.length));
  return [
    `otel-audit gateway: running (otelcol-audit pid ${paths.pid}, ${paths.binary})`,
    `  OTLP/HTTP     ${endpoint}`,
    `                createAuditLogger({ endpoint: '${endpoint}', ... }), or OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT=${endpoint}`,
    `  OTLP/gRPC     127.0.0.1:${ports.grpc}`,
    `  destinations  ${plan.destinations.map((d) => `${d.name.padEnd(width)}  ${d.where}`).join(`\n${' '.repeat(16)}`)}`,
    `  queues        ${paths.queue} (one persistent queue per destination)`,
    `  dead letters  ${join(paths.queue, 'dead-letters')} (otel-audit dead-letters ${join(paths.queue, 'dead-letters')})`,
    `  log           ${paths.logFile}`,
    `  metrics       http://127.0.0.1:${ports.metrics}/metrics   health http://127.0.0.1:${ports.health}/`,
    `  stop          Ctrl-C, or kill -TERM ${process.pid}: the Collector stops cleanly; what is queued is sent at the next start`,
    '',
  ].join('\n');
}

/** Longest line of the Collector's output looked at for its level (its lines are far shorter). */
const MAX_LINE = 64 * 1024;

/**
 * Keeps the Collector's whole output in `logFile` and shows its warnings and errors (a destination
 * refusing, a queue full) on stderr, where the person running the gateway looks.
 */
function collectorOutput(logFile: string): (text: string) => void {
  let partial = '';
  return (text) => {
    appendFileSync(logFile, text);
    const lines = (partial + text).split('\n');
    // A line without its end yet waits for the next chunk, up to a bound.
    partial = lines.pop()!.slice(0, MAX_LINE);
    for (const line of lines) if (/^\S+\t(warn|error)\t/.test(line)) process.stderr.write(`otelcol-audit: ${line}\n`);
  };
}

/** This process's environment without unset values: gateway.yaml's other settings pass through. */
function inheritedEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function portOption(option: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--${option} must be a port number from 0 to 65535, got "${value}"`);
  return port;
}

function hostPort(option: string, value: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new UsageError(`--${option} takes host:port, got "${value}"`);
  return { host: match[1]!, port };
}

/** An http(s) URL; plain http only to this host, where no secret crosses a network. */
function destinationUrl(option: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${option} must be a URL (https://host:port/...), got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--${option} must be an http or https URL, got "${value}"`);
  if (url.username || url.password) throw new UsageError(`--${option}: no credentials in the URL; give them in a file (--${option}-*-file)`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) throw new UsageError(`--${option}: use https for ${url.hostname}: its credentials would cross the network in clear text`);
  return url;
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

function readableFile(option: string, path: string): string {
  const absolute = resolve(path);
  try {
    if (!statSync(absolute).isFile()) throw new UsageError(`--${option}: ${path} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--${option}: cannot read ${path}`);
  }
  return absolute;
}

/** A secret from its file: one line, a final newline ignored. The value never appears in a message. */
function secretFrom(option: string, path: string): string {
  let secret: string;
  try {
    secret = readFileSync(readableFile(option, path), 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--${option}: cannot read ${path}`);
  }
  if (secret.trim() === '') throw new UsageError(`--${option}: ${path} is empty`);
  if (/[\r\n]/.test(secret)) throw new UsageError(`--${option}: ${path} must hold one line (the secret alone)`);
  if ((statSync(path).mode & 0o077) !== 0) process.stderr.write(`otel-audit gateway: --${option}: ${path} can be read by other users (chmod 600 ${path})\n`);
  return secret;
}

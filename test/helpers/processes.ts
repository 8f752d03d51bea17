// Real processes for the end-to-end tests and the demo: the otelcol-audit Collector and rsyslogd,
// on free loopback ports, each stopped by whoever started it.
// test/helpers is the one helpers folder: what starts real components (this file, kafka.ts,
// gateway.ts, topology.ts) and the synthetic trail are run by the demo, the benchmarks and
// scripts/*.ts too, which import them from here rather than from a second, shared folder, so that
// there is one place to look for a helper and one copy of each.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export { freePort };

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const COLLECTOR = join(ROOT, '.collector/otelcol-audit');
/** A config of collector-config/ by its relative name, or any config file by its absolute path. */
export const CONFIG = (name: string): string => (isAbsolute(name) ? name : join(ROOT, 'collector-config', name));


export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `otel-audit-${prefix}-`));
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMillis = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM (or the given signal), then wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function track(child: ChildProcess, name: string): RunningProcess {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      if (process.env['E2E_VERBOSE']) console.error(`--- ${name} ---\n${output}`);
    },
  };
}

/** Whether something accepts TCP connections on the loopback `port`. */
export async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/**
 * Starts the Collector with a config (or several, merged in order, as `--config a --config b`
 * merges them; see CONFIG) and waits until its health check answers.
 */
export async function startCollector(config: string | readonly string[], env: Record<string, string>, healthEndpoint: string, name = String(config)): Promise<RunningProcess> {
  // Checked here, not on import: the in-process tests (npm run test:unit) import this file for ROOT
  // and waitFor and must run without a Collector build.
  if (!existsSync(COLLECTOR)) throw new Error(`${COLLECTOR} is missing: run npm run collector:build`);
  const args = (typeof config === 'string' ? [config] : config).flatMap((file) => ['--config', CONFIG(file)]);
  const child = spawn(COLLECTOR, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running = track(child, name);
  await waitFor(`${name} to be healthy`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${running.output()}`);
    return healthy(`http://${healthEndpoint}/`);
  });
  return running;
}

/** The Splunk stand-in: the Collector's HEC receiver, writing what it receives to `output`. */
export async function startHecReceiver(port: number, output: string, name = 'hec-receiver'): Promise<RunningProcess> {
  const health = `127.0.0.1:${await freePort()}`;
  return startCollector('examples/hec-receiver/config.yaml', { HEC_RECEIVER_ENDPOINT: `127.0.0.1:${port}`, HEC_RECEIVER_OUTPUT: output, HEC_RECEIVER_HEALTH: health }, health, name);
}

/**
 * rsyslogd from Debian, in the foreground, listening on TCP `port` (octet-counted framing, as the
 * Collector's syslog exporter sends it) and writing each message's MSG, with its structured data,
 * one per line to `output`; and, given `rfc5424Output`, each whole message as an RFC 5424 line
 * (rsyslog's RSYSLOG_SyslogProtocol23Format) there too.
 */
export async function startRsyslog(port: number, output: string, rfc5424Output?: string): Promise<RunningProcess> {
  const dir = tempDir('rsyslog');
  const config = join(dir, 'rsyslog.conf');
  writeFileSync(
    config,
    [
      'global(workDirectory="' + dir + '" maxMessageSize="1m")',
      'module(load="imtcp")',
      `template(name="msgonly" type="string" string="%STRUCTURED-DATA% %msg%\\n")`,
      `ruleset(name="audit") {`,
      `  action(type="omfile" file="${output}" template="msgonly" flushOnTXEnd="on" asyncWriting="off")`,
      ...(rfc5424Output ? [`  action(type="omfile" file="${rfc5424Output}" template="RSYSLOG_SyslogProtocol23Format" flushOnTXEnd="on" asyncWriting="off")`] : []),
      `}`,
      `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="audit")`,
    ].join('\n'),
  );
  const child = spawn('rsyslogd', ['-n', '-f', config, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const running = track(child, 'rsyslogd');
  await waitFor('rsyslogd to listen', async () => {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}:\n${running.output()}`);
    return listening(port);
  });
  return running;
}

/**
 * collector-config/local.yaml in front of the HEC stand-in, on fresh ports, writing into `dir`:
 * what the demo, the fault tests and the end-to-end benchmark run. Start the parts when wanted.
 */
export async function localPipeline(dir: string) {
  const ports = { otlp: await freePort(), health: await freePort(), metrics: await freePort(), hec: await freePort() };
  const files = { hec: join(dir, 'hec-received.jsonl'), archive: join(dir, 'archive.jsonl') };
  const env = {
    AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
    AUDIT_METRICS_PORT: String(ports.metrics),
    AUDIT_STORAGE_DIR: join(dir, 'collector-queue'),
    AUDIT_ARCHIVE_PATH: files.archive,
    SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
    SPLUNK_HEC_TOKEN: 'local-token',
  };
  const running: RunningProcess[] = [];
  return {
    ports,
    files,
    endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`,
    running,
    async startHec(): Promise<RunningProcess> {
      const hec = await startHecReceiver(ports.hec, files.hec);
      running.push(hec);
      return hec;
    },
    /** `overlays`: configs merged over local.yaml, in order; `extraEnv`: more of its environment (a benchmark's variants). */
    async startGateway(overlays: readonly string[] = [], extraEnv: Record<string, string> = {}): Promise<RunningProcess> {
      const gateway = await startCollector(['local.yaml', ...overlays], { ...env, ...extraEnv }, env.AUDIT_HEALTH_ENDPOINT, 'otelcol-audit');
      running.push(gateway);
      return gateway;
    },
    async stopAll(): Promise<void> {
      for (const process of [...running].reverse()) await process.stop();
    },
  };
}

// Runs otelcol-audit as a child process and applies configs to it. A change reaches the running
// Collector by SIGHUP: it re-reads its --config and restarts its pipelines in place (persistent
// queues survive, they live in the storage directory). A config that fails at that restart makes
// the Collector exit; the supervisor then starts it again on the last good config. What both
// `otel-audit gateway` and the Admin Panel run their Collector with.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** The Collector logs this once its pipelines run (at start and after each reload). */
const READY = 'Everything is ready. Begin running and processing data.';
const KEEP_OUTPUT = 1 << 20;

export interface SupervisorOptions {
  readonly binary: string;
  readonly configPath: string;
  /** The Collector's environment (AUDIT_* settings); PATH is added. */
  readonly env: Readonly<Record<string, string>>;
  /** host:port of the health_check extension. */
  readonly healthEndpoint: string;
  /** How long a start may take before it counts as failed. @default 60000 */
  readonly readyTimeoutMillis?: number;
  /**
   * How long a reload may take before the Collector is restarted instead: an exporter that does
   * not stop (this release's Kafka exporter with every broker unreachable) holds up the shutdown
   * of the old pipelines, and with it the receivers. A reload takes 0.1-1.1 s here. @default 5000
   */
  readonly reloadTimeoutMillis?: number;
  /**
   * Where the Collector's process id is kept: a Collector left running by an earlier panel that
   * died (children outlive their parent) is stopped before a new one starts on the same config.
   */
  readonly pidFile: string;
  /** Called when the Collector exits without being asked to (a crash, or a reload that failed). */
  readonly onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Called with everything the Collector writes, as it comes (`otel-audit gateway` keeps it in a file). */
  readonly onOutput?: (text: string) => void;
}

export class CollectorFailedError extends Error {
  override readonly name = 'CollectorFailedError';
}

class CollectorTimeoutError extends CollectorFailedError {}

export class CollectorSupervisor {
  private child: ChildProcess | undefined;
  private output = '';
  /** Output dropped from the front of `output` (the buffer is bounded). */
  private trimmed = 0;
  private readyCount = 0;
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the Collector logged, up to the last megabyte. */
  log(): string {
    return this.output;
  }

  /** The Collector's own verdict on a config file, before anything is applied. */
  validate(configPath: string): { ok: boolean; message: string } {
    const result = spawnSync(this.options.binary, ['validate', '--config', configPath], { env: this.env(), encoding: 'utf8', timeout: 60_000 });
    // validate prints the error alone, its reason often on lines of their own ("'tls.insecure_skip_verify'
    // expected type 'bool'"): all of it, without the blank lines.
    const message = `${result.stderr ?? ''}${result.stdout ?? ''}`
      .split('\n')
      .map((line) => line.replace(/^Error: /, '').trim())
      .filter((line) => line !== '')
      .join('\n');
    return { ok: result.status === 0, message: result.status === 0 ? message : message || `validate exited with ${result.status}` };
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.stopLeftover();
    const child = spawn(this.options.binary, ['--config', this.options.configPath], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    writeFileSync(this.options.pidFile, `${child.pid}\n`, { mode: 0o600 });
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.options.onUnexpectedExit?.(code, signal);
    });
    // A pipe hands over what the reads got, not lines: the ready line is looked for in whole lines,
    // each stream keeping the start of a line whose end has not come yet.
    const reader = () => {
      let partial = '';
      const decoder = new StringDecoder('utf8');
      return (chunk: Buffer) => {
        const text = decoder.write(chunk);
        this.options.onOutput?.(text);
        this.output += text;
        const lines = (partial + text).split('\n');
        // Bounded: a line still open ends inside the ready text if it is one, so its tail is enough.
        partial = lines.pop()!.slice(-READY.length * 4);
        this.readyCount += lines.filter((line) => line.includes(READY)).length;
        if (this.output.length > KEEP_OUTPUT) {
          const cut = this.output.length - KEEP_OUTPUT;
          this.output = this.output.slice(cut);
          this.trimmed += cut;
        }
      };
    };
    child.stdout?.on('data', reader());
    child.stderr?.on('data', reader());
    await this.waitReady(this.readyCount, this.position(), this.options.readyTimeoutMillis ?? 60_000);
  }

  /**
   * SIGHUP, then waits until the Collector runs the new config; throws with its error if it does
   * not. Resolves with how the config was applied: reloaded, or (stuck, or not running) restarted.
   */
  async reload(): Promise<'reload' | 'restart'> {
    if (!this.running) {
      await this.start();
      return 'restart';
    }
    const before = this.readyCount;
    const from = this.position();
    this.child!.kill('SIGHUP');
    try {
      await this.waitReady(before, from, this.options.reloadTimeoutMillis ?? 5000);
      return 'reload';
    } catch (error) {
      if (!(error instanceof CollectorTimeoutError) || !this.running) throw error;
      // Stuck: kill it and start it on the new config. Nothing is lost: the persistent queues are
      // fsynced on disk, and a request the receivers had not acknowledged is retried by its client.
      await this.stop('SIGKILL');
      await this.start();
      return 'restart';
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the Collector an earlier panel started on this config, if it still runs (identified by its command line). */
  private async stopLeftover(): Promise<void> {
    if (!existsSync(this.options.pidFile)) return;
    const pid = Number(readFileSync(this.options.pidFile, 'utf8').trim());
    const commandLine = `/proc/${pid}/cmdline`;
    const ours = () => existsSync(commandLine) && readFileSync(commandLine, 'utf8').split('\0').includes(this.options.configPath);
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid || !ours()) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (ours() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (ours()) process.kill(pid, 'SIGKILL');
  }

  private env(): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'] ?? '', ...this.options.env };
  }

  private position(): number {
    return this.trimmed + this.output.length;
  }

  private since(position: number): string {
    return this.output.slice(Math.max(0, position - this.trimmed));
  }

  private async waitReady(readyBefore: number, from: number, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      if (this.readyCount > readyBefore && (await this.healthy())) return;
      if (!this.running) {
        if (this.stopping) throw new CollectorFailedError('the Collector was stopped');
        throw new CollectorFailedError(conciseError(this.since(from)) || `the Collector exited with ${this.child?.exitCode ?? this.child?.signalCode}`);
      }
      if (Date.now() > deadline) throw new CollectorTimeoutError(`the Collector did not report ready within ${timeoutMillis} ms: ${conciseError(this.since(from))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async healthy(): Promise<boolean> {
    try {
      return (await fetch(`http://${this.options.healthEndpoint}/`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }
}

/** The lines that say why: the Collector's errors, once each, without timestamps and prefixes. */
export function conciseError(output: string): string {
  const reasons = output
    .split('\n')
    .filter((line) => /\berror\b|Error:|failed|invalid/i.test(line) && !/Everything is ready/.test(line))
    .map((line) =>
      line
        .replace(/^\S+\t(error|warn|info)\t\S+\t/, '')
        .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '')
        .replace(/^(collector server run finished with error: |Error: )/, '')
        .trim(),
    );
  return [...new Set(reasons)].slice(-3).join('\n').slice(0, 1000);
}

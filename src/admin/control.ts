// The control plane: destinations → rendered config → `otelcol-audit validate` → atomic write →
// reload of the running Collector → wait until it runs the new pipelines; if it does not, the last
// good revision is restored by itself and the change is reported as rejected, with the reason.
// One change at a time; each names the revision it was based on (a stale one is refused).
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { deadLettersOf, redriveDeadLetters, type DestinationLetters } from '../gateway/dead-letters.js';
import { componentNames, formatNames, loadFormats, renderCollectorConfig, TEST_ATTRIBUTE } from './render.js';
import { CollectorSupervisor } from '../gateway/supervisor.js';
import { HealthMonitor, type DestinationHealth } from './health.js';
import { replayArchive, postRecords, type ReplayWindow } from './replay.js';
import { Archive } from './archive.js';
import { StateDirectory, type Revision, type StoredDestination } from './state.js';
import { ATTR } from '../attributes.js';

export interface ControlOptions {
  readonly stateDir: string;
  readonly collectorBinary: string;
  /** The base config's text (collector-config/gateway.yaml, or it with overlays: base-config.ts). */
  readonly baseConfig: string;
  /** collector-config/formats/: one fragment per output format. */
  readonly formatsDir: string;
  /** The Collector's environment: AUDIT_ARCHIVE_PATH, AUDIT_STORAGE_DIR, endpoints (see gateway.yaml); AUDIT_METRICS_PUSH_ENDPOINT: where it pushes its metrics (health.pushed). */
  readonly collectorEnv: Readonly<Record<string, string>>;
  /** How often the Collector's metrics are sampled. @default 5000 */
  readonly sampleIntervalMillis?: number;
  /** An older name of the archive, read before AUDIT_ARCHIVE_PATH (a state directory of an earlier version). */
  readonly legacyArchivePath?: string;
}

/** A change the Collector refused: the previous revision is running again. */
export class ApplyRejectedError extends Error {
  override readonly name = 'ApplyRejectedError';
  constructor(
    message: string,
    readonly revision: number,
  ) {
    super(message);
  }
}

/** The change was based on an older revision than the one running (another administrator applied first). */
export class StaleRevisionError extends Error {
  override readonly name = 'StaleRevisionError';
}

export class AdminControl {
  readonly state: StateDirectory;
  readonly supervisor: CollectorSupervisor;
  readonly health: HealthMonitor;
  readonly archive: Archive;
  /** Where the gateway's lossless exporters keep what destinations refused for good (gateway.yaml: $AUDIT_STORAGE_DIR/dead-letters). */
  readonly deadLetterDir: string;
  private readonly base: string;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: ControlOptions) {
    this.state = new StateDirectory(options.stateDir);
    this.base = options.baseConfig;
    const env = options.collectorEnv;
    for (const key of ['AUDIT_ARCHIVE_PATH', 'AUDIT_STORAGE_DIR', 'AUDIT_HEALTH_ENDPOINT', 'AUDIT_METRICS_PORT', 'AUDIT_OTLP_HTTP_ENDPOINT']) {
      if (!env[key]) throw new Error(`collectorEnv.${key} is required`);
    }
    this.archive = new Archive(env['AUDIT_ARCHIVE_PATH']!, options.legacyArchivePath);
    this.deadLetterDir = join(env['AUDIT_STORAGE_DIR']!, 'dead-letters');
    this.supervisor = new CollectorSupervisor({
      binary: options.collectorBinary,
      configPath: this.state.configPath,
      env,
      healthEndpoint: env['AUDIT_HEALTH_ENDPOINT']!,
      pidFile: this.state.path('collector.pid'),
      // A second later, in turn with applies (an apply whose reload failed restores and restarts it
      // itself); a start that fails exits again and comes back here.
      onUnexpectedExit: () => {
        if (!this.stopped) setTimeout(() => void this.serialized(() => this.restartIfDown()).catch(() => undefined), 1000).unref();
      },
    });
    this.health = new HealthMonitor(`http://${env['AUDIT_METRICS_HOST'] ?? '127.0.0.1'}:${env['AUDIT_METRICS_PORT']}/metrics`, options.sampleIntervalMillis ?? 5000, this.state.path('health-totals.json'));
  }

  /** Formats a destination may use: `canonical` and the fragments in the formats folder (read at each call). */
  formats(): string[] {
    return formatNames(loadFormats(this.options.formatsDir));
  }

  /** Starts the Collector on the last good revision (the archive alone the first time). */
  async start(): Promise<void> {
    let current = this.state.lastGood();
    if (!current) {
      current = { revision: 1, author: 'otel-audit admin', at: new Date().toISOString(), change: 'initial: the file archive', destinations: [], config: this.render([]), status: 'applied' };
      this.state.saveRevision(current);
    }
    this.state.writeAtomic(this.state.configPath, current.config);
    await this.supervisor.start();
    this.health.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.health.stop();
    // The last counts of this run, kept for the next (the Collector's own go with it).
    await this.health.sample().catch(() => undefined);
    await this.supervisor.stop();
  }

  current(): Revision {
    const revision = this.state.lastGood();
    if (!revision) throw new Error('the admin is not started');
    return revision;
  }

  destinations(): readonly StoredDestination[] {
    return this.current().destinations;
  }

  destinationHealth(destination: StoredDestination): DestinationHealth {
    return this.health.health(this.exporterOf(destination), destination, this.supervisor.log());
  }

  /** The records a destination refused for good, kept by its lossless exporter. */
  deadLetters(destination: StoredDestination): Promise<DestinationLetters> {
    return deadLettersOf(this.deadLetterDir, this.exporterOf(destination));
  }

  /** Hands a destination's dead letters back to the gateway, which sends them again; how many. */
  async redriveDeadLetters(destination: StoredDestination): Promise<number> {
    const letters = await this.deadLetters(destination);
    if (letters.records + letters.unreadable === 0) return 0;
    redriveDeadLetters(letters);
    return letters.records;
  }

  /** The name of a destination's exporter in the running Collector (its metrics are labelled with it). */
  exporterOf(destination: StoredDestination): string {
    return componentNames(destination).exporter;
  }

  /**
   * Applies a new list of destinations, based on revision `expected`. Resolves with the applied
   * revision; rejects with StaleRevisionError, or ApplyRejectedError once the previous revision runs again.
   */
  apply(author: string, expected: number, change: string, destinations: readonly StoredDestination[]): Promise<Revision> {
    return this.serialized(() => this.applyNow(author, expected, change, destinations));
  }

  /** One change to the Collector at a time. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The Collector died on its own: start it again on the last good config. */
  private async restartIfDown(): Promise<void> {
    if (this.supervisor.running || this.stopped) return;
    this.state.writeAtomic(this.state.configPath, this.current().config);
    await this.supervisor.start();
  }

  private render(destinations: readonly StoredDestination[]): string {
    const byId = new Map(destinations.map((d) => [d.id, d]));
    return renderCollectorConfig({
      base: this.base,
      destinations,
      formats: loadFormats(this.options.formatsDir),
      secretFile: (id, field) => this.state.secretFile(byId.get(id)!.secretFiles[field]!),
      metricsPush: this.options.collectorEnv['AUDIT_METRICS_PUSH_ENDPOINT'] !== undefined,
    });
  }

  /** A keyed-hash PII policy needs a key: one per destination, made once, kept as a secret. */
  private withPiiKeys(destinations: readonly StoredDestination[]): StoredDestination[] {
    return destinations.map((d) =>
      d.pii === 'hash' && !d.secretFiles['piiKey'] ? { ...d, secretFiles: this.state.storeSecrets(d.id, { piiKey: randomBytes(32).toString('hex') }, d.secretFiles) } : d,
    );
  }

  private async applyNow(author: string, expected: number, change: string, requested: readonly StoredDestination[]): Promise<Revision> {
    const previous = this.current();
    if (expected !== previous.revision) throw new StaleRevisionError(`revision ${expected} is not the current one (${previous.revision}): reload and apply again`);
    const started = performance.now();
    const destinations = this.withPiiKeys(requested);
    const number = Math.max(...this.state.revisions().map((r) => r.revision)) + 1;
    const config = this.render(destinations);
    const record = (status: Revision['status'], error?: string, appliedBy?: Revision['appliedBy']): Revision => {
      const revision: Revision = {
        revision: number,
        author,
        at: new Date().toISOString(),
        change,
        destinations,
        config,
        status,
        ...(error ? { error } : {}),
        applyMillis: Math.round(performance.now() - started),
        ...(appliedBy ? { appliedBy } : {}),
        sites: sitesChanged(previous.destinations, destinations),
      };
      this.state.saveRevision(revision);
      return revision;
    };
    const candidate = join(this.state.root, 'candidate.yaml');
    this.state.writeAtomic(candidate, config);
    const verdict = this.supervisor.validate(candidate);
    if (!verdict.ok) {
      record('rejected', `otelcol-audit validate: ${verdict.message}`);
      throw new ApplyRejectedError(`the Collector rejected the configuration (revision ${previous.revision} stays): ${verdict.message}`, number);
    }
    this.state.writeAtomic(this.state.configPath, config);
    // A reload restarts the Collector's counters, as a restart does: the health monitor reads them
    // until the old run's are gone, and carries them over.
    const appliedBy = await this.health.aroundRestart(async () => {
      try {
        return await this.supervisor.reload();
      } catch (error) {
        const reason = (error as Error).message;
        record('rejected', reason);
        this.state.writeAtomic(this.state.configPath, previous.config);
        await this.supervisor.reload();
        throw new ApplyRejectedError(`the Collector failed with the new configuration and revision ${previous.revision} was restored: ${reason}`, number);
      }
    });
    return record('applied', undefined, appliedBy);
  }

  /** Sends one test event to a destination only; resolves with whether its exporter's sent counter moved. */
  async sendTest(destination: StoredDestination, author: string, timeoutMillis = 20_000): Promise<{ delivered: boolean; eventId: string }> {
    const exporter = this.exporterOf(destination);
    const before = await this.health.sentNow(exporter).catch(() => 0);
    const eventId = randomUUID();
    const timestamp = new Date().toISOString();
    const body = {
      id: eventId,
      action: 'otel_audit.destination_test',
      actor: { type: 'system' },
      context: {},
      timestamp,
      details: { message: `TEST EVENT from otel-audit admin (sent by ${author}): not real activity`, destination: destination.id },
    };
    await postRecords(
      `http://127.0.0.1:${destination.directPort}/v1/logs`,
      [[{ body, attributes: { [TEST_ATTRIBUTE]: true, [ATTR.action]: body.action, [ATTR.recordUid]: eventId }, resource: { 'service.name': 'otel-audit-admin' }, eventName: body.action, timeUnixNano: `${Date.now()}000000`, source: 'test' }]],
      10_000,
    );
    const deadline = Date.now() + timeoutMillis;
    while (Date.now() < deadline) {
      if ((await this.health.sentNow(exporter).catch(() => before)) > before) return { delivered: true, eventId };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { delivered: false, eventId };
  }

  /** Replays archived events (of an event-time window, or between two archive positions) to one destination only. */
  replay(destination: StoredDestination, window: ReplayWindow): Promise<number> {
    return replayArchive({ archive: this.archive, window, destination, scratchDir: this.state.root });
  }
}

/** The sites of the destinations added, removed or changed between two lists. */
function sitesChanged(before: readonly StoredDestination[], after: readonly StoredDestination[]): string[] {
  const byId = (list: readonly StoredDestination[]) => new Map(list.map((d) => [d.id, JSON.stringify(d)]));
  const old = byId(before);
  const now = byId(after);
  const sites = new Set<string>();
  for (const d of [...before, ...after]) if (d.site !== undefined && old.get(d.id) !== now.get(d.id)) sites.add(d.site);
  return [...sites].sort();
}

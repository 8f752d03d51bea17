// `otel-audit admin` put together: the Collector under supervision, the control plane, the
// panel's own audit logger (its changes go into the trail through the gateway it manages) and
// the HTTP server, loopback by default.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createAuditLogger } from '../logger.js';
import { StateDirectory } from './state.js';
import { inheritedEnvironment, readBaseConfig } from './base-config.js';
import { Archive } from './archive.js';
import { Authenticator } from './auth.js';
import { adminCatalog } from './catalog.js';
import { AdminControl } from './control.js';
import { freePort } from '../gateway/ports.js';
import { startMetricsReceiver } from './metrics-push.js';
import { startAdminServer } from './server.js';

/** The package root (collector-config/ and .collector/ live there), from src/admin or dist/src/admin. */
const PACKAGE_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url));

export interface AdminOptions {
  /** Everything the panel writes goes here (mode 0700): revisions, secrets, the rendered config, its spool. */
  readonly stateDir: string;
  /**
   * The archive file (the system of record replay reads). @default <stateDir>/archive/audit.zst
   * (after the files of <stateDir>/archive/audit.jsonl, its name before this version)
   */
  readonly archivePath?: string;
  /** The Collector's persistent queues. @default <stateDir>/queue */
  readonly storageDir?: string;
  /** Where applications send OTLP/HTTP (host:port). @default 127.0.0.1:4318 */
  readonly otlpEndpoint?: string;
  /**
   * Where the panel sends its own trail (who changed which destination), an OTLP/HTTP URL. A shard
   * of sites behind the gateway pool sends it to the pool, so that it reaches the topic like every
   * event. @default its own gateway: http://<otlpEndpoint>/v1/logs
   */
  readonly trailEndpoint?: string;
  /** @default .collector/otelcol-audit of the package */
  readonly collectorBinary?: string;
  /**
   * The config destinations are added to, and the overlays merged onto it in order (as the
   * Collector merges `--config` files); events come in through the receivers of its `logs/archive`
   * pipeline. The variables it reads (`${env:NAME}`) come from this process's environment.
   * @default collector-config/gateway.yaml of the package
   */
  readonly baseConfig?: string | readonly string[];
  /** @default collector-config/formats of the package */
  readonly formatsDir?: string;
  /** The panel's address. @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The administrator token; with neither it nor usersFile, a one-time token is made and returned. */
  readonly adminToken?: string;
  /** Users: administrators, and owners of listed sites (`otel-audit admin hash-password`). */
  readonly usersFile?: string;
  /** API tokens, each of one site (`otel-audit admin hash-token`), sent as `Authorization: Bearer <id>.<secret>`. */
  readonly tokensFile?: string;
  /** @default 5000 */
  readonly sampleIntervalMillis?: number;
  /**
   * Reverse proxies in front of the panel (the TLS proxy the README recommends) whose
   * `X-Forwarded-For` names the client and whose `X-Forwarded-Proto: https` makes the session
   * cookie Secure: counted in hops, as `auditContext({ trustedProxies })`. @default 0
   */
  readonly trustedProxies?: number;
  /** The https URL users reach the panel at through a proxy: the cookie is always Secure, changes may come from its origin. */
  readonly publicUrl?: string;
  /** An Ed25519 private key (PEM) that signs the checkpoints of the panel's own trail. */
  readonly signingKeyFile?: string;
  /** How often the panel's own trail states its head (a checkpoint; also its heartbeat for verify). @default 60000 */
  readonly checkpointIntervalMillis?: number;
}

/** Checked before anything starts: an error names the option. */
function validateOptions(options: AdminOptions): void {
  const { trustedProxies, publicUrl, trailEndpoint } = options;
  if (trailEndpoint !== undefined && !/^https?:$/.test(URL.canParse(trailEndpoint) ? new URL(trailEndpoint).protocol : '')) {
    throw new TypeError(`trailEndpoint must be an http(s) URL, got ${JSON.stringify(trailEndpoint)}`);
  }
  if (trustedProxies !== undefined && !(Number.isInteger(trustedProxies) && trustedProxies >= 0)) {
    throw new TypeError(`trustedProxies must be a whole number of proxies (0 or more), got ${String(trustedProxies)}`);
  }
  if (publicUrl !== undefined && !/^https?:$/.test(URL.canParse(publicUrl) ? new URL(publicUrl).protocol : '')) {
    throw new TypeError(`publicUrl must be an http(s) URL, got ${JSON.stringify(publicUrl)}`);
  }
}

function readSecret(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * The logger of the panel's own changes (who re-routed audit data): a spool in the state directory,
 * and checkpoints (signed with the key file when one is given), so that `otel-audit verify` finds a
 * cut of its trail like any other.
 */
export function adminAuditLogger(options: { stateDir: string; endpoint: string; signingKeyFile?: string; checkpointIntervalMillis?: number }) {
  return createAuditLogger({
    catalog: adminCatalog,
    serviceName: 'otel-audit-admin',
    endpoint: options.endpoint,
    spoolDir: new StateDirectory(options.stateDir).path('spool'),
    checkpoints: {
      ...(options.checkpointIntervalMillis ? { intervalMillis: options.checkpointIntervalMillis } : {}),
      ...(options.signingKeyFile ? { signingKey: readSecret('signingKeyFile', options.signingKeyFile) } : {}),
    },
  });
}

/** The running panel, as a program embedding it sees it (the `otel-audit/admin` entry point). */
export interface AdminPanel {
  /** Where the panel and its JSON API listen: `http://<host>:<port>`. */
  readonly url: string;
  /** The administrator token, when it was made here (neither `adminToken` nor `usersFile` given): print it once. */
  readonly oneTimeToken: string | undefined;
  /** Where applications send their audit events (OTLP/HTTP). */
  readonly ingestEndpoint: string;
  /** What the supervised Collector printed, for a program that keeps it (a support bundle, a log file). */
  collectorLog(): string;
  /** Stops the panel: its server, its own audit logger (within 10 s), then the Collector. */
  close(): Promise<void>;
}

export async function startAdmin(options: AdminOptions) {
  validateOptions(options);
  const adminToken = options.adminToken ?? (options.usersFile ? undefined : randomBytes(24).toString('base64url'));
  const auth = new Authenticator({ ...(adminToken ? { adminToken } : {}), ...(options.usersFile ? { usersFile: options.usersFile } : {}), ...(options.tokensFile ? { tokensFile: options.tokensFile } : {}) });
  const otlpEndpoint = options.otlpEndpoint ?? '127.0.0.1:4318';
  const stateDir = options.stateDir;
  const archive = Archive.ofStateDirectory(stateDir, options.archivePath);
  // The Collector's last counts of each run come by push (see metrics-push.ts).
  let pushTo: AdminControl | undefined;
  const metricsReceiver = await startMetricsReceiver((push) => pushTo?.health.pushed(push));
  const baseConfig = readBaseConfig(typeof options.baseConfig === 'string' ? [options.baseConfig] : (options.baseConfig ?? [join(PACKAGE_ROOT, 'collector-config/gateway.yaml')]));
  const collectorEnv = {
    ...inheritedEnvironment(baseConfig, process.env),
    AUDIT_METRICS_PUSH_ENDPOINT: metricsReceiver.endpoint,
    AUDIT_ARCHIVE_PATH: archive.path,
    AUDIT_STORAGE_DIR: options.storageDir ?? join(stateDir, 'queue'),
    AUDIT_OTLP_HTTP_ENDPOINT: otlpEndpoint,
    AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${await freePort()}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${await freePort()}`,
    AUDIT_METRICS_HOST: '127.0.0.1',
    AUDIT_METRICS_PORT: String(await freePort()),
  };
  let control: AdminControl | undefined;
  let audit: ReturnType<typeof adminAuditLogger> | undefined;
  let server;
  try {
    control = pushTo = new AdminControl({
      stateDir,
      collectorBinary: options.collectorBinary ?? join(PACKAGE_ROOT, '.collector/otelcol-audit'),
      baseConfig,
      formatsDir: options.formatsDir ?? join(PACKAGE_ROOT, 'collector-config/formats'),
      collectorEnv,
      ...(archive.legacyPath ? { legacyArchivePath: archive.legacyPath } : {}),
      ...(options.sampleIntervalMillis ? { sampleIntervalMillis: options.sampleIntervalMillis } : {}),
    });
    await control.start();
    audit = adminAuditLogger({
      stateDir,
      endpoint: options.trailEndpoint ?? `http://${otlpEndpoint}/v1/logs`,
      ...(options.signingKeyFile ? { signingKeyFile: options.signingKeyFile } : {}),
      ...(options.checkpointIntervalMillis ? { checkpointIntervalMillis: options.checkpointIntervalMillis } : {}),
    });
    server = await startAdminServer({
      control,
      auth,
      audit,
      ...(options.host ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.trustedProxies !== undefined ? { trustedProxies: options.trustedProxies } : {}),
      ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
    });
  } catch (error) {
    auth.close();
    await audit?.shutdown({ timeoutMillis: 5000 }).catch(() => undefined);
    await control?.stop();
    await metricsReceiver.close();
    throw error;
  }
  const logger = audit;
  const running = server;
  const supervised = control;
  return {
    url: running.url,
    /** The administrator token, when it was made here (print it once). */
    oneTimeToken: options.adminToken === undefined ? adminToken : undefined,
    control: supervised,
    audit: logger,
    /** Where applications send their audit events (OTLP/HTTP). */
    ingestEndpoint: `http://${otlpEndpoint}/v1/logs`,
    collectorLog: (): string => supervised.supervisor.log(),
    async close(): Promise<void> {
      await running.close();
      auth.close();
      await logger.shutdown({ timeoutMillis: 10_000 }).catch(() => undefined);
      await supervised.stop();
      await metricsReceiver.close();
    },
  };
}

export type RunningAdmin = Awaited<ReturnType<typeof startAdmin>>;

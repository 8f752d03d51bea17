// The Admin Panel's state directory, the only place it writes: the destinations, every applied
// revision (who, when, the rendered config), the secrets (one file each, mode 0600) and the
// rendered Collector config. Every write is atomic (temporary file, fsync, rename).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Destination, SecretValues } from './destinations.js';
import { stringify } from 'yaml';

/** A destination as stored: the model plus the files of its current secrets (never returned by the API). */
export type StoredDestination = Destination & { readonly secretFiles: Readonly<Record<string, string>> };

export interface Revision {
  readonly revision: number;
  readonly author: string;
  readonly at: string;
  /** What the change was, e.g. `create splunk`. */
  readonly change: string;
  readonly destinations: readonly StoredDestination[];
  readonly config: string;
  /** applied: the Collector runs it; rejected: it was rolled back (see error). */
  readonly status: 'applied' | 'rejected';
  readonly error?: string;
  /** From the request to the Collector running it (or to the rollback): validate, write, reload, ready. */
  readonly applyMillis?: number;
  /** reload: SIGHUP; restart: the reload was stuck (or the Collector was down) and it was started again. */
  readonly appliedBy?: 'reload' | 'restart';
  /** The sites whose destinations the change touched (their owners see it); absent before sites existed. */
  readonly sites?: readonly string[];
}

export class StateDirectory {
  readonly root: string;
  readonly secretsDir: string;
  readonly revisionsDir: string;
  /** The Collector's --config: always the last good revision's config. */
  readonly configPath: string;
  private cache: Revision[] | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.secretsDir = join(this.root, 'secrets');
    this.revisionsDir = join(this.root, 'revisions');
    this.configPath = join(this.root, 'collector.yaml');
    for (const dir of [this.root, this.secretsDir, this.revisionsDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** A path inside the state directory; anything that would leave it is refused. */
  path(...parts: string[]): string {
    const path = resolve(this.root, ...parts);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`refused: ${relative(this.root, path)} is outside the state directory`);
    return path;
  }

  writeAtomic(path: string, content: string): void {
    writeFileAtomic(this.path(relative(this.root, path)), content);
  }

  /** Stores new secret values in fresh files (older revisions keep theirs, so a rollback still has them). */
  storeSecrets(destinationId: string, values: SecretValues, previous: Readonly<Record<string, string>> = {}): Record<string, string> {
    const files = { ...previous };
    for (const [field, value] of Object.entries(values)) {
      const file = `${destinationId}.${field}.${randomBytes(8).toString('hex')}`;
      // The Collector's file provider keeps a string setting's bytes as they are (no newline
      // added, no quoting); a map (headers) is read as YAML.
      this.writeAtomic(join(this.secretsDir, file), typeof value === 'string' ? value : stringify(value));
      files[field] = file;
    }
    return files;
  }

  secretFile(file: string): string {
    return this.path('secrets', file);
  }

  /** Every revision, oldest first: read from disk once (one panel per state directory), then kept up to date by saveRevision. */
  revisions(): Revision[] {
    this.cache ??= readdirSync(this.revisionsDir)
      .filter((f) => /^\d+\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(join(this.revisionsDir, f), 'utf8')) as Revision)
      .sort((a, b) => a.revision - b.revision);
    return [...this.cache];
  }

  revision(n: number): Revision | undefined {
    return this.revisions().find((r) => r.revision === n);
  }

  saveRevision(revision: Revision): void {
    this.writeAtomic(join(this.revisionsDir, `${revision.revision}.json`), `${JSON.stringify(revision, null, 2)}\n`);
    this.cache = [...this.revisions().filter((r) => r.revision !== revision.revision), revision].sort((a, b) => a.revision - b.revision);
  }

  /** The newest revision the Collector accepted. */
  lastGood(): Revision | undefined {
    return this.revisions()
      .filter((r) => r.status === 'applied')
      .at(-1);
  }
}

/** Writes a file of mode 0600 atomically: a temporary file, fsync, rename. */
export function writeFileAtomic(target: string, content: string): void {
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, target);
}

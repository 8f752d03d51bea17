// The destination model of the Admin Panel: what an administrator may configure, validated once
// with errors that name the field (`destinations[2].url: must be https unless allowInsecure`).
// Secrets (tokens, API keys, header values) are kept apart from the rest: the model only says
// whether one is set; their values live in the state directory's secrets folder.
import { randomBytes } from 'node:crypto';
import type { ArchivePosition } from './archive.js';

export const DESTINATION_TYPES = ['splunk_hec', 'syslog', 'otlp_http', 'kafka', 'elasticsearch'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export const PII_POLICIES = ['none', 'hash', 'drop'] as const;
export type PiiPolicy = (typeof PII_POLICIES)[number];

/** The canonical event, as otel-audit writes it: no format fragment. */
export const CANONICAL_FORMAT = 'canonical';

/** Secret settings per type: write-only, stored in files of mode 0600. */
export const SECRET_FIELDS: Readonly<Record<DestinationType, readonly string[]>> = {
  splunk_hec: ['token'],
  syslog: [],
  otlp_http: ['headers'],
  kafka: [],
  elasticsearch: ['apiKey'],
};

export interface DestinationCommon {
  /** Stable, lower case: names the Collector components (`splunk_hec/<id>`) and the queue file. */
  readonly id: string;
  /**
   * The site (tenant) whose events it receives: exactly those whose `audit.site.id` is this site and
   * that carry a site sequence number (`audit.site.seq`: the logger sets it only on events of
   * site-scoped actions with a site in their context). Absent: a destination of the installation,
   * which receives every event. Set when the destination is created, never changed.
   */
  readonly site?: string;
  readonly name: string;
  readonly type: DestinationType;
  /** false: no pipeline at all (nothing delivered, nothing replayed later). */
  readonly enabled: boolean;
  /** true: the pipeline receives no new events (its queue still drains); on resume the gap is replayed. */
  readonly paused: boolean;
  /** When it was paused (ISO time). */
  readonly pausedAt?: string;
  /** Where the archive stood when it was paused: the replay on resume sends what was archived after it. */
  readonly pausedPosition?: ArchivePosition;
  /** Action patterns (`user.*`, `*.change_access`); empty include: every action. */
  readonly filter: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly pii: PiiPolicy;
  /** `canonical` or the name of a fragment in collector-config/formats/. */
  readonly format: string;
  /** Loopback port of this destination's own OTLP receiver: test events and replays reach it only. */
  readonly directPort: number;
  /**
   * Made when the destination is created (a short random suffix of its exporter's name, and with it
   * of its persistent queue): one created again under the same id gets a queue of its own, never
   * what the deleted one still held. Absent on destinations stored by earlier versions.
   */
  readonly generation?: string;
}

export type DestinationSettings =
  | { readonly type: 'splunk_hec'; readonly url: string; readonly index: string; readonly sourcetype: string; readonly source: string; readonly verifyTls: boolean; readonly allowInsecure: boolean }
  | { readonly type: 'syslog'; readonly host: string; readonly port: number; readonly tls: boolean }
  | { readonly type: 'otlp_http'; readonly endpoint: string; readonly verifyTls: boolean; readonly allowInsecure: boolean }
  | { readonly type: 'kafka'; readonly brokers: readonly string[]; readonly topic: string }
  /** `namespace`: the data stream's namespace; Elastic's OTLP intake writes logs to `logs-<dataset>-<namespace>`. */
  | { readonly type: 'elasticsearch'; readonly url: string; readonly namespace: string; readonly allowInsecure: boolean };

export type Destination = DestinationCommon & DestinationSettings & {
  /** Which secret fields are set (their values are never part of the model). */
  readonly secrets: Readonly<Record<string, boolean>>;
};

/** Secret values of a request, by field; `headers` is a JSON object of header name to value. */
export type SecretValues = Record<string, string | Record<string, string>>;

/** A request error naming the field: `destinations[2].url: must be https unless allowInsecure`. */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

type Input = Record<string, unknown>;

class Reader {
  constructor(
    private readonly input: Input,
    private readonly path: string,
    private readonly previous: Input | undefined,
  ) {}

  private value(key: string): unknown {
    return this.input[key] !== undefined ? this.input[key] : this.previous?.[key];
  }

  fail(key: string, problem: string): never {
    throw new FieldError(`${this.path}.${key}`, problem);
  }

  string(key: string, fallback?: string, pattern?: { re: RegExp; says: string }): string {
    const value = this.value(key) ?? fallback;
    if (value === undefined) this.fail(key, 'is required');
    if (typeof value !== 'string') this.fail(key, 'must be a string');
    if (value.trim() === '' && fallback === undefined) this.fail(key, 'must not be empty');
    if (value.length > 512) this.fail(key, 'must be at most 512 characters');
    // The Collector expands ${env:...} and ${file:...} in its config: a setting must not read its secrets or environment.
    if (value.includes('$')) this.fail(key, 'must not contain $');
    if (pattern && !pattern.re.test(value)) this.fail(key, pattern.says);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.value(key) ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, 'must be true or false');
    return value;
  }

  integer(key: string, min: number, max: number): number {
    const value = this.value(key);
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) this.fail(key, `must be an integer from ${min} to ${max}`);
    return value as number;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.value(key) ?? fallback;
    if (!allowed.includes(value as T)) this.fail(key, `must be one of ${allowed.join(', ')}`);
    return value as T;
  }

  strings(key: string, fallback: readonly string[], each: { re: RegExp; says: string }): string[] {
    const value = this.value(key) ?? fallback;
    if (!Array.isArray(value)) this.fail(key, 'must be a list of strings');
    return value.map((item: unknown, index) => {
      if (typeof item !== 'string' || !each.re.test(item)) this.fail(`${key}[${index}]`, each.says);
      return item;
    });
  }

  url(key: string, allowInsecure: boolean): string {
    const value = this.string(key);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.fail(key, 'must be an absolute URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') this.fail(key, 'must be an http(s) URL');
    if (url.protocol === 'http:' && !allowInsecure) this.fail(key, 'must be https unless allowInsecure');
    if (url.username || url.password) this.fail(key, 'must not contain credentials (use the secret fields)');
    return value;
  }

  object(key: string): Input | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(key, 'must be an object');
    return value as Input;
  }
}

const ID = { re: /^[a-z][a-z0-9_]{0,39}$/, says: 'must be lower case letters, digits and _ (at most 40), starting with a letter' };
/** A site id as the logger writes it in `audit.site.id` (numbers become their digits); it goes into the filter's condition as it is. */
export const SITE_ID = { re: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, says: 'must be a site id: letters, digits and . _ - (at most 128), starting with a letter or digit' };
const HOST = { re: /^[A-Za-z0-9.-]{1,253}$|^\[[0-9a-fA-F:]+\]$/, says: 'must be a host name or IP address' };
const BROKER = { re: /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/, says: 'must be host:port' };
/** `user.*`, `*.change_access`, `document.create`: `*` stands for any characters. */
const ACTION_PATTERN = { re: /^[a-z0-9_*]+(\.[a-z0-9_*]+)*$/, says: 'must be an action pattern such as user.* or *.change_access' };
const HEADER_NAME = /^[A-Za-z0-9-]{1,100}$/;
const SIMPLE = { re: /^[\w.:-]{1,200}$/, says: 'must be letters, digits and . _ : - only' };
/** Elastic's rules for a data stream namespace (no `-`: it separates the parts of the data stream's name). */
const NAMESPACE = { re: /^[a-z0-9_]{1,100}$/, says: 'must be a data stream namespace: lower case letters, digits and _ (at most 100)' };

export interface ParseContext {
  /** Where the destination is in the request, e.g. `destinations[2]` or `destination`. */
  readonly path: string;
  /** The stored destination being updated (fields not given keep their values). */
  readonly previous?: Destination;
  /** Formats that may be chosen: `canonical` and the fragments present. */
  readonly formats: readonly string[];
  /** A free loopback port for a new destination's own receiver. */
  readonly directPort: number;
  /** The queue generation of a new destination. @default 6 random hex digits */
  readonly generation?: string;
}

/** Validates a create or update request. Returns the destination and the secret values it carried. */
export function parseDestination(input: unknown, context: ParseContext): { destination: Destination; secrets: SecretValues } {
  const { path, previous } = context;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FieldError(path, 'must be an object');
  const body = input as Input;
  const read = new Reader(body, path, previous as unknown as Input | undefined);
  if (previous && body['id'] !== undefined && body['id'] !== previous.id) read.fail('id', 'cannot be changed');
  if (previous && body['type'] !== undefined && body['type'] !== previous.type) read.fail('type', 'cannot be changed (create a new destination)');
  // Pausing records where the gap starts, resuming replays it: only the pause and resume actions do that.
  if (previous && body['paused'] !== undefined && body['paused'] !== previous.paused) read.fail('paused', 'use the pause and resume actions');
  // Another site's destination is another destination: its owners, its stream, its revisions.
  if (previous && body['site'] !== undefined && body['site'] !== (previous.site ?? null)) read.fail('site', 'cannot be changed (create a new destination)');
  const site = previous ? previous.site : body['site'] === undefined || body['site'] === null ? undefined : read.string('site', undefined, SITE_ID);
  const type = read.oneOf('type', DESTINATION_TYPES, undefined as unknown as DestinationType);
  const id = read.string('id', undefined, ID);
  if (id === 'archive') read.fail('id', 'is reserved for the file archive');
  const filterInput = read.object('filter') ?? {};
  const filterPath = new Reader(filterInput, `${path}.filter`, undefined);
  const filter = { include: filterPath.strings('include', [], ACTION_PATTERN), exclude: filterPath.strings('exclude', [], ACTION_PATTERN) };
  const paused = read.boolean('paused', false);
  const common = {
    id,
    ...(site !== undefined ? { site } : {}),
    name: read.string('name'),
    type,
    enabled: read.boolean('enabled', true),
    paused,
    ...(paused && previous?.pausedAt ? { pausedAt: previous.pausedAt } : {}),
    ...(paused && previous?.pausedPosition ? { pausedPosition: previous.pausedPosition } : {}),
    filter,
    pii: read.oneOf('pii', PII_POLICIES, 'none'),
    format: read.oneOf('format', context.formats, CANONICAL_FORMAT),
    directPort: previous?.directPort ?? context.directPort,
    ...(previous ? (previous.generation ? { generation: previous.generation } : {}) : { generation: context.generation ?? randomBytes(3).toString('hex') }),
  };
  const settings = parseSettings(type, read);
  const secrets = parseSecrets(type, body, path, previous);
  const secretsSet: Record<string, boolean> = {};
  for (const field of SECRET_FIELDS[type]) secretsSet[field] = secrets[field] !== undefined || previous?.secrets[field] === true;
  if (type === 'splunk_hec' && !secretsSet['token']) read.fail('token', 'is required');
  return { destination: { ...common, ...settings, secrets: secretsSet } as Destination, secrets };
}

function parseSettings(type: DestinationType, read: Reader): DestinationSettings {
  switch (type) {
    case 'splunk_hec': {
      const allowInsecure = read.boolean('allowInsecure', false);
      return {
        type,
        url: read.url('url', allowInsecure),
        index: read.string('index', 'audit', SIMPLE),
        sourcetype: read.string('sourcetype', 'otel:audit', SIMPLE),
        source: read.string('source', 'otel-audit', SIMPLE),
        verifyTls: read.boolean('verifyTls', true),
        allowInsecure,
      };
    }
    case 'syslog':
      return { type, host: read.string('host', undefined, HOST), port: read.integer('port', 1, 65535), tls: read.boolean('tls', true) };
    case 'otlp_http': {
      const allowInsecure = read.boolean('allowInsecure', false);
      return { type, endpoint: read.url('endpoint', allowInsecure), verifyTls: read.boolean('verifyTls', true), allowInsecure };
    }
    case 'kafka': {
      const brokers = read.strings('brokers', [], BROKER);
      if (brokers.length === 0) read.fail('brokers', 'must list at least one broker');
      return { type, brokers, topic: read.string('topic', 'audit-events', { re: /^[A-Za-z0-9._-]{1,249}$/, says: 'must be a Kafka topic name' }) };
    }
    case 'elasticsearch': {
      const allowInsecure = read.boolean('allowInsecure', false);
      return { type, url: read.url('url', allowInsecure), namespace: read.string('namespace', 'default', NAMESPACE), allowInsecure };
    }
  }
}

function parseSecrets(type: DestinationType, body: Input, path: string, previous: Destination | undefined): SecretValues {
  const secrets: SecretValues = {};
  for (const field of SECRET_FIELDS[type]) {
    const value = body[field];
    // Omitted, or the page's masked placeholder: keep what is stored.
    if (value === undefined || (previous?.secrets[field] && value === null)) continue;
    if (field === 'headers') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FieldError(`${path}.headers`, 'must be an object of header name to value');
      const headers: Record<string, string> = {};
      for (const [name, headerValue] of Object.entries(value as Input)) {
        if (!HEADER_NAME.test(name)) throw new FieldError(`${path}.headers.${name}`, 'is not a valid header name');
        if (typeof headerValue !== 'string' || /[\r\n]/.test(headerValue)) throw new FieldError(`${path}.headers.${name}`, 'must be a string on one line');
        if (headerValue.includes('${')) throw new FieldError(`${path}.headers.${name}`, 'must not contain ${ (the Collector would expand it)');
        headers[name] = headerValue;
      }
      secrets[field] = headers;
    } else {
      if (typeof value !== 'string' || value.trim() === '' || /[\r\n]/.test(value) || value.length > 4096) throw new FieldError(`${path}.${field}`, 'must be a non-empty string on one line');
      if (value.includes('${')) throw new FieldError(`${path}.${field}`, 'must not contain ${ (the Collector would expand it)');
      secrets[field] = value;
    }
  }
  for (const key of Object.keys(body)) {
    // What GET returned can be sent back: a setting an earlier version stored (an Elasticsearch index) is dropped, not refused.
    if (previous && body[key] === (previous as unknown as Input)[key]) continue;
    if (!COMMON_FIELDS.has(key) && !TYPE_FIELDS[type].includes(key) && !SECRET_FIELDS[type].includes(key)) {
      throw new FieldError(`${path}.${key}`, `is not a setting of a ${type} destination${INSTEAD[type]?.[key] ?? ''}`);
    }
  }
  return secrets;
}

/** Accepted in every request; `secrets`, `directPort`, `pausedAt`, `pausedPosition`, `generation`, `health` and `deadLetters` are what the API returns (ignored on input). */
const COMMON_FIELDS = new Set(['id', 'site', 'name', 'type', 'enabled', 'paused', 'filter', 'pii', 'format', 'secrets', 'directPort', 'pausedAt', 'pausedPosition', 'generation', 'health', 'deadLetters']);
const TYPE_FIELDS: Readonly<Record<DestinationType, readonly string[]>> = {
  splunk_hec: ['url', 'index', 'sourcetype', 'source', 'verifyTls', 'allowInsecure'],
  syslog: ['host', 'port', 'tls'],
  otlp_http: ['endpoint', 'verifyTls', 'allowInsecure'],
  kafka: ['brokers', 'topic'],
  elasticsearch: ['url', 'namespace', 'allowInsecure'],
};

/** What to set instead of a setting a destination type does not have but users expect from other tools. */
const INSTEAD: Partial<Record<DestinationType, Readonly<Record<string, string>>>> = {
  elasticsearch: { index: " (Elastic's OTLP intake writes to the data stream logs-<dataset>-<namespace>: set namespace)" },
};

/** `user.*` → a regular expression anchored on the whole action. */
export function actionPatternRegex(patterns: readonly string[]): string {
  return `^(${patterns.map((p) => p.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('.*')).join('|')})$`;
}

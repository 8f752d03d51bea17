// Renders the whole Collector configuration from collector-config/gateway.yaml (the base) and the
// destinations: one pipeline, one exporter and one persistent queue per destination, plus the file
// archive that is always there. Each exporter is `lossless/<id>` wrapping the base's upstream
// exporter of the same kind with the destination's settings put in, so the durable queue, the
// retry policy and the dead letters stay the gateway's own.
// Secrets are never in the result: the exporters reference files (`${file:...}`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ATTR, siteCopyDropCondition } from '../attributes.js';
import { actionPatternRegex, CANONICAL_FORMAT, type Destination } from './destinations.js';

type Node = Record<string, unknown>;

export interface RenderInput {
  /** The text of gateway.yaml. */
  readonly base: string;
  readonly destinations: readonly Destination[];
  /** Format name → its fragment's processors, in file order. */
  readonly formats: ReadonlyMap<string, Node>;
  /** The file holding one secret of a destination (`token`, `apiKey`, `headers`, `piiKey`). */
  readonly secretFile: (destinationId: string, field: string) => string;
  /**
   * The Collector pushes its own metrics to AUDIT_METRICS_PUSH_ENDPOINT (the panel): the last push
   * of a run, as it shuts down, has the counts a scrape can miss. @default false
   */
  readonly metricsPush?: boolean;
}

/** The push of the Collector's own metrics to the panel: the interval matters little, the push at shutdown does. */
const METRICS_PUSH_READER = { periodic: { interval: 60_000, exporter: { otlp: { protocol: 'http/protobuf', endpoint: '${env:AUDIT_METRICS_PUSH_ENDPOINT}' } } } };

/** collector-config/formats/<name>.yaml: each holds a top-level `processors:` map. */
export function loadFormats(dir: string): Map<string, Node> {
  const formats = new Map<string, Node>();
  if (!existsSync(dir)) return formats;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const fragment = parse(readFileSync(join(dir, file), 'utf8')) as Node | null;
    const processors = fragment?.['processors'];
    if (typeof processors !== 'object' || processors === null) throw new Error(`${join(dir, file)}: expected a top-level processors: map`);
    formats.set(basename(file, '.yaml'), processors as Node);
  }
  return formats;
}

export function formatNames(formats: ReadonlyMap<string, Node>): string[] {
  return [CANONICAL_FORMAT, ...formats.keys()];
}

/**
 * The upstream exporter `lossless` wraps for each destination type, and the base's exporter it is
 * rendered from. Elasticsearch is reached through Elastic's OTLP intake (otlp_http, gateway.yaml's
 * `lossless/elastic`), never the `elasticsearch` exporter, whose own retries decide alone what they
 * give up on.
 */
const EXPORTER_KIND = { splunk_hec: 'splunk_hec', syslog: 'syslog', otlp_http: 'otlp_http', kafka: 'kafka', elasticsearch: 'otlp_http' } as const;
const BASE_EXPORTER = { splunk_hec: 'lossless/splunk', syslog: 'lossless/syslog', otlp_http: 'lossless/elastic', kafka: 'lossless/kafka', elasticsearch: 'lossless/elastic' } as const;

/** The Collector component names of a destination; the exporter's (and its queue's) carries the destination's generation. */
export function componentNames(destination: Pick<Destination, 'id' | 'type' | 'generation'>) {
  return {
    exporter: `lossless/${destination.id}${destination.generation ? `_${destination.generation}` : ''}`,
    receiver: `otlp/direct_${destination.id}`,
    pipeline: `logs/${destination.id}`,
    site: `filter/site_${destination.id}`,
    filter: `filter/${destination.id}`,
    pii: `transform/pii_${destination.id}`,
    namespace: `transform/namespace_${destination.id}`,
  };
}

const clone = <T>(value: T): T => structuredClone(value);
const fileRef = (path: string) => `\${file:${path}}`;

export function renderCollectorConfig(input: RenderInput): string {
  const base = parse(input.base) as Node;
  const baseExporters = base['exporters'] as Node;
  const baseProcessors = base['processors'] as Node;
  const baseService = base['service'] as Node;
  // The gateway's durable queue, retry policy and dead letters, as its Splunk destination has them.
  const { sending_queue: durableQueue, retry_on_failure: retryForever, dead_letter: deadLetters } = baseExporters['lossless/splunk'] as Node;

  // Where events come in: the receivers of the base's archive pipeline (gateway.yaml: otlp; a
  // shard of sites behind the gateway pool would read its Kafka consumer group there instead).
  const inputs = (((baseService['pipelines'] as Node | undefined)?.['logs/archive'] as Node | undefined)?.['receivers'] as string[] | undefined) ?? ['otlp'];
  const receivers: Node = Object.fromEntries(inputs.map((name) => [name, (base['receivers'] as Node)[name]]));
  const processors: Node = { memory_limiter: baseProcessors['memory_limiter'] };
  const exporters: Node = { 'lossless/archive': baseExporters['lossless/archive'] };
  const pipelines: Node = { 'logs/archive': { receivers: [...inputs], processors: ['memory_limiter'], exporters: ['lossless/archive'] } };

  for (const destination of input.destinations.filter((d) => d.enabled)) {
    const names = componentNames(destination);
    const secret = (field: string) => fileRef(input.secretFile(destination.id, field));
    receivers[names.receiver] = { protocols: { http: { endpoint: `127.0.0.1:${destination.directPort}` } } };
    const chain: string[] = [];
    // First of all: no processor of a site's pipeline (PII, format) ever sees another site's events.
    if (destination.site !== undefined) {
      processors[names.site] = siteFilter(destination.site);
      chain.push(names.site);
    }
    chain.push('memory_limiter');
    if (destination.filter.include.length || destination.filter.exclude.length) {
      processors[names.filter] = filterProcessor(destination);
      chain.push(names.filter);
    }
    if (destination.pii !== 'none') {
      processors[names.pii] = destination.pii === 'hash' ? hashPii(secret('piiKey')) : dropPii();
      chain.push(names.pii);
    }
    if (destination.format !== CANONICAL_FORMAT) {
      const fragment = input.formats.get(destination.format);
      if (!fragment) throw new Error(`destination ${destination.id}: format ${destination.format} has no fragment in collector-config/formats/`);
      for (const [name, processor] of Object.entries(fragment)) {
        processors[name] = processor;
        chain.push(name);
      }
    }
    const exporter = {
      exporter: { [EXPORTER_KIND[destination.type]]: renderExporter(destination, baseExporters, secret) },
      sending_queue: clone(durableQueue),
      retry_on_failure: clone(retryForever),
      dead_letter: clone(deadLetters),
    };
    if (destination.type === 'syslog') {
      processors['transform/syslog'] = baseProcessors['transform/syslog'];
      chain.push('transform/syslog');
    }
    // Elastic routes a record by its data_stream.* attributes; a destination stored before it had a namespace keeps Elastic's default.
    if (destination.type === 'elasticsearch' && destination.namespace) {
      processors[names.namespace] = transform([`set(attributes["data_stream.namespace"], "${destination.namespace}")`]);
      chain.push(names.namespace);
    }
    exporters[names.exporter] = exporter;
    // Paused: only its own receiver feeds it (replays, tests); what is queued still drains.
    pipelines[names.pipeline] = { receivers: destination.paused ? [names.receiver] : [...inputs, names.receiver], processors: chain, exporters: [names.exporter] };
  }

  const service: Node = { ...baseService, pipelines };
  if (input.metricsPush) {
    const telemetry = clone((baseService['telemetry'] as Node | undefined) ?? {});
    const metrics = (telemetry['metrics'] ??= {}) as Node;
    metrics['readers'] = [...((metrics['readers'] as unknown[] | undefined) ?? []), METRICS_PUSH_READER];
    service['telemetry'] = telemetry;
  }
  const config = {
    extensions: base['extensions'],
    receivers,
    processors,
    exporters,
    service,
  };
  return `# Rendered by otel-audit admin from collector-config/gateway.yaml and the destinations.\n# Do not edit: every apply replaces it (revisions are kept in the state directory).\n${stringify(config, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}

/** The settings of the upstream exporter a destination's `lossless` exporter wraps. */
function renderExporter(destination: Destination, baseExporters: Node, secret: (field: string) => string): Node {
  const template = (): Node => clone((((baseExporters[BASE_EXPORTER[destination.type]] as Node | undefined)?.['exporter'] as Node | undefined)?.[EXPORTER_KIND[destination.type]] as Node | undefined) ?? {});
  switch (destination.type) {
    case 'splunk_hec':
      return {
        ...template(),
        endpoint: destination.url,
        token: secret('token'),
        index: destination.index,
        source: destination.source,
        sourcetype: destination.sourcetype,
        tls: { insecure_skip_verify: !destination.verifyTls },
      };
    case 'syslog': {
      const base = template();
      const tls = { ...(base['tls'] as Node), insecure: !destination.tls };
      return { ...base, endpoint: destination.host, port: destination.port, tls };
    }
    case 'otlp_http':
      return {
        // The whole logs URL, used as it is (`endpoint` would get /v1/logs appended).
        logs_endpoint: destination.endpoint,
        ...(destination.secrets['headers'] ? { headers: secret('headers') } : {}),
        ...(destination.verifyTls ? {} : { tls: { insecure_skip_verify: true } }),
      };
    case 'kafka': {
      const base = template();
      return { ...base, brokers: [...destination.brokers], logs: { ...(base['logs'] as Node), topic: destination.topic } };
    }
    case 'elasticsearch': {
      const { headers: _headers, ...intake } = template();
      return {
        ...intake,
        endpoint: destination.url,
        ...(destination.secrets['apiKey'] ? { headers: { Authorization: `ApiKey ${secret('apiKey')}` } } : {}),
      };
    }
  }
}

/** Drops a record unless its action matches `include` (when given) and does not match `exclude`; test events always pass. */
function filterProcessor(destination: Destination): Node {
  const action = `attributes["${ATTR.action}"]`;
  const notTest = `attributes["${TEST_ATTRIBUTE}"] != true`;
  const conditions: string[] = [];
  if (destination.filter.include.length) conditions.push(`${notTest} and (${action} == nil or not IsMatch(${action}, "${actionPatternRegex(destination.filter.include).replace(/\\/g, '\\\\')}"))`);
  if (destination.filter.exclude.length) conditions.push(`${notTest} and ${action} != nil and IsMatch(${action}, "${actionPatternRegex(destination.filter.exclude).replace(/\\/g, '\\\\')}")`);
  return { error_mode: 'ignore', logs: { log_record: conditions } };
}

/**
 * Drops a record unless it is in the site's copy (`siteCopyDropCondition`, the logger's own rule);
 * test events pass. A site id is a slug (parseDestination), so it needs no `$` doubling.
 */
export function siteFilter(site: string): Node {
  return {
    error_mode: 'ignore',
    logs: { log_record: [`attributes["${TEST_ATTRIBUTE}"] != true and (${siteCopyDropCondition(site)})`] },
  };
}

/** Marks a destination test event; filters let it through and no real event has it. */
export const TEST_ATTRIBUTE = 'otel_audit.test';

/** Emails and IP addresses: in the attributes and in the event (the body). */
const PII_PATHS = [
  `log.attributes["${ATTR.userEmail}"]`,
  `log.attributes["${ATTR.clientAddress}"]`,
  'log.body["actor"]["user"]["email"]',
  'log.body["context"]["ip_address"]',
];

/** SHA-256 of the destination's key and the value: the same address always gives the same hash. */
function hashPii(keyRef: string): Node {
  return transform(PII_PATHS.map((path) => `set(${path}, SHA256(Concat(["${keyRef}", ${path}], ""))) where ${path} != nil`));
}

function dropPii(): Node {
  return transform(
    PII_PATHS.map((path) => {
      const at = path.lastIndexOf('[');
      return `delete_key(${path.slice(0, at)}, ${path.slice(at + 1, -1)}) where ${path} != nil`;
    }),
  );
}

function transform(statements: string[]): Node {
  // ignore: a record the statements cannot rewrite still goes out (rewritten as far as possible)
  // instead of refusing the request, which would stall this destination.
  return { error_mode: 'ignore', log_statements: [{ context: 'log', statements }] };
}

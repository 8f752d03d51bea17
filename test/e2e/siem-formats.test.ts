// The SIEM formats through the real Collector: gateway.yaml with the four fragments of
// collector-config/formats/ and the examples of collector-config/examples/siem-formats/, every
// action of the catalog sent by the library, and what each destination received checked against
// its own model: OCSF against the class JSON Schemas (Ajv), ECS against fields.csv and the allowed
// values, CIM against the Change data model, CEF parsed back (through rsyslogd) to the original
// values, hostile ones included. `otel-audit verify` passes on the OCSF, CIM and CEF copies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { bundledActions } from '../../src/catalog/catalogs/references.js';
import { CIM_CHANGE_ACTIONS, deriveSiemMapping, ocsfTypeUid, siemMapping } from '../../src/catalog/siem-mapping.js';
import { z } from 'zod';
import { createAuditLogger, extendCatalog } from '../../src/index.js';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from '../../src/integrity/otlp-json.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import type { AuditEvent } from '../../src/catalog/envelope.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { startElasticsearchBulkEndpoint, type ElasticsearchBulkEndpoint } from '../helpers/elasticsearch-bulk.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { CIM_INDEXED_FIELDS } from '../../scripts/siem-fragments.js';
import { freePort, ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

type Json = Record<string, unknown>;
interface OtlpResourceLogs {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeLogs: { logRecords: { body: OtlpAnyValue; attributes?: OtlpKeyValue[] }[] }[];
}
/** Every action of the bundled catalogs: the Grist product's and the authentication ones. */
const actions = Object.keys(bundledActions.actions) as (keyof typeof bundledActions.actions)[];
/** Actions about the session the context names, with no object in their details: logins and logouts. */
const OBJECTLESS = new Set(['user.login', 'user.login_failed', 'user.logout']);
const CHECKPOINT = 'audit.checkpoint';
/** An action the table does not know: the fragments must derive what `deriveSiemMapping` derives. */
const CUSTOM = 'invoice.export_pdf';
const catalog = extendCatalog(bundledActions, {
  [CUSTOM]: {
    description: 'An invoice was exported as PDF.',
    scopes: ['site'],
    details: z.strictObject({ invoice: z.strictObject({ id: z.string(), name: z.string() }) }),
    sample: { invoice: { id: 'inv-7', name: 'March' } },
  },
});
/** The 48 actions, the hostile event, the custom action and an invalid event. */
const EVENTS = actions.length + 3;
/** Sites in the events' context: the sample's (42) and the hostile event's (7). */
const SITES = ['42', '7'];
/** The events and the checkpoints of start and shutdown: the stream's, and each site's (its resume marker before its first event, and its final one). */
const RECEIVED = EVENTS + 2 + 2 * SITES.length;
const mappingOf = (action: string) => (action === CUSTOM ? deriveSiemMapping(action) : siemMapping(action));
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/** Values a naive CEF or JSON writer gets wrong: separators, escapes, line breaks, non-ASCII. */
const HOSTILE = {
  name: 'Mallory | "Boss" = admin \\ root\nsecond line\r\nthird Ünïcödé 日本語 😀',
  email: 'mallory=x|y\\z@example.com',
  userAgent: 'Agent|1.0 (a=b; c\\d)\nInjected: header',
  siteName: 'Evil | Site = \\ \n Ltd',
  documentName: 'Plan | Q3 = "final" \\ draft\nv2 ✓',
};

/**
 * Where every copy lands: two HEC stand-ins, two rsyslogds, an Elasticsearch bulk endpoint (fed
 * through the Kafka broker, as ecs-elasticsearch.yaml routes it).
 */
async function setUp(kafkaBrokers: string) {
  const dir = tempDir('siem');
  const ports = {
    otlp: await freePort(),
    grpc: await freePort(),
    health: await freePort(),
    metrics: await freePort(),
    hec: await freePort(),
    hecOcsf: await freePort(),
    syslog: await freePort(),
    syslogCef: await freePort(),
    elasticsearch: await freePort(),
  };
  const files = {
    cim: join(dir, 'hec-cim.jsonl'),
    ocsf: join(dir, 'hec-ocsf.jsonl'),
    archive: join(dir, 'archive/audit.jsonl'),
    syslog: join(dir, 'syslog.log'),
    cef: join(dir, 'cef.log'),
  };
  const env = {
    AUDIT_STORAGE_DIR: join(dir, 'queue'),
    AUDIT_ARCHIVE_PATH: files.archive,
    AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
    AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
    AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
    AUDIT_METRICS_PORT: String(ports.metrics),
    SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
    SPLUNK_HEC_TOKEN: 'siem-hec-token',
    OCSF_HEC_ENDPOINT: `http://127.0.0.1:${ports.hecOcsf}/services/collector`,
    OCSF_HEC_TOKEN: 'siem-ocsf-token',
    SYSLOG_ENDPOINT: '127.0.0.1',
    SYSLOG_PORT: String(ports.syslog),
    SYSLOG_TLS_INSECURE: 'true',
    SYSLOG_CEF_ENDPOINT: '127.0.0.1',
    SYSLOG_CEF_PORT: String(ports.syslogCef),
    SYSLOG_CEF_TLS_INSECURE: 'true',
    AUDIT_CEF_VENDOR: 'Acme|Corp',
    ELASTICSEARCH_ENDPOINT: `http://127.0.0.1:${ports.elasticsearch}`,
    KAFKA_BROKERS: kafkaBrokers,
  };
  return { dir, ports, files, env };
}

// --- a CEF parser of the test's own (not the one in src/integrity/trail-siem.ts) -------------

interface CefMessage {
  header: string[];
  extensions: Record<string, string>;
}

/** Parses `CEF:0|...|...|ext` character by character, undoing CEF's escapes. */
function parseCef(message: string): CefMessage {
  assert.ok(message.startsWith('CEF:0|'), `a CEF message: ${message.slice(0, 80)}`);
  const header: string[] = [];
  let i = 0;
  let field = '';
  for (; header.length < 7; i++) {
    const c = message[i];
    assert.ok(c !== undefined, 'seven header fields');
    if (c === '\\') {
      const next = message[++i];
      assert.ok(next === '\\' || next === '|', `header escape \\${next}`);
      field += next;
    } else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  const extensions: Record<string, string> = {};
  let key = '';
  let value = '';
  let inValue = false;
  const flush = () => {
    if (key) extensions[key] = value.replace(/ $/, '');
  };
  for (; i < message.length; i++) {
    const c = message[i]!;
    if (!inValue) {
      if (c === '=') inValue = true;
      else key += c;
      continue;
    }
    if (c === '\\') {
      const next = message[++i];
      const unescaped = { '\\': '\\', '=': '=', n: '\n', r: '\r' }[next ?? ''];
      assert.ok(unescaped !== undefined, `extension escape \\${next} in ${key}`);
      value += unescaped;
    } else if (c === '=') {
      // An unescaped '=' ends the value: what follows its last space is the next key.
      const space = value.lastIndexOf(' ');
      assert.ok(space !== -1, `an unescaped '=' inside the value of ${key}`);
      const nextKey = value.slice(space + 1);
      value = value.slice(0, space);
      flush();
      key = nextKey;
      value = '';
    } else value += c;
  }
  flush();
  return { header, extensions };
}

// --- ECS fields.csv -----------------------------------------------------------------------------

/** fields.csv rows: name → type (and whether it is an array), parsed with quoted fields. */
function ecsFields(): Map<string, { type: string; array: boolean }> {
  const fields = new Map<string, { type: string; array: boolean }>();
  for (const line of fixture('ecs/fields.csv').split('\n').slice(1)) {
    if (!line) continue;
    const columns = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1]!);
    fields.set(columns[3]!, { type: columns[4]!, array: columns[6] === 'array' });
  }
  return fields;
}

/** Dotted leaf paths of a document, stopping at objects ECS types as `object` (labels). */
function leaves(value: unknown, prefix: string, objects: Set<string>): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || objects.has(prefix)) return [[prefix, value]];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key, objects));
}

function compatible(type: string, value: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
    case 'text':
      return typeof value === 'string';
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'ip':
      return typeof value === 'string' && /^(\d{1,3}\.){3}\d{1,3}$|:/.test(value);
    case 'long':
    case 'integer':
      return Number.isInteger(value);
    case 'object':
    case 'flattened':
      return typeof value === 'object' && value !== null;
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return false;
  }
}

// --- the run ------------------------------------------------------------------------------------

describe('SIEM formats through the real Collector', () => {
  let setup: Awaited<ReturnType<typeof setUp>>;
  const running: RunningProcess[] = [];
  let kafka: KafkaBroker | undefined;
  let elasticsearch: ElasticsearchBulkEndpoint | undefined;
  const documents: Json[] = [];
  /** The canonical events as sent, by id (read back from the gateway's archive). */
  const sent = new Map<string, AuditEvent>();
  let hostileId = '';
  let invalidId = '';

  const events = (records: TrailRecord[]) => records.filter((r) => (r.body as { action?: string }).action !== CHECKPOINT);
  const trail = (path: string) => (existsSync(path) ? readTrail(path) : []);
  /** What a HEC stand-in received, as it arrived (readTrail would unwrap the formats): the event and its indexed fields. */
  const hecReceived = (path: string): { body: Json; fields: Json }[] =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter(Boolean)
          .flatMap((line) => (JSON.parse(line) as { resourceLogs: OtlpResourceLogs[] }).resourceLogs)
          .flatMap((rl) =>
            rl.scopeLogs.flatMap((sl) =>
              sl.logRecords.map((r) => ({ body: fromAnyValue(r.body) as Json, fields: { ...fromKeyValues(rl.resource?.attributes), ...fromKeyValues(r.attributes) } })),
            ),
          )
      : [];
  const ocsfEvents = (): Json[] => hecReceived(setup.files.ocsf).map((r) => r.body);
  const cefLines = (): string[] =>
    existsSync(setup.files.cef)
      ? readFileSync(setup.files.cef, 'utf8')
          .split('\n')
          .filter((line) => line.includes('CEF:0|'))
          .map((line) => line.slice(line.indexOf('CEF:0|')))
      : [];

  before(async () => {
    kafka = await startKafka(tempDir('siem-kafka'));
    // Before the Collector starts: the ECS route's receiver joins its group only once the topic exists.
    await kafka.createTopic('audit-events', 4);
    setup = await setUp(kafka.bootstrap);
    elasticsearch = await startElasticsearchBulkEndpoint(setup.ports.elasticsearch, documents);
    running.push(await startHecReceiver(setup.ports.hec, setup.files.cim, 'hec-cim'));
    running.push(await startHecReceiver(setup.ports.hecOcsf, setup.files.ocsf, 'hec-ocsf'));
    running.push(await startRsyslog(setup.ports.syslog, setup.files.syslog));
    running.push(await startRsyslog(setup.ports.syslogCef, setup.files.cef));
    const formats = ['ocsf', 'ecs', 'cim', 'cef'];
    const examples = ['ocsf-hec', 'ecs-elasticsearch', 'cim-splunk', 'cef-syslog'];
    const gateway = await startCollector(
        ['gateway.yaml', ...formats.map((f) => `formats/${f}.yaml`), ...examples.map((e) => `examples/siem-formats/${e}.yaml`)],
        setup.env,
        setup.env.AUDIT_HEALTH_ENDPOINT,
        'otelcol-audit (gateway + formats)',
      );
    running.push(gateway);
    const audit = createAuditLogger({
      catalog,
      endpoint: `http://127.0.0.1:${setup.ports.otlp}/v1/logs`,
      serviceName: 'siem-e2e',
      onError: (report) => {
        if (report.reason !== 'invalid_event') assert.fail(report);
      },
    });
    for (const action of actions) {
      audit.logEvent(action, { actor: sampleEvent.actor, context: sampleEvent.context, details: bundledActions.actions[action].sample as never });
    }
    hostileId = audit.logEvent('document.create', {
      actor: { type: 'user', user: { id: 'u|1=\\', email: HOSTILE.email, name: HOSTILE.name } },
      context: { ...sampleEvent.context, user_agent: HOSTILE.userAgent, site: { id: 7, name: HOSTILE.siteName, domain: 'evil' } },
      details: { document: { id: 'doc=1|x', name: HOSTILE.documentName } },
    });
    // A user with a login (as the Admin Panel's are): semconv user.name, beside the display name in user.full_name.
    audit.logEvent(CUSTOM, { actor: { type: 'user', user: { id: 146, email: 'flapjack@example.com', name: 'Flapjack Toasty', login: 'flapjack' } }, context: sampleEvent.context, details: catalog.actions[CUSTOM].sample });
    // An invalid event (a required field missing): delivered flagged, severity WARN.
    invalidId = audit.logEvent('document.create', { actor: sampleEvent.actor, context: sampleEvent.context, details: { document: { id: 'doc-invalid' } } } as never);
    await audit.shutdown({ timeoutMillis: 30_000 });
    const expected = RECEIVED;
    const counts = () => ({
      archive: trail(setup.files.archive).length,
      cim: hecReceived(setup.files.cim).length,
      ocsf: ocsfEvents().length,
      ecs: documents.length,
      cef: cefLines().length,
    });
    await waitFor('every copy', () => Object.values(counts()).every((n) => n >= expected), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(counts())} of ${expected}\n${gateway.output().split("\n").filter((l) => !l.includes("kafka")).join("\n").slice(-4000)}`);
    });
    for (const record of events(trail(setup.files.archive))) sent.set((record.body as AuditEvent).id, record.body as AuditEvent);
    assert.equal(sent.size, EVENTS);
    writeExamples();
  });

  after(async () => {
    for (const process of running.reverse()) await process.stop();
    await elasticsearch?.close();
    await kafka?.stop();
  });

  /**
   * One real event of each format (the sample document.create; for CEF the hostile event too), as
   * docs/siem-formats.md shows them: written to siem-examples.md in the test's folder, to paste from.
   */
  function examples(): Record<'ocsf' | 'ecs' | 'cim' | 'cef', string> {
    const id = [...sent.values()].find((e) => e.action === 'document.create' && e.id !== hostileId)!.id;
    const cim = hecReceived(setup.files.cim).find((r) => r.body['id'] === id)!;
    const { 'com.splunk.sourcetype': sourcetype, 'com.splunk.index': index, 'com.splunk.source': source, 'host.name': host, ...fields } = cim.fields;
    return {
      ocsf: JSON.stringify(ocsfEvents().find((e) => (e['metadata'] as Json)['uid'] === id), null, 2),
      ecs: JSON.stringify(documents.find((d) => (d['event'] as Json)['id'] === id), null, 2),
      cim: JSON.stringify({ index, source, sourcetype, host, fields, event: cim.body }, null, 2),
      cef: [id, hostileId].map((uid) => cefLines().find((line) => line.includes(`externalId=${uid}`))!).join('\n'),
    };
  }

  function writeExamples() {
    const path = join(setup.dir, 'siem-examples.md');
    writeFileSync(path, Object.entries(examples()).map(([format, text]) => `<!-- siem-example:${format} -->\n\`\`\`${format === 'cef' ? 'text' : 'json'}\n${text}\n\`\`\`\n`).join('\n'));
    console.log(`SIEM examples of this run: ${path}`);
  }

  it('docs/siem-formats.md shows one event of each format with the fields this run produced', () => {
    const guide = readFileSync(join(ROOT, 'docs/siem-formats.md'), 'utf8');
    const shown = (format: string) => {
      const block = new RegExp(`<!-- siem-example:${format} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
      assert.ok(block, `docs/siem-formats.md has the ${format} example`);
      return block[1]!;
    };
    const paths = (json: string) => leaves(JSON.parse(json), '', new Set(['labels'])).map(([path]) => path).sort();
    const produced = examples();
    for (const format of ['ocsf', 'ecs', 'cim'] as const) assert.deepEqual(paths(shown(format)), paths(produced[format]), format);
    const keys = (lines: string) => lines.split('\n').map((line) => Object.keys(parseCef(line).extensions));
    assert.deepEqual(keys(shown('cef')), keys(produced.cef));
  });

  it('OCSF: every event validates against its OCSF 1.6 class schema, with the class and activity of the table', () => {
    const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: false });
    addFormats.default(ajv);
    const validators = {
      6003: ajv.compile(JSON.parse(fixture('ocsf/api_activity.schema.json')) as Json),
      3001: ajv.compile(JSON.parse(fixture('ocsf/account_change.schema.json')) as Json),
      3004: ajv.compile(JSON.parse(fixture('ocsf/entity_management.schema.json')) as Json),
      3005: ajv.compile(JSON.parse(fixture('ocsf/user_access.schema.json')) as Json),
    };
    const userSchema = (JSON.parse(fixture('ocsf/api_activity.schema.json')) as { $defs: { user: { properties: { email_addr: { pattern: string } } } } }).$defs.user;
    const emailPattern = new RegExp(userSchema.properties.email_addr.pattern);
    const received = ocsfEvents();
    assert.equal(received.length, RECEIVED);
    const seen = new Set<string>();
    for (const event of received) {
      const validate = validators[event['class_uid'] as keyof typeof validators];
      assert.ok(validate, `a known class: ${String(event['class_uid'])}`);
      assert.ok(validate(event), `${String((event['metadata'] as Json)['event_code'])}: ${JSON.stringify(validate.errors)}`);
      const canonical = JSON.parse(event['raw_data'] as string) as AuditEvent;
      if (canonical.action === CHECKPOINT) continue;
      seen.add(canonical.action);
      assert.deepEqual(canonical, sent.get(canonical.id), 'raw_data is the canonical event');
      const mapping = mappingOf(canonical.action);
      assert.equal(event['class_uid'], mapping.ocsf.classUid, canonical.action);
      assert.equal(event['activity_id'], mapping.ocsf.activityId, canonical.action);
      assert.equal(event['type_uid'], ocsfTypeUid(mapping), canonical.action);
      assert.equal(event['time'], Date.parse(canonical.timestamp));
      // A refused login is a failure; everything else happened.
      assert.deepEqual([event['status_id'], event['status']], mapping.outcome === 'failure' ? [2, 'Failure'] : [1, 'Success'], canonical.action);
      const metadata = event['metadata'] as Json;
      assert.equal(metadata['uid'], canonical.id);
      assert.equal(metadata['log_name'], 'audit');
      assert.equal((metadata['product'] as Json)['name'], 'otel-audit');
      assert.equal(metadata['tenant_uid'], String(canonical.context.site?.id));
      const actor = event['actor'] as { user: Json };
      assert.equal(canonical.actor.type, 'user');
      if (canonical.actor.type === 'user') {
        assert.deepEqual(
          { uid: actor.user['uid'], email_addr: actor.user['email_addr'], name: actor.user['name'], full_name: actor.user['full_name'] },
          // An address OCSF's email pattern rejects is left out (raw_data keeps it); OCSF's name is the login, full_name the display name.
          {
            uid: String(canonical.actor.user.id),
            email_addr: emailPattern.test(canonical.actor.user.email) ? canonical.actor.user.email : undefined,
            name: canonical.actor.user.login,
            full_name: canonical.actor.user.name,
          },
        );
      }
      assert.equal((event['src_endpoint'] as Json)['ip'], canonical.context.ip_address);
      assert.equal((event['http_request'] as Json)['user_agent'], canonical.context.user_agent);
      assert.equal(metadata['event_code'], canonical.action);
      if (mapping.ocsf.classUid === 6003) assert.equal((event['api'] as Json)['operation'], canonical.action);
      const unmapped = event['unmapped'] as Json;
      assert.match(String(unmapped['audit.hash']), /^[0-9a-f]{64}$/);
      assert.equal(unmapped['log.record.uid'], canonical.id);
      // The object acted on, where the class keeps it.
      const object = { 6003: () => (event['resources'] as Json[] | undefined)?.[0], 3001: () => event['user'], 3004: () => event['entity'] }[mapping.ocsf.classUid]() as Json | undefined;
      if (OBJECTLESS.has(canonical.action)) assert.equal(object, undefined, canonical.action);
      else assert.equal(object?.['type'], mapping.object, canonical.action);
    }
    assert.deepEqual([...seen].sort(), [...actions, CUSTOM].sort());
    // The record's severity: Medium for the invalid event (WARN), Informational for the others.
    const severities = received.map((e) => [(e['metadata'] as Json)['uid'] === invalidId, e['severity_id'], e['severity']]);
    assert.deepEqual(
      severities.filter(([invalid]) => invalid),
      [[true, 3, 'Medium']],
    );
    assert.ok(severities.every(([invalid, id, name]) => invalid || (id === 1 && name === 'Informational')));
    const create = received.find((e) => (e['metadata'] as Json)['uid'] === hostileId)!;
    assert.deepEqual((create['resources'] as Json[])[0], { type: 'document', uid: 'doc=1|x', name: HOSTILE.documentName });
  });

  it('ECS: every field exists in fields.csv with a compatible type; event.category/type allowed and consistent', () => {
    const fields = ecsFields();
    const allowed = JSON.parse(fixture('ecs/allowed-values.json')) as { allowed_values: Record<string, { name: string; expected_event_types: string[] | null }[]> };
    const categories = new Map(allowed.allowed_values['event.category']!.map((c) => [c.name, c.expected_event_types ?? []]));
    const types = new Set(allowed.allowed_values['event.type']!.map((t) => t.name));
    const kinds = new Set(allowed.allowed_values['event.kind']!.map((t) => t.name));
    const objects = new Set([...fields].filter(([, f]) => f.type === 'object').map(([name]) => name));
    assert.equal(documents.length, RECEIVED);
    const seen = new Set<string>();
    for (const document of documents) {
      for (const [path, value] of leaves(document, '', objects)) {
        if (path.startsWith('audit.')) continue; // our own namespace: what ECS has no field for
        const field = fields.get(path);
        assert.ok(field, `${path} is an ECS field`);
        for (const item of field.array ? (value as unknown[]) : [value]) assert.ok(compatible(field.type, item), `${path}: ${JSON.stringify(item)} is a ${field.type}`);
      }
      const event = document['event'] as { kind: string; category: string[]; type: string[]; action: string; id: string; outcome: string; original: string; hash: string };
      assert.ok(kinds.has(event.kind));
      for (const category of event.category) {
        assert.ok(categories.has(category), `category ${category}`);
        for (const type of event.type) {
          assert.ok(types.has(type), `type ${type}`);
          assert.ok(categories.get(category)!.includes(type), `${event.action}: ${type} is expected with ${category}`);
        }
      }
      const canonical = JSON.parse(event.original) as AuditEvent;
      assert.equal(event.id, canonical.id);
      if (event.action === CHECKPOINT) {
        assert.equal(event.kind, 'state');
        continue;
      }
      seen.add(event.action);
      assert.deepEqual(canonical, sent.get(canonical.id));
      const mapping = mappingOf(event.action);
      assert.equal(event.kind, 'event');
      assert.deepEqual({ category: event.category, type: event.type }, { category: [...mapping.ecs.category], type: [...mapping.ecs.type] });
      assert.equal(event.outcome, mapping.outcome, event.action);
      assert.match(event.hash, /^[0-9a-f]{64}$/);
      assert.equal(document['@timestamp'], canonical.timestamp);
      assert.equal((document['source'] as Json)['ip'], canonical.context.ip_address);
      assert.equal((document['user_agent'] as Json)['original'], canonical.context.user_agent);
      assert.equal((document['organization'] as Json)['id'], String(canonical.context.site?.id));
      if (canonical.actor.type === 'user') {
        const user = document['user'] as Json;
        assert.deepEqual([user['email'], user['name'], user['full_name']], [canonical.actor.user.email, canonical.actor.user.login, canonical.actor.user.name]);
      }
    }
    assert.deepEqual([...seen].sort(), [...actions, CUSTOM].sort());
  });

  it('CIM: the Change data model fields are indexed with allowed action values; nothing else; checkpoints apart', () => {
    const received = hecReceived(setup.files.cim);
    assert.equal(received.length, RECEIVED);
    const allowedFields = new Set([...CIM_INDEXED_FIELDS, 'com.splunk.source', 'host.name']);
    const seen = new Set<string>();
    for (const { body: event, fields } of received) {
      for (const name of Object.keys(fields)) assert.ok(allowedFields.has(name), `${name} is not an indexed field of the CIM copy`);
      const { integrity, ...body } = event as unknown as AuditEvent & { integrity: Json };
      if (body.action === CHECKPOINT) {
        assert.equal(fields['com.splunk.sourcetype'], 'otel:audit:checkpoint');
        assert.equal(fields['action'], undefined);
        continue;
      }
      seen.add(body.action);
      assert.equal(fields['com.splunk.sourcetype'], 'otel:audit:cim');
      const mapping = mappingOf(body.action);
      assert.ok((CIM_CHANGE_ACTIONS as readonly unknown[]).includes(fields['action']), String(fields['action']));
      assert.equal(fields['action'], mapping.cim.action, body.action);
      assert.equal(fields['change_type'], mapping.cim.changeType, body.action);
      assert.equal(fields['object_category'], mapping.object);
      assert.equal(fields['object_attrs'], mapping.cim.objectAttrs, body.action);
      assert.equal(fields['status'], mapping.outcome, body.action);
      assert.equal(fields['vendor_product'], 'otel-audit');
      assert.equal(fields['command'], body.action);
      assert.equal(fields['src'], body.context.ip_address);
      assert.equal(fields['dest'], 'siem-e2e', `${body.action}: dest is the application`);
      assert.equal(fields['dvc'], fields['host.name']);
      if (!OBJECTLESS.has(body.action)) assert.ok(typeof fields['object_id'] === 'string' && typeof fields['object'] === 'string', `${body.action}: object and object_id`);
      if (body.actor.type === 'user') assert.equal(fields['src_user'], body.actor.user.email);
      // For account changes CIM's `user` is the account changed, not who changed it.
      const account = (body.details as { user?: { email?: string }; current?: { user?: { email?: string } } });
      if (mapping.object === 'user' && !OBJECTLESS.has(body.action)) assert.equal(fields['user'], (account.user ?? account.current?.user)?.email, body.action);
      // The event is the canonical event plus the chain, which stays out of the index.
      assert.deepEqual(body, sent.get(body.id));
      assert.match(String(integrity['audit.hash']), /^[0-9a-f]{64}$/);
    }
    assert.deepEqual([...seen].sort(), [...actions, CUSTOM].sort());
  });

  it('the Splunk add-on has props for every sourcetype received, and its event types find the CIM events', () => {
    const addon = (name: string) => readFileSync(join(ROOT, 'collector-config/splunk-addon/TA-otel-audit/default', name), 'utf8');
    const stanzas = (text: string) => [...text.matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1]!);
    const props = new Set(stanzas(addon('props.conf')));
    const received = [...hecReceived(setup.files.cim), ...hecReceived(setup.files.ocsf)].map((r) => String(r.fields['com.splunk.sourcetype'] ?? 'ocsf:audit'));
    for (const sourcetype of new Set(received)) assert.ok(props.has(sourcetype), `props.conf has [${sourcetype}]`);
    const searches = Object.fromEntries([...addon('eventtypes.conf').matchAll(/^\[([^\]]+)\]\nsearch = (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [eventtype, search] of Object.entries(searches)) {
      const sourcetype = /sourcetype="([^"]+)"/.exec(search)![1]!;
      assert.ok(received.includes(sourcetype), `${eventtype} searches a sourcetype the Collector sends`);
    }
    const tags = addon('tags.conf');
    assert.match(tags, /\[eventtype=otel_audit_change\]\nchange = enabled/);
    assert.doesNotMatch(tags, /otel_audit_checkpoint/);
  });

  it('CEF: every line parses back to the original values, hostile ones included', () => {
    const lines = cefLines();
    assert.equal(lines.length, RECEIVED);
    const seen = new Set<string>();
    for (const line of lines) {
      const { header, extensions } = parseCef(line);
      const canonical = JSON.parse(extensions['OtelAuditEvent']!) as AuditEvent;
      assert.deepEqual(header.slice(0, 3), ['CEF:0', 'Acme|Corp', 'otel-audit']);
      assert.equal(header[4], canonical.action);
      assert.equal(extensions['externalId'], canonical.id);
      assert.equal(extensions['rt'], String(Date.parse(canonical.timestamp)));
      if (canonical.action === CHECKPOINT) continue;
      assert.equal(extensions['cs2Label'], 'auditHash');
      assert.match(extensions['cs2']!, /^[0-9a-f]{64}$/);
      seen.add(canonical.action);
      assert.deepEqual(canonical, sent.get(canonical.id));
      // The fragments were generated from the Grist catalog: an action they do not know is named by itself.
      const name = canonical.action === CUSTOM ? CUSTOM : bundledActions.actions[canonical.action as keyof typeof bundledActions.actions].description;
      assert.equal(header[5], name);
      assert.equal(header[6], String(mappingOf(canonical.action).cefSeverity));
      assert.equal(extensions['act'], canonical.action);
      assert.equal(extensions['src'], canonical.context.ip_address);
      assert.equal(extensions['requestClientApplication'], canonical.context.user_agent);
      assert.equal(extensions['cs1Label'], 'site');
      assert.equal(extensions['cs1'], canonical.context.site?.name);
      if (canonical.actor.type === 'user') {
        assert.equal(extensions['suser'], canonical.actor.user.login ?? canonical.actor.user.name);
        assert.equal(extensions['suid'], String(canonical.actor.user.id));
        assert.equal(extensions['cs5'], canonical.actor.user.email);
      }
    }
    assert.deepEqual([...seen].sort(), [...actions, CUSTOM].sort());
    const hostile = parseCef(lines.find((line) => line.includes(`externalId=${hostileId}`))!);
    assert.equal(hostile.extensions['suser'], HOSTILE.name);
    assert.equal(hostile.extensions['suid'], 'u|1=\\');
    assert.equal(hostile.extensions['cs5'], HOSTILE.email);
    assert.equal(hostile.extensions['requestClientApplication'], HOSTILE.userAgent);
    assert.equal(hostile.extensions['cs1'], HOSTILE.siteName);
    assert.equal((JSON.parse(hostile.extensions['OtelAuditEvent']!) as { details: { document: { name: string } } }).details.document.name, HOSTILE.documentName);
  });

  it('otel-audit verify finds the OCSF, ECS, CIM and CEF copies complete and intact', () => {
    // An OCSF copy as a data lake keeps it: one OCSF event per line.
    const ocsfLines = join(setup.dir, 'ocsf-events.jsonl');
    writeFileSync(ocsfLines, ocsfEvents().map((e) => JSON.stringify(e)).join('\n') + '\n');
    // An ECS copy as an Elasticsearch export keeps it: one document per line.
    const ecsLines = join(setup.dir, 'ecs-documents.jsonl');
    writeFileSync(ecsLines, documents.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const copies = [setup.files.ocsf, ocsfLines, ecsLines, setup.files.cim, setup.files.cef];
    for (const [file, extra] of copies.map((file) => [file, file === setup.files.cef ? [] : ['--ignore-order']] as const)) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', file, ...extra, '--json'], { encoding: 'utf8' });
      const report = JSON.parse(out) as { ok: boolean; unchained: number; streams: { events: number; checkpoints: number }[] };
      assert.equal(report.ok, true, `${file}: ${out}`);
      assert.equal(report.unchained, 0);
      assert.equal(report.streams.length, 1);
      assert.equal(report.streams[0]!.events, EVENTS);
      assert.equal(report.streams[0]!.checkpoints, 2, 'the checkpoints of start and shutdown');
      // Each format carries the sites' chains too: verify --site checks them in each copy.
      const bySite = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', file, ...extra, ...SITES.flatMap((site) => ['--site', site]), '--json'], { encoding: 'utf8' })) as { ok: boolean; streams: { siteId: string; events: number; checkpoints: number }[] };
      assert.equal(bySite.ok, true, `${file} --site: ${JSON.stringify(bySite)}`);
      // Site 42: every site-scoped action of the catalog, the custom one and the invalid event (a document.create) included; site 7: the hostile event.
      const siteScoped = actions.filter((action) => (bundledActions.actions[action].scopes as readonly string[]).includes('site')).length + 2;
      assert.deepEqual(bySite.streams.map((s) => [s.siteId, s.events, s.checkpoints]), [['42', siteScoped, 2], ['7', 1, 2]], 'each site\'s events, its resume marker and final checkpoint');
    }
  });

  it('verify finds an altered CEF copy: one changed character in a hostile value', () => {
    const altered = join(setup.dir, 'cef-altered.log');
    writeFileSync(altered, readFileSync(setup.files.cef, 'utf8').replace('Plan | Q3', 'Plan | Q4'));
    let out = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', altered, '--json'], { encoding: 'utf8' });
    } catch (error) {
      out = String((error as { stdout: string }).stdout);
    }
    const report = JSON.parse(out) as { ok: boolean; streams: { tampered: { reason: string }[] }[] };
    assert.equal(report.ok, false);
    assert.equal(report.streams[0]!.tampered.length, 1);
  });
});

// Generates collector-config/formats/<format>.yaml from the SIEM mapping table
// (src/catalog/siem-mapping.ts), so the table and the Collector configs cannot drift:
// `npm run docs` writes them, test/catalog/siem-mapping.test.ts checks they are up to date.
import { ATTR } from '../src/attributes.js';
import type { Catalog } from '../src/catalog/define.js';
import { CHECKPOINT_ACTION } from '../src/integrity/checkpoint.js';
import { CEF_SITE_KEYS } from '../src/integrity/trail-siem.js';
import { ACTOR_FIELDS, KIND_DEFAULTS, OCSF_CLASSES, VERB_RULES, deriveSiemMapping, ocsfTypeUid, siemMappingOf, verbKind, type SiemMapping, type VerbKind } from '../src/catalog/siem-mapping.js';

export const SIEM_FORMATS = ['ocsf', 'ecs', 'cim', 'cef'] as const;
export type SiemFormat = (typeof SIEM_FORMATS)[number];

/** What `otel-audit verify` needs from a copy (`--site`: the site's id and link too): each format keeps these somewhere. */
export const INTEGRITY_ATTRIBUTES = [ATTR.recordUid, ATTR.streamId, ATTR.seq, ATTR.prevHash, ATTR.hash, ATTR.signature, ATTR.siteId, ATTR.siteSeq, ATTR.sitePrevHash, ATTR.siteHash] as const;

/** OCSF's `email_t` pattern (the class schemas' `email_addr`). */
export const OCSF_EMAIL = "^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9-.]+$";

/** OCSF version the fragment writes into `metadata.version`. */
export const OCSF_VERSION = '1.6.0';
/** ECS version the ECS fragment declares in `ecs.version` (the fields checked are ECS 9.5). */
export const ECS_VERSION = '9.5.0';

/** CEF custom-string slots and their labels (`csNLabel`). */
export const CEF_LABELS = { cs1: 'site', cs2: 'auditHash', cs3: 'auditPrevHash', cs4: 'auditStreamId', cs5: 'userEmail', cs6: 'sessionId', cn1: 'auditSeq', cn2: 'auditSiteSeq' } as const;
/** Vendor-defined CEF keys (`VendorProductKey`, as the CEF guide names custom extensions). */
export const CEF_EVENT_KEY = 'OtelAuditEvent';
export const CEF_SIGNATURE_KEY = 'OtelAuditSignature';


const str = (value: string): string => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const attr = (name: string): string => `log.attributes[${str(name)}]`;
const cache = (...keys: string[]): string => `log.cache${keys.map((k) => `[${str(k)}]`).join('')}`;
const list = (values: readonly string[]): string => `[${values.map(str).join(', ')}]`;
/** An OTTL map literal from [key, OTTL expression] pairs. */
const map = (entries: [string, string][]): string => `{${entries.map(([k, v]) => `${str(k)}: ${v}`).join(', ')}}`;
const when = (statement: string, condition: string): string => `${statement} where ${condition}`;
const present = (path: string): string => `${path} != nil`;

const ACTION = cache('action');
const OBJECT = cache('object');
const OBJECT_TYPE = cache('object_type');
const SERVICE = 'resource.attributes["service.name"]';
const HOST = 'resource.attributes["host.name"]';
const isAction = (action: string): string => `${ACTION} == ${str(action)}`;
/** A field that takes the first present of `sources` (ACTOR_FIELDS): one statement each, the last applied winning, so the lowest priority goes first. */
const firstPresent = (sources: readonly string[]): string[] => [...sources].reverse().map(attr);

/** What every fragment starts with: the action, its object type and verb, the object acted on. */
function prelude(mappings: readonly SiemMapping[]): string[] {
  const paths = mappings.filter((m) => m.objectPath);
  return [
    `set(${ACTION}, ${attr(ATTR.action)})`,
    `set(${OBJECT_TYPE}, Split(${ACTION}, ".")[0])`,
    `set(${cache('verb')}, ${ACTION})`,
    `replace_pattern(${cache('verb')}, "^[^.]*\\\\.", "")`,
    // The object acted on: details.<object>, else details.current.<object>, else the table's path.
    when(`set(${OBJECT}, log.body["details"][${OBJECT_TYPE}])`, 'IsMap(log.body["details"])'),
    when(`set(${OBJECT}, log.body["details"]["current"][${OBJECT_TYPE}])`, `${OBJECT} == nil and IsMap(log.body["details"]["current"])`),
    ...paths.map((m) => when(`set(${OBJECT}, log.body["details"]${m.objectPath!.map((k) => `[${str(k)}]`).join('')})`, isAction(m.action))),
    when(`set(${cache('object_id')}, String(${OBJECT}["id"]))`, `IsMap(${OBJECT}) and ${OBJECT}["id"] != nil`),
    when(`set(${cache('object_name')}, ${OBJECT}["name"])`, `IsMap(${OBJECT}) and IsString(${OBJECT}["name"])`),
  ];
}

/** The verb's kind at run time, by the same rules as `verbKind` (first match wins). */
function kindStatements(): string[] {
  return [
    ...VERB_RULES.map((rule) => when(`set(${cache('kind')}, ${str(rule.kind)})`, `${cache('kind')} == nil and IsMatch(${cache('verb')}, ${str(rule.pattern)})`)),
    when(`set(${cache('kind')}, "update")`, `${cache('kind')} == nil`),
  ];
}

/**
 * The mapping into the cache: defaults by kind (what a custom catalog's action gets), then one
 * statement per catalog action whose fields differ from its kind's defaults. The run-time kind is
 * the verb's: a key its defaults set that the action's own mapping does not have (session.revoke,
 * whose verb derives access, with its object attributes, is not one) is deleted first.
 */
function mappingStatements(mappings: readonly SiemMapping[], fields: (m: SiemMapping) => [string, string][], checkpoint: [string, string][]): string[] {
  const kinds = Object.keys(KIND_DEFAULTS) as VerbKind[];
  // An object type the table does not name ('') gets exactly its kind's derivation.
  const derived = (kind: VerbKind) => fields(deriveSiemMapping('', kind));
  const defaults = Object.fromEntries(kinds.map((kind) => [kind, map(derived(kind))]));
  const stale = (m: SiemMapping) => derived(verbKind(m.verb)).filter(([key]) => !fields(m).some(([own]) => own === key));
  return [
    ...kinds.map((kind) => when(`merge_maps(log.cache, ${defaults[kind]!}, "upsert")`, `${cache('kind')} == ${str(kind)}`)),
    ...mappings
      .filter((m) => map(fields(m)) !== defaults[verbKind(m.verb)])
      .flatMap((m) => [...stale(m).map(([key]) => when(`delete_key(log.cache, ${str(key)})`, isAction(m.action))), when(`merge_maps(log.cache, ${map(fields(m))}, "upsert")`, isAction(m.action))]),
    when(`merge_maps(log.cache, ${map(checkpoint)}, "upsert")`, isAction(CHECKPOINT_ACTION)),
  ];
}

const ocsfFields = (m: SiemMapping): [string, string][] => {
  const cls = OCSF_CLASSES[m.ocsf.classUid];
  return [
    ['class_uid', String(m.ocsf.classUid)],
    ['class_name', str(cls.name)],
    ['category_uid', String(cls.categoryUid)],
    ['category_name', str(cls.categoryName)],
    ['activity_id', String(m.ocsf.activityId)],
    ['activity_name', str(m.ocsf.activityName)],
    ['type_uid', String(ocsfTypeUid(m))],
    ['type_name', str(`${cls.name}: ${m.ocsf.activityName}`)],
    ['status_id', m.outcome === 'failure' ? '2' : '1'],
    ['status', str(m.outcome === 'failure' ? 'Failure' : 'Success')],
  ];
};

function ocsf(mappings: readonly SiemMapping[]): string[] {
  const o = (...keys: string[]) => cache('ocsf', ...keys);
  const checkpoint = ocsfFields({ ...deriveSiemMapping(CHECKPOINT_ACTION), ocsf: { classUid: 6003, activityId: 99, activityName: 'Other' } });
  return [
    ...kindStatements(),
    ...mappingStatements(mappings, ocsfFields, checkpoint),
    `set(${o()}, ${map([
      ...['class_uid', 'class_name', 'category_uid', 'category_name', 'activity_id', 'activity_name', 'type_uid', 'type_name'].map((k): [string, string] => [k, cache(k)]),
      ['time', 'UnixMilli(log.time)'],
      ['severity_id', '1'],
      ['severity', str('Informational')],
      ['status_id', cache('status_id')],
      ['status', cache('status')],
      ['metadata', map([['version', str(OCSF_VERSION)], ['product', map([['name', str('otel-audit')], ['vendor_name', str('otel-audit')]])], ['uid', attr(ATTR.recordUid)], ['log_name', str('audit')]])],
      ['actor', '{}'],
      ['src_endpoint', '{}'],
      ['raw_data', 'String(log.body)'],
    ])})`,
    // The record's severity, not an assumed INFO: an invalid event (WARN, flagged audit.invalid) is
    // Medium, "action is required", so that rules on OCSF severity alert on it.
    when(`set(${o('severity_id')}, 3)`, 'log.severity_number >= 13'),
    when(`set(${o('severity')}, ${str('Medium')})`, 'log.severity_number >= 13'),
    when(`set(${o('metadata', 'product', 'version')}, instrumentation_scope.version)`, 'instrumentation_scope.version != ""'),
    when(`set(${o('metadata', 'log_provider')}, ${SERVICE})`, present(SERVICE)),
    when(`set(${o('actor', 'app_name')}, ${SERVICE})`, present(SERVICE)),
    // API Activity names the operation in api; the IAM classes have no api object.
    `set(${o('metadata', 'event_code')}, ${ACTION})`,
    when(`set(${o('api')}, ${map([['operation', ACTION]])})`, `${cache('class_uid')} == 6003`),
    when(`set(${o('api', 'service')}, ${map([['name', SERVICE]])})`, `${cache('class_uid')} == 6003 and ${present(SERVICE)}`),
    when(`set(${o('actor', 'user')}, ${map([['type', str('User')], ['type_id', '1']])})`, `${attr(ATTR.actorType)} == "user"`),
    ...Object.entries(ACTOR_FIELDS.ocsf).flatMap(([field, sources]) =>
      firstPresent(sources).map((value) =>
        field === 'actor.user.email_addr'
          ? // OCSF types email_addr by a pattern: an address it rejects stays in raw_data only.
            when(`set(${o(...field.split('.'))}, ${value})`, `${attr(ATTR.actorType)} == "user" and IsString(${value}) and IsMatch(${value}, ${str(OCSF_EMAIL)})`)
          : when(`set(${o(...field.split('.'))}, ${value})`, `${attr(ATTR.actorType)} == "user" and ${present(value)}`),
      ),
    ),
    // The site is the tenant: OCSF's metadata.tenant_uid, and the organization of the acting user.
    when(`set(${o('metadata', 'tenant_uid')}, ${attr(ATTR.siteId)})`, present(attr(ATTR.siteId))),
    when(`set(${o('actor', 'user', 'org')}, ${map([['uid', attr(ATTR.siteId)]])})`, `${attr(ATTR.actorType)} == "user" and ${present(attr(ATTR.siteId))}`),
    when(`set(${o('actor', 'user', 'org', 'name')}, ${attr(ATTR.siteName)})`, `${attr(ATTR.actorType)} == "user" and ${present(attr(ATTR.siteId))} and ${present(attr(ATTR.siteName))}`),
    when(`set(${o('actor', 'session')}, ${map([['uid', attr(ATTR.sessionId)]])})`, present(attr(ATTR.sessionId))),
    when(`set(${o('src_endpoint', 'ip')}, ${attr(ATTR.clientAddress)})`, present(attr(ATTR.clientAddress))),
    // No client address (a system action, a checkpoint): the source is the application's host.
    when(`set(${o('src_endpoint', 'hostname')}, ${HOST})`, `${attr(ATTR.clientAddress)} == nil and ${present(HOST)}`),
    when(`set(${o('http_request')}, ${map([['user_agent', attr(ATTR.userAgent)]])})`, present(attr(ATTR.userAgent))),
    // The object acted on: resources (API Activity), user (Account Change) or entity (Entity Management).
    `set(${cache('resource')}, ${map([['type', OBJECT_TYPE]])})`,
    when(`set(${cache('resource', 'uid')}, ${cache('object_id')})`, present(cache('object_id'))),
    when(`set(${cache('resource', 'name')}, ${cache('object_name')})`, present(cache('object_name'))),
    // OCSF wants a uid or a name for a resource: an object with neither (a checkpoint's) is left out.
    when(`set(${o('resources')}, [${cache('resource')}])`, `${cache('class_uid')} == 6003 and (${present(cache('object_id'))} or ${present(cache('object_name'))})`),
    when(`set(${o('user')}, ${cache('resource')})`, `${cache('class_uid')} == 3001`),
    when(`set(${o('user', 'email_addr')}, ${OBJECT}["email"])`, `${cache('class_uid')} == 3001 and IsMap(${OBJECT}) and IsString(${OBJECT}["email"]) and IsMatch(${OBJECT}["email"], ${str(OCSF_EMAIL)})`),
    when(`set(${o('entity')}, ${cache('resource')})`, `${cache('class_uid')} == 3004`),
    when(`set(${o('entity', 'data')}, log.body["details"]["access_changes"])`, `${cache('class_uid')} == 3004 and IsMap(log.body["details"]["access_changes"])`),
    // raw_data is the canonical event, unmapped the chain: `otel-audit verify` checks an OCSF copy.
    `set(${o('unmapped')}, log.attributes)`,
    `keep_keys(${o('unmapped')}, ${list(INTEGRITY_ATTRIBUTES)})`,
    `set(log.body, ${o()})`,
  ];
}

const ecsFields = (m: SiemMapping): [string, string][] => [
  ['ecs_category', list(m.ecs.category)],
  ['ecs_type', list(m.ecs.type)],
  ['ecs_outcome', str(m.outcome)],
];

function ecs(mappings: readonly SiemMapping[]): string[] {
  const e = (...keys: string[]) => cache('ecs', ...keys);
  const optional: [string[], string][] = [
    [['event', 'hash'], attr(ATTR.hash)],
    [['event', 'sequence'], attr(ATTR.seq)],
    ...Object.entries(ACTOR_FIELDS.ecs).flatMap(([field, sources]) => firstPresent(sources).map((value): [string[], string] => [field.split('.'), value])),
    [['source', 'ip'], attr(ATTR.clientAddress)],
    [['client', 'ip'], attr(ATTR.clientAddress)],
    [['user_agent', 'original'], attr(ATTR.userAgent)],
    [['organization', 'id'], attr(ATTR.siteId)],
    [['organization', 'name'], attr(ATTR.siteName)],
    [['labels', 'site_domain'], attr(ATTR.siteDomain)],
    [['labels', 'session_id'], attr(ATTR.sessionId)],
    [['service', 'name'], SERVICE],
    [['host', 'name'], HOST],
    [['audit', 'stream_id'], attr(ATTR.streamId)],
    [['audit', 'prev_hash'], attr(ATTR.prevHash)],
    [['audit', 'checkpoint_signature'], attr(ATTR.signature)],
    [['audit', 'site_seq'], attr(ATTR.siteSeq)],
    [['audit', 'site_prev_hash'], attr(ATTR.sitePrevHash)],
    [['audit', 'site_hash'], attr(ATTR.siteHash)],
    [['audit', 'object', 'id'], cache('object_id')],
    [['audit', 'object', 'name'], cache('object_name')],
  ];
  const objects = ['user', 'source', 'client', 'user_agent', 'organization', 'service', 'host'];
  return [
    ...kindStatements(),
    ...mappingStatements(mappings, ecsFields, [['ecs_category', list(['api'])], ['ecs_type', list(['info'])]]),
    `set(${e()}, ${map([
      ['@timestamp', 'log.body["timestamp"]'],
      ['ecs', map([['version', str(ECS_VERSION)]])],
      [
        'event',
        map([
          ['kind', str('event')],
          ['action', ACTION],
          ['id', attr(ATTR.recordUid)],
          ['outcome', cache('ecs_outcome')],
          ['provider', str('otel-audit')],
          ['original', 'String(log.body)'],
        ]),
      ],
      ['labels', '{}'],
      ['audit', map([['object', map([['type', OBJECT_TYPE]])]])],
      ...objects.map((name): [string, string] => [name, '{}']),
    ])})`,
    // Lists cannot be values of a map literal: set apart.
    `set(${e('event', 'category')}, ${cache('ecs_category')})`,
    `set(${e('event', 'type')}, ${cache('ecs_type')})`,
    // A checkpoint reports the state of a stream (the logger's heartbeat), not an action.
    when(`set(${e('event', 'kind')}, "state")`, isAction(CHECKPOINT_ACTION)),
    when(`set(${e('audit', 'actor_type')}, ${attr(ATTR.actorType)})`, present(attr(ATTR.actorType))),
    ...optional.map(([keys, value]) => when(`set(${e(...keys)}, ${value})`, present(value))),
    // The account acted on, for user actions.
    ...([['id', cache('object_id')], ['name', cache('object_name')], ['email', `${OBJECT}["email"]`]] as const).map(([key, value]) =>
      when(`set(${e('user', 'target', key)}, ${value})`, `${OBJECT_TYPE} == "user" and IsMap(${OBJECT}) and IsString(${value})`),
    ),
    // Empty objects say nothing: leave them out of the document.
    ...[...objects, 'labels'].map((name) => when(`delete_key(${e()}, ${str(name)})`, `Len(${e(name)}) == 0`)),
    `set(log.body, ${e()})`,
  ];
}

/** Index-time fields a CIM copy keeps (override with AUDIT_CIM_INDEXED_FIELDS). */
export const CIM_INDEXED_FIELDS = ['action', 'change_type', 'command', 'dest', 'dvc', 'object', 'object_attrs', 'object_category', 'object_id', 'src', 'src_user', 'status', 'user', 'vendor_product', 'com.splunk.sourcetype', 'com.splunk.index'] as const;

const cimFields = (m: SiemMapping): [string, string][] => [
  ['cim_action', str(m.cim.action)],
  ['cim_change_type', str(m.cim.changeType)],
  ...(m.cim.objectAttrs === undefined ? [] : [['cim_object_attrs', str(m.cim.objectAttrs)] as [string, string]]),
  ['cim_status', str(m.outcome)],
];

function cim(mappings: readonly SiemMapping[]): string[] {
  const set = (field: string, value: string, condition?: string) => {
    const statement = `set(${attr(field)}, ${value})`;
    return when(statement, [`${ACTION} != ${str(CHECKPOINT_ACTION)}`, ...(condition ? [condition] : [])].join(' and '));
  };
  const actor = firstPresent(ACTOR_FIELDS.cim.src_user);
  return [
    ...kindStatements(),
    ...mappingStatements(mappings, cimFields, cimFields(deriveSiemMapping(CHECKPOINT_ACTION))),
    // The CIM Change data model's fields, at index time.
    set('action', cache('cim_action')),
    set('change_type', cache('cim_change_type')),
    set('change_type', '"AAA"', `${OBJECT_TYPE} == "user"`),
    set('object_attrs', cache('cim_object_attrs'), present(cache('cim_object_attrs'))),
    set('object_category', OBJECT_TYPE),
    set('object_id', cache('object_id'), present(cache('object_id'))),
    set('object', cache('object_id'), present(cache('object_id'))),
    set('object', cache('object_name'), present(cache('object_name'))),
    set('command', ACTION),
    set('status', cache('cim_status')),
    set('vendor_product', '"otel-audit"'),
    set('dest', SERVICE, present(SERVICE)),
    set('dvc', HOST, present(HOST)),
    set('src', attr(ATTR.clientAddress), present(attr(ATTR.clientAddress))),
    // src_user: who acted (ACTOR_FIELDS: the email, else the login, else the display name, else the id); user: the same, except for
    // account changes, where CIM's `user` is the account changed.
    ...actor.map((value) => set('src_user', value, present(value))),
    ...actor.map((value) => set('user', value, present(value))),
    set('user', cache('object_id'), `${OBJECT_TYPE} == "user" and ${present(cache('object_id'))}`),
    set('user', `${OBJECT}["email"]`, `${OBJECT_TYPE} == "user" and IsMap(${OBJECT}) and IsString(${OBJECT}["email"])`),
    // Their own sourcetypes: the add-on's props (KV_MODE) and event types key on them, and
    // checkpoints stay out of the Change data model's searches.
    when(`set(${attr('com.splunk.sourcetype')}, "\${env:SPLUNK_CIM_SOURCETYPE:-otel:audit:cim}")`, `${ACTION} != ${str(CHECKPOINT_ACTION)}`),
    when(`set(${attr('com.splunk.sourcetype')}, "\${env:SPLUNK_CHECKPOINT_SOURCETYPE:-otel:audit:checkpoint}")`, isAction(CHECKPOINT_ACTION)),
    // The chain stays in the event body (search-time fields), not in the index.
    `set(${cache('integrity')}, log.attributes)`,
    `keep_keys(${cache('integrity')}, ${list(INTEGRITY_ATTRIBUTES)})`,
    `set(log.body["integrity"], ${cache('integrity')})`,
    // A lean set of indexed fields: the HEC exporter sends every attribute, resource attribute and
    // the severity as an indexed field, so keep only these.
    `keep_keys(log.attributes, [\${env:AUDIT_CIM_INDEXED_FIELDS:-${CIM_INDEXED_FIELDS.map(str).join(', ')}}])`,
    'set(log.severity_text, "")',
    'set(log.severity_number, 0)',
  ];
}

const cefFields = (descriptions: Readonly<Record<string, string>>) => (m: SiemMapping): [string, string][] => [
  ['cef_severity', String(m.cefSeverity)],
  ...(descriptions[m.action] ? [['cef_name', str(descriptions[m.action]!)] as [string, string]] : []),
];

/** CEF escaping, in OTTL: `\` first, then `|` in the header; `=`, CR and LF in extension values. */
function cefEscapes(): string[] {
  return [
    `replace_all_patterns(${cache('cef_header')}, "value", "\\\\\\\\", "\\\\\\\\")`,
    `replace_all_patterns(${cache('cef_header')}, "value", "\\\\|", "\\\\|")`,
    `replace_all_patterns(${cache('cef_header')}, "value", "[\\\\r\\\\n]+", " ")`,
    `replace_all_patterns(${cache('cef')}, "value", "\\\\\\\\", "\\\\\\\\")`,
    `replace_all_patterns(${cache('cef')}, "value", "=", "\\\\=")`,
    `replace_all_patterns(${cache('cef')}, "value", "\\\\r", "\\\\r")`,
    `replace_all_patterns(${cache('cef')}, "value", "\\\\n", "\\\\n")`,
  ];
}

/** The last (lowest-priority) source of an actor field: where CEF_EXTENSIONS starts it; the others override it. */
const lowest = (sources: readonly string[]): string => attr(sources[sources.length - 1]!);

/** Extension keys in the order they are written, with where their values come from. */
const CEF_EXTENSIONS: [string, string][] = [
  ['act', ACTION],
  ['cat', OBJECT_TYPE],
  ['externalId', attr(ATTR.recordUid)],
  ['suid', lowest(ACTOR_FIELDS.cef.suid)],
  ['suser', lowest(ACTOR_FIELDS.cef.suser)],
  ['src', attr(ATTR.clientAddress)],
  ['requestClientApplication', attr(ATTR.userAgent)],
  ['dvchost', HOST],
  ['cs1', attr(ATTR.siteName)],
  ['cs2', attr(ATTR.hash)],
  ['cs3', attr(ATTR.prevHash)],
  ['cs4', attr(ATTR.streamId)],
  ['cs5', lowest(ACTOR_FIELDS.cef.cs5)],
  ['cs6', attr(ATTR.sessionId)],
  ['cn1', attr(ATTR.seq)],
  ['cn2', attr(ATTR.siteSeq)],
  [CEF_SIGNATURE_KEY, attr(ATTR.signature)],
  ...Object.entries(CEF_SITE_KEYS).map(([key, name]): [string, string] => [key, attr(name)]),
  [CEF_EVENT_KEY, 'String(log.body)'],
];

function cef(mappings: readonly SiemMapping[], descriptions: Readonly<Record<string, string>>): string[] {
  const header = (key: string) => cache('cef_header', key);
  const ext = cache('ext');
  const append = (text: string) => `set(${ext}, Concat([${ext}, ${text}], ""))`;
  return [
    ...kindStatements(),
    ...mappingStatements(mappings, cefFields(descriptions), [['cef_severity', '1'], ['cef_name', str('Audit trail checkpoint')]]),
    `set(${cache('cef_header')}, ${map([
      ['vendor', '"${env:AUDIT_CEF_VENDOR:-otel-audit}"'],
      ['version', 'instrumentation_scope.version'],
      ['class', ACTION],
      ['name', ACTION],
    ])})`,
    when(`set(${header('name')}, ${cache('cef_name')})`, present(cache('cef_name'))),
    `set(${cache('cef')}, {})`,
    ...CEF_EXTENSIONS.map(([key, value]) => when(`set(${cache('cef', key)}, ${value})`, present(value))),
    // The actor's fields with more than one source: the ones before the last (in CEF_EXTENSIONS) override it, in ACTOR_FIELDS' order.
    ...Object.entries(ACTOR_FIELDS.cef).flatMap(([key, sources]) => firstPresent(sources.slice(0, -1)).map((value) => when(`set(${cache('cef', key)}, ${value})`, present(value)))),
    ...['cn1', 'cn2'].map((slot) => when(`set(${cache('cef', slot)}, String(${cache('cef', slot)}))`, present(cache('cef', slot)))),
    ...cefEscapes(),
    `set(${ext}, Concat(["rt=", String(UnixMilli(log.time))], ""))`,
    ...Object.entries(CEF_LABELS).map(([slot, label]) => when(append(`" ${slot}Label=${label} ${slot}=", ${cache('cef', slot)}`), present(cache('cef', slot)))),
    ...CEF_EXTENSIONS.filter(([key]) => !(key in CEF_LABELS)).map(([key]) => when(append(`" ${key}=", ${cache('cef', key)}`), present(cache('cef', key)))),
    `set(${attr('message')}, Concat(["CEF:0", ${header('vendor')}, "otel-audit", ${header('version')}, ${header('class')}, ${header('name')}, String(${cache('cef_severity')}), ${ext}], "|"))`,
    // The syslog exporter's header fields: PRI 110 = facility 13 (log audit) * 8 + severity 6.
    `set(${attr('msg_id')}, ${ACTION})`,
    when(`set(${attr('appname')}, ${SERVICE})`, present(SERVICE)),
    when(`set(${attr('hostname')}, ${HOST})`, present(HOST)),
    `set(${attr('priority')}, 110)`,
  ];
}

const HEADERS: Record<SiemFormat, string> = {
  ocsf: `# OCSF 1.6 (Open Cybersecurity Schema Framework): the log body becomes one OCSF event, JSON.
#
# Fits any destination that stores the body as JSON: Splunk HEC (the event is the OCSF object),
# Kafka with \`encoding: raw\`, a data lake (AWS Security Lake and others ingest OCSF), the file
# exporter. Classes: API Activity (6003; logins and logouts too, with status Failure for a refused
# login), Account Change (3001) for user accounts, passwords, MFA and API keys, Entity Management
# (3004) for access rules; see docs/siem-mapping.md.
# raw_data is the canonical event (JSON) and unmapped holds the chain, so \`otel-audit verify\`
# checks an OCSF copy like any other:
#   ${INTEGRITY_ATTRIBUTES.join(', ')}.
# The site is the tenant: metadata.tenant_uid (and actor.user.org).
# Exporter settings: none needed. For Splunk HEC, give the exporter its own sourcetype (e.g. ocsf:audit).`,
  ecs: `# Elastic Common Schema (ECS 9): the log body becomes one ECS document.
#
# Fits Elasticsearch (and OpenSearch) through the \`elasticsearch\` exporter with mapping.mode
# bodymap (the body is the document), fed from gateway.yaml's Kafka topic without a sending queue,
# so that nothing is lost however long Elasticsearch is down: examples/siem-formats/ecs-elasticsearch.yaml.
# event.kind/category/type come from ECS's allowed values (docs/siem-mapping.md), event.hash is the
# chain hash, event.original the canonical event (JSON); audit.* holds what ECS has no field for
# (the site's chain: audit.site_seq, audit.site_prev_hash, audit.site_hash; the site: organization.id).`,
  cim: `# Splunk Common Information Model (CIM), Change data model: index-time HEC fields.
#
# Fits the \`splunk_hec\` exporter. The event stays the canonical event (search-time fields with
# KV_MODE = json), with the chain under \`integrity\`; the indexed fields are CIM's (action, object,
# object_category, object_id, object_attrs, user, src_user, src, status, vendor_product, change_type,
# command, dest, dvc) and nothing else: the HEC exporter has no field selection of its own, so this
# fragment keeps only AUDIT_CIM_INDEXED_FIELDS (a comma-separated list of quoted names; default below).
# Events go to the sourcetype SPLUNK_CIM_SOURCETYPE (default otel:audit:cim), checkpoints to
# SPLUNK_CHECKPOINT_SOURCETYPE (default otel:audit:checkpoint): the add-on keys on both.
# Install the add-on in collector-config/splunk-addon/ (props, eventtypes, tags) on the search head.`,
  cef: `# ArcSight Common Event Format (CEF) over syslog: the syslog MSG becomes one CEF line.
#   CEF:0|<vendor>|otel-audit|<version>|<action>|<description>|<severity>|<extensions>
#
# Fits the \`syslog\` exporter (ArcSight, QRadar, any CEF-reading SIEM). Escaping as CEF requires:
# \`\\\` and \`|\` in the header; \`\\\`, \`=\`, CR and LF in extension values. Extensions: rt, act, cat, externalId,
# suid, suser, src, requestClientApplication, dvchost; custom strings with their csNLabel:
#   ${Object.entries(CEF_LABELS)
    .map(([slot, label]) => `${slot}=${label}`)
    .join(', ')};
# ${CEF_EVENT_KEY} (the canonical event, JSON), ${CEF_SIGNATURE_KEY} (checkpoints) and
# ${Object.keys(CEF_SITE_KEYS).join(', ')} (the site's chain), so
# \`otel-audit verify\` checks a CEF copy (--site: a site's). Vendor: AUDIT_CEF_VENDOR (default otel-audit).
# Exporter settings: none beyond the syslog exporter's own; it also sets msg_id, appname, hostname, priority.`,
};

const yamlQuote = (statement: string): string => `'${statement.replaceAll("'", "''")}'`;

/** One fragment: only a top-level `processors:` map, its processor names ending in `/<format>`. */
export function siemFragment(format: SiemFormat, catalog: Catalog): string {
  const mappings = siemMappingOf(catalog);
  const descriptions = Object.fromEntries(Object.entries(catalog.actions).map(([action, definition]) => [action, definition.description]));
  const statements = { ocsf: ocsf(mappings), ecs: ecs(mappings), cim: cim(mappings), cef: cef(mappings, descriptions) }[format];
  const yamlItems = (items: string[]) => items.map((statement) => `          - ${yamlQuote(statement)}`);
  return [
    HEADERS[format],
    '#',
    '# Generated from src/catalog/siem-mapping.ts by `npm run docs`: do not edit by hand.',
    `# Use: otelcol-audit --config gateway.yaml --config formats/${format}.yaml --config <your pipeline>,`,
    `# with processors: [memory_limiter, transform/${format}] in the destination's pipeline.`,
    'processors:',
    `  transform/${format}:`,
    '    # ignore: a statement that fails on an odd record is skipped and the record still goes out.',
    '    error_mode: ignore',
    '    log_statements:',
    '      - context: log',
    '        statements:',
    ...yamlItems(prelude(mappings).concat(statements)),
    ...(format === 'cim'
      ? [
          '      # After every record is mapped (the log statements read service.name and host.name): the',
          "      # resource's attributes are HEC fields too; keep only the HEC metadata and the host.",
          '      - context: resource',
          '        statements:',
          ...yamlItems(['keep_keys(resource.attributes, ["com.splunk.index", "com.splunk.source", "com.splunk.sourcetype", "host.name"])']),
        ]
      : []),
    '',
  ].join('\n');
}

// How each audit action appears in a SIEM's own data model: OCSF 1.6, Elastic ECS, Splunk CIM
// (Change) and CEF. Pure data plus the default derivation from an action's `<object>.<verb>` name.
// scripts/siem-fragments.ts generates collector-config/formats/*.yaml from it and
// docs/siem-mapping.md documents it (`npm run docs`); test/catalog/siem-mapping.test.ts checks both.
import { ATTR } from '../attributes.js';
import type { Catalog } from './define.js';

/** What an action's event says happened: the action, or its refusal. */
export type Outcome = 'success' | 'failure';

/** What a verb does to its object, the one axis every data model agrees on. */
export type VerbKind = 'create' | 'read' | 'update' | 'delete' | 'clear' | 'access' | 'start' | 'stop' | 'restart';

/** The OCSF 1.6 classes audit actions map to, without profiles. */
export const OCSF_CLASSES = {
  6003: { name: 'API Activity', categoryUid: 6, categoryName: 'Application Activity' },
  3001: { name: 'Account Change', categoryUid: 3, categoryName: 'Identity & Access Management' },
  3004: { name: 'Entity Management', categoryUid: 3, categoryName: 'Identity & Access Management' },
} as const;
export type OcsfClassUid = keyof typeof OCSF_CLASSES;

/** The prescribed values of the CIM Change data model's `action` field. */
export const CIM_CHANGE_ACTIONS = ['created', 'deleted', 'acl_modified', 'cleared', 'modified', 'read', 'stopped', 'started', 'restarted'] as const;
export type CimChangeAction = (typeof CIM_CHANGE_ACTIONS)[number];

export interface SiemMapping {
  readonly action: string;
  /** The object type: the part of the action before the first dot (`document`, `user`, ...). */
  readonly object: string;
  readonly verb: string;
  readonly kind: VerbKind;
  readonly ocsf: { readonly classUid: OcsfClassUid; readonly activityId: number; readonly activityName: string };
  readonly ecs: { readonly category: readonly string[]; readonly type: readonly string[] };
  readonly cim: {
    readonly action: CimChangeAction;
    readonly changeType: string;
    readonly objectCategory: string;
    /** CIM `object_attrs`: what changed on the object, where one thing did. */
    readonly objectAttrs?: string;
  };
  /** Where under `details` the object acted on is, when neither `<object>` nor `current.<object>`. */
  readonly objectPath?: readonly string[];
  /** CEF header severity, 0 (lowest) to 10. */
  readonly cefSeverity: number;
  /** Whether the action happened or was refused (a failed login): OCSF `status`, ECS `event.outcome`, CIM `status`. */
  readonly outcome: Outcome;
  /** Why a choice is not the obvious one. */
  readonly reason?: string;
}

/** First match wins; each pattern is RE2-compatible, because the fragments run it in OTTL too. */
export const VERB_RULES: readonly { readonly kind: VerbKind; readonly pattern: string }[] = [
  { kind: 'access', pattern: '(^|_)(access|permissions?|roles?|acl)$|^(grant|revoke|share|unshare)' },
  { kind: 'clear', pattern: '^(clear|flush|purge_queue)' },
  { kind: 'create', pattern: '^(create|add|insert|register|invite|fork|duplicate|copy|import)' },
  { kind: 'delete', pattern: '^(delete|remove|destroy|erase|purge|truncate|move_to_trash|trash)' },
  { kind: 'read', pattern: '^(open|read|view|get|list|search|query|run_sql|export|download|send_to|deliver)' },
  { kind: 'start', pattern: '^(enable|start|resume|activate|unlock)' },
  { kind: 'stop', pattern: '^(disable|stop|suspend|deactivate|lock)' },
  { kind: 'restart', pattern: '^(reload|restart|reboot)' },
];

/** What each kind becomes when nothing more specific is known (API Activity for OCSF, except access rules). */
export const KIND_DEFAULTS: Record<VerbKind, Omit<SiemMapping, 'action' | 'object' | 'verb' | 'kind' | 'reason' | 'cim' | 'outcome'> & { cimAction: CimChangeAction }> = {
  create: { ocsf: { classUid: 6003, activityId: 1, activityName: 'Create' }, ecs: { category: ['api'], type: ['creation'] }, cimAction: 'created', cefSeverity: 3 },
  read: { ocsf: { classUid: 6003, activityId: 2, activityName: 'Read' }, ecs: { category: ['api'], type: ['access'] }, cimAction: 'read', cefSeverity: 2 },
  update: { ocsf: { classUid: 6003, activityId: 3, activityName: 'Update' }, ecs: { category: ['api'], type: ['change'] }, cimAction: 'modified', cefSeverity: 3 },
  delete: { ocsf: { classUid: 6003, activityId: 4, activityName: 'Delete' }, ecs: { category: ['api'], type: ['deletion'] }, cimAction: 'deleted', cefSeverity: 6 },
  clear: { ocsf: { classUid: 6003, activityId: 4, activityName: 'Delete' }, ecs: { category: ['api'], type: ['deletion'] }, cimAction: 'cleared', cefSeverity: 5 },
  access: { ocsf: { classUid: 3004, activityId: 3, activityName: 'Update' }, ecs: { category: ['iam'], type: ['change'] }, cimAction: 'acl_modified', cefSeverity: 7 },
  start: { ocsf: { classUid: 6003, activityId: 3, activityName: 'Update' }, ecs: { category: ['api'], type: ['change'] }, cimAction: 'started', cefSeverity: 4 },
  stop: { ocsf: { classUid: 6003, activityId: 3, activityName: 'Update' }, ecs: { category: ['api'], type: ['change'] }, cimAction: 'stopped', cefSeverity: 6 },
  restart: { ocsf: { classUid: 6003, activityId: 99, activityName: 'Other' }, ecs: { category: ['api'], type: ['change'] }, cimAction: 'restarted', cefSeverity: 3 },
};

/** CIM `change_type`: AAA (authentication, authorization, accounting) for user accounts and access rules. */
export const changeTypeOf = (object: string, kind: VerbKind): string => (object === 'user' || kind === 'access' ? 'AAA' : 'application');

/** The kind of a verb by VERB_RULES; `update` when no rule matches. */
export function verbKind(verb: string): VerbKind {
  return VERB_RULES.find((rule) => new RegExp(rule.pattern).test(verb))?.kind ?? 'update';
}

/**
 * The default mapping of any `<object>.<verb>` action: what a custom catalog gets without a table
 * entry. `kind` overrides what the verb says.
 */
export function deriveSiemMapping(action: string, kind?: VerbKind): SiemMapping {
  const dot = action.indexOf('.');
  const object = dot === -1 ? action : action.slice(0, dot);
  const verb = dot === -1 ? '' : action.slice(dot + 1);
  const resolved = kind ?? verbKind(verb);
  const { cimAction, ...rest } = KIND_DEFAULTS[resolved];
  const cim = { action: cimAction, changeType: changeTypeOf(object, resolved), objectCategory: object, ...(resolved === 'access' ? { objectAttrs: 'access' } : {}) };
  return { action, object, verb, kind: resolved, ...rest, cim, outcome: 'success' };
}

type Override = Partial<Pick<SiemMapping, 'kind' | 'ocsf' | 'ecs' | 'cefSeverity' | 'reason' | 'objectPath' | 'outcome'>> & { readonly cim?: Partial<SiemMapping['cim']> };

const account = (activityId: number, activityName: string, ecsType: string, reason?: string): Override => ({
  ocsf: { classUid: 3001, activityId, activityName },
  ecs: { category: ['iam'], type: ['user', ecsType] },
  ...(reason ? { reason } : {}),
});
const configuration = (type: string): Override => ({ ecs: { category: ['configuration'], type: [type] }, cefSeverity: 6 });

/**
 * The bundled Grist catalog's choices where the derivation alone would not say enough. Every
 * action of the catalog gets a row (see `siemMappingOf`); these are the ones with a reason.
 */
export const GRIST_SIEM_OVERRIDES: Readonly<Record<string, Override>> = {
  'config.create': configuration('creation'),
  'config.delete': configuration('deletion'),
  'config.update': configuration('change'),
  'document.change_access': {
    reason: 'OCSF Entity Management (3004) Update, not User Access Management (3005): one event can grant and revoke several roles and change public access, while 3005 needs one user and one direction (assign or revoke).',
  },
  'document.clear_all_webhook_queues': { reason: 'Discards undelivered webhook events: OCSF Delete, CIM `cleared`.' },
  'document.clear_webhook_queue': { reason: 'Discards undelivered webhook events: OCSF Delete, CIM `cleared`.' },
  'document.deliver_webhook_events': { reason: 'Document data leaves for an external endpoint: a read of the document.' },
  'document.duplicate': { reason: 'Creates a new document from an existing one: the resource is the copy.', objectPath: ['duplicate', 'document'] },
  'document.enable': { reason: 'OCSF API Activity has no Enable activity: Update; CIM `started` (the document is available again).' },
  'document.disable': { reason: 'OCSF API Activity has no Disable activity: Update; CIM `stopped` (the document is unavailable).' },
  'document.fork': { reason: 'Creates a new document (the fork) from an existing one.' },
  'document.move': { reason: 'OCSF API Activity has no Move activity: Update.', cim: { objectAttrs: 'workspace' } },
  'document.move_to_trash': { reason: 'A soft delete: the document is gone for its users, though restorable.', cefSeverity: 5 },
  'document.rename': { cim: { objectAttrs: 'name' } },
  'document.reload': { reason: 'OCSF API Activity has no Reload activity: Other; CIM `restarted`.' },
  'document.restore_from_trash': { reason: 'Undoes a soft delete: OCSF API Activity has no Restore activity, so Update.' },
  'document.run_sql_query': {
    ecs: { category: ['database'], type: ['access'] },
    reason: 'A read-only SQL query against the document: ECS `database` / `access`, OCSF Read.',
  },
  'document.send_to_google_drive': { reason: 'An export: document data leaves for Google Drive, a read of the document.' },
  'document.truncate_history': { reason: 'Deletes older snapshots and actions of the document.' },
  'site.change_access': { reason: 'As document.change_access.' },
  'site.rename': { cim: { objectAttrs: 'name' } },
  'site.create': { cefSeverity: 4 },
  'site.delete': { cefSeverity: 8, reason: 'Deletes a site with all its workspaces and documents: the highest severity of the catalog.' },
  'user.change_name': { ...account(99, 'Other', 'change', 'An account action (OCSF Account Change 3001); it has no activity for a name change, so Other.'), cim: { objectAttrs: 'name' } },
  'user.create_api_key': { ...account(99, 'Other', 'change', 'A new credential of the account: Account Change 3001, Other (OCSF has no API-key activity); CIM `created`.'), cefSeverity: 7 },
  'user.delete': { ...account(6, 'Delete', 'deletion', 'A user account deleted: Account Change 3001, Delete.'), cefSeverity: 8 },
  'user.delete_api_key': { ...account(99, 'Other', 'change', 'A credential of the account removed: Account Change 3001, Other; CIM `deleted`.'), cefSeverity: 5 },
  'workspace.change_access': { reason: 'As document.change_access.' },
  'workspace.rename': { cim: { objectAttrs: 'name' } },
  'workspace.move_to_trash': { reason: 'A soft delete: the workspace is gone for its users, though restorable.', cefSeverity: 5 },
  'workspace.restore_from_trash': { reason: 'Undoes a soft delete: OCSF API Activity has no Restore activity, so Update.' },
};

/**
 * The authentication catalog's choices. OCSF's Authentication class (3002, Logon/Logoff) is not
 * among the classes the fragments build (API Activity, Account Change, Entity Management): logins
 * and logouts are API Activity, Other, with their status; password and MFA changes are the Account
 * Change activities OCSF has for them. CIM's Change data model has no login either: a login starts
 * a session (`started`), a logout stops it; Splunk's Authentication data model would need a
 * fragment of its own. ECS has the `authentication` and `session` categories.
 */
const authentication = (type: 'start' | 'end' | 'info', reason: string): Override => ({
  ocsf: { classUid: 6003, activityId: 99, activityName: 'Other' },
  ecs: { category: ['authentication'], type: [type] },
  reason,
});
export const AUTH_SIEM_OVERRIDES: Readonly<Record<string, Override>> = {
  'user.login': { ...authentication('start', 'OCSF Authentication (3002) Logon is not among the classes the fragments build: API Activity, Other. CIM Change has no login: a session started.'), kind: 'start', cefSeverity: 3 },
  'user.login_failed': {
    ...authentication('start', 'A refused login: outcome failure (OCSF status Failure, ECS event.outcome failure, CIM status failure); otherwise as user.login.'),
    kind: 'start',
    outcome: 'failure',
    cefSeverity: 5,
  },
  'user.logout': { ...authentication('end', 'OCSF Authentication (3002) Logoff is not among the classes the fragments build: API Activity, Other. CIM Change: the session stopped.'), kind: 'stop', cefSeverity: 2 },
  'session.revoke': {
    kind: 'stop',
    ocsf: { classUid: 6003, activityId: 4, activityName: 'Delete' },
    ecs: { category: ['session'], type: ['end'] },
    cefSeverity: 5,
    reason: 'A session ended by someone else: not an access rule (as the verb revoke would derive), the session deleted; ECS session/end, CIM stopped.',
  },
  'user.change_password': { ...account(3, 'Password Change', 'change', 'Account Change 3001 has an activity for it: Password Change.'), cim: { objectAttrs: 'password' }, cefSeverity: 6 },
  'user.enable_mfa': { ...account(10, 'MFA Factor Enable', 'change', 'Account Change 3001, MFA Factor Enable; CIM modified (the account), not started.'), kind: 'update', cim: { objectAttrs: 'mfa' }, cefSeverity: 5 },
  'user.disable_mfa': { ...account(11, 'MFA Factor Disable', 'change', 'Account Change 3001, MFA Factor Disable: an account made weaker, a higher severity than enabling.'), cim: { objectAttrs: 'mfa' }, cefSeverity: 7 },
  'api_token.use': {
    ...authentication('info', 'A request authenticated by a token: API Activity, Read (OCSF Authentication 3002 is not built); CIM read; the token is the object.'),
    kind: 'read',
    ocsf: { classUid: 6003, activityId: 2, activityName: 'Read' },
    objectPath: ['token'],
    cefSeverity: 3,
  },
};

/** The choices for every bundled catalog's actions (no action name is in two catalogs). */
export const BUNDLED_SIEM_OVERRIDES: Readonly<Record<string, Override>> = { ...GRIST_SIEM_OVERRIDES, ...AUTH_SIEM_OVERRIDES };

/** The mapping of one action: the derivation, with a table entry's choices on top. */
export function siemMapping(action: string, overrides: Readonly<Record<string, Override>> = BUNDLED_SIEM_OVERRIDES): SiemMapping {
  const { cim, ...entry } = overrides[action] ?? {};
  const derived = deriveSiemMapping(action, entry.kind);
  return { ...derived, ...entry, cim: { ...derived.cim, ...cim } };
}

/** Every action of a catalog with its mapping, in name order. */
export function siemMappingOf(catalog: Catalog, overrides: Readonly<Record<string, Override>> = BUNDLED_SIEM_OVERRIDES): SiemMapping[] {
  return Object.keys(catalog.actions)
    .sort()
    .map((action) => siemMapping(action, overrides));
}

/**
 * Who acted, in each format: each field and the record attributes it takes, the first present one
 * winning. `user.name` is the login (semantic conventions), present only where the application
 * has one; `user.full_name` the display name. OCSF's and ECS's user objects have a field for
 * each; CIM's `src_user` and CEF's `suser` have one name for the user, so the login comes before
 * the display name there. (CIM's `user` takes the same, except for account changes: the account
 * changed.)
 */
export const ACTOR_FIELDS = {
  ocsf: {
    'actor.user.uid': [ATTR.userId],
    'actor.user.name': [ATTR.userLogin],
    'actor.user.full_name': [ATTR.userFullName],
    'actor.user.email_addr': [ATTR.userEmail],
  },
  ecs: {
    'user.id': [ATTR.userId],
    'user.email': [ATTR.userEmail],
    'user.name': [ATTR.userLogin],
    'user.full_name': [ATTR.userFullName],
  },
  cim: { src_user: [ATTR.userEmail, ATTR.userLogin, ATTR.userFullName, ATTR.userId] },
  cef: { suid: [ATTR.userId], suser: [ATTR.userLogin, ATTR.userFullName], cs5: [ATTR.userEmail] },
} as const satisfies Record<'ocsf' | 'ecs' | 'cim' | 'cef', Record<string, readonly string[]>>;

/** OCSF `type_uid`: class_uid * 100 + activity_id. */
export const ocsfTypeUid = (mapping: SiemMapping): number => mapping.ocsf.classUid * 100 + mapping.ocsf.activityId;

/** docs/siem-mapping.md: the table, one row per action. */
export function siemMappingMarkdown(catalog: Catalog, title: string): string {
  const rows = siemMappingOf(catalog).map((m) => {
    const ocsf = `${m.ocsf.classUid} ${OCSF_CLASSES[m.ocsf.classUid].name} / ${m.ocsf.activityId} ${m.ocsf.activityName}`;
    const ecs = `${m.ecs.category.join(', ')} / ${m.ecs.type.join(', ')}`;
    return `| \`${m.action}\` | ${m.object} | ${m.verb} | ${m.kind} | ${m.outcome} | ${ocsf} | ${ecs} | ${m.cim.action} (${m.cim.changeType}) | ${m.cefSeverity} | ${m.reason ?? ''} |`;
  });
  return [
    `# ${title}`,
    '',
    'Generated from `src/catalog/siem-mapping.ts` by `npm run docs`; the Collector fragments in',
    '`collector-config/formats/` are generated from the same table.',
    '',
    'An action of a custom catalog without a table entry gets the row its verb derives (first match):',
    '',
    '| verb matches | kind |',
    '|---|---|',
    ...VERB_RULES.map((rule) => `| \`${rule.pattern.replaceAll('|', '\\|')}\` | ${rule.kind} |`),
    '| anything else | update |',
    '',
    'Who acted: each field takes the first of its attributes that the record has (`user.name` is the',
    'login, where the application has one; `user.full_name` the display name):',
    '',
    '| format | field | from |',
    '|---|---|---|',
    ...Object.entries(ACTOR_FIELDS).flatMap(([format, fields]) =>
      Object.entries(fields).map(([field, from]) => `| ${format.toUpperCase()} | \`${field}\` | ${(from as readonly string[]).map((a) => `\`${a}\``).join(', else ')} |`),
    ),
    '',
    '| action | object | verb | kind | outcome | OCSF class / activity | ECS category / type | CIM action (change_type) | CEF severity | why |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

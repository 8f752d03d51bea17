// Readers for the SIEM-format copies of the trail (collector-config/formats/): each keeps the
// canonical event and the chain attributes somewhere of its own, and these put them back where
// `verifyTrail` looks: the body and the attributes of a TrailRecord.
import { ATTR } from '../attributes.js';
import type { TrailRecord } from './trail.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** OCSF (formats/ocsf.yaml): the canonical event is `raw_data`, the chain is `unmapped`. */
function fromOcsf(event: Json): Pick<TrailRecord, 'body' | 'attributes'> | undefined {
  if (typeof event['class_uid'] !== 'number' || typeof event['raw_data'] !== 'string') return undefined;
  return { body: JSON.parse(event['raw_data']) as unknown, attributes: isObject(event['unmapped']) ? event['unmapped'] : {} };
}

/** ECS (formats/ecs.yaml): the canonical event is `event.original`, the chain in event.* and audit.*. */
function fromEcs(document: Json): Pick<TrailRecord, 'body' | 'attributes'> | undefined {
  const event = document['event'];
  if (!isObject(event) || typeof event['original'] !== 'string' || typeof document['@timestamp'] !== 'string') return undefined;
  const audit = isObject(document['audit']) ? document['audit'] : {};
  const attributes: Record<string, unknown> = {
    [ATTR.recordUid]: event['id'],
    [ATTR.hash]: event['hash'],
    [ATTR.seq]: event['sequence'],
    [ATTR.streamId]: audit['stream_id'],
    [ATTR.prevHash]: audit['prev_hash'],
    [ATTR.signature]: audit['checkpoint_signature'],
    [ATTR.siteId]: isObject(document['organization']) ? document['organization']['id'] : undefined,
    [ATTR.siteSeq]: audit['site_seq'],
    [ATTR.sitePrevHash]: audit['site_prev_hash'],
    [ATTR.siteHash]: audit['site_hash'],
  };
  for (const [key, value] of Object.entries(attributes)) if (value === undefined) delete attributes[key];
  return { body: JSON.parse(event['original']) as unknown, attributes };
}

/** Splunk CIM (formats/cim.yaml): the canonical event with the chain under `integrity`. */
function fromCim(body: Json): Pick<TrailRecord, 'body' | 'attributes'> | undefined {
  const { integrity, ...event } = body;
  if (!isObject(integrity) || typeof event['action'] !== 'string') return undefined;
  return { body: event, attributes: integrity };
}

const fromSiemBody = (body: unknown) => (isObject(body) ? (fromOcsf(body) ?? fromEcs(body) ?? fromCim(body)) : undefined);

/** A record whose body is an OCSF event, an ECS document or a CIM event, as the canonical record; others unchanged. */
export function fromSiemCopy(record: TrailRecord): TrailRecord {
  const found = fromSiemBody(record.body);
  return found ? { ...record, body: found.body, attributes: { ...record.attributes, ...found.attributes } } : record;
}

/** A JSON line that is itself an OCSF event or an ECS document (a data-lake or Elasticsearch export). */
export function recordOfSiemJson(json: Json, source: string): TrailRecord | undefined {
  const found = fromOcsf(json) ?? fromEcs(json);
  return found ? { ...found, resource: {}, source } : undefined;
}

/** `\|`, `\\`, `\=`, `\n`, `\r` back to what they stand for. */
const unescapeCef = (text: string): string => text.replace(/\\([\\|=nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));

/** The seven header fields and the extension text of a CEF message. */
function cefParts(message: string): { header: string[]; extension: string } | undefined {
  const header: string[] = [];
  let field = '';
  for (let i = 0; i < message.length; i++) {
    const c = message[i]!;
    if (c === '\\' && i + 1 < message.length) field += c + message[++i]!;
    else if (c === '|') {
      header.push(unescapeCef(field));
      field = '';
      if (header.length === 7) return { header, extension: message.slice(i + 1) };
    } else field += c;
  }
  return undefined;
}

/** Extension `key=value` pairs: a key starts after a space at a word followed by an unescaped `=`. */
function cefExtensions(text: string): Map<string, string> {
  const starts = [...text.matchAll(/(?:^| )([A-Za-z][A-Za-z0-9_]*)=/g)];
  const pairs = new Map<string, string>();
  starts.forEach((match, i) => {
    const from = match.index + match[0].length;
    const to = i + 1 < starts.length ? starts[i + 1]!.index : text.length;
    pairs.set(match[1]!, unescapeCef(text.slice(from, to)));
  });
  return pairs;
}

/** Chain attributes by the CEF label formats/cef.yaml gives their custom-field slot. */
const CEF_LABELLED: Record<string, string> = { auditHash: ATTR.hash, auditPrevHash: ATTR.prevHash, auditStreamId: ATTR.streamId, auditSeq: ATTR.seq, auditSiteSeq: ATTR.siteSeq };

/** The site's id and chain in a CEF line (formats/cef.yaml): vendor keys, CEF having no custom-string slot left (its seq is `cn2`). */
export const CEF_SITE_KEYS = { OtelAuditSiteId: ATTR.siteId, OtelAuditSitePrevHash: ATTR.sitePrevHash, OtelAuditSiteHash: ATTR.siteHash } as const;

/**
 * The MSG of a syslog line carrying CEF from formats/cef.yaml: the canonical event is the
 * `OtelAuditEvent` extension, the chain is in the labelled custom fields, the event id in `externalId`.
 */
export function recordOfCefMessage(message: string, source: string): TrailRecord | undefined {
  if (!message.startsWith('CEF:')) return undefined;
  const parts = cefParts(message);
  if (!parts) return undefined;
  const extensions = cefExtensions(parts.extension);
  const event = extensions.get('OtelAuditEvent');
  if (event === undefined) return undefined;
  const attributes: Record<string, unknown> = {};
  const externalId = extensions.get('externalId');
  if (externalId !== undefined) attributes[ATTR.recordUid] = externalId;
  const signature = extensions.get('OtelAuditSignature');
  if (signature !== undefined) attributes[ATTR.signature] = signature;
  for (const [key, name] of Object.entries(CEF_SITE_KEYS)) {
    const value = extensions.get(key);
    if (value !== undefined) attributes[name] = value;
  }
  for (const [key, label] of extensions) {
    const slot = /^(c[sn]\d)Label$/.exec(key)?.[1];
    const name = CEF_LABELLED[label];
    if (slot && name && extensions.has(slot)) attributes[name] = extensions.get(slot);
  }
  return { body: JSON.parse(event) as unknown, attributes, resource: {}, source };
}

// Where a stream stood when its process stopped, read back from the spool: the chain owns its
// head, the spool keeps opaque bytes. A segment starts with a HEAD frame (the chain's
// `persistentHead()` when the segment opened: the stream's head and every site's); the records
// after it advance the stream's head by their frame header, and a site's head by the site link
// they carry among their attributes, read here.
import { ATTR } from '../attributes.js';
import { LENGTH_DELIMITED, ProtoReader, VARINT } from '../record/protobuf.js';
import { headWithSites, siteHeadsOf, type ChainHead, type SiteHead } from './chain.js';

/** OTLP `LogRecord.attributes` and the fields of a `KeyValue` and an `AnyValue`. */
const ATTRIBUTES_FIELD = 6;
const KEY_FIELD = 1;
const VALUE_FIELD = 2;
const STRING_VALUE = 1;
const INT_VALUE = 3;
const HEX_HASH = /^[0-9a-f]{64}$/;

const SITE_KEYS = [
  ['site', Buffer.from(ATTR.siteId)],
  ['seq', Buffer.from(ATTR.siteSeq)],
  ['hash', Buffer.from(ATTR.siteHash)],
] as const;
type SiteKey = (typeof SITE_KEYS)[number][0];

/** The value of an `AnyValue`, when it is a string or an int (what the site link's attributes are). */
function scalarOf(value: ProtoReader): string | number | undefined {
  let scalar: string | number | undefined;
  while (!value.done) {
    const { field, wireType } = value.key();
    if (field === STRING_VALUE && wireType === LENGTH_DELIMITED) scalar = value.string();
    else if (field === INT_VALUE && wireType === VARINT) scalar = value.int64();
    else value.skip(wireType);
  }
  return scalar;
}

/**
 * The site link an encoded OTLP `LogRecord` carries (`audit.site.id`, `audit.site.seq`,
 * `audit.site.hash`), or undefined: none, malformed, or bytes that are no log record. Walks the
 * record's top-level fields and the attributes' keys only, comparing key bytes: the body and every
 * other value are skipped by their length, so a long backlog is read back quickly at start.
 * Bounds-checked by `ProtoReader`; never throws.
 */
export function siteLinkOf(bytes: Uint8Array): { site: string; seq: number; hash: string } | undefined {
  const found: Partial<Record<SiteKey, string | number>> = {};
  try {
    const record = new ProtoReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    while (!record.done) {
      const { field, wireType } = record.key();
      if (field !== ATTRIBUTES_FIELD || wireType !== LENGTH_DELIMITED) {
        record.skip(wireType);
        continue;
      }
      const keyValue = record.sub();
      let name: SiteKey | undefined;
      let value: string | number | undefined;
      while (!keyValue.done) {
        const member = keyValue.key();
        if (member.field === KEY_FIELD && member.wireType === LENGTH_DELIMITED) {
          const length = keyValue.length();
          const start = keyValue.pos;
          keyValue.pos += length;
          name = SITE_KEYS.find(([, key]) => key.length === length && key.equals(keyValue.buf.subarray(start, start + length)))?.[0];
        } else if (member.field === VALUE_FIELD && member.wireType === LENGTH_DELIMITED) value = scalarOf(keyValue.sub());
        else keyValue.skip(member.wireType);
      }
      if (name !== undefined && value !== undefined) found[name] = value;
    }
  } catch {
    return undefined;
  }
  const { site, seq, hash } = found;
  if (typeof site !== 'string' || site === '' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof hash !== 'string' || !HEX_HASH.test(hash)) return undefined;
  return { site, seq, hash };
}

/**
 * The head one spool segment states: its HEAD frames and its records, fed in the order they are
 * read. The stream's head is the greatest seq of any HEAD or record (records written back from
 * memory after a rotation may follow a HEAD that is ahead of them: they are in it); the sites'
 * heads are those of the HEAD frame it comes from, advanced by the site links of the records
 * after it. Records before the first HEAD frame (it was damaged) name no stream and count for nothing.
 */
export class SegmentHead {
  #streamId: string | undefined;
  #head: ChainHead | undefined;
  /** The HEAD frame the head builds on, whose sites the records after it advance. */
  #base: ChainHead | undefined;
  readonly #siteLinks = new Map<string, SiteHead>();

  headFrame(head: ChainHead): void {
    this.#streamId = head.streamId;
    if (this.#head && head.seq <= this.#head.seq) return;
    this.#head = { streamId: head.streamId, seq: head.seq, hash: head.hash };
    this.#base = head;
    this.#siteLinks.clear();
  }

  record(seq: number, hash: string, bytes: Uint8Array): void {
    const streamId = this.#streamId;
    if (seq === 0 || streamId === undefined || (this.#head && seq <= this.#head.seq)) return;
    this.#head = { streamId, seq, hash };
    const link = siteLinkOf(bytes);
    if (link) this.#siteLinks.set(link.site, { seq: link.seq, hash: link.hash });
  }

  /** The head the segment states, sites included; undefined when it names no stream. */
  get head(): ChainHead | undefined {
    const head = this.#head;
    if (!head) return undefined;
    const sites = siteHeadsOf(this.#base);
    for (const [site, link] of this.#siteLinks) sites.set(site, link);
    return headWithSites(head, sites);
  }
}

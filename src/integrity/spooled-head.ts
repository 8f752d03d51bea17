// The chain's part of the spool: the chain owns its head, the spool keeps it as bytes it does not
// read (delivery/spool/format.ts) and hands them back when a slot opens. What those bytes are is
// defined here: a segment's HEAD frame keeps the chain's `persistentHead()` as JSON (the stream's
// head and every site's), and each record's header its link (seq and hash). Read back, the records
// after a HEAD advance the stream's head by their header, and a site's head by the site link they
// carry among their attributes, read here.
import { ATTR } from '../attributes.js';
import { LENGTH_DELIMITED, ProtoReader, VARINT } from '../record/protobuf.js';
import { GENESIS_HASH, headWithSites, siteHeadsOf, type ChainHead, type HashChain, type SiteHead } from './chain.js';

/** A record's header in the spool: seq u48le | hash (32 bytes); zeros for a record outside the chain (a checkpoint). */
export const LINK_HEADER_BYTES = 38;
const SEQ_BYTES = 6;
const OUTSIDE_THE_CHAIN = new Uint8Array(LINK_HEADER_BYTES);

/** The header the spool keeps before a record: its link in the stream's chain, or zeros outside it. */
export function linkHeader(link: { readonly seq: number; readonly hash: string } | undefined): Uint8Array {
  if (!link) return OUTSIDE_THE_CHAIN;
  const header = Buffer.allocUnsafe(LINK_HEADER_BYTES);
  header.writeUIntLE(link.seq, 0, SEQ_BYTES);
  header.write(link.hash, SEQ_BYTES, LINK_HEADER_BYTES - SEQ_BYTES, 'hex');
  return header;
}

/** The link a header states: seq 0 and no hash outside the chain (or for a header of another size). */
export function linkOfHeader(header: Uint8Array): { seq: number; hash: string } {
  if (header.length !== LINK_HEADER_BYTES) return { seq: 0, hash: '' };
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  const seq = bytes.readUIntLE(0, SEQ_BYTES);
  return { seq, hash: seq === 0 ? '' : bytes.toString('hex', SEQ_BYTES) };
}

/** A HEAD frame's payload: the head as JSON. */
export function headPayload(head: ChainHead): Uint8Array {
  return Buffer.from(JSON.stringify(head));
}

/** The head a HEAD frame's payload states, or undefined when it is not one (another writer's bytes, a hand-made frame). */
export function headOfPayload(payload: Uint8Array): ChainHead | undefined {
  try {
    const head = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')) as Partial<ChainHead> | null;
    return typeof head?.streamId === 'string' && Number.isSafeInteger(head.seq) && typeof head.hash === 'string' ? (head as ChainHead) : undefined;
  } catch {
    return undefined;
  }
}

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

/**
 * The head of one spool slot, kept by the spool for the chain (the spool's `HeadKeeper`): at open,
 * each segment's head is read back (`SegmentHead`) and the greatest of the slot's stream is the one
 * the stream continues from; from then on each new segment's HEAD states the chain's head, once the
 * chain that continues the stream is given (`follow`), and the head read back until then.
 */
export class SpooledHead {
  readonly #streamId: string | undefined;
  #segment: SegmentHead | undefined;
  #found: ChainHead | undefined;
  #chain: Pick<HashChain, 'persistentHead'> | undefined;

  /** `streamId`: the slot's stream, whose heads alone count; none (offline inspection): any stream's. */
  constructor(streamId?: string) {
    this.#streamId = streamId;
  }

  segment(): void {
    this.#settle();
    this.#segment = new SegmentHead();
  }

  head(payload: Uint8Array): void {
    const head = headOfPayload(payload);
    if (head) this.#segment?.headFrame(head);
  }

  record(header: Uint8Array, bytes: Uint8Array): void {
    const { seq, hash } = linkOfHeader(header);
    this.#segment?.record(seq, hash, bytes);
  }

  /** The greatest head read back (of the slot's stream), sites included; undefined when none was. */
  get found(): ChainHead | undefined {
    this.#settle();
    return this.#found;
  }

  /** Where the stream continues: the head read back, else the stream's start. */
  get recovered(): ChainHead {
    return this.found ?? { streamId: this.#streamId ?? '', seq: 0, hash: GENESIS_HASH };
  }

  /** From now on, new segments state this chain's head. */
  follow(chain: Pick<HashChain, 'persistentHead'>): void {
    this.#chain = chain;
  }

  current(): Uint8Array {
    return headPayload(this.#chain?.persistentHead() ?? this.recovered);
  }

  #settle(): void {
    const head = this.#segment?.head;
    this.#segment = undefined;
    if (!head || (this.#streamId !== undefined && head.streamId !== this.#streamId)) return;
    if (!this.#found || head.seq >= this.#found.seq) this.#found = head;
  }
}

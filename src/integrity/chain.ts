import { createHmac, hash } from 'node:crypto';

/** The `prev_hash` of a stream's first event, and of the first event of a site's chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Where a site's chain within a stream stands: the last site sequence number written, and that record's hash. */
export interface SiteHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Where a stream stands: its id, the last sequence number written, and that record's hash; and,
 * in the head the spool keeps (`HashChain.persistentHead`), each site chain's head as
 * `[site, seq, hash]` (a list, so that no site id can be an object key such as `__proto__`).
 */
export interface ChainHead {
  readonly streamId: string;
  readonly seq: number;
  readonly hash: string;
  readonly sites?: readonly (readonly [string, number, string])[];
}

/** The site part of an event's integrity attributes: its link in the chain of its site within the stream. */
export interface SiteLink {
  readonly site: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** The integrity attributes of one event. */
export interface ChainLink {
  readonly streamId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** Only for an event of a site-scoped action with a site. */
  readonly site?: SiteLink;
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/**
 * `hash = SHA-256(prev_hash + canonical JSON of the event)`, or HMAC-SHA-256 keyed with a secret,
 * hex encoded. Shared by the logger (which extends the chain) and `verify` (which recomputes it).
 */
export function linkHash(prevHash: string, canonicalEvent: string, hmacKey?: Buffer): string {
  if (hmacKey) return createHmac('sha256', hmacKey).update(prevHash).update(canonicalEvent).digest('hex');
  // One-shot hash: a third faster than createHash() for the sizes of audit events.
  return hash('sha256', prevHash + canonicalEvent, 'hex');
}

/** Whether `value` is a site head of a head payload: a site id, a seq from 1 and a hex hash. */
function isSiteEntry(value: unknown): value is [string, number, string] {
  if (!Array.isArray(value) || value.length !== 3) return false;
  const [site, seq, hash] = value as unknown[];
  return typeof site === 'string' && site !== '' && Number.isSafeInteger(seq) && (seq as number) >= 1 && typeof hash === 'string' && HEX_HASH.test(hash);
}

/**
 * The site heads of a head payload (the spool's HEAD frame, read back from disk): each well-formed
 * `[site, seq, hash]` entry, the one with the highest seq where a site appears twice. Anything else
 * is left out: a payload from before site chains has none.
 */
export function siteHeadsOf(head: Pick<ChainHead, 'sites'> | undefined): Map<string, SiteHead> {
  const sites = new Map<string, SiteHead>();
  const entries: unknown = head?.sites;
  if (!Array.isArray(entries)) return sites;
  for (const entry of entries) {
    if (!isSiteEntry(entry)) continue;
    const [site, seq, hash] = entry;
    if ((sites.get(site)?.seq ?? 0) < seq) sites.set(site, { seq, hash });
  }
  return sites;
}

/** A stream's head with its sites' heads (as `ChainHead.sites`), as the spool keeps it. */
export function headWithSites(head: ChainHead, sites: ReadonlyMap<string, SiteHead>): ChainHead {
  const stream = { streamId: head.streamId, seq: head.seq, hash: head.hash };
  if (sites.size === 0) return stream;
  return { ...stream, sites: Array.from(sites, ([site, { seq, hash }]) => [site, seq, hash] as const) };
}

/**
 * A stream's hash chain, and within it one chain per site: extended in emit order. Not
 * thread-safe by design: one per logger. It owns its head; the spool keeps `persistentHead()` in
 * its HEAD frames and gives it back (with the site links of the records after it) at the next start.
 */
export class HashChain {
  #head: ChainHead;
  readonly #sites: Map<string, SiteHead>;
  readonly #hmacKey: Buffer | undefined;

  constructor(head: ChainHead, hmacKey?: Buffer) {
    this.#head = { streamId: head.streamId, seq: head.seq, hash: head.hash };
    this.#sites = siteHeadsOf(head);
    this.#hmacKey = hmacKey;
  }

  /** The stream's head (without the sites'). */
  get head(): ChainHead {
    return this.#head;
  }

  /** Each site's head, by site id. */
  get sites(): ReadonlyMap<string, SiteHead> {
    return this.#sites;
  }

  /** The stream's head with every site's: what the spool keeps. Its size grows with the sites that ever had a chain in the stream. */
  persistentHead(): ChainHead {
    return headWithSites(this.#head, this.#sites);
  }

  /** Links an event: into the stream, and into its site's chain when `site` is given (a site-scoped action with a site). */
  next(canonicalEvent: string, site?: string): ChainLink {
    const prevHash = this.#head.hash;
    const hash = linkHash(prevHash, canonicalEvent, this.#hmacKey);
    const seq = this.#head.seq + 1;
    const streamId = this.#head.streamId;
    this.#head = { streamId, seq, hash };
    if (site === undefined) return { streamId, seq, prevHash, hash };
    const before = this.#sites.get(site);
    const sitePrevHash = before?.hash ?? GENESIS_HASH;
    const siteHead = { seq: (before?.seq ?? 0) + 1, hash: linkHash(sitePrevHash, canonicalEvent, this.#hmacKey) };
    this.#sites.set(site, siteHead);
    return { streamId, seq, prevHash, hash, site: { site, seq: siteHead.seq, prevHash: sitePrevHash, hash: siteHead.hash } };
  }
}

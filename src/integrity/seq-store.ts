// What verify keeps per sequence number of a stream, in memory bounded by the records read, whatever
// the sequence numbers claim.

/** Sequence numbers per page. */
const PAGE = 4096;
/**
 * A page keeps its records in a map until this many of its sequence numbers are present, then in
 * typed arrays for all of them (45 bytes per seq): a dense page costs no more per record than the
 * map did, and a copy whose seqs are spread one per page (hostile, or a few records of each of
 * many pages) costs about 200 bytes per record instead of a page each.
 */
const DENSE_AT = 1024;
const HASH_BYTES = 32;

/** A parent index that names no record: not found (yet) among the records of the previous seq. */
export const NO_PARENT = 0xff;
/** The parent of a record whose content does not match its hash: its link is not checked (it is already a finding). */
export const UNCHECKED_PARENT = 0xfe;

/** What is kept of the first record read under a seq: see `SeqStore`. */
interface Entry {
  hash: Buffer;
  copies: number;
  parent: number;
  time: number;
}

class DensePage {
  readonly hashes = Buffer.alloc(PAGE * HASH_BYTES);
  readonly copies = new Uint32Array(PAGE);
  readonly parents = new Uint8Array(PAGE);
  readonly times = new Float64Array(PAGE);
}

type Page = DensePage | Map<number, Entry>;

/**
 * Per sequence number, the first record read under it: its hash (32 bytes), how many identical
 * copies were read, the index of its parent among the records of the previous seq (0: the first
 * record read there; see `NO_PARENT`), and its event time. Other records under the same seq (a
 * fork, or tampering) are kept by the verifier beside it. 1,000,000 events take about 45 MB.
 */
export class SeqStore {
  readonly #pages = new Map<number, Page>();
  readonly #scratch = Buffer.alloc(HASH_BYTES);
  size = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  #locate(seq: number): { page: Page; offset: number } | undefined {
    const index = Math.floor(seq / PAGE);
    const page = this.#pages.get(index);
    return page && { page, offset: seq - index * PAGE };
  }

  #entry(seq: number): Entry | undefined {
    const at = this.#locate(seq);
    if (!at) return undefined;
    const { page, offset } = at;
    if (page instanceof Map) return page.get(offset);
    if (page.copies[offset] === 0) return undefined;
    // A view, not a copy: callers only read it or write through it below.
    return { hash: page.hashes.subarray(offset * HASH_BYTES, (offset + 1) * HASH_BYTES), copies: page.copies[offset]!, parent: page.parents[offset]!, time: page.times[offset]! };
  }

  has(seq: number): boolean {
    const at = this.#locate(seq);
    if (!at) return false;
    return at.page instanceof Map ? at.page.has(at.offset) : at.page.copies[at.offset]! > 0;
  }

  /** Whether the hash of the record kept under `seq` is `hash` (hex); compared as bytes, no string made. False when there is none. */
  hashIs(seq: number, hash: string): boolean {
    const at = this.#locate(seq);
    if (!at || hash.length !== 64 || this.#scratch.write(hash, 'hex') !== HASH_BYTES) return false;
    const { page, offset } = at;
    if (page instanceof Map) return page.get(offset)?.hash.equals(this.#scratch) ?? false;
    return page.copies[offset]! > 0 && page.hashes.compare(this.#scratch, 0, HASH_BYTES, offset * HASH_BYTES, (offset + 1) * HASH_BYTES) === 0;
  }

  hashOf(seq: number): string | undefined {
    return this.#entry(seq)?.hash.toString('hex');
  }

  parentOf(seq: number): number {
    return this.#entry(seq)?.parent ?? NO_PARENT;
  }

  timeOf(seq: number): number {
    return this.#entry(seq)?.time ?? Number.NaN;
  }

  /** Keeps the first record read under `seq` (which must have none yet). */
  add(seq: number, hash: string, parent: number, time: number): void {
    const index = Math.floor(seq / PAGE);
    let page = this.#pages.get(index);
    if (!page) {
      page = new Map();
      this.#pages.set(index, page);
    }
    const offset = seq - index * PAGE;
    if (page instanceof Map) {
      const bytes = Buffer.alloc(HASH_BYTES);
      bytes.write(hash, 'hex');
      page.set(offset, { hash: bytes, copies: 1, parent, time });
      if (page.size >= DENSE_AT) this.#pages.set(index, toDense(page));
    } else {
      page.hashes.write(hash, offset * HASH_BYTES, HASH_BYTES, 'hex');
      page.copies[offset] = 1;
      page.parents[offset] = parent;
      page.times[offset] = time;
    }
    this.size++;
    this.min = Math.min(this.min, seq);
    this.max = Math.max(this.max, seq);
  }

  /** One more identical copy of the record kept under `seq`. */
  addCopy(seq: number): void {
    const { page, offset } = this.#locate(seq)!;
    if (page instanceof Map) page.get(offset)!.copies++;
    else page.copies[offset]!++;
  }

  setParent(seq: number, parent: number): void {
    const { page, offset } = this.#locate(seq)!;
    if (page instanceof Map) page.get(offset)!.parent = parent;
    else page.parents[offset] = parent;
  }

  /** The seqs present in [from, to], in order (work in pages and records, not in the span). */
  *#present(from: number, to: number): Generator<number> {
    const indexes = [...this.#pages.keys()].filter((index) => (index + 1) * PAGE > from && index * PAGE <= to).sort((a, b) => a - b);
    for (const index of indexes) {
      const page = this.#pages.get(index)!;
      const base = index * PAGE;
      if (page instanceof Map) {
        for (const offset of [...page.keys()].sort((a, b) => a - b)) if (base + offset >= from && base + offset <= to) yield base + offset;
      } else {
        const first = Math.max(from, base) - base;
        const last = Math.min(to, base + PAGE - 1) - base;
        for (let offset = first; offset <= last; offset++) if (page.copies[offset]! > 0) yield base + offset;
      }
    }
  }

  /** Sequence numbers in [from, to] with no record, as inclusive ranges in order. */
  *missing(from: number, to: number): Generator<{ from: number; to: number }> {
    let expected = from;
    for (const seq of this.#present(from, to)) {
      if (seq > expected) yield { from: expected, to: seq - 1 };
      expected = seq + 1;
    }
    if (expected <= to) yield { from: expected, to };
  }

  /** Sequence numbers whose kept record was read more than once, in order, with their copies. */
  *duplicated(): Generator<{ seq: number; copies: number }> {
    for (const index of [...this.#pages.keys()].sort((a, b) => a - b)) {
      const page = this.#pages.get(index)!;
      const base = index * PAGE;
      if (page instanceof Map) {
        for (const offset of [...page.keys()].sort((a, b) => a - b)) if (page.get(offset)!.copies > 1) yield { seq: base + offset, copies: page.get(offset)!.copies };
      } else {
        for (let offset = 0; offset < PAGE; offset++) if (page.copies[offset]! > 1) yield { seq: base + offset, copies: page.copies[offset]! };
      }
    }
  }
}

function toDense(sparse: Map<number, Entry>): DensePage {
  const page = new DensePage();
  for (const [offset, entry] of sparse) {
    entry.hash.copy(page.hashes, offset * HASH_BYTES);
    page.copies[offset] = entry.copies;
    page.parents[offset] = entry.parent;
    page.times[offset] = entry.time;
  }
  return page;
}

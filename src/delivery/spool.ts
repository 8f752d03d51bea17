import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import type { ChainHead } from '../integrity/chain.js';
import { GENESIS_HASH } from '../integrity/chain.js';
import type { QueuedRecord } from './memory-queue.js';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);

/** A place in the spool: a segment number and a byte offset in it. */
interface Position {
  seg: number;
  offset: number;
}

/** A batch read from the spool, and where the spool stands once it is acknowledged. */
export interface SpoolBatch {
  readonly records: QueuedRecord[];
  readonly end: Position;
}

export interface SpoolOptions {
  /** Start a new segment past this size. */
  readonly maxSegmentBytes: number;
  /** Damaged records found (torn write at a tail, bad checksum): skipped, reported here. */
  readonly onCorrupt: (count: number, where: string) => void;
  /** A group could not be written durably; its records are handed back to the caller. */
  readonly onWriteFailure: (error: Error, records: QueuedRecord[]) => void;
  /** A group was written and fsynced. */
  readonly onCommit: (records: readonly QueuedRecord[], bytes: number) => void;
}

const SEGMENT = /^(\d{12})\.seg$/;
const segmentName = (seg: number): string => `${String(seg).padStart(12, '0')}.seg`;

/** `<crc32 of the JSON, 8 hex digits> <JSON>\n`: a torn or altered record fails its checksum. */
function frame(line: string): string {
  return `${crc32(line).toString(16).padStart(8, '0')} ${line}\n`;
}

/**
 * Splits complete framed lines out of `buf[0, limit)`, at most `maxLines` valid ones. `end` is the
 * offset after the last line consumed (valid or damaged).
 */
function unframe(buf: Buffer, limit: number, maxLines = Infinity): { lines: string[]; corrupt: number; end: number } {
  const lines: string[] = [];
  let corrupt = 0;
  let start = 0;
  while (lines.length < maxLines) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1 || nl >= limit) break;
    const text = buf.toString('utf8', start, nl);
    const json = text.slice(9);
    if (text.length > 9 && text[8] === ' ' && Number.parseInt(text.slice(0, 8), 16) === crc32(json)) lines.push(json);
    else corrupt++;
    start = nl + 1;
  }
  return { lines, corrupt, end: start };
}

/**
 * What one segment holds past `from` (the acknowledged prefix): records still to send, damaged
 * ones (a torn tail counts as one), and the chain head of its last intact record.
 */
function scanSegment(buf: Buffer, from: number): { pending: number; corrupt: number; head: ChainHead | undefined } {
  const unacked = unframe(buf.subarray(from), buf.length - from);
  const torn = from + unacked.end < buf.length ? 1 : 0;
  // The last intact record is in the unacknowledged part, unless that part is empty.
  const last = unacked.lines.at(-1) ?? (from > 0 ? unframe(buf, from).lines.at(-1) : undefined);
  return { pending: unacked.lines.length, corrupt: unacked.corrupt + torn, head: last ? headOf(last) : undefined };
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function headOf(line: string): ChainHead | undefined {
  const attributes = (JSON.parse(line) as { a?: Record<string, unknown> }).a ?? {};
  const streamId = attributes['audit.stream.id'];
  const seq = attributes['audit.seq'];
  const hash = attributes['audit.hash'];
  return typeof streamId === 'string' && typeof seq === 'number' && typeof hash === 'string'
    ? { streamId, seq, hash }
    : undefined;
}

/**
 * The durable on-disk spool: append-only segment files of checksummed records, written in groups
 * (one fdatasync for every record appended since the last commit), read back by the sender, and
 * deleted segment by segment once the collector acknowledged every record in them. What an earlier
 * process left unacknowledged is replayed after a restart.
 */
export class Spool {
  readonly #dir: string;
  readonly #options: SpoolOptions;
  /** Sizes of the segments before the one being written. */
  readonly #closed = new Map<number, number>();
  #writeSeg: number;
  #writeFd: number;
  #committedBytes = 0;
  #pending: QueuedRecord[] = [];
  #committing: Promise<void> | undefined;
  #readPos: Position;
  #ackPos: Position;
  #backlog = 0;
  #ackWrite: Promise<void> = Promise.resolve();
  #broken: Error | undefined;
  /** The chain head of the last record an earlier process spooled, for a gap-free restart. */
  readonly head: ChainHead;
  /** Records left unacknowledged by an earlier process. */
  readonly replayed: number;

  /** Opens (creating) the spool directory. Synchronous: it runs once, at logger creation. */
  constructor(dir: string, options: SpoolOptions) {
    this.#dir = dir;
    this.#options = options;
    fs.mkdirSync(dir, { recursive: true });
    const streamFile = join(dir, 'stream.json');
    let stream = readJson<{ streamId: string }>(streamFile);
    if (!stream) {
      stream = { streamId: randomUUID() };
      fs.writeFileSync(streamFile, JSON.stringify(stream), { flush: true });
    }
    const ack = readJson<Position>(join(dir, 'ack.json')) ?? { seg: 0, offset: 0 };
    const segments = fs
      .readdirSync(dir)
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);

    let replayed = 0;
    let head: ChainHead | undefined;
    for (const seg of segments) {
      const path = join(dir, segmentName(seg));
      if (seg < ack.seg) {
        fs.rmSync(path, { force: true });
        continue;
      }
      const buf = fs.readFileSync(path);
      const scan = scanSegment(buf, seg === ack.seg ? Math.min(ack.offset, buf.length) : 0);
      replayed += scan.pending;
      // Damaged records are reported once, here; the reader skips them silently later.
      if (scan.corrupt > 0) options.onCorrupt(scan.corrupt, path);
      head = scan.head ?? head;
      this.#closed.set(seg, buf.length);
    }
    const first = segments.find((seg) => seg >= ack.seg);
    this.#ackPos = first === undefined ? { seg: 0, offset: 0 } : first === ack.seg ? ack : { seg: first, offset: 0 };
    this.#readPos = { ...this.#ackPos };
    this.#writeSeg = (segments.at(-1) ?? 0) + 1;
    this.#writeFd = fs.openSync(join(dir, segmentName(this.#writeSeg)), 'a');
    if (this.#ackPos.seg === 0) this.#ackPos = this.#readPos = { seg: this.#writeSeg, offset: 0 };
    this.#backlog = replayed;
    this.replayed = replayed;
    const savedHead = readJson<ChainHead>(join(dir, 'head.json'));
    this.head = head ?? (savedHead?.streamId === stream.streamId ? savedHead : undefined) ?? {
      streamId: stream.streamId,
      seq: 0,
      hash: GENESIS_HASH,
    };
  }

  /** Records not yet acknowledged, including those waiting to be written. */
  get backlog(): number {
    return this.#backlog;
  }

  get healthy(): boolean {
    return this.#broken === undefined;
  }

  /** Whether committed records wait to be sent. */
  get hasUnsent(): boolean {
    if (this.#readPos.seg < this.#writeSeg) return true;
    return this.#readPos.offset < this.#committedBytes;
  }

  /** Buffers a record; it is written and fsynced with the rest of its group right after. */
  append(record: QueuedRecord): void {
    this.#pending.push(record);
    this.#backlog++;
    // setImmediate: every append of the current tick (and of ticks during a commit) shares one fsync.
    if (!this.#committing) this.#committing = new Promise((resolve) => setImmediate(resolve)).then(() => this.#commit());
  }

  /** Resolves when every record appended so far is durable (or handed back as unwritable). */
  async committed(): Promise<void> {
    while (this.#committing) await this.#committing;
  }

  async #commit(): Promise<void> {
    while (this.#pending.length > 0) {
      const group = this.#pending;
      this.#pending = [];
      if (this.#broken) {
        this.#backlog -= group.length;
        this.#options.onWriteFailure(this.#broken, group);
        continue;
      }
      const buf = Buffer.from(group.map((record) => frame(record.line)).join(''));
      try {
        if (this.#committedBytes > 0 && this.#committedBytes + buf.length > this.#options.maxSegmentBytes) this.#rotate();
        let written = 0;
        while (written < buf.length) {
          written += (await write(this.#writeFd, buf, written, buf.length - written, this.#committedBytes + written)).bytesWritten;
        }
        await fdatasync(this.#writeFd);
      } catch (error) {
        // Cut a partial write so the segment never holds a record that was also handed back.
        try {
          fs.ftruncateSync(this.#writeFd, this.#committedBytes);
        } catch {
          // The segment may be unreachable altogether; the reader skips a torn tail anyway.
        }
        this.#broken = error as Error;
        this.#backlog -= group.length;
        this.#options.onWriteFailure(this.#broken, group);
        continue;
      }
      this.#committedBytes += buf.length;
      this.#saveHead(group);
      this.#options.onCommit(group, buf.length);
    }
    this.#committing = undefined;
  }

  #rotate(): void {
    fs.closeSync(this.#writeFd);
    this.#closed.set(this.#writeSeg, this.#committedBytes);
    this.#writeSeg++;
    this.#writeFd = fs.openSync(join(this.#dir, segmentName(this.#writeSeg)), 'a');
    this.#committedBytes = 0;
  }

  /** Tries writing again after a failure, in a fresh segment. True when the spool works again. */
  recover(): boolean {
    if (!this.#broken) return true;
    try {
      this.#rotate();
      fs.fdatasyncSync(this.#writeFd);
      this.#broken = undefined;
      return true;
    } catch {
      return false;
    }
  }

  #saveHead(group: readonly QueuedRecord[]): void {
    const last = group.at(-1);
    const head = last && headOf(last.line);
    if (!head) return;
    const path = join(this.#dir, 'head.json');
    // Not fsynced: after a crash the head is recovered from the newest spooled record instead.
    fs.writeFile(`${path}.tmp`, JSON.stringify(head), (error) => {
      if (!error) fs.rename(`${path}.tmp`, path, () => undefined);
    });
  }

  /** Reads the next committed records after the last batch handed out (at most one batch in flight). */
  async next(maxRecords: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    while (this.hasUnsent) {
      const { seg, offset } = this.#readPos;
      const limit = seg === this.#writeSeg ? this.#committedBytes : (this.#closed.get(seg) ?? 0);
      if (offset >= limit) {
        this.#readPos = { seg: this.#nextSegment(seg), offset: 0 };
        continue;
      }
      const path = join(this.#dir, segmentName(seg));
      let size = Math.min(maxBytes, limit - offset);
      let chunk: ReturnType<typeof unframe>;
      for (;;) {
        const buf = Buffer.alloc(size);
        const handle = await fs.promises.open(path, 'r');
        try {
          await handle.read(buf, 0, size, offset);
        } finally {
          await handle.close();
        }
        chunk = unframe(buf, size, maxRecords);
        if (chunk.end > 0 || offset + size >= limit) break;
        size = Math.min(size * 2, limit - offset); // one record larger than maxBytes: read all of it
      }
      // end 0 at the limit: a torn tail of a closed segment (crash mid-write), skipped as a whole.
      this.#readPos = { seg, offset: chunk.end === 0 ? limit : offset + chunk.end };
      if (chunk.lines.length === 0) continue;
      return { records: chunk.lines.map((line) => ({ line, ordinal: 0 })), end: { ...this.#readPos } };
    }
    return undefined;
  }

  #nextSegment(seg: number): number {
    for (const candidate of [...this.#closed.keys()].sort((a, b) => a - b)) if (candidate > seg) return candidate;
    return this.#writeSeg;
  }

  /** The collector acknowledged a batch: drop fully acknowledged segments, remember the place. */
  ack(batch: SpoolBatch): void {
    this.#backlog -= batch.records.length;
    this.#ackPos = batch.end;
    for (const seg of [...this.#closed.keys()]) {
      if (seg < this.#ackPos.seg || (seg === this.#ackPos.seg && this.#ackPos.offset >= (this.#closed.get(seg) ?? 0))) {
        this.#closed.delete(seg);
        fs.rm(join(this.#dir, segmentName(seg)), { force: true }, () => undefined);
      }
    }
    const state = JSON.stringify(this.#ackPos);
    const path = join(this.#dir, 'ack.json');
    // Not fsynced: a lost ack position only means re-sending (duplicates), never losing.
    this.#ackWrite = this.#ackWrite.then(
      () =>
        new Promise<void>((resolve) => {
          fs.writeFile(`${path}.tmp`, state, () => fs.rename(`${path}.tmp`, path, () => resolve()));
        }),
    );
  }

  /** Writes what is buffered, and closes. Unacknowledged records stay for the next process. */
  async close(): Promise<void> {
    await this.committed();
    await this.#ackWrite;
    try {
      fs.closeSync(this.#writeFd);
    } catch {
      // already unusable (see #broken); nothing more to release
    }
  }
}

/** What a spool directory holds, read without changing it (for `otel-audit spool`). */
export interface SpoolInspection {
  readonly streamId: string | undefined;
  readonly head: ChainHead | undefined;
  readonly segments: readonly { name: string; bytes: number }[];
  /** Records not yet acknowledged by the collector. */
  readonly pending: number;
  readonly corrupt: number;
  readonly deadLetters: number;
}

export function inspectSpool(dir: string): SpoolInspection {
  const ack = readJson<Position>(join(dir, 'ack.json')) ?? { seg: 0, offset: 0 };
  let pending = 0;
  let corrupt = 0;
  let head: ChainHead | undefined;
  const segments: { name: string; bytes: number }[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => SEGMENT.test(n)).sort()) {
    const seg = Number(SEGMENT.exec(name)![1]);
    const buf = fs.readFileSync(join(dir, name));
    segments.push({ name, bytes: buf.length });
    if (seg < ack.seg) continue;
    const scan = scanSegment(buf, seg === ack.seg ? Math.min(ack.offset, buf.length) : 0);
    pending += scan.pending;
    corrupt += scan.corrupt;
    head = scan.head ?? head;
  }
  const deadLetterFile = join(dir, 'dead-letters.ndjson');
  const deadLetters = fs.existsSync(deadLetterFile) ? fs.readFileSync(deadLetterFile, 'utf8').split('\n').filter(Boolean).length : 0;
  return {
    streamId: readJson<{ streamId: string }>(join(dir, 'stream.json'))?.streamId,
    head: head ?? readJson<ChainHead>(join(dir, 'head.json')),
    segments,
    pending,
    corrupt,
    deadLetters,
  };
}

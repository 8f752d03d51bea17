// The panel's archive (the system of record that replays read): the Collector's file exporter
// output, length-prefixed zstd frames, rotated into `audit-<time>.zst` backups. Read a record at a
// time (memory does not grow with the archive), yielding to the event loop as it goes, by event time
// (backfill, `otel-audit replay`) or between two positions (the gap of a pause).
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { eventTimeOfRecord, streamTrail, type TrailRecord } from '../integrity/trail.js';

/**
 * Where the archive stood at a moment: its current file, by inode and birth time (rotation renames
 * the file, both stay with it; a removed file's inode is soon another's), and how many bytes that
 * file held. `file: 0`: no archive file existed yet.
 */
export interface ArchivePosition {
  readonly file: number;
  readonly born: number;
  readonly bytes: number;
}

interface FileIdentity {
  readonly file: number;
  readonly born: number;
}

function identity(path: string): FileIdentity & { size: number } {
  const stat = statSync(path);
  return { file: stat.ino, born: stat.birthtimeMs, size: stat.size };
}

const same = (a: FileIdentity, b: FileIdentity) => a.file === b.file && a.born === b.born;

/** The archive's file name before it said what it holds (`audit.jsonl`, zstd frames all the same). */
const LEGACY_NAME = 'audit.jsonl';

/** Work done in one turn of the event loop before other requests get theirs. */
const TURN_MILLIS = 10;
const COPY_CHUNK = 1 << 20;
const ZSTD_MAGIC = 0xfd2fb528;

export class Archive {
  /**
   * @param path the file the Collector writes (AUDIT_ARCHIVE_PATH)
   * @param legacyPath an older name of the same archive (a state directory from before the
   *   rename): its files are read first, as the older part of the archive
   */
  constructor(
    readonly path: string,
    readonly legacyPath?: string,
  ) {}

  /** The archive of a state directory: `archive/audit.zst`, after `archive/audit.jsonl` of older versions; or the file given. */
  static ofStateDirectory(stateDir: string, path?: string): Archive {
    if (path !== undefined) return new Archive(path);
    return new Archive(join(stateDir, 'archive', 'audit.zst'), join(stateDir, 'archive', LEGACY_NAME));
  }

  /** Every file, oldest first: the legacy name's backups and file, then this name's backups and file. */
  files(): string[] {
    return [...(this.legacyPath ? filesOf(this.legacyPath) : []), ...filesOf(this.path)];
  }

  /** Where the archive stands now. */
  position(): ArchivePosition {
    if (!existsSync(this.path)) return { file: 0, born: 0, bytes: 0 };
    const { file, born, size } = identity(this.path);
    return { file, born, bytes: size };
  }

  /**
   * The records written between two positions, in batches. A frame that was being written at
   * either position is included: at worst an event the destination already has comes again, as an
   * identical duplicate; none is missed.
   */
  async *between(from: ArchivePosition, to: ArchivePosition, batchSize: number, scratchDir: string): AsyncGenerator<TrailRecord[]> {
    const files = filesOf(this.path).map((path) => ({ path, ...identity(path) }));
    const first = from.file === 0 ? 0 : files.findIndex((f) => same(f, from));
    const last = files.findIndex((f) => same(f, to));
    if (first === -1) throw new Error(`the archive file written at the start of the window is gone (inode ${from.file}): replay that window by time instead`);
    if (last === -1 && to.file !== 0) throw new Error(`the archive file written at the end of the window is gone (inode ${to.file})`);
    const batcher = new Batcher(batchSize);
    for (let i = first; i <= last; i++) {
      const range = { start: i === first ? from.bytes : 0, end: i === last ? to.bytes : Number.POSITIVE_INFINITY };
      for await (const record of recordsInRange(files[i]!.path, range, scratchDir)) yield* batcher.add(record);
    }
    yield* batcher.end();
  }

  /** The records whose event time is in [since, until], in batches. */
  async *inWindow(since: number, until: number, batchSize: number): AsyncGenerator<TrailRecord[]> {
    const batcher = new Batcher(batchSize);
    // A file last written this long before `since` cannot hold an event of the window (clock skew allowed for).
    const candidates = this.files().filter((file) => file === this.path || statSync(file).mtimeMs >= since - SKEW_MILLIS);
    for (const file of candidates) {
      for await (const record of responsive(streamTrail(file))) {
        const time = eventTimeOfRecord(record);
        if (time >= since && time <= until) yield* batcher.add(record);
      }
    }
    yield* batcher.end();
  }
}

const SKEW_MILLIS = 10 * 60_000;

/** A file and its rotated backups (`<stem>-<time><ext>`), oldest first. */
function filesOf(path: string): string[] {
  const dir = dirname(path);
  if (!existsSync(dir)) return [];
  const ext = extname(path);
  const stem = basename(path, ext);
  const backups = readdirSync(dir)
    .filter((f) => f.startsWith(`${stem}-`) && f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
  return [...backups, ...(existsSync(path) ? [path] : [])];
}

class Batcher {
  private batch: TrailRecord[] = [];
  constructor(private readonly size: number) {}
  *add(record: TrailRecord): Generator<TrailRecord[]> {
    this.batch.push(record);
    if (this.batch.length >= this.size) yield this.take();
  }
  *end(): Generator<TrailRecord[]> {
    if (this.batch.length) yield this.take();
  }
  private take(): TrailRecord[] {
    const batch = this.batch;
    this.batch = [];
    return batch;
  }
}

/** A synchronous reader's records, with a turn of the event loop given up every few milliseconds. */
async function* responsive<T>(items: Iterable<T>): AsyncGenerator<T> {
  let turnStarted = performance.now();
  for (const item of items) {
    yield item;
    if (performance.now() - turnStarted > TURN_MILLIS) {
      await nextTurn();
      turnStarted = performance.now();
    }
  }
}

/**
 * The complete frames of a file of length-prefixed frames (4-byte big-endian length, then the
 * frame) as byte ranges, read from the lengths alone. A frame that runs past the end (still being
 * written, or cut short) ends the walk.
 */
export function* frameRanges(fd: number, size: number): Generator<{ start: number; end: number }> {
  const header = Buffer.alloc(4);
  for (let start = 0; start + 4 <= size; ) {
    if (readSync(fd, header, 0, 4, start) < 4) return;
    const end = start + 4 + header.readUInt32BE(0);
    if (end > size) return;
    yield { start, end };
    start = end;
  }
}

/**
 * The records of the frames of `path` that overlap [start, end): the whole file through the
 * reader, or those frames copied to a scratch file for it (the reader takes a file, not a range).
 */
async function* recordsInRange(path: string, range: { start: number; end: number }, scratchDir: string): AsyncGenerator<TrailRecord> {
  const span = await framesOverlapping(path, range);
  if (!span) return;
  if (span.wholeFile) {
    yield* responsive(streamTrail(path));
    return;
  }
  const scratch = join(scratchDir, `replay-${randomBytes(6).toString('hex')}.zst`);
  try {
    await copyRange(path, span.start, span.end, scratch);
    yield* responsive(streamTrail(scratch));
  } finally {
    rmSync(scratch, { force: true });
  }
}

/** The bytes from the first to the last complete frame that overlaps the range; undefined when none does. */
async function framesOverlapping(path: string, range: { start: number; end: number }): Promise<{ start: number; end: number; wholeFile: boolean } | undefined> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    if (!isFramed(fd)) throw new Error(`${path} is not an archive of zstd frames`);
    let span: { start: number; end: number } | undefined;
    let turnStarted = performance.now();
    for (const frame of frameRanges(fd, size)) {
      if (frame.start >= range.end) break;
      if (frame.end > range.start) span = { start: span?.start ?? frame.start, end: frame.end };
      if (performance.now() - turnStarted > TURN_MILLIS) {
        await nextTurn();
        turnStarted = performance.now();
      }
    }
    return span && { ...span, wholeFile: span.start === 0 && span.end === size };
  } finally {
    closeSync(fd);
  }
}

function isFramed(fd: number): boolean {
  const head = Buffer.alloc(8);
  return readSync(fd, head, 0, 8, 0) === 8 && head.readUInt32LE(4) === ZSTD_MAGIC;
}

async function copyRange(path: string, start: number, end: number, target: string): Promise<void> {
  const input = openSync(path, 'r');
  const output = openSync(target, 'wx', 0o600);
  try {
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    for (let at = start; at < end; ) {
      const read = readSync(input, buffer, 0, Math.min(COPY_CHUNK, end - at), at);
      if (read === 0) break;
      writeSync(output, buffer, 0, read);
      at += read;
      await nextTurn();
    }
  } finally {
    closeSync(output);
    closeSync(input);
  }
}

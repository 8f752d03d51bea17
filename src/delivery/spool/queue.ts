import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fsyncDirectory, PRIVATE_FILE_MODE, type FileSystem } from '../file-system.js';
import { MemoryQueue } from '../memory-queue.js';
import type { Batch, BatchLimits, QueuedRecord, RecordQueue } from '../queue.js';
import {
  ACK_FILE,
  FRAME_HEADER_BYTES,
  frames,
  headFrame,
  KIND_RECORD,
  readJsonFile,
  RECORD_HEADER_BYTES,
  recordFrames,
  scanSegment,
  segmentName,
  segmentsOf,
  SpoolCorruptionError,
  STREAM_FILE,
  type HeadKeeper,
  type Position,
} from './format.js';
import type { SlotLock } from './lock.js';

export interface SpoolOptions {
  readonly fs: FileSystem;
  /** Start a new segment past this size. */
  readonly maxSegmentBytes: number;
  /** Records kept in memory while the disk cannot be written. */
  readonly maxMemoryRecords: number;
  /** How often a broken spool tries writing again. */
  readonly recoveryMillis: number;
  /** Damaged records found at open or while reading: skipped (intact ones are kept), reported here. */
  readonly onCorrupt: (error: SpoolCorruptionError) => void;
  /** The disk could not be written: records go to memory until it works again. */
  readonly onWriteFailure: (error: Error, count: number) => void;
  /** Records neither the disk nor memory could keep: the owner reports and counts them. */
  readonly onOverflow: (records: readonly QueuedRecord[]) => void;
  /** Records written and fdatasynced, in order. */
  readonly onCommit: (records: readonly QueuedRecord[], bytes: number) => void;
  /**
   * The writer's head for the slot of stream `streamId`: told at open what the slot's segments
   * kept, asked for the bytes of each new segment's HEAD (see `HeadKeeper`). A tool that only
   * delivers a backlog gives one that reads back and keeps what it read.
   */
  readonly head: (streamId: string) => HeadKeeper;
}

/**
 * The durable queue of one slot: append-only segments of checksummed records, written in groups
 * (one fdatasync for every record appended since the last commit), read back by the sender, and
 * deleted segment by segment once every record in them is acknowledged. While the disk cannot be
 * written, records wait in a bounded memory tail, in order, and go back to disk when it works again.
 */
export class Spool implements RecordQueue {
  readonly dir: string;
  readonly #fs: FileSystem;
  readonly #options: SpoolOptions;
  readonly #lock: SlotLock;
  /** Closed segments and their sizes, oldest first. */
  readonly #closed = new Map<number, number>();
  #writeSeg = 0;
  #writeFd = -1;
  #writeSize = 0;
  /** Appended, not yet written. */
  #buffer: QueuedRecord[] = [];
  #committing: Promise<void> | undefined;
  #readPos: Position;
  #ackPos: Position;
  #readFd: { seg: number; fd: number } | undefined;
  /*
   * The oldest pending age, in memory that does not grow with an outage: the first emit time of
   * each segment with unread records (O(segments)), of each batch handed out and not acknowledged
   * (O(batches in flight)), and of the first record not handed out when it is known.
   */
  readonly #segmentFirstAt = new Map<number, number>();
  readonly #handedOut: { end: Position; firstAt: number }[] = [];
  /** Emit time of the record at `#readPos`, or (when the read that reached it did not see it) of the last record handed out: never later than it. */
  #nextUnsentAt: number | undefined;
  /** Damaged regions already reported (`seg:offset`): each is reported once, at open or when first read. */
  readonly #damageReported = new Set<string>();
  #diskPending = 0;
  /** Records the disk did not take, in order; all newer than any record on disk until recovery. */
  readonly #tail: MemoryQueue;
  #broken: Error | undefined;
  #recoveryTimer: NodeJS.Timeout | undefined;
  /** The writer's head: told what the segments kept at open, asked for each new segment's HEAD. */
  readonly #head: HeadKeeper;
  #closedForGood = false;
  readonly streamId: string;
  /** Records an earlier process left unacknowledged. */
  readonly replayed: number;

  constructor(dir: string, lock: SlotLock, options: SpoolOptions) {
    this.dir = dir;
    this.#lock = lock;
    this.#fs = options.fs;
    this.#options = options;
    this.#tail = new MemoryQueue(options.maxMemoryRecords);
    const fs = this.#fs;

    const streamFile = join(dir, STREAM_FILE);
    let stream = readJsonFile<{ streamId: string }>(fs, streamFile);
    if (!stream) {
      stream = { streamId: randomUUID() };
      fs.writeFileSync(`${streamFile}.tmp`, JSON.stringify(stream), PRIVATE_FILE_MODE, true);
      fs.renameSync(`${streamFile}.tmp`, streamFile);
      fsyncDirectory(fs, dir);
    }
    this.streamId = stream.streamId;
    this.#head = options.head(stream.streamId);

    const ack = readJsonFile<Position>(fs, join(dir, ACK_FILE)) ?? { seg: 0, offset: 0 };
    const segments = segmentsOf(fs, dir);
    let replayed = 0;
    for (const seg of segments) {
      const path = join(dir, segmentName(seg));
      if (seg < ack.seg) {
        fs.rmSync(path);
        continue;
      }
      const buf = fs.readFileSync(path);
      const from = seg === ack.seg ? Math.min(ack.offset, buf.length) : 0;
      const scan = scanSegment(buf, from, path, this.#head);
      replayed += scan.pending;
      if (scan.firstAt !== undefined) this.#segmentFirstAt.set(seg, scan.firstAt);
      // Damage is reported once, here; the reader skips it silently later.
      for (const damage of scan.damage) {
        this.#damageReported.add(`${seg}:${damage.offset}`);
        options.onCorrupt(damage);
      }
      this.#closed.set(seg, buf.length);
    }
    this.replayed = replayed;
    this.#diskPending = replayed;
    const first = segments.find((seg) => seg >= ack.seg);
    this.#ackPos = first === undefined ? { seg: 0, offset: 0 } : first === ack.seg ? { seg: ack.seg, offset: Math.min(ack.offset, this.#closed.get(first) ?? 0) } : { seg: first, offset: 0 };

    // A new segment whose HEAD states where the stream stands, durable before anything else.
    const { seg, fd, size } = this.#openSegment((segments.at(-1) ?? 0) + 1);
    this.#writeSeg = seg;
    this.#writeFd = fd;
    this.#writeSize = size;
    if (this.#ackPos.seg === 0) this.#ackPos = { seg, offset: size };
    this.#readPos = { ...this.#ackPos };
    this.#nextUnsentAt = this.#segmentFirstAt.get(this.#readPos.seg);
    this.#deleteAcknowledged();
  }

  /** Creates a segment with its HEAD frame (the writer's head now), fdatasynced, and its directory entry fsynced. Throws on failure, leaving nothing open. */
  #openSegment(seg: number): { seg: number; fd: number; size: number } {
    const fs = this.#fs;
    const fd = fs.openSync(join(this.dir, segmentName(seg)), 'w', PRIVATE_FILE_MODE);
    try {
      const header = headFrame(this.#head.current());
      let written = 0;
      while (written < header.length) written += fs.writeSync(fd, header.subarray(written), written);
      fs.fsyncSync(fd);
      fsyncDirectory(fs, this.dir);
      return { seg, fd, size: header.length };
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  get pending(): number {
    return this.#diskPending + this.#buffer.length + this.#tail.pending;
  }

  get healthy(): boolean {
    return this.#broken === undefined;
  }

  get hasUnsent(): boolean {
    return this.#diskUnsent || this.#tail.hasUnsent;
  }

  get #diskUnsent(): boolean {
    if (this.#readPos.seg < this.#writeSeg) return true;
    return this.#readPos.offset < this.#writeSize;
  }

  oldestPendingAt(): number | undefined {
    if (this.#handedOut.length > 0) return this.#handedOut[0]!.firstAt;
    if (this.#diskUnsent) return this.#nextUnsentAt;
    return this.#tail.oldestPendingAt() ?? this.#buffer[0]?.at;
  }

  /** Keeps a record: buffered now, written and fdatasynced with the rest of its group right after. */
  append(record: QueuedRecord): boolean {
    if (this.#closedForGood) return false;
    // While records wait in memory, newer ones queue behind them: order is the order of seq.
    if (this.#broken) return this.#tail.append(record);
    this.#buffer.push(record);
    this.#scheduleCommit();
    return true;
  }

  #scheduleCommit(): void {
    // setImmediate: every append of the current tick (and of ticks during a commit) shares one fdatasync.
    this.#committing ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.#commit());
  }

  /** Resolves when every record appended so far is written (or moved to memory). */
  async committed(): Promise<void> {
    while (this.#committing) await this.#committing;
  }

  async #commit(): Promise<void> {
    while (this.#buffer.length > 0) {
      const group = this.#buffer;
      this.#buffer = [];
      if (this.#broken) {
        this.#toMemory(group, this.#broken);
        continue;
      }
      const data = recordFrames(group);
      try {
        if (this.#writeSize + data.length > this.#options.maxSegmentBytes) this.#rotate();
        await this.#writeDurably(data);
      } catch (error) {
        this.#broken = error as Error;
        this.#toMemory(group, this.#broken);
        this.#scheduleRecovery();
        continue;
      }
      this.#committed(group, data.length);
    }
    this.#committing = undefined;
  }

  async #writeDurably(data: Buffer): Promise<void> {
    try {
      let written = 0;
      while (written < data.length) written += await this.#fs.write(this.#writeFd, data, written, data.length - written, this.#writeSize + written);
      await this.#fs.fdatasync(this.#writeFd);
    } catch (error) {
      // Cut a partial write, so that the segment never holds a record that also waits in memory.
      try {
        this.#fs.ftruncateSync(this.#writeFd, this.#writeSize);
      } catch {
        // The reader stops at a torn tail anyway, and the next write goes to a fresh segment.
      }
      throw error;
    }
  }

  #committed(group: readonly QueuedRecord[], bytes: number): void {
    const at = group[0]!.at;
    if (!this.#segmentFirstAt.has(this.#writeSeg)) this.#segmentFirstAt.set(this.#writeSeg, at);
    if (!this.#diskUnsent) this.#nextUnsentAt = at;
    this.#writeSize += bytes;
    this.#diskPending += group.length;
    this.#options.onCommit(group, bytes);
  }

  #toMemory(group: readonly QueuedRecord[], error: Error): void {
    const overflow = group.filter((record) => !this.#tail.append(record));
    this.#options.onWriteFailure(error, group.length);
    if (overflow.length > 0) this.#options.onOverflow(overflow);
  }

  /**
   * Opens the next segment first and closes the current one after: the fd is replaced only on
   * success. Its HEAD is the writer's head now, which may be ahead of the records that follow it in
   * the segment (records written back from memory): the writer's read-back takes the greatest seq.
   */
  #rotate(): void {
    const next = this.#openSegment(this.#writeSeg + 1);
    const old = this.#writeFd;
    this.#closed.set(this.#writeSeg, this.#writeSize);
    this.#writeSeg = next.seg;
    this.#writeFd = next.fd;
    this.#writeSize = next.size;
    this.#fs.closeSync(old);
  }

  #scheduleRecovery(): void {
    if (this.#recoveryTimer) return;
    this.#recoveryTimer = setInterval(() => void this.#recover(), this.#options.recoveryMillis);
    this.#recoveryTimer.unref();
  }

  /**
   * Writes the records waiting in memory and not handed out to a fresh segment, in order; then
   * newer records go to disk again. Records already handed out stay in memory until acknowledged.
   */
  async #recover(): Promise<void> {
    if (!this.#broken || this.#recovering) return;
    this.#recovering = true;
    try {
      if (await this.#writeToFreshSegment(() => this.#tail.takeUnsent())) {
        this.#broken = undefined;
        clearInterval(this.#recoveryTimer);
        this.#recoveryTimer = undefined;
      }
    } finally {
      this.#recovering = false;
    }
  }

  #recovering = false;

  /**
   * Rotates into a new segment and writes `take()`'s records there durably. On failure they go back
   * in front of what waits in memory (appends went there meanwhile, behind them) and false is returned.
   */
  async #writeToFreshSegment(take: () => QueuedRecord[]): Promise<boolean> {
    const waiting = take();
    try {
      this.#rotate();
      if (waiting.length > 0) {
        const data = recordFrames(waiting);
        await this.#writeDurably(data);
        this.#committed(waiting, data.length);
      }
    } catch {
      // Back in front, in order; what the bound cannot take now (the newest) is reported, never dropped silently.
      const later = this.#tail.takeUnsent();
      const overflow = [...waiting, ...later].filter((record) => !this.#tail.append(record));
      if (overflow.length > 0) this.#options.onOverflow(overflow);
      return false;
    }
    // Appended to memory during the write: to disk next, before anything newer.
    const late = this.#tail.takeUnsent();
    if (late.length > 0) {
      this.#buffer.unshift(...late);
      this.#scheduleCommit();
    }
    return true;
  }

  async next(limits: BatchLimits): Promise<Batch | undefined> {
    while (this.#diskUnsent) {
      const batch = await this.#readBatch(limits);
      if (batch) return batch;
    }
    const batch = this.#tail.take(limits);
    return batch;
  }

  async #readBatch(limits: BatchLimits): Promise<Batch | undefined> {
    const { seg, offset } = this.#readPos;
    const limit = seg === this.#writeSeg ? this.#writeSize : (this.#closed.get(seg) ?? 0);
    if (offset >= limit) {
      const next = this.#nextSegment(seg);
      this.#readPos = { seg: next, offset: 0 };
      this.#nextUnsentAt = this.#segmentFirstAt.get(next) ?? this.#nextUnsentAt;
      return undefined;
    }
    const path = join(this.dir, segmentName(seg));
    let size = Math.min(limits.maxBytes + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, limit - offset);
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const read = await this.#fs.read(this.#readFdFor(seg), buf, 0, size, offset);
      // A short read: the file ends before what was written to it (cut by another hand); the rest is missing.
      const short = read < size;
      const complete = short || offset + read >= limit;
      const records: QueuedRecord[] = [];
      let end = offset;
      let bytes = 0;
      let following: number | undefined;
      const it = frames(buf.subarray(0, read), offset, path, complete);
      let step = it.next();
      for (; !step.done; step = it.next()) {
        const f = step.value;
        if (f.kind === KIND_RECORD) {
          if (records.length >= limits.maxRecords || (records.length > 0 && bytes + f.record.bytes.length > limits.maxBytes)) {
            following = f.record.at;
            break;
          }
          records.push(f.record);
          bytes += f.record.bytes.length;
        } else if (f.kind === 'damage' && !this.#damageReported.has(`${seg}:${f.error.offset}`)) {
          // Damage that appeared after the slot was opened (the disk, another hand): reported once too.
          this.#damageReported.add(`${seg}:${f.error.offset}`);
          this.#options.onCorrupt(f.error);
        }
        end = offset + f.end;
      }
      const more = step.done ? step.value : undefined;
      if (short && step.done) {
        const missing = new SpoolCorruptionError(path, offset + read, limit - offset - read, `the file ends ${limit - offset - read} bytes before what was written`);
        if (!this.#damageReported.has(`${seg}:${missing.offset}`)) {
          this.#damageReported.add(`${seg}:${missing.offset}`);
          this.#options.onCorrupt(missing);
        }
        end = limit;
      }
      if (more && end === offset) {
        // Nothing read before the problem: read that frame whole, or (damage) the rest of the segment, to resynchronise.
        size = more.announcedEnd !== undefined && offset + more.announcedEnd < limit && more.announcedEnd > size ? more.announcedEnd : limit - offset;
        continue;
      }
      this.#readPos = { seg, offset: end };
      if (records.length === 0) return undefined;
      this.#nextUnsentAt = following ?? records.at(-1)!.at;
      const batchEnd = { seg, offset: end };
      this.#handedOut.push({ end: batchEnd, firstAt: records[0]!.at });
      return { records, ack: () => this.#ack(batchEnd, records.length) };
    }
  }

  #readFdFor(seg: number): number {
    if (this.#readFd?.seg === seg) return this.#readFd.fd;
    if (this.#readFd) this.#fs.closeSync(this.#readFd.fd);
    this.#readFd = undefined;
    const fd = this.#fs.openSync(join(this.dir, segmentName(seg)), 'r');
    this.#readFd = { seg, fd };
    return fd;
  }

  #nextSegment(seg: number): number {
    for (const candidate of this.#closed.keys()) if (candidate > seg) return candidate;
    return this.#writeSeg;
  }

  #ack(end: Position, count: number): void {
    // An export that ended after close: the next process re-sends those records (a duplicate, never a loss).
    if (this.#closedForGood) return;
    this.#diskPending -= count;
    this.#ackPos = end;
    this.#handedOut.shift();
    for (const seg of this.#segmentFirstAt.keys()) if (seg < end.seg) this.#segmentFirstAt.delete(seg);
    this.#saveAckPosition();
    this.#deleteAcknowledged();
  }

  #ackWrite: Promise<void> = Promise.resolve();

  #saveAckPosition(): void {
    const state = JSON.stringify(this.#ackPos);
    const path = join(this.dir, ACK_FILE);
    this.#ackWrite = this.#ackWrite.then(() => {
      try {
        this.#fs.writeFileSync(`${path}.tmp`, state, PRIVATE_FILE_MODE, false);
        this.#fs.renameSync(`${path}.tmp`, path);
      } catch {
        // A lost ack position only means re-sending (duplicates), never losing.
      }
    });
  }

  /** Deletes closed segments whose every record is acknowledged (after the position that says so). */
  #deleteAcknowledged(): void {
    for (const [seg, size] of this.#closed) {
      if (seg < this.#ackPos.seg || (seg === this.#ackPos.seg && this.#ackPos.offset >= size)) {
        if (this.#readFd?.seg === seg) {
          this.#fs.closeSync(this.#readFd.fd);
          this.#readFd = undefined;
        }
        this.#closed.delete(seg);
        void this.#ackWrite.then(() => {
          try {
            this.#fs.rmSync(join(this.dir, segmentName(seg)));
          } catch {
            // A read-only or failing disk: the next process that opens the slot deletes it (it is before ack.json).
          }
        });
      }
    }
  }

  /**
   * Writes what is buffered, tries once more to write what waits in memory, closes and releases
   * the slot. Returns the records that could not be kept (the disk still failing): the caller
   * reports them. Unacknowledged records on disk stay for the next process.
   */
  async close(): Promise<QueuedRecord[]> {
    await this.committed();
    clearInterval(this.#recoveryTimer);
    while (this.#recovering) await new Promise((resolve) => setImmediate(resolve));
    this.#closedForGood = true;
    let lost: QueuedRecord[] = [];
    // Everything in memory, handed out or not: the sender has stopped, so nothing of it will be acknowledged now.
    if (this.#tail.pending > 0) {
      const all = this.#tail.drain();
      if (!(await this.#writeToFreshSegment(() => all))) lost = this.#tail.drain();
      await this.committed();
    }
    await this.#ackWrite;
    for (const fd of [this.#writeFd, this.#readFd?.fd]) {
      try {
        if (fd !== undefined && fd >= 0) this.#fs.closeSync(fd);
      } catch {
        // already unusable; nothing more to release
      }
    }
    this.#readFd = undefined;
    this.#writeFd = -1;
    this.#lock.release();
    return lost;
  }
}

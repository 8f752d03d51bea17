import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { ATTR } from '../attributes.js';
import { PRIVATE_FILE_MODE } from './file-system.js';
import type { QueuedRecord } from './queue.js';
import { decodeLogRecord } from '../record/decoder.js';
import { tryLockFile, type SlotLock } from './spool/lock.js';

/**
 * Dead letters: NDJSON, one line per record the collector refused for good (a 400 with an OTLP
 * Status or a 413, once the batch was split down to that record), appended and fsynced before the
 * record leaves the queue.
 *
 *   {"time": ISO 8601, "reason": "dead_letter" | "retry_exhausted", "status": 400, "error": "...",
 *    "id": event id, "action": ..., "stream": ..., "seq": ..., "event": the event (readable),
 *    "record": base64 of the OTLP LogRecord bytes (what `otel-audit spool --redrive` sends again)}
 *
 * Who writes the file takes its lock (`tryLockFile`): a logger for each append, `otel-audit spool
 * --redrive` for the whole time it reads, sends and rewrites it. A logger that finds the lock taken
 * keeps the record queued and tries again later, so no line is appended to a file being rewritten.
 */
export interface DeadLetter {
  readonly time: string;
  readonly reason: string;
  readonly status?: number;
  readonly error: string;
  readonly id?: string;
  readonly action?: string;
  readonly stream?: string;
  readonly seq?: number;
  readonly event: unknown;
  readonly record: string;
}

/** The dead-letter file is held by another writer (a redrive): try again later. */
export class DeadLettersLockedError extends Error {
  override readonly name = 'DeadLettersLockedError';
}

/** A dead letter for `record`: its record is decoded once, for the readable fields. */
export function deadLetterOf(record: QueuedRecord, reason: string, error: string, status: number | undefined, time: Date): DeadLetter {
  let event: unknown = null;
  let attributes: Record<string, unknown> = {};
  try {
    const decoded = decodeLogRecord(record.bytes);
    event = decoded.body;
    attributes = decoded.attributes;
  } catch {
    // A damaged record: kept all the same, by its bytes.
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const seq = attributes[ATTR.seq];
  return {
    time: time.toISOString(),
    reason,
    ...(status !== undefined ? { status } : {}),
    error,
    id: text(attributes[ATTR.recordUid]),
    action: text(attributes[ATTR.action]),
    stream: text(attributes[ATTR.streamId]),
    seq: typeof seq === 'number' ? seq : undefined,
    event,
    record: Buffer.from(record.bytes).toString('base64'),
  };
}

/** Takes the file's lock (its directory must exist), or throws `DeadLettersLockedError`. */
export function lockDeadLetters(file: string): SlotLock {
  const lock = tryLockFile(file);
  if (!lock) throw new DeadLettersLockedError(`${file} is held by another process (otel-audit spool --redrive)`);
  return lock;
}

/** Appends lines durably, under the file's lock: fsynced, and the new file's directory entry too. Mode 0600. */
export async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
  const lock = lockDeadLetters(file);
  try {
    const existed = fs.existsSync(file);
    await fs.promises.appendFile(file, letters.map((letter) => `${JSON.stringify(letter)}\n`).join(''), { mode: PRIVATE_FILE_MODE, flush: true });
    if (!existed) {
      const dir = await fs.promises.open(dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  } finally {
    lock.release();
  }
}

/**
 * How many dead letters a file holds (its non-empty lines, counted in 64 KiB chunks: the letters are
 * not parsed); 0 when it does not exist or cannot be read.
 */
export function countDeadLetters(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return 0;
  }
  try {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let count = 0;
    let lineHasContent = false;
    for (let read = fs.readSync(fd, chunk); read > 0; read = fs.readSync(fd, chunk)) {
      for (let i = 0; i < read; i++) {
        if (chunk[i] !== 0x0a) lineHasContent = true;
        else if (lineHasContent) {
          count++;
          lineHasContent = false;
        }
      }
    }
    return lineHasContent ? count + 1 : count;
  } catch {
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** One readable line of a dead-letter file: the letter, its record's bytes (decoded once, here) and its line number. */
export interface ReadLetter {
  readonly letter: DeadLetter;
  readonly bytes: Buffer;
  readonly line: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A line as a dead letter, or undefined when it is not one (not JSON, no record, fields of the wrong type). */
function letterOf(line: string): { letter: DeadLetter; bytes: Buffer } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const letter = value as Record<string, unknown>;
  if (typeof letter['record'] !== 'string' || letter['record'] === '' || !BASE64.test(letter['record'])) return undefined;
  const optional: [string, string][] = [['id', 'string'], ['stream', 'string'], ['action', 'string'], ['error', 'string'], ['reason', 'string'], ['time', 'string']];
  if (optional.some(([key, type]) => letter[key] !== undefined && typeof letter[key] !== type)) return undefined;
  if (letter['seq'] !== undefined && !(Number.isSafeInteger(letter['seq']) && (letter['seq'] as number) >= 0)) return undefined;
  return { letter: letter as unknown as DeadLetter, bytes: Buffer.from(letter['record'], 'base64') };
}

/**
 * The dead letters of a file, each stream's in the order of its chain; the numbers of the lines
 * that are not dead letters (they stay in the file). The file holds letters in the order the
 * collector's answers came, and with several exports in flight two refused batches may be
 * answered out of order.
 */
export function readDeadLetters(file: string): { letters: ReadLetter[]; damaged: number[]; lines: string[] } {
  const letters: ReadLetter[] = [];
  const damaged: number[] = [];
  if (!fs.existsSync(file)) return { letters, damaged, lines: [] };
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    if (!line) return;
    const read = letterOf(line);
    if (read) letters.push({ ...read, line: index });
    else damaged.push(index + 1);
  });
  return { letters: inChainOrder(letters), damaged, lines };
}

/** Each stream's chained letters sorted by seq, in the places that stream's chained letters hold; the others stay where they are. */
function inChainOrder(letters: readonly ReadLetter[]): ReadLetter[] {
  const places = new Map<string, number[]>();
  letters.forEach(({ letter }, index) => {
    if (letter.stream === undefined || typeof letter.seq !== 'number' || letter.seq <= 0) return;
    const indices = places.get(letter.stream);
    if (indices) indices.push(index);
    else places.set(letter.stream, [index]);
  });
  const ordered = [...letters];
  for (const indices of places.values()) {
    const bySeq = indices.map((index) => letters[index]!).sort((a, b) => a.letter.seq! - b.letter.seq!);
    indices.forEach((index, i) => (ordered[index] = bySeq[i]!));
  }
  return ordered;
}

/** Rewrites the file with `lines` only, in order (atomically: tmp, fsync, rename); removes it when none is left. The caller holds its lock. */
export function rewriteDeadLetters(file: string, lines: readonly string[]): void {
  if (lines.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.writeFileSync(`${file}.tmp`, lines.map((line) => `${line}\n`).join(''), { mode: PRIVATE_FILE_MODE, flush: true });
  fs.renameSync(`${file}.tmp`, file);
}

import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { ATTR } from '../attributes.js';
import { PRIVATE_FILE_MODE } from './file-system.js';
import type { QueuedRecord } from './queue.js';
import { decodeLogRecord } from './record-format.js';

/**
 * Dead letters: NDJSON, one line per record the collector refused for good (HTTP 400/413 once the
 * batch was split down to that record), appended and fsynced before the record leaves the queue.
 *
 *   {"time": ISO 8601, "reason": "dead_letter" | "retry_exhausted", "status": 400, "error": "...",
 *    "id": event id, "action": ..., "stream": ..., "seq": ..., "event": the event (readable),
 *    "record": base64 of the OTLP LogRecord bytes (what `otel-audit spool --redrive` sends again)}
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

export function deadLetterOf(record: QueuedRecord, reason: string, error: string, status: number | undefined, time: Date): DeadLetter {
  const decoded = decodeLogRecord(record.bytes);
  const attributes = decoded.attributes;
  return {
    time: time.toISOString(),
    reason,
    ...(status !== undefined ? { status } : {}),
    error,
    id: attributes[ATTR.recordUid] as string | undefined,
    action: attributes[ATTR.action] as string | undefined,
    stream: attributes[ATTR.streamId] as string | undefined,
    seq: attributes[ATTR.seq] as number | undefined,
    event: decoded.body,
    record: Buffer.from(record.bytes).toString('base64'),
  };
}

/** Appends lines durably: fsynced, and the new file's directory entry too. Mode 0600. */
export async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
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
}

/**
 * The dead letters of a file, each stream's in the order of its chain; lines that do not parse are
 * returned as errors, with their line number. The file holds them in the order the collector's
 * answers came, and with several exports in flight two refused batches may be answered out of order.
 */
export function readDeadLetters(file: string): { letters: DeadLetter[]; damaged: number[] } {
  const letters: DeadLetter[] = [];
  const damaged: number[] = [];
  if (!fs.existsSync(file)) return { letters, damaged };
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line) return;
      try {
        const letter = JSON.parse(line) as DeadLetter;
        if (typeof letter.record !== 'string') throw new Error('no record');
        letters.push(letter);
      } catch {
        damaged.push(index + 1);
      }
    });
  return { letters: inChainOrder(letters), damaged };
}

/** Each stream's chained letters sorted by seq, in the places that stream's chained letters hold; the others stay where they are. */
function inChainOrder(letters: readonly DeadLetter[]): DeadLetter[] {
  const places = new Map<string, number[]>();
  letters.forEach((letter, index) => {
    if (letter.stream === undefined || typeof letter.seq !== 'number' || letter.seq <= 0) return;
    const indices = places.get(letter.stream);
    if (indices) indices.push(index);
    else places.set(letter.stream, [index]);
  });
  const ordered = [...letters];
  for (const indices of places.values()) {
    const bySeq = indices.map((index) => letters[index]!).sort((a, b) => a.seq! - b.seq!);
    indices.forEach((index, i) => (ordered[index] = bySeq[i]!));
  }
  return ordered;
}

/** Rewrites the file with `letters` only (atomically: tmp, fsync, rename); removes it when none is left. */
export function rewriteDeadLetters(file: string, letters: readonly DeadLetter[]): void {
  if (letters.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.writeFileSync(`${file}.tmp`, letters.map((letter) => `${JSON.stringify(letter)}\n`).join(''), { mode: PRIVATE_FILE_MODE, flush: true });
  fs.renameSync(`${file}.tmp`, file);
}

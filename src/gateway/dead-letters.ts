// The gateway's dead letters: what each destination refused for good, kept by the lossless exporter
// (collector/losslessexporter/deadletter.go), and the re-drive that hands them back to it. Read by
// `otel-audit dead-letters` and the Admin Panel.
import { createReadStream, existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One destination's file: `<exporter id with / as __>.ndjson`. */
const LETTERS = /^(.+)\.ndjson$/;
const REDRIVE = /^(.+)\.redrive-[^.]+\.ndjson$/;
const UNREADABLE = /\.unreadable\.ndjson$/;

export interface DestinationLetters {
  /** The lossless exporter, as in the Collector config (`lossless/splunk`). */
  readonly destination: string;
  readonly file: string;
  readonly records: number;
  readonly oldest: string | undefined;
  /** How many records per reason (status and the destination's message). */
  readonly reasons: Readonly<Record<string, number>>;
  /** Lines that are not letters (kept, never re-driven). */
  readonly unreadable: number;
  /** Re-drive requests the gateway has not taken yet. */
  readonly pendingRedrives: number;
}

interface Letter {
  readonly time?: string;
  readonly status?: number;
  readonly message?: string;
}

/**
 * Reads every destination's dead letters in `dir` (dead_letter::directory of the gateway's config).
 * `onRead`: how many bytes of how many in all are read so far, as it goes (for a long read's progress).
 */
export async function inspectDeadLetters(dir: string, onRead?: (bytesRead: number, bytesTotal: number) => void): Promise<DestinationLetters[]> {
  const names = readdirSync(dir);
  const letterFiles = names
    .sort()
    .filter((name) => !REDRIVE.test(name) && !UNREADABLE.test(name))
    .flatMap((name) => {
      const match = LETTERS.exec(name);
      const path = join(dir, name);
      // Gone since the listing (re-driven meanwhile): read as none, as readLetters does.
      return match ? [{ exporter: match[1]!.replaceAll('__', '/'), size: existsSync(path) ? statSync(path).size : 0 }] : [];
    });
  const total = letterFiles.reduce((sum, file) => sum + file.size, 0);
  const out: DestinationLetters[] = [];
  let before = 0;
  for (const { exporter, size } of letterFiles) {
    out.push(await readLetters(dir, exporter, names, onRead && ((bytes) => onRead(before + bytes, total))));
    before += size;
  }
  return out;
}

/** The dead letters of one lossless exporter (`lossless/splunk`): none when it has no file. */
export async function deadLettersOf(dir: string, exporter: string): Promise<DestinationLetters> {
  return readLetters(dir, exporter, existsSync(dir) ? readdirSync(dir) : []);
}

async function readLetters(dir: string, exporter: string, names: readonly string[], onRead?: (bytesRead: number) => void): Promise<DestinationLetters> {
  const base = exporter.replaceAll('/', '__');
  const file = join(dir, `${base}.ndjson`);
  const reasons: Record<string, number> = {};
  let records = 0;
  let unreadable = 0;
  let oldest: string | undefined;
  if (existsSync(file)) {
    const input = createReadStream(file);
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      onRead?.(input.bytesRead);
      if (line.trim() === '') continue;
      let letter: Letter;
      try {
        letter = JSON.parse(line) as Letter;
      } catch {
        unreadable++;
        continue;
      }
      records++;
      if (letter.time && (!oldest || letter.time < oldest)) oldest = letter.time;
      const reason = `${letter.status ? `HTTP ${letter.status}: ` : ''}${letter.message ?? 'no reason given'}`;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
  }
  return { destination: exporter, file, records, oldest, reasons, unreadable, pendingRedrives: names.filter((other) => other.startsWith(`${base}.redrive-`)).length };
}

/**
 * Hands a destination's dead letters back to the gateway: the file is renamed (atomically) to a
 * re-drive request, which the gateway's lossless exporter puts back in that destination's queue;
 * letters written meanwhile go to a new file and are kept for the next re-drive.
 */
export function redriveDeadLetters(letters: DestinationLetters, now = new Date()): string {
  const request = letters.file.replace(/\.ndjson$/, `.redrive-${now.toISOString().replace(/[:.]/g, '')}.ndjson`);
  renameSync(letters.file, request);
  return request;
}

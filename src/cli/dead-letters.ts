// otel-audit dead-letters: what the gateway's destinations refused for good (the lossless
// exporter's dead-letter store, collector/losslessexporter/deadletter.go), and the re-drive.
import { createReadStream, existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EXIT, UsageError, type Command } from './args.js';

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

/** Reads every destination's dead letters in `dir` (dead_letter::directory of the gateway's config). */
export async function inspectDeadLetters(dir: string): Promise<DestinationLetters[]> {
  const names = readdirSync(dir);
  const out: DestinationLetters[] = [];
  for (const name of names.sort()) {
    if (REDRIVE.test(name) || UNREADABLE.test(name)) continue;
    const match = LETTERS.exec(name);
    if (!match) continue;
    const file = join(dir, name);
    const reasons: Record<string, number> = {};
    let records = 0;
    let unreadable = 0;
    let oldest: string | undefined;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
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
    const base = match[1]!;
    out.push({
      destination: base.replaceAll('__', '/'),
      file,
      records,
      oldest,
      reasons,
      unreadable,
      pendingRedrives: names.filter((other) => other.startsWith(`${base}.redrive-`)).length,
    });
  }
  return out;
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

export const deadLettersCommand: Command = {
  name: 'dead-letters',
  summary: "list, or hand back to the gateway, the records its destinations refused for good",
  usage: `otel-audit dead-letters <dir> [options]

<dir> is the gateway's dead-letter directory (dead_letter::directory of its lossless exporters;
gateway.yaml: $AUDIT_STORAGE_DIR/dead-letters). Without options, prints per destination how many
records it refused for good, since when, and why. It changes nothing.

Options:
  --destination <name>    only this destination (lossless/splunk, or splunk); repeatable
  --redrive               hand the records back to the gateway, which puts them in the
                          destination's queue and sends them again (fix the cause first: a record
                          refused again comes back here)
  --json                  the listing as JSON

Exit codes: 0 done, 2 usage error, 3 the directory cannot be read.`,
  options: { destination: { type: 'string', multiple: true }, redrive: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, [dir, ...rest]) {
    if (!dir || rest.length) throw new UsageError('name exactly one dead-letter directory');
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
    const wanted = (values['destination'] as string[] | undefined)?.map((name) => (name.includes('/') ? name : `lossless/${name}`));
    const all = (await inspectDeadLetters(dir)).filter((letters) => !wanted || wanted.includes(letters.destination));
    if (wanted) for (const name of wanted) if (!all.some((letters) => letters.destination === name)) throw new UsageError(`no dead letters of ${name} in ${dir}`);
    if (values['redrive']) {
      const handed = all.filter((letters) => letters.records > 0).map((letters) => ({ ...letters, request: redriveDeadLetters(letters) }));
      if (values['json']) process.stdout.write(`${JSON.stringify(handed)}\n`);
      else if (handed.length === 0) process.stdout.write('nothing to re-drive\n');
      else for (const letters of handed) process.stdout.write(`${letters.destination}: ${letters.records} record(s) handed back to the gateway (${letters.request})\n`);
      return EXIT.ok;
    }
    if (values['json']) {
      process.stdout.write(`${JSON.stringify(all)}\n`);
      return EXIT.ok;
    }
    if (all.length === 0) process.stdout.write(`no dead letters in ${dir}\n`);
    for (const letters of all) {
      process.stdout.write(`${letters.destination}: ${letters.records} record(s)${letters.oldest ? `, the oldest of ${letters.oldest}` : ''}\n`);
      for (const [reason, count] of Object.entries(letters.reasons)) process.stdout.write(`  ${count} × ${reason}\n`);
      if (letters.unreadable) process.stdout.write(`  ${letters.unreadable} unreadable line(s), kept\n`);
      if (letters.pendingRedrives) process.stdout.write(`  ${letters.pendingRedrives} re-drive request(s) the gateway has not taken yet (is it running?)\n`);
    }
    return EXIT.ok;
  },
};

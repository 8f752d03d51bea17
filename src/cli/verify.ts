import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describeDamage, MAX_FRAME_BYTES, streamTrail } from '../integrity/trail.js';
import { TrailVerifier, type StreamReport, type VerifyOptions, type VerifyReport } from '../integrity/verify.js';
import { EXIT, UsageError, type Command } from './args.js';
import { progress } from './progress.js';

const range = (g: { from: number; to: number }) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`);
/** Items of a note listed in the text (the JSON report lists them all). */
const LISTED_IN_NOTES = 20;

/** The first items of a list, and how many more there are. */
function some<T>(items: readonly T[], show: (item: T) => string): string {
  const shown = items.slice(0, LISTED_IN_NOTES).map(show).join(', ');
  return items.length > LISTED_IN_NOTES ? `${shown} and ${items.length - LISTED_IN_NOTES} more (--json lists them)` : shown;
}

/** How a chain is named: its service, then its stream's id (the first characters name it for --stream), then its site (--site). */
export function streamLabel(stream: Pick<StreamReport, 'streamId' | 'serviceName' | 'siteId'>): string {
  const id = stream.streamId.length > 8 ? `${stream.streamId.slice(0, 8)}…` : stream.streamId;
  const label = stream.serviceName ? `${stream.serviceName} (stream ${id})` : `stream ${id} (no service.name)`;
  return stream.siteId === undefined ? label : `${label}, site ${stream.siteId}`;
}

function badCheckpoint(c: StreamReport['badCheckpoints'][number]): string {
  const reason = c.reason === 'unsigned' ? 'unsigned, and --require-signed relies only on signed checkpoints' : c.reason;
  if (c.id === undefined && c.source === '') return reason;
  return `checkpoint ${c.id ?? 'without an id'} (${c.source}): ${reason}`;
}

/** The findings of one stream, one sentence each, and its notes. */
function streamLines(s: StreamReport, options: VerifyOptions): { findings: string[]; notes: string[] } {
  const findings: string[] = [];
  if (s.gaps.length) findings.push(`missing: ${s.missing} event(s): ${s.gaps.map(range).join(', ')}`);
  for (const t of s.tampered) findings.push(`altered: seq ${t.seq} (${t.source}): ${t.reason}`);
  for (const c of s.badCheckpoints) findings.push(badCheckpoint(c));
  for (const q of s.silences) findings.push(`silent from ${q.from} to ${q.to} (${Math.round(q.ms / 1000)} s, longer than the checkpoint interval)`);
  if (s.omitted) findings.push(`${s.omitted} more finding(s) not listed (--max-listed)`);
  const notes: string[] = [];
  if (s.duplicates.length) notes.push(`identical copies (at-least-once delivery, not a problem): ${some(s.duplicates, (d) => `${d.seq} (${d.copies} copies)`)}`);
  if (s.reordered.length) {
    notes.push(`stored out of sequence order (exports in flight and queue consumers reorder; the chain gives the order): ${some(s.reordered, (r) => `seq ${r.seq} (${r.source})`)}`);
  }
  for (const b of s.superseded) {
    notes.push(`seq ${range(b)} superseded: a run sent them beyond what its spool kept, then died; the next run resumed from seq ${b.resumedFrom} (resume marker at ${b.marker})`);
  }
  for (const d of s.downtimes) notes.push(`down from ${d.from} to ${d.to} (${Math.round(d.ms / 1000)} s): the process stopped without its final checkpoint, and the next run resumed from seq ${d.resumedFrom}`);
  if (s.unverifiedCheckpoints) notes.push(`${s.unverifiedCheckpoints} checkpoint signature(s) not checked (no --public-key)`);
  if (s.unsignedCheckpoints) notes.push(`${s.unsignedCheckpoints} unsigned checkpoint(s), not relied on (--require-signed makes them findings)`);
  if (!s.checkpoints && !options.requireSigned) notes.push('no checkpoint: nothing proves where the stream ends');
  return { findings, notes };
}

/** The report in sentences: what was read, then each stream ending with one verdict line, then the result. */
export function humanReport(report: VerifyReport, options: VerifyOptions, files: number): string {
  const chains = options.sites ? 'site chain(s)' : 'stream(s)';
  const lines = [`${report.records} record(s) read from ${files} file(s), ${report.streams.length} ${chains}`];
  if (report.outsideWindow) lines.push(`  ${report.outsideWindow} record(s) outside the window, not checked`);
  const selection = [options.sites && '--site', options.streams && '--stream', options.services && '--service', options.excludeTest && '--exclude-test'].filter(Boolean).join(', ');
  if (report.excluded) lines.push(`  ${report.excluded} record(s) left out (${selection})`);
  if (report.unchained) lines.push(`  ${report.unchained} record(s) carry no integrity attributes (not written by otel-audit, or stripped)`);
  for (const damage of report.damage) lines.push(`  ${damage.kind === 'damaged' ? '' : 'note: '}${describeDamage(damage)}`);
  const unlisted = report.damaged - report.damage.filter((d) => d.kind === 'damaged').length;
  if (unlisted > 0) lines.push(`  ${unlisted} more damaged frame(s) or line(s) not listed (--max-listed)`);
  const unlistedNotes = report.damageNotes - report.damage.filter((d) => d.kind !== 'damaged').length;
  if (unlistedNotes > 0) lines.push(`  note: ${unlistedNotes} more torn tail(s) or line(s) that are no audit record, not listed (--max-listed)`);
  if (report.testRecords) lines.push(`  note: ${report.testRecords} destination test record(s) (otel_audit.test) without integrity attributes, not part of any stream`);
  if (report.siteCheckpoints) lines.push(`  note: ${report.siteCheckpoints} checkpoint(s) of sites' chains, not checked here (--site <id> checks a site's chain)`);
  for (const s of report.streams) {
    const checked = s.expected ? `, checked seq ${range(s.expected)}` : '';
    lines.push(`${streamLabel(s)}: ${s.events} event(s), seq ${s.firstSeq ?? '-'}..${s.lastSeq ?? '-'}${checked}, ${s.checkpoints} checkpoint(s)`);
    const { findings, notes } = streamLines(s, options);
    const count = s.gaps.length + s.tampered.length + s.badCheckpoints.length + s.silences.length + s.omitted;
    lines.push(...findings.map((f) => `  ${f}`), ...notes.map((n) => `  note: ${n}`), count ? `  ${count} finding(s)` : '  complete and intact');
  }
  lines.push(report.ok ? 'result: OK' : 'result: PROBLEMS FOUND');
  return lines.join('\n');
}

function time(values: Record<string, unknown>, name: string): number | undefined {
  if (values[name] === undefined) return undefined;
  const parsed = Date.parse(String(values[name]));
  if (Number.isNaN(parsed)) throw new UsageError(`--${name} expects an RFC 3339 time, got ${String(values[name])}`);
  return parsed;
}

const list = (value: unknown): string[] | undefined => (Array.isArray(value) && value.length ? value.map(String) : undefined);

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check copies of the trail for gaps, duplicates, tampering, damage and silence',
  usage: `otel-audit verify <file>... [options]

Reads what a destination received: the Collector file archive (OTLP/JSON lines, or its zstd frames),
the HEC receiver's output, NDJSON exported from a Splunk search, syslog lines carrying JSON, or a
copy in a SIEM format of collector-config/formats/ (OCSF or ECS JSON, CIM events, CEF lines); and
reports per stream, named by its service: events, first and last sequence, gaps, records whose hash
does not match or that differ from another record under the same sequence number, checkpoints whose
signature fails, resumes without their marker, and silences longer than the checkpoint interval;
each stream ends with one verdict line. Damaged frames and lines are findings, named with file and
byte offset, and reading goes on after them; a write cut short at the very end of a file (a torn
tail) is a note. Identical copies, records stored out of order, records a run sent beyond what its
spool kept before it died (superseded when the next run resumed), a process's downtime before a
restart and destination test records are notes. With --site, the same is checked of each site's
own chain within each stream (its per-site sequence, hash link and checkpoints), one verdict line
per site chain: what a site owner's copy proves. Files are read in the order given, a bounded piece
at a time: memory depends on the number of events, not on the files' size.

Options:
  --public-key <file>     Ed25519 public key (PEM) to verify checkpoint signatures
  --require-signed        every stream needs checkpoints, all signed (needs --public-key); without
                          it an unsigned trail passes with a note
  --hmac-key-file <file>  the chain's HMAC key: the file's bytes exactly as the logger got them
  --site <id>             check this site's chain in each stream instead of the streams: a site's
                          copy (what a site destination received), or the installation's; repeatable
  --stream <id>           check only this stream (its id, or the first characters of it); repeatable
  --service <name>        check only the records of this service.name; repeatable
  --exclude-test          leave out test records: destination tests (otel_audit.test) and what
                          otel-audit emit and doctor send (audit.test, their service names)
  --since <time>          check only events and checkpoints stamped at or after this RFC 3339 time
  --until <time>          ... and before this one; a copy that starts mid-stream is checked from
                          the first sequence number found in the window
  --from-seq <n>          check only events from this sequence number on
  --ignore-order          do not note order (for destinations with parallel consumers)
  --at <time>             check silence up to this RFC 3339 time instead of now
  --max-listed <n>        longest list of each kind of finding (default 1000); the rest are counted
  --max-frame-mib <n>     largest archive frame (compressed or not) or line read, in MiB (default
                          ${MAX_FRAME_BYTES / 2 ** 20}); a larger one is reported as damage
  --json                  the report as JSON

Exit codes: 0 complete and intact (notes allowed), 1 problems found, 2 usage error, 3 a file could
not be read.`,
  options: {
    'public-key': { type: 'string' },
    'require-signed': { type: 'boolean' },
    'hmac-key-file': { type: 'string' },
    site: { type: 'string', multiple: true },
    stream: { type: 'string', multiple: true },
    service: { type: 'string', multiple: true },
    'exclude-test': { type: 'boolean' },
    since: { type: 'string' },
    until: { type: 'string' },
    'from-seq': { type: 'string' },
    'ignore-order': { type: 'boolean' },
    at: { type: 'string' },
    'max-listed': { type: 'string' },
    'max-frame-mib': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, files) {
    if (files.length === 0) throw new UsageError('name at least one file to verify');
    const whole = (name: string): number | undefined => {
      if (values[name] === undefined) return undefined;
      const n = Number(values[name]);
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} expects a whole number, got ${String(values[name])}`);
      return n;
    };
    if (values['require-signed'] && !values['public-key']) throw new UsageError('--require-signed needs --public-key');
    const frameMib = whole('max-frame-mib');
    if (frameMib === 0) throw new UsageError('--max-frame-mib expects a whole number from 1');
    const options: VerifyOptions = {
      publicKey: values['public-key'] ? createPublicKey(readFileSync(String(values['public-key']))) : undefined,
      // Raw bytes, as the library takes a Buffer: no decoding, no trimming.
      hmacKey: values['hmac-key-file'] ? readFileSync(String(values['hmac-key-file'])) : undefined,
      ignoreOrder: values['ignore-order'] === true,
      requireSigned: values['require-signed'] === true,
      now: time(values, 'at'),
      since: time(values, 'since'),
      until: time(values, 'until'),
      fromSeq: whole('from-seq'),
      maxListed: whole('max-listed'),
      sites: list(values['site']),
      streams: list(values['stream']),
      services: list(values['service']),
      excludeTest: values['exclude-test'] === true,
    };
    let verifier: TrailVerifier;
    try {
      verifier = new TrailVerifier(options);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const read = { onDamage: (damage: Parameters<TrailVerifier['damaged']>[0]) => verifier.damaged(damage), maxFrameBytes: frameMib === undefined ? undefined : frameMib * 2 ** 20 };
    // A file that cannot be read counts 0 here: reading it says why, as before.
    const sizes = files.map((file) => (existsSync(file) ? statSync(file).size : 0));
    const reading = progress({ label: 'verify', unit: 'bytes', total: sizes.reduce((sum, size) => sum + size, 0), json: values['json'] === true });
    let before = 0;
    for (const [i, file] of files.entries()) {
      for (const record of streamTrail(file, { ...read, onRead: (bytes) => reading.update(before + bytes) })) verifier.add(record);
      before += sizes[i]!;
    }
    reading.finish();
    const report = verifier.report();
    process.stdout.write(`${values['json'] ? JSON.stringify(report, null, 2) : humanReport(report, options, files.length)}\n`);
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { streamTrail } from '../integrity/trail.js';
import { TrailVerifier, type StreamReport, type VerifyOptions, type VerifyReport } from '../integrity/verify.js';
import { EXIT, UsageError, type Command } from './args.js';

const range = (g: { from: number; to: number }) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`);

function human(report: VerifyReport, options: VerifyOptions): string {
  const lines = [`${report.records} record(s) read, ${report.streams.length} stream(s)`];
  if (report.outsideWindow) lines.push(`  ${report.outsideWindow} record(s) outside the window, not checked`);
  if (report.unchained) lines.push(`  ${report.unchained} record(s) carry no integrity attributes`);
  const list = (refs: readonly { seq: number; source: string }[]) => refs.map((r) => `${r.seq} (${r.source})`).join(', ');
  for (const s of report.streams) {
    const checked = s.expected ? `, checked seq ${range(s.expected)}` : '';
    lines.push(`stream ${s.streamId}: ${s.events} event(s), seq ${s.firstSeq ?? '-'}..${s.lastSeq ?? '-'}${checked}, ${s.checkpoints} checkpoint(s)`);
    const findings: string[] = [];
    if (s.gaps.length) findings.push(`missing: ${s.missing} event(s): ${s.gaps.map(range).join(', ')}`);
    for (const t of s.tampered) findings.push(`altered: seq ${t.seq}, ${t.reason} (${t.source})`);
    if (s.reordered.length) findings.push(`out of order: ${list(s.reordered)}`);
    for (const c of s.badCheckpoints) findings.push(`bad checkpoint ${c.id ?? ''}: ${c.reason} (${c.source})`);
    for (const q of s.silences) findings.push(`silent from ${q.from} to ${q.to} (${Math.round(q.ms / 1000)} s, longer than the checkpoint interval)`);
    const notes: string[] = [];
    if (s.duplicates.length) notes.push(`note: identical copies (at-least-once delivery, not a problem): ${s.duplicates.map((d) => `${d.seq} (${d.copies} copies)`).join(', ')}`);
    if (s.unverifiedCheckpoints) notes.push(`note: ${s.unverifiedCheckpoints} checkpoint signature(s) not checked (no --public-key)`);
    if (s.unsignedCheckpoints) notes.push(`note: ${s.unsignedCheckpoints} unsigned checkpoint(s), not relied on (--require-signed makes them findings)`);
    if (!s.checkpoints && !options.requireSigned) notes.push('note: no checkpoint: nothing proves where the stream ends');
    if (s.omitted) notes.push(`note: ${s.omitted} more finding(s) not listed`);
    lines.push(...(findings.length ? findings.map((f) => `  ${f}`) : ['  complete and intact']), ...notes.map((n) => `  ${n}`));
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

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check copies of the trail for gaps, duplicates, tampering and silence',
  usage: `otel-audit verify <file>... [options]

Reads what a destination received: the Collector file archive (OTLP/JSON lines, or its zstd frames),
the HEC receiver's output, NDJSON exported from a Splunk search, syslog lines carrying JSON, or a
copy in a SIEM format of collector-config/formats/ (OCSF or ECS JSON, CIM events, CEF lines); and
reports per stream: events, first and last sequence, gaps, records whose hash does not match or that
differ from another record under the same sequence number, out-of-order records, checkpoints whose
signature fails, resumes without their marker, and silences longer than the checkpoint interval.
Identical copies (at-least-once delivery) are noted, not failures. Files are read in the order
given, a record at a time: memory depends on the number of events, not on the files' size.

Options:
  --public-key <file>     Ed25519 public key (PEM) to verify checkpoint signatures
  --require-signed        every stream needs checkpoints, all signed (needs --public-key); without
                          it an unsigned trail passes with a note
  --hmac-key-file <file>  the chain's HMAC key: the file's bytes exactly as the logger got them
  --since <time>          check only events and checkpoints stamped at or after this RFC 3339 time
  --until <time>          ... and before this one; a copy that starts mid-stream is checked from
                          the first sequence number found in the window
  --from-seq <n>          check only events from this sequence number on
  --ignore-order          do not report order (for destinations with parallel consumers)
  --at <time>             check silence up to this RFC 3339 time instead of now
  --max-listed <n>        longest list of each kind of finding (default 1000); the rest are counted
  --json                  the report as JSON

Exit codes: 0 complete and intact, 1 problems found, 2 usage error, 3 a file could not be read.`,
  options: {
    'public-key': { type: 'string' },
    'require-signed': { type: 'boolean' },
    'hmac-key-file': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'from-seq': { type: 'string' },
    'ignore-order': { type: 'boolean' },
    at: { type: 'string' },
    'max-listed': { type: 'string' },
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
    };
    let verifier: TrailVerifier;
    try {
      verifier = new TrailVerifier(options);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    for (const file of files) for (const record of streamTrail(file)) verifier.add(record);
    const report = verifier.report();
    process.stdout.write(`${values['json'] ? JSON.stringify(report, null, 2) : human(report, options)}\n`);
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

export type { StreamReport };

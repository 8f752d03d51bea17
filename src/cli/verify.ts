import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readTrail } from '../integrity/trail.js';
import { verifyTrail, type StreamReport, type VerifyReport } from '../integrity/verify.js';
import { EXIT, UsageError, type Command } from './args.js';

function human(report: VerifyReport): string {
  const lines = [`${report.records} record(s) read, ${report.streams.length} stream(s)`];
  if (report.unchained) lines.push(`  ${report.unchained} record(s) carry no integrity attributes`);
  const list = (refs: readonly { seq: number; source: string }[]) => refs.map((r) => `${r.seq} (${r.source})`).join(', ');
  for (const s of report.streams) {
    lines.push(`stream ${s.streamId}: ${s.events} event(s), seq ${s.firstSeq ?? '-'}..${s.lastSeq ?? '-'}, ${s.checkpoints} checkpoint(s)`);
    const findings: string[] = [];
    if (s.gaps.length) findings.push(`missing: ${s.gaps.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`)).join(', ')}`);
    if (s.duplicates.length) findings.push(`duplicated: ${s.duplicates.map((d) => `${d.seq} (${d.copies} copies)`).join(', ')}`);
    for (const t of s.tampered) findings.push(`altered: seq ${t.seq}, ${t.reason} (${t.source})`);
    if (s.reordered.length) findings.push(`out of order: ${list(s.reordered)}`);
    for (const c of s.badCheckpoints) findings.push(`bad checkpoint ${c.id ?? ''}: ${c.reason} (${c.source})`);
    for (const q of s.silences) findings.push(`silent from ${q.from} to ${q.to} (${Math.round(q.ms / 1000)} s, longer than the checkpoint interval)`);
    if (s.unverifiedCheckpoints) findings.push(`note: ${s.unverifiedCheckpoints} checkpoint signature(s) not checked (no --public-key)`);
    lines.push(...(findings.length ? findings.map((f) => `  ${f}`) : ['  complete and intact']));
  }
  lines.push(report.ok ? 'result: OK' : 'result: PROBLEMS FOUND');
  return lines.join('\n');
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check copies of the trail for gaps, duplicates, tampering and silence',
  usage: `otel-audit verify <file>... [options]

Reads what a destination received: the Collector file archive (OTLP/JSON lines, or its zstd frames),
the HEC receiver's output, NDJSON exported from a Splunk search, or syslog lines carrying JSON; and
reports per stream: events, first and last sequence, gaps, duplicates, records whose hash does not
match, out-of-order records, checkpoints whose signature fails, and silences longer than the
checkpoint interval. Files are read in the order given.

Options:
  --public-key <file>     Ed25519 public key (PEM) to verify checkpoint signatures
  --hmac-key-file <file>  the chain's HMAC key, if the logger was given one
  --ignore-order          do not report order (for destinations with parallel consumers)
  --at <time>             check silence up to this RFC 3339 time instead of now
  --json                  the report as JSON

Exit codes: 0 complete and intact, 1 problems found, 2 usage error, 3 a file could not be read.`,
  options: {
    'public-key': { type: 'string' },
    'hmac-key-file': { type: 'string' },
    'ignore-order': { type: 'boolean' },
    at: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, files) {
    if (files.length === 0) throw new UsageError('name at least one file to verify');
    const publicKey = values['public-key'] ? createPublicKey(readFileSync(String(values['public-key']))) : undefined;
    const hmacKey = values['hmac-key-file'] ? Buffer.from(readFileSync(String(values['hmac-key-file']), 'utf8').trim()) : undefined;
    const now = values['at'] ? Date.parse(String(values['at'])) : undefined;
    if (now !== undefined && Number.isNaN(now)) throw new UsageError(`--at expects an RFC 3339 time, got ${String(values['at'])}`);
    const records = files.flatMap((file) => readTrail(file));
    const report = verifyTrail(records, { publicKey, hmacKey, ignoreOrder: values['ignore-order'] === true, now });
    process.stdout.write(`${values['json'] ? JSON.stringify(report, null, 2) : human(report)}\n`);
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

export type { StreamReport };

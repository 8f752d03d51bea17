// `otel-audit verify` at scale, run by hand (not a test): writes one stream of N events (default
// 1,000,000, one day of event time, a signed checkpoint a minute, HMAC chain) as the Collector's
// file archive writes it, then runs the real CLI on the whole file and on a one-day window of it,
// reporting wall time and the peak RSS of each run.
//   npx tsx scripts/verify-scale.ts [events] [dir]
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/processes.js';
import { syntheticTrail, writeOtlpJsonLines } from '../test/helpers/synthetic-trail.js';

const events = Number(process.argv[2] ?? 1_000_000);
const dir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'otel-audit-verify-scale-'));
const DAY = 86_400_000;
// Three days of events: the window is the middle one.
const spacingMillis = (3 * DAY) / events;
const start = Date.parse('2026-01-01T00:00:00Z');
const keys = generateKeyPairSync('ed25519');
const hmacKey = Buffer.from('verify-scale-hmac-key\n');
const file = join(dir, 'archive.jsonl');
writeFileSync(join(dir, 'public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o600 });
writeFileSync(join(dir, 'hmac.key'), hmacKey, { mode: 0o600 });

let began = performance.now();
const records = writeOtlpJsonLines(file, syntheticTrail({ runs: [{ events }], start, spacingMillis, hmacKey, signingKey: keys.privateKey }));
console.log(`wrote ${records} records (${events} events) to ${file}: ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - began) / 1000).toFixed(1)} s`);

function verify(label: string, extra: string[]): void {
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', file, '--public-key', join(dir, 'public.pem'), '--hmac-key-file', join(dir, 'hmac.key'), '--require-signed', '--at', new Date(start + 3 * DAY).toISOString(), '--json', ...extra];
  began = performance.now();
  // GNU time reports the child's CPU seconds (user, system) and peak RSS (maximum resident set size, KiB).
  const run = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - began) / 1000;
  const [user, system, peakKiB] = run.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  const report = JSON.parse(run.stdout) as { ok: boolean; records: number; outsideWindow: number; streams: { events: number; expected?: { from: number; to: number } }[] };
  const [stream] = report.streams;
  console.log(
    `${label}: exit ${run.status}, ok ${report.ok}, ${report.records} records read, ${stream?.events} events checked (seq ${stream?.expected?.from}..${stream?.expected?.to}), ${report.outsideWindow} outside the window: ${seconds.toFixed(1)} s wall, ${(user + system).toFixed(1)} s CPU, peak RSS ${(peakKiB / 1024).toFixed(0)} MiB`,
  );
}

verify('whole file', []);
verify('one-day window', ['--since', new Date(start + DAY).toISOString(), '--until', new Date(start + 2 * DAY).toISOString()]);
if (!process.argv[3]) rmSync(dir, { recursive: true, force: true });

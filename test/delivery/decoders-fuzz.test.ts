// Every decoder of bytes from outside is bounds-checked and fuzzed: seeded random and mutated
// inputs, thousands per decoder (the counts are printed), each campaign in a child process with a
// deadline so that a hang fails instead of hanging the runner. Properties: no throw escapes (only
// the decoder's own error, where it has one), no hang, output proportional to the input, and
// what was intact is read back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import type { Campaign, FuzzReport } from './fuzz-harness.js';

const DEADLINE_MILLIS = 120_000;
const HARNESS = new URL('./fuzz-harness.ts', import.meta.url).pathname;

function run(campaign: Campaign, seed: number, count: number): Promise<FuzzReport> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', HARNESS, campaign, String(seed), String(count)], { timeout: DEADLINE_MILLIS, encoding: 'utf8', maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${campaign}: ${error.killed ? `no result within ${DEADLINE_MILLIS} ms (a decoder hangs?)` : error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as FuzzReport);
    }),
  );
}

// The slowest input bounds a hang or a blow-up (seconds), not a garbage-collection pause or a busy
// machine's scheduling (tens of milliseconds): the bounds leave room for those.
const cases: { campaign: Campaign; what: string; count: number; slowestMillis: number }[] = [
  { campaign: 'answers', what: 'collector answers (ExportLogsServiceResponse, google.rpc.Status; protobuf and JSON; HTML, garbage)', count: 20_000, slowestMillis: 500 },
  { campaign: 'log-records', what: 'OTLP LogRecords (the slow-path decoder: JSON protocol, custom exporter, dead letters)', count: 10_000, slowestMillis: 500 },
  { campaign: 'spool-frames', what: 'spool segments (frames, checksums, resynchronisation; read in small batches)', count: 2_000, slowestMillis: 1000 },
  { campaign: 'dead-letter-lines', what: 'dead-letter lines', count: 5_000, slowestMillis: 1000 },
];

describe('decoders of outside bytes, fuzzed', () => {
  for (const { campaign, what, count, slowestMillis } of cases) {
    it(`${what}: ${count} seeded inputs, random and mutated`, async () => {
      const report = await run(campaign, 20260101, count);
      console.log(`fuzz ${campaign}: ${report.tried} inputs, slowest ${report.slowestMillis} ms; ${Object.entries(report.outcomes).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
      assert.deepEqual(report.failures, []);
      assert.ok(report.tried >= count, `${report.tried} inputs`);
      assert.ok(report.slowestMillis < slowestMillis, `an input took ${report.slowestMillis} ms`);
    });
  }
});

// The fuzz campaigns of decoders-fuzz.test.ts, each run in a child process
// (`node --import tsx fuzz-harness.ts <campaign> <seed> <count>`, the report as JSON on stdout) so
// that a decoder that hangs fails the test (the child is killed at a deadline) instead of hanging
// the runner. Each
// campaign is seeded, feeds random and mutated inputs, and reports what it tried and what it saw.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyAnswer, RESPONSE_BODY_LIMIT } from '../../src/delivery/answer.js';
import { readDeadLetters } from '../../src/delivery/dead-letters.js';
import { nodeFileSystem } from '../../src/delivery/file-system.js';
import { decodeLogRecord } from '../../src/record/decoder.js';
import { encodeLogRecord } from '../../src/record/encoder.js';
import { ProtoDecodeError } from '../../src/record/protobuf.js';
import { inspectSlot } from '../../src/delivery/spool/inspect.js';
import { openSlot } from '../../src/delivery/spool/slots.js';
import { linkOfHeader, SpooledHead } from '../../src/integrity/spooled-head.js';
import { otlpStatus, partialSuccess } from '../helpers/otlp-listener.js';
import { mutate, random, value } from '../helpers/random.js';

export type Campaign = 'answers' | 'log-records' | 'spool-frames' | 'dead-letter-lines';

export interface FuzzReport {
  /** Inputs tried. */
  readonly tried: number;
  /** Broken properties, with the input's description (the first 20). */
  readonly failures: string[];
  /** How the inputs ended (kinds of outcome, thrown errors...). */
  readonly outcomes: Record<string, number>;
  /** The slowest single input, ms. */
  readonly slowestMillis: number;
}

class Tally {
  readonly failures: string[] = [];
  readonly outcomes: Record<string, number> = {};
  slowestMillis = 0;
  tried = 0;

  fail(what: string): void {
    if (this.failures.length < 20) this.failures.push(what);
  }

  count(outcome: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }

  /** Runs one input, timing it. */
  async time<T>(fn: () => T | Promise<T>): Promise<T> {
    this.tried++;
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.slowestMillis = Math.max(this.slowestMillis, performance.now() - started);
    }
  }

  report(): FuzzReport {
    return { tried: this.tried, failures: this.failures, outcomes: this.outcomes, slowestMillis: Math.round(this.slowestMillis * 10) / 10 };
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, 48)).toString('hex') + (bytes.length > 48 ? '…' : '');

/** Answers of every kind a collector, a proxy or a stranger sends, mutated; classified never throws, never hits the "cannot be read" path, stays small. */
async function answers(seed: number, count: number): Promise<FuzzReport> {
  const next = random(seed);
  const tally = new Tally();
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(next() * 95))).join('');
  const valid = (): { body: Uint8Array; type: string } => {
    switch (Math.floor(next() * 7)) {
      case 0: return { body: partialSuccess(Math.floor(next() * 1000), text(Math.floor(next() * 40))) as Uint8Array, type: 'application/x-protobuf' };
      case 1: return { body: Buffer.from(partialSuccess(Math.floor(next() * 1000), text(20), true) as string), type: 'application/json' };
      case 2: return { body: otlpStatus(Math.floor(next() * 17), text(Math.floor(next() * 60))) as Uint8Array, type: 'application/x-protobuf' };
      case 3: return { body: Buffer.from(otlpStatus(3, text(30), true) as string), type: 'application/json; charset=utf-8' };
      case 4: return { body: Buffer.from(`<html><body>${text(40)}</body></html>`), type: 'text/html' };
      case 5: return { body: Buffer.alloc(0), type: next() < 0.5 ? 'application/x-protobuf' : 'application/json' };
      default: return { body: Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256))), type: ['application/x-protobuf', 'application/json', '', 'application/octet-stream'][Math.floor(next() * 4)]! };
    }
  };
  const statuses = [200, 201, 202, 204, 400, 400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504, 301];
  for (let i = 0; i < count; i++) {
    const { body: original, type } = valid();
    const body = next() < 0.8 ? mutate(next, original) : Buffer.from(original);
    const status = statuses[Math.floor(next() * statuses.length)]!;
    const truncated = next() < 0.02;
    const answer = { status, contentType: next() < 0.05 ? undefined : type, body: truncated ? Buffer.concat([body, Buffer.alloc(RESPONSE_BODY_LIMIT)]).subarray(0, RESPONSE_BODY_LIMIT) : body, truncated, retryAfter: next() < 0.2 ? text(8) : undefined, location: undefined };
    const outcome = await tally.time(() => classifyAnswer(answer, 'http://127.0.0.1:4318/v1/logs', Date.now()));
    tally.count(`${status >= 200 && status < 300 ? '2xx' : status}→${outcome.kind}`);
    const message = 'message' in outcome ? outcome.message : '';
    if (message.startsWith('an answer that cannot be read')) tally.fail(`an unexpected error (${message}) for HTTP ${status} ${type} ${hex(body)}`);
    if (message.length > 1000) tally.fail(`a message of ${message.length} characters for HTTP ${status} ${type} ${hex(body)}`);
    if (status >= 200 && status < 300 && !['ack', 'partial', 'refusal'].includes(outcome.kind)) tally.fail(`a 2xx classified ${outcome.kind}`);
    if (status === 413 && outcome.kind !== 'rejection') tally.fail('a 413 that is not a rejection');
  }
  return tally.report();
}

/** OTLP LogRecords the logger encodes, mutated, and random bytes: decoded, or a ProtoDecodeError; output proportional to input. */
async function logRecords(seed: number, count: number): Promise<FuzzReport> {
  const next = random(seed);
  const tally = new Tally();
  for (let i = 0; i < count; i++) {
    const body = { id: `e${i}`, details: value(next, 0) };
    const encoded = encodeLogRecord({ timestamp: 1_700_000_000_000 + i, observedTimestamp: 1_700_000_000_001 + i, severityNumber: 9, severityText: 'INFO', eventName: 'x.y', body, attributes: { 'audit.seq': i, 'log.record.uid': `e${i}` } });
    const input = next() < 0.1 ? Buffer.from(Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256))) : mutate(next, encoded);
    try {
      const decoded = await tally.time(() => decodeLogRecord(input));
      const size = JSON.stringify(decoded, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).length;
      tally.count('decoded');
      if (size > 8 * input.length + 500) tally.fail(`${size} characters decoded from ${input.length} bytes: ${hex(input)}`);
    } catch (error) {
      if (error instanceof ProtoDecodeError) tally.count('ProtoDecodeError');
      else tally.fail(`${(error as Error).name}: ${(error as Error).message} for ${hex(input)}`);
    }
  }
  return tally.report();
}

const FRAME_HEADER = 9;
const RECORD_HEADER = 44;

/**
 * Segments written as the spool writes them, then damaged (never by repeating bytes, which can
 * copy a whole valid frame); opened and drained with small reads: no throw, every record read is
 * one that was written, in order, and every record whose frame was left untouched is read.
 */
async function spoolFrames(seed: number, count: number): Promise<FuzzReport> {
  const next = random(seed);
  const tally = new Tally();
  const { crc32 } = await import('node:zlib');
  const frame = (kind: number, payload: Buffer) => {
    const out = Buffer.alloc(FRAME_HEADER + payload.length);
    out.writeUInt32LE(payload.length, 0);
    out[8] = kind;
    payload.copy(out, FRAME_HEADER);
    out.writeUInt32LE(crc32(out.subarray(8)), 4);
    return out;
  };
  const root = mkdtempSync(join(tmpdir(), 'otel-audit-fuzz-spool-'));
  try {
    for (let i = 0; i < count; i++) {
      const streamId = `stream-${i}`;
      const head = frame(1, Buffer.from(JSON.stringify({ streamId, seq: 0, hash: '0'.repeat(64) })));
      const records = Array.from({ length: 1 + Math.floor(next() * 25) }, (_, n) => {
        const payload = Buffer.alloc(RECORD_HEADER + Math.floor(next() * 300));
        payload.writeUIntLE(1_700_000_000_000 + n, 0, 6);
        payload.writeUIntLE(n + 1, 6, 6);
        for (let b = 12; b < payload.length; b++) payload[b] = Math.floor(next() * 256);
        return { seq: n + 1, frame: frame(2, payload) };
      });
      const segment = Buffer.concat([head, ...records.map((r) => r.frame)]);
      // Damage: overwrite, zero or cut ranges (inserted and deleted bytes shift frames: the same reader logic).
      const damaged = Buffer.from(segment);
      const touched = new Uint8Array(damaged.length);
      let length = damaged.length;
      for (let round = 0, rounds = 1 + Math.floor(next() * 3); round < rounds; round++) {
        const at = Math.floor(next() * damaged.length);
        const span = 1 + Math.floor(next() * (next() < 0.7 ? 4 : 200));
        const kind = Math.floor(next() * 4);
        if (kind === 3) length = Math.min(length, at);
        for (let b = at; b < Math.min(damaged.length, at + span) && kind !== 3; b++) {
          damaged[b] = kind === 0 ? 0 : kind === 1 ? Math.floor(next() * 256) : 0xff;
          touched[b] = 1;
        }
      }
      const file = damaged.subarray(0, length);
      const slot = join(root, `slot-${String(i).padStart(4, '0')}`);
      mkdirSync(slot);
      writeFileSync(join(slot, 'stream.json'), JSON.stringify({ streamId }));
      writeFileSync(join(slot, '000000000001.seg'), file);
      let offset = head.length;
      const intact: number[] = [];
      for (const r of records) {
        const end = offset + r.frame.length;
        if (end <= length && touched.subarray(offset, end).every((b) => b === 0)) intact.push(r.seq);
        offset = end;
      }
      const damage: string[] = [];
      const read: number[] = [];
      await tally.time(async () => {
        const inspection = inspectSlot(nodeFileSystem, slot);
        const spool = openSlot(slot, {
          fs: nodeFileSystem,
          maxSegmentBytes: 1 << 20,
          maxMemoryRecords: 100,
          recoveryMillis: 1000,
          onCorrupt: (error) => damage.push(error.message),
          onWriteFailure: () => undefined,
          onOverflow: () => undefined,
          onCommit: () => undefined,
          head: (id) => new SpooledHead(id),
        })!;
        const limits = { maxRecords: 1 + Math.floor(next() * 8), maxBytes: 1024 + Math.floor(next() * 2048) };
        for (let guard = 0; spool.hasUnsent; guard++) {
          if (guard > 10_000) throw new Error('the reader does not advance');
          const batch = await spool.next(limits);
          if (!batch) continue;
          read.push(...batch.records.map((r) => linkOfHeader(r.header).seq));
          batch.ack();
        }
        await spool.close();
        if (inspection.corrupt !== damage.length) tally.fail(`inspect counted ${inspection.corrupt} damaged regions, open reported ${damage.length}`);
      }).catch((error: Error) => tally.fail(`case ${i}: ${error.name}: ${error.message}`));
      tally.count(damage.length === 0 ? 'no damage found' : `${Math.min(damage.length, 3)}${damage.length >= 3 ? '+' : ''} damaged region(s)`);
      const written = new Set(records.map((r) => r.seq));
      if (read.some((seq) => !written.has(seq))) tally.fail(`case ${i}: read a record never written`);
      if (read.some((seq, n) => n > 0 && seq <= read[n - 1]!)) tally.fail(`case ${i}: records out of order: ${read.join(',')}`);
      const missing = intact.filter((seq) => !read.includes(seq));
      if (missing.length > 0) tally.fail(`case ${i}: intact record(s) ${missing.join(',')} lost (read ${read.join(',')}; damage ${damage.join(' | ')})`);
      rmSync(slot, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tally.report();
}

/** Dead-letter files with valid, mutated and random lines: no throw, every unchanged letter read, every other line counted as damaged. */
async function deadLetterLines(seed: number, count: number): Promise<FuzzReport> {
  const next = random(seed);
  const tally = new Tally();
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-fuzz-dlq-'));
  const file = join(dir, 'dead-letters.ndjson');
  try {
    const perFile = 500;
    for (let done = 0; done < count; done += perFile) {
      const lines: { text: string; valid: boolean }[] = [];
      for (let n = 0; n < perFile; n++) {
        const record = encodeLogRecord({ timestamp: 1, observedTimestamp: 1, severityNumber: 9, severityText: 'INFO', eventName: 'x.y', body: value(next, 2), attributes: {} });
        const letter = JSON.stringify({ time: new Date(0).toISOString(), reason: 'dead_letter', status: 400, error: 'e', id: `id${n}`, stream: 's', seq: n + 1, event: null, record: Buffer.from(record).toString('base64') });
        const roll = next();
        const text = roll < 0.4 ? letter : roll < 0.9 ? mutate(next, Buffer.from(letter)).toString('utf8') : mutate(next, Buffer.from(Array.from({ length: 40 }, () => Math.floor(next() * 256)))).toString('latin1');
        // A line is one line: the mutations may have made several, or none.
        for (const part of text.split('\n')) if (part !== '') lines.push({ text: part, valid: part === letter });
      }
      writeFileSync(file, lines.map((l) => `${l.text}\n`).join(''));
      const result = await tally.time(() => readDeadLetters(file));
      tally.tried += lines.length - 1;
      const read = new Set(result.letters.map((l) => l.line));
      lines.forEach((line, index) => {
        if (line.valid && !read.has(index)) tally.fail(`an unchanged letter on line ${index + 1} was not read`);
        tally.count(read.has(index) ? (line.valid ? 'letter' : 'mutated, still a letter') : 'damaged');
      });
      if (result.letters.length + result.damaged.length !== lines.length) tally.fail(`${result.letters.length} letters and ${result.damaged.length} damaged lines of ${lines.length}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally.report();
}

export const campaigns: Record<Campaign, (seed: number, count: number) => Promise<FuzzReport>> = {
  answers,
  'log-records': logRecords,
  'spool-frames': spoolFrames,
  'dead-letter-lines': deadLetterLines,
};

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [campaign, seed, count] = process.argv.slice(2) as [Campaign, string, string];
  void campaigns[campaign](Number(seed), Number(count)).then((report) => process.stdout.write(JSON.stringify(report)));
}

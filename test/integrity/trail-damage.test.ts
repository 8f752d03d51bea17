// Damaged copies: every corrupt length, frame or line is reported with its file and byte offset,
// the reader resynchronises and goes on, a write cut short at the very end is a torn tail (a note),
// and no frame can make the reader hold more than its cap.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { toKeyValues } from '../../src/integrity/otlp-json.js';
import { readTrail, type TrailDamage, type TrailRecord } from '../../src/integrity/trail.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { ROOT } from '../helpers/processes.js';
import { syntheticTrail } from '../helpers/synthetic-trail.js';
import { archive, compressedFrame, rawFrame, rleFrame } from '../helpers/zstd-archive.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-trail-damage-'));
const START = Date.parse('2026-01-01T00:00:00Z');
const trail = [...syntheticTrail({ start: START, runs: [{ events: 30 }] })];
const end = Date.parse((trail.at(-1)!.body as { timestamp: string }).timestamp) + 1000;
const idOf = (r: TrailRecord) => (r.body as { id: string }).id;

/** One OTLP/JSON request (what the file exporter writes per frame or line) of these records. */
function request(records: readonly TrailRecord[]): string {
  const logRecords = records.map((r) => ({ body: { kvlistValue: { values: toKeyValues(r.body as Record<string, unknown>) } }, attributes: toKeyValues(r.attributes) }));
  return JSON.stringify({ resourceLogs: [{ resource: { attributes: toKeyValues({ 'service.name': 'docs-api' }) }, scopeLogs: [{ logRecords }] }] });
}

/** The trail in three frames of raw zstd blocks, and where each frame starts. */
const frames = [trail.slice(0, 11), trail.slice(11, 22), trail.slice(22)].map((part) => rawFrame(Buffer.from(request(part))));
const offsets = frames.map((_, i) => frames.slice(0, i).reduce((at, frame) => at + 4 + frame.length, 0));

function write(name: string, content: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function read(path: string, maxFrameBytes?: number): { records: TrailRecord[]; damage: TrailDamage[] } {
  const damage: TrailDamage[] = [];
  const records = readTrail(path, { onDamage: (d) => damage.push(d), maxFrameBytes });
  return { records, damage };
}

describe('zstd archives (4-byte big-endian length + zstd frame, repeated)', () => {
  it('reads every frame, of raw blocks or of a real compressor; each record named by frame and place', () => {
    const path = write('whole.zst', archive([...frames, compressedFrame]));
    const { records, damage } = read(path);
    assert.deepEqual(damage, []);
    assert.equal(records.length, trail.length + 5);
    assert.deepEqual(records.slice(0, 2).map((r) => r.source), [`${path}#frame1#1`, `${path}#frame1#2`]);
    assert.equal(records.at(-1)!.source, `${path}#frame4#5`);
    assert.equal(verifyTrail(records.slice(0, trail.length), { now: end }).ok, true);
  });

  it('a corrupt length prefix is damage at its offset; the reader resynchronises on the next frame and goes on', () => {
    const bytes = archive(frames);
    bytes.writeUInt32BE(0xffffffff, offsets[1]!);
    const { records, damage } = read(write('length.zst', bytes));
    assert.deepEqual(damage.map((d) => [d.kind, d.offset, d.bytes]), [['damaged', offsets[1], offsets[2]! - offsets[1]!]]);
    assert.match(damage[0]!.reason, /^a length of 4294967295 bytes, beyond the cap of 67108864; reading resumed at offset \d+$/);
    assert.deepEqual(records.map(idOf), [...trail.slice(0, 11), ...trail.slice(22)].map(idOf));
    // A length pointing inside the next frame: the same.
    bytes.writeUInt32BE(100, offsets[1]!);
    assert.deepEqual(read(write('short-length.zst', bytes)).damage.map((d) => [d.kind, d.offset]), [['damaged', offsets[1]]]);
  });

  it('a torn or corrupt zstd frame in the middle is damage; the frames after it are read', () => {
    const torn = Buffer.concat([archive(frames.slice(0, 1)), archive([frames[1]!]).subarray(0, 200), archive(frames.slice(2))]);
    const first = read(write('torn-middle.zst', torn));
    assert.deepEqual(first.damage.map((d) => [d.kind, d.offset, d.bytes]), [['damaged', offsets[1], 200]]);
    assert.deepEqual(first.records.map(idOf), [...trail.slice(0, 11), ...trail.slice(22)].map(idOf));
    // A block of the reserved type 3: the decoder refuses it.
    const corrupt = archive(frames);
    corrupt[offsets[1]! + 4 + 9] = 0x07;
    const second = read(write('corrupt-block.zst', corrupt));
    assert.deepEqual(second.damage.map((d) => [d.kind, d.offset]), [['damaged', offsets[1]]]);
    assert.match(second.damage[0]!.reason, /^not a zstd frame/);
    assert.equal(second.records.length, trail.length - 11);
  });

  it('a frame that decodes to something other than OTLP/JSON is damage of its own frame; alignment is kept', () => {
    const { records, damage } = read(write('not-json.zst', archive([frames[0]!, rawFrame(Buffer.from('{"resourceLogs": [')), frames[2]!])));
    assert.deepEqual(damage.map((d) => [d.kind, d.offset, d.reason]), [['damaged', offsets[1], 'frame 2 is not JSON']]);
    assert.equal(records.length, 11 + trail.slice(22).length);
  });

  it('a write cut short at the end of the file is a torn tail: a note, and without onDamage no error (a file still being written)', () => {
    const whole = archive(frames);
    for (const cut of [offsets[2]! + 2, offsets[2]! + 50, whole.length - 1]) {
      const path = write(`tail-${cut}.zst`, whole.subarray(0, cut));
      const { records, damage } = read(path);
      assert.deepEqual(damage.map((d) => [d.kind, d.offset, d.bytes]), [['torn-tail', offsets[2], cut - offsets[2]!]]);
      assert.equal(records.length, 22);
      assert.equal(readTrail(path).length, 22);
    }
    // Zeros a crash left after the last write (the file grew, its data never came).
    const zeros = read(write('zeros.zst', Buffer.concat([whole, Buffer.alloc(4096)])));
    assert.deepEqual(zeros.damage.map((d) => [d.kind, d.offset, d.bytes]), [['torn-tail', whole.length, 4096]]);
  });

  it('without onDamage, damage in the middle is an error naming the file and offset', () => {
    const bytes = archive(frames);
    bytes.writeUInt32BE(0xffffffff, offsets[1]!);
    const path = write('throws.zst', bytes);
    assert.throws(() => readTrail(path), new RegExp(`damaged frame in ${path.replaceAll('/', '\\/')} at offset ${offsets[1]}: a length of 4294967295 bytes`));
  });

  it('no frame is decompressed beyond the cap: a declared size beyond it is refused before decoding, an undeclared one stopped at it', () => {
    const cap = 1024 * 1024;
    const before = process.memoryUsage();
    const declared = read(write('declared.zst', archive([rawFrame(Buffer.from('{}'), 0xfffffff0), frames[0]!])), cap);
    const bomb = read(write('bomb.zst', archive([rleFrame(400), frames[0]!])), cap);
    const after = process.memoryUsage();
    assert.match(declared.damage[0]!.reason, new RegExp(`^a zstd frame of more than ${cap} bytes decompressed \\(the cap\\); reading resumed`));
    assert.match(bomb.damage[0]!.reason, new RegExp(`^decompresses to more than ${cap} bytes \\(the cap\\); reading resumed`));
    for (const result of [declared, bomb]) assert.equal(result.records.length, 11, 'the frame after it is read');
    // 400 blocks of 128 KiB would be 50 MiB; the declared size 4 GiB.
    assert.ok(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers < 16 * 2 ** 20);
  });

  it('a file of frames whose first one is damaged is still read as an archive (by its name)', () => {
    const bytes = archive(frames);
    bytes.writeUInt32BE(0xffffffff, 0);
    const { records, damage } = read(write('first.zst', bytes));
    assert.deepEqual(damage.map((d) => [d.kind, d.offset]), [['damaged', 0]]);
    assert.equal(records.length, trail.length - 11);
  });
});

describe('line formats (OTLP/JSON lines, NDJSON, syslog)', () => {
  const lines = [trail.slice(0, 11), trail.slice(11, 22), trail.slice(22)].map(request);

  it('a damaged line in the middle is damage with its line and offset; the lines after it are read', () => {
    const text = `${lines[0]}\n${lines[1]!.slice(0, 100)}\n${lines[2]}\n`;
    const { records, damage } = read(write('middle.jsonl', text));
    assert.deepEqual(damage, [{ kind: 'damaged', file: join(dir, 'middle.jsonl'), offset: lines[0]!.length + 1, bytes: 100, line: 2, reason: 'not JSON' }]);
    assert.equal(records.length, 11 + trail.slice(22).length);
  });

  it('a last line without its newline that does not parse is a torn tail; so are zeros at the end', () => {
    const torn = read(write('torn.jsonl', `${lines[0]}\n${lines[1]!.slice(0, 100)}`));
    assert.deepEqual(torn.damage.map((d) => [d.kind, d.line, d.offset, d.bytes]), [['torn-tail', 2, lines[0]!.length + 1, 100]]);
    const zeros = read(write('zeros.jsonl', `${lines[0]}\n${'\0'.repeat(512)}`));
    assert.deepEqual(zeros.damage.map((d) => [d.kind, d.line, d.bytes]), [['torn-tail', 2, 512]]);
    assert.equal(zeros.records.length, 11);
  });

  it('a line longer than the cap is damage, never held whole; the next line is read', () => {
    const long = `{"result": {"_raw": "${'x'.repeat(3 * 1024 * 1024)}"}}`;
    const { records, damage } = read(write('long.jsonl', `${lines[0]}\n${long}\n${lines[2]}\n`), 1024 * 1024);
    assert.deepEqual(damage.map((d) => [d.kind, d.line, d.bytes, d.reason]), [['damaged', 2, long.length, 'a line of more than 1048576 bytes (the cap)']]);
    assert.equal(records.length, 11 + trail.slice(22).length);
  });

  it('a line that is no audit record in any format (another program in the syslog file) is a note of its own', () => {
    const { records, damage } = read(write('syslog.log', `<13>1 2026-01-01T00:00:00Z host cron 1 - - job started\n[audit@32473 audit.seq="1"] {"id":"a"}\n`));
    assert.deepEqual(damage.map((d) => [d.kind, d.line]), [['unrecognised', 1]]);
    assert.equal(records.length, 1);
  });

  it('an OTLP/JSON line of the wrong shape is damage, named', () => {
    const { damage } = read(write('shape.jsonl', `{"resourceLogs": 5}\n{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": {"a": 1}}]}]}]}\n`));
    assert.deepEqual(damage.map((d) => [d.line, d.reason]), [
      [1, 'not an audit record (resourceLogs is not a list)'],
      [2, 'not an audit record (a key-value list is not a list)'],
    ]);
  });
});

describe('otel-audit verify on a damaged archive', () => {
  const cli = async (args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', ...args, '--at', new Date(end).toISOString()]);
      return { code: 0, out: stdout };
    } catch (error) {
      return { code: (error as { code: number }).code, out: (error as { stdout: string }).stdout };
    }
  };

  it('damage in the middle is a finding (exit 1) named with file and offset; a torn tail alone is a note (exit 0)', async () => {
    const bytes = archive(frames);
    bytes.writeUInt32BE(0xffffffff, offsets[1]!);
    const damaged = write('cli-damaged.zst', bytes);
    const result = await cli([damaged]);
    assert.equal(result.code, 1);
    assert.match(result.out, new RegExp(`\\n {2}damaged frame in ${damaged.replaceAll('/', '\\/')} at offset ${offsets[1]}: a length of 4294967295 bytes, beyond the cap of 67108864; reading resumed at offset ${offsets[2]}\\n`));
    assert.match(result.out, /missing: 11 event\(s\): 11-21/);
    const tail = write('cli-tail.zst', archive(frames).subarray(0, offsets[2]! + 40));
    const torn = await cli([tail, write('cli-rest.jsonl', `${request(trail.slice(22))}\n`)]);
    assert.equal(torn.code, 0, torn.out);
    assert.match(torn.out, new RegExp(`\\n {2}note: torn tail in ${tail.replaceAll('/', '\\/')} at offset ${offsets[2]}: the last 40 byte\\(s\\) are a write cut short`));
  });
});

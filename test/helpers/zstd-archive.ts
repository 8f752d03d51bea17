// Collector-style zstd archives for the reader's tests, built without an encoder: each frame is
// valid zstd made of raw (uncompressed) or RLE blocks, which any decoder reads; and one frame of a
// real compressor (test/integrity/fixtures/otlp-request.json.zst: `zstd -19 --check` of one OTLP/JSON request of
// five records, a start checkpoint, three events and a final checkpoint), whose compressed blocks
// the fuzzing mutates.
import { readFileSync } from 'node:fs';

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const MAX_BLOCK = 128 * 1024;

/** A compressed frame from the zstd command line, and the JSON it holds. */
export const compressedFrame = readFileSync(new URL('../integrity/fixtures/otlp-request.json.zst', import.meta.url));

function blockHeader(size: number, type: 0 | 1, last: boolean): Buffer {
  const value = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]);
}

/** `data` as one zstd frame of raw blocks, single segment, its content size declared (or `declaredSize` instead). */
export function rawFrame(data: Buffer, declaredSize = data.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(declaredSize);
  const blocks: Buffer[] = [];
  for (let at = 0; at < data.length || blocks.length === 0; at += MAX_BLOCK) {
    const block = data.subarray(at, at + MAX_BLOCK);
    blocks.push(blockHeader(block.length, 0, at + MAX_BLOCK >= data.length), block);
  }
  // Frame header descriptor 0xa0: a 4-byte content size, single segment, no checksum, no dictionary.
  return Buffer.concat([MAGIC, Buffer.from([0xa0]), header, ...blocks]);
}

/** A frame of `blocks` RLE blocks of 128 KiB each (a small frame that decompresses to a lot), content size not declared, 128 KiB window. */
export function rleFrame(blocks: number): Buffer {
  const parts: Buffer[] = [MAGIC, Buffer.from([0x00, (17 - 10) << 3])];
  for (let i = 0; i < blocks; i++) parts.push(blockHeader(MAX_BLOCK, 1, i === blocks - 1), Buffer.from('x'));
  return Buffer.concat(parts);
}

/** Frames as the Collector's file exporter writes them: a 4-byte big-endian length before each. */
export function archive(frames: readonly Buffer[]): Buffer {
  return Buffer.concat(
    frames.flatMap((frame) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(frame.length);
      return [length, frame];
    }),
  );
}

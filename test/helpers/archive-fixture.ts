// Archive files as the Collector's file exporter writes them (4-byte big-endian length, then a
// zstd frame of one OTLP/JSON request), made without the Collector: each frame holds raw
// (uncompressed) blocks, which every zstd decoder reads (RFC 8878, section 3.1.1.2).
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { TrailRecord } from '../../src/integrity/trail.js';
import { otlpRequest } from '../../src/admin/replay.js';

const MAX_BLOCK = 128 * 1024;

/** A zstd frame of raw blocks: magic, a frame header with a 128 KiB window, the blocks. */
export function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let at = 0; at === 0 || at < data.length; at += MAX_BLOCK) {
    const block = data.subarray(at, at + MAX_BLOCK);
    const last = at + MAX_BLOCK >= data.length ? 1 : 0;
    const header = (block.length << 3) | last; // block type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

/** One length-prefixed frame holding `records` as one OTLP/JSON request. */
export function archiveFrame(records: readonly TrailRecord[]): Buffer {
  const frame = zstdRawFrame(Buffer.from(JSON.stringify(otlpRequest(records))));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(frame.length);
  return Buffer.concat([length, frame]);
}

/** Appends one frame (one export request) to an archive file. */
export function appendFrame(path: string, records: readonly TrailRecord[]): void {
  appendFileSync(path, archiveFrame(records));
}

/** A record with an id and an event time, and `padding` bytes of details. */
export function record(timestamp: number, padding = 0, id: string = randomUUID()): TrailRecord {
  return { body: { id, action: 'document.open', timestamp: new Date(timestamp).toISOString(), details: { padding: 'x'.repeat(padding) } }, attributes: { 'log.record.uid': id }, resource: { 'service.name': 'fixture' }, source: '' };
}

export const idOf = (r: TrailRecord) => (r.body as { id: string }).id;

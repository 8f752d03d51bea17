import { join } from 'node:path';
import type { FileSystem } from '../file-system.js';
import { ACK_FILE, readJsonFile, scanSegment, segmentName, segmentsOf, STREAM_FILE, type HeadReadBack, type Position } from './format.js';
import { tryLockSlot } from './lock.js';

/** What one slot holds, read without changing it (for `otel-audit spool` and orphan adoption). */
export interface SlotInspection {
  readonly slot: string;
  readonly streamId: string | undefined;
  readonly segments: readonly { name: string; bytes: number }[];
  /** Records not yet acknowledged by the collector. */
  readonly pending: number;
  /** Damaged regions (each skipped up to the next intact frame). */
  readonly corrupt: number;
  /** Whether a running process holds the slot now. */
  readonly inUse: boolean;
}

/** Reads a slot offline; `readBack` (the writer's) is handed the HEAD payloads and record headers of its unacknowledged segments, as at open. */
export function inspectSlot(fs: FileSystem, dir: string, readBack?: HeadReadBack): SlotInspection {
  const ack = readJsonFile<Position>(fs, join(dir, ACK_FILE)) ?? { seg: 0, offset: 0 };
  let pending = 0;
  let corrupt = 0;
  const segments: { name: string; bytes: number }[] = [];
  for (const seg of segmentsOf(fs, dir)) {
    const name = segmentName(seg);
    const buf = fs.readFileSync(join(dir, name));
    segments.push({ name, bytes: buf.length });
    if (seg < ack.seg) continue;
    const scan = scanSegment(buf, seg === ack.seg ? Math.min(ack.offset, buf.length) : 0, join(dir, name), readBack);
    pending += scan.pending;
    corrupt += scan.damage.length;
  }
  const lock = tryLockSlot(dir);
  lock?.release();
  return { slot: dir, streamId: readJsonFile<{ streamId: string }>(fs, join(dir, STREAM_FILE))?.streamId, segments, pending, corrupt, inUse: lock === undefined };
}

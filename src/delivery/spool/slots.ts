import { join } from 'node:path';
import { fsyncDirectory, PRIVATE_DIR_MODE, type FileSystem } from '../file-system.js';
import { SLOT, slotName } from './format.js';
import { inspectSlot } from './inspect.js';
import { canLockIn, tryLockSlot } from './lock.js';
import { Spool, type SpoolOptions } from './queue.js';

/** A slot that could not be claimed or opened. */
export class SpoolOpenError extends Error {
  override readonly name = 'SpoolOpenError';
}

/**
 * Claims a free slot of `spoolDir` (creating one when all are taken) and opens it. A new process
 * takes over the lowest free slot: its stream, head and backlog, which it delivers.
 */
export function openSpool(spoolDir: string, options: SpoolOptions): Spool {
  const { fs } = options;
  fs.mkdirSync(spoolDir, PRIVATE_DIR_MODE);
  const legacy = fs.readdirSync(spoolDir).filter((name) => /^\d{12}\.seg$/.test(name));
  if (legacy.length > 0) {
    throw new SpoolOpenError(
      `${spoolDir} holds ${legacy.length} segment(s) in the format of otel-audit 0.1; deliver them with otel-audit 0.1 (otel-audit spool --replay) first`,
    );
  }
  for (let n = 0; ; n++) {
    const dir = join(spoolDir, slotName(n));
    const created = fs.mkdirSync(dir, PRIVATE_DIR_MODE);
    if (created) fsyncDirectory(fs, spoolDir);
    const lock = tryLockSlot(dir);
    if (!lock) {
      // A slot this call created is taken by a process that started at the same moment (cluster
      // workers do), unless the platform refuses the lock itself: then no new slot would ever lock.
      if (created && !canLockIn(dir)) throw new SpoolOpenError(`cannot lock spool slot ${dir} (the platform refused the lock socket)`);
      continue;
    }
    try {
      return new Spool(dir, lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }
}

/** The slots of a spool directory, lowest first. */
export function slotsOf(fs: FileSystem, spoolDir: string): string[] {
  return fs
    .readdirSync(spoolDir)
    .filter((name) => SLOT.test(name))
    .sort()
    .map((name) => join(spoolDir, name));
}

/** Opens one given slot if it is free (an adopted slot, or the one `otel-audit spool --replay` delivers), else undefined. */
export function openSlot(dir: string, options: SpoolOptions): Spool | undefined {
  const lock = tryLockSlot(dir);
  if (!lock) return undefined;
  try {
    return new Spool(dir, lock, options);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/**
 * Free slots of `spoolDir` other than `own` that hold records no one delivers (a process died and
 * nothing took its slot over, or fewer processes run than before). The owner adopts them: it
 * delivers their backlog and releases them.
 */
export function orphanedSlots(fs: FileSystem, spoolDir: string, own: string): string[] {
  return slotsOf(fs, spoolDir).filter((dir) => {
    if (dir === own) return false;
    // Slots held by a process (its own, those it adopted, and every other writer's) are not read at all.
    const lock = tryLockSlot(dir);
    if (!lock) return false;
    lock.release();
    return inspectSlot(fs, dir).pending > 0;
  });
}

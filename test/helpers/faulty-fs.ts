// A file-system adapter over the real one that fails the calls a test chooses (ENOSPC, EIO,
// EMFILE...), and watches file descriptors: a write, sync or close on a descriptor the spool does
// not hold open is a violation (it would land in whatever file now owns that number).
import { statSync } from 'node:fs';
import { nodeFileSystem, type FileSystem } from '../../src/delivery/file-system.js';

export interface Faults {
  /** Error code thrown by writes (and fdatasync) while set. */
  write?: string;
  /** Error code of the asynchronous writes only (commit groups), after `asyncDelayMillis`; the synchronous ones (a new segment's HEAD) succeed. */
  asyncWrite?: string;
  asyncDelayMillis?: number;
  /** Error code thrown by `openSync` of paths matching `openMatch` while set. */
  open?: string;
  openMatch?: RegExp;
  /** Error code rejected by reads while set; cleared after `readTimes` failures when given. */
  read?: string;
  readTimes?: number;
}

export function errorOf(code: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected by the test`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

export function faultyFs(faults: Faults) {
  const open = new Set<number>();
  const violations: string[] = [];
  const directorySyncs: string[] = [];
  const pathOf = new Map<number, string>();
  const check = (fd: number, what: string): void => {
    if (!open.has(fd)) violations.push(`${what} on fd ${fd}, which the spool does not hold open`);
  };
  const fs: FileSystem = {
    ...nodeFileSystem,
    openSync(path, flags, mode) {
      if (faults.open && (!faults.openMatch || faults.openMatch.test(path))) throw errorOf(faults.open);
      const fd = nodeFileSystem.openSync(path, flags, mode);
      open.add(fd);
      pathOf.set(fd, path);
      return fd;
    },
    closeSync(fd) {
      check(fd, 'close');
      open.delete(fd);
      nodeFileSystem.closeSync(fd);
    },
    fsyncSync(fd) {
      check(fd, 'fsync');
      const path = pathOf.get(fd);
      if (path && statSync(path).isDirectory()) directorySyncs.push(path);
      nodeFileSystem.fsyncSync(fd);
    },
    writeSync(fd, data, position) {
      check(fd, 'write');
      if (faults.write) throw errorOf(faults.write);
      return nodeFileSystem.writeSync(fd, data, position);
    },
    async write(fd, data, offset, length, position) {
      check(fd, 'write');
      if (faults.write) throw errorOf(faults.write);
      if (faults.asyncWrite) {
        const code = faults.asyncWrite;
        await new Promise((resolve) => setTimeout(resolve, faults.asyncDelayMillis ?? 0));
        throw errorOf(code);
      }
      return nodeFileSystem.write(fd, data, offset, length, position);
    },
    async fdatasync(fd) {
      check(fd, 'fdatasync');
      if (faults.write) throw errorOf(faults.write);
      return nodeFileSystem.fdatasync(fd);
    },
    async read(fd, into, offset, length, position) {
      check(fd, 'read');
      if (faults.read) {
        const code = faults.read;
        if (faults.readTimes !== undefined && --faults.readTimes <= 0) delete faults.read;
        throw errorOf(code);
      }
      return nodeFileSystem.read(fd, into, offset, length, position);
    },
  };
  return { fs, violations, directorySyncs };
}

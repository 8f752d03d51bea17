import * as fs from 'node:fs';

/**
 * The file operations the spool uses, injected so that its recovery paths (ENOSPC, EIO, EMFILE,
 * torn tails, rotation) are table-tested by wrapping this adapter, without root, tmpfs or waits.
 * Synchronous calls run once, when a spool opens; the asynchronous ones are the hot path.
 */
export interface FileSystem {
  /** Creates `path` (and its parents) unless it exists; true when this call created it. */
  mkdirSync(path: string, mode: number): boolean;
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
  /** `durable`: fsynced before it returns. */
  writeFileSync(path: string, data: string, mode: number, durable: boolean): void;
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  fsyncSync(fd: number): void;
  writeSync(fd: number, data: Uint8Array, position: number): number;
  ftruncateSync(fd: number, length: number): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string): void;
  write(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  read(fd: number, into: Buffer, offset: number, length: number, position: number): Promise<number>;
}

export const nodeFileSystem: FileSystem = {
  mkdirSync: (path, mode) => fs.mkdirSync(path, { recursive: true, mode }) !== undefined,
  readdirSync: (path) => fs.readdirSync(path),
  readFileSync: (path) => fs.readFileSync(path),
  writeFileSync: (path, data, mode, durable) => fs.writeFileSync(path, data, { mode, flush: durable }),
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  writeSync: (fd, data, position) => fs.writeSync(fd, data, 0, data.length, position),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  renameSync: (from, to) => fs.renameSync(from, to),
  rmSync: (path) => fs.rmSync(path, { force: true }),
  write: (fd, data, offset, length, position) =>
    new Promise((resolve, reject) => fs.write(fd, data, offset, length, position, (error, written) => (error ? reject(error) : resolve(written)))),
  fdatasync: (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
  read: (fd, into, offset, length, position) =>
    new Promise((resolve, reject) => fs.read(fd, into, offset, length, position, (error, read) => (error ? reject(error) : resolve(read)))),
};

/** Makes a new, renamed or removed directory entry durable: fsync of the directory itself. */
export function fsyncDirectory(fsys: FileSystem, dir: string): void {
  const fd = fsys.openSync(dir, 'r');
  try {
    fsys.fsyncSync(fd);
  } finally {
    fsys.closeSync(fd);
  }
}

/** Private modes: spooled events hold emails, IP addresses and session ids. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

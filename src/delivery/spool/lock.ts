import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * An exclusive, OS-level lock on a spool slot directory, held for the life of the process and
 * released by the kernel when it exits, however it exits (SIGKILL included): a listening Unix
 * socket in Linux's abstract namespace, named after the directory's device and inode. `listen` on
 * a path binds synchronously, so a logger knows its slot before `createAuditLogger` returns;
 * `exclusive` keeps a cluster worker from delegating the bind to the primary process.
 * Elsewhere (no abstract namespace) the socket is a file in the slot directory, which a crashed
 * process leaves behind: such a slot stays claimed until the file is removed.
 * The same lock keeps a dead-letter file (`tryLockFile`) and a gateway's state directory
 * (`otel-audit gateway`) to one holder.
 */
export interface SlotLock {
  release(): void;
}

function lockAddress(dir: string): string {
  if (process.platform !== 'linux') return `${dir}/lock.sock`;
  const { dev, ino } = statSync(dir);
  const id = createHash('sha256').update(`${dev}:${ino}:${realpathSync(dir)}`).digest('hex').slice(0, 40);
  return `\0otel-audit-spool-${id}`;
}

/** Listens on `address`, synchronously; undefined when the bind failed (taken, or refused). */
function listenOn(address: string): Server | undefined {
  const server: Server = createServer((socket) => socket.destroy());
  // A failed bind is also emitted as an event on the next tick: nothing to do with it.
  server.on('error', () => undefined);
  server.listen({ path: address, exclusive: true });
  if (!server.listening) {
    server.close();
    return undefined;
  }
  server.unref();
  return server;
}

/** Claims the slot, or returns undefined when another holder (any process, this one included) has it. */
export function tryLockSlot(dir: string): SlotLock | undefined {
  const server = listenOn(lockAddress(dir));
  return server && { release: () => void server.close() };
}

/**
 * The same kind of lock on one file (a dead-letter file): named after its directory and name, so
 * that every process that writes or rewrites the file takes the same one. Throws when the
 * directory does not exist.
 */
export function tryLockFile(file: string): SlotLock | undefined {
  const address = process.platform === 'linux' ? `${lockAddress(dirname(file))}:${createHash('sha256').update(basename(file)).digest('hex').slice(0, 16)}` : `${file}.lock.sock`;
  const server = listenOn(address);
  return server && { release: () => void server.close() };
}

/**
 * Whether this process can take a lock in `dir` at all: a probe on an address of its own, which
 * no one else holds. False where the platform refuses the lock socket (a socket path longer than
 * it allows, a file system without sockets).
 */
export function canLockIn(dir: string): boolean {
  const address = process.platform === 'linux' ? `\0otel-audit-probe-${randomUUID()}` : `${dir}/probe-${process.pid}.sock`;
  const server = listenOn(address);
  if (!server) return false;
  server.close();
  if (process.platform !== 'linux') rmSync(address, { force: true });
  return true;
}

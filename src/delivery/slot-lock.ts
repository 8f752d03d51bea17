import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { realpathSync, statSync } from 'node:fs';

/**
 * An exclusive, OS-level lock on a spool slot directory, held for the life of the process and
 * released by the kernel when it exits, however it exits (SIGKILL included): a listening Unix
 * socket in Linux's abstract namespace, named after the directory's device and inode. `listen` on
 * a path binds synchronously, so a logger knows its slot before `createAuditLogger` returns;
 * `exclusive` keeps a cluster worker from delegating the bind to the primary process.
 * Elsewhere (no abstract namespace) the socket is a file in the slot directory, which a crashed
 * process leaves behind: such a slot stays claimed until the file is removed.
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

/** Claims the slot, or returns undefined when another holder (any process, this one included) has it. */
export function tryLockSlot(dir: string): SlotLock | undefined {
  const server: Server = createServer((socket) => socket.destroy());
  // A failed bind is also emitted as an event on the next tick: nothing to do with it.
  server.on('error', () => undefined);
  server.listen({ path: lockAddress(dir), exclusive: true });
  if (!server.listening) {
    server.close();
    return undefined;
  }
  server.unref();
  return { release: () => void server.close() };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Actor, AuditContext } from '../catalog/envelope.js';

/** Who and where, for every event logged while handling one request. */
export interface RequestAuditContext {
  readonly actor?: Actor;
  readonly context?: AuditContext;
}

const storage = new AsyncLocalStorage<RequestAuditContext>();

/**
 * Runs `fn` with `values` as the actor and context of every event it logs, through `await`,
 * timers and streams. Explicit `actor`/`context` passed to `logEvent` still win.
 */
export function runWithAuditContext<T>(values: RequestAuditContext, fn: () => T): T {
  return storage.run(values, fn);
}

/** The request's audit context, if `fn` runs inside `runWithAuditContext` (or the middleware). */
export function currentAuditContext(): RequestAuditContext | undefined {
  return storage.getStore();
}

/** Runs `fn` in the given request context, or outside any (internal: reports of deferred events). */
export function runInAuditContext<T>(values: RequestAuditContext | undefined, fn: () => T): T {
  return values ? storage.run(values, fn) : storage.exit(fn);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Actor, AuditContext } from '../catalog/envelope.js';

/** Who and where, for every event logged while handling one request. */
export interface RequestAuditContext {
  readonly actor?: Actor;
  readonly context?: AuditContext;
}

/**
 * What is stored: a copy of the values given, which `setAuditActor` changes in place, so that
 * everything the request logs afterwards (every continuation shares this one object) carries the
 * new actor, and nothing it logged before changes.
 */
type Stored = { actor?: Actor; context?: AuditContext };

const storage = new AsyncLocalStorage<Stored>();

/**
 * Runs `fn` with `values` as the actor and context of every event it logs, through `await`,
 * timers and streams. Explicit `actor`/`context` passed to `logEvent` still win.
 */
export function runWithAuditContext<T>(values: RequestAuditContext, fn: () => T): T {
  const stored: Stored = {};
  if (values.actor) stored.actor = values.actor;
  if (values.context) stored.context = values.context;
  return storage.run(stored, fn);
}

/**
 * From now on in the request whose context `target` is (what `currentAuditContext` returned):
 * `actor`, and `sessionId` as the context's session id when given. Internal: `setAuditActor`.
 */
export function replaceAuditActor(target: RequestAuditContext, actor: Actor, sessionId: string | undefined): void {
  const stored = target as Stored;
  stored.actor = actor;
  if (sessionId !== undefined) stored.context = { ...stored.context, session_id: sessionId };
}

/** The request's audit context, if `fn` runs inside `runWithAuditContext` (or the middleware). */
export function currentAuditContext(): RequestAuditContext | undefined {
  return storage.getStore();
}

/** Runs `fn` in the given request context, or outside any (internal: reports of deferred events). */
export function runInAuditContext<T>(values: RequestAuditContext | undefined, fn: () => T): T {
  return values ? storage.run(values, fn) : storage.exit(fn);
}

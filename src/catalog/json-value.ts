import { z } from 'zod';

/** A value that survives JSON and OTLP `AnyValue` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Deeper nesting than this is refused: no audit detail needs it, and it bounds the walk. */
const MAX_DEPTH = 64;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Whether `value` is plain JSON data: finite numbers, plain objects and arrays, no cycles.
 * Bounded in depth and checked against its ancestors, so a cyclic or hostile object can neither
 * loop nor overflow the stack. Runs on every event (the output of validation): a plain recursive
 * walk with an array of ancestors, which for audit-sized data is faster than a Set.
 */
export function isJsonValue(value: unknown): value is JsonValue {
  return isJson(value, [], false);
}

/**
 * `isJsonValue`, where an object member may also be undefined (absent in JSON, as JSON.stringify,
 * the canonical writer and the encoder leave it out): what an optional field left undefined in
 * validated output looks like (`{ session_id: req.sessionID }` without a session).
 */
export function isJsonOutput(value: unknown): boolean {
  return isJson(value, [], true);
}

function isJson(node: unknown, ancestors: object[], undefinedMembers: boolean): boolean {
  switch (typeof node) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(node);
    case 'object': {
      if (node === null) return true;
      if (ancestors.length > MAX_DEPTH || ancestors.includes(node)) return false;
      const isArray = Array.isArray(node);
      if (!isArray && !isPlainObject(node)) return false;
      ancestors.push(node);
      let ok = true;
      if (isArray) {
        for (const child of node as unknown[]) if (!(ok = isJson(child, ancestors, undefinedMembers))) break;
      } else {
        for (const key of Object.keys(node)) {
          const member = (node as Record<string, unknown>)[key];
          if (member === undefined && undefinedMembers) continue;
          if (!(ok = isJson(member, ancestors, undefinedMembers))) break;
        }
      }
      ancestors.pop();
      return ok;
    }
    default:
      return false;
  }
}

/** zod schema for an arbitrary JSON value (the reference catalog's `any`). */
export const jsonValue = z.custom<JsonValue>(isJsonValue, {
  message: 'Expected a JSON value (plain objects, arrays, strings, finite numbers, booleans or null; no cycles)',
});

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
 * Iterative with an ancestor set, so a cyclic or hostile object can neither loop nor overflow the stack.
 */
export function isJsonValue(value: unknown): value is JsonValue {
  const ancestors = new Set<object>();
  const walk = (node: unknown, depth: number): boolean => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return true;
      case 'number':
        return Number.isFinite(node);
      case 'object': {
        if (node === null) return true;
        if (depth > MAX_DEPTH || ancestors.has(node)) return false;
        const isArray = Array.isArray(node);
        if (!isArray && !isPlainObject(node)) return false;
        ancestors.add(node);
        const children = isArray ? (node as unknown[]) : Object.values(node);
        const ok = children.every((child) => walk(child, depth + 1));
        ancestors.delete(node);
        return ok;
      }
      default:
        return false;
    }
  };
  return walk(value, 0);
}

/** zod schema for an arbitrary JSON value (the reference catalog's `any`). */
export const jsonValue = z.custom<JsonValue>(isJsonValue, {
  message: 'Expected a JSON value (plain objects, arrays, strings, finite numbers, booleans or null; no cycles)',
});

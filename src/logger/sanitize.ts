import { setJsonMember } from '../integrity/canonical-json.js';

/** Longest string kept in an invalid event; the rest is cut, with a note of how much. */
const MAX_STRING = 64 * 1024;
const MAX_DEPTH = 32;

/**
 * A JSON-safe copy of anything an application passed, for events that failed validation: cycles,
 * functions, bigints, class instances, huge strings and hostile getters become plain data, so the
 * evidence is kept and nothing can throw later. Never used on the valid path.
 */
export function toJsonSafe(value: unknown, depth = 0, ancestors = new Set<object>()): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING
        ? `${value.slice(0, MAX_STRING).toWellFormed()}…[${value.length - MAX_STRING} characters cut]`
        : value.toWellFormed();
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'undefined':
      return null;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  ancestors.add(object);
  try {
    if (Array.isArray(object)) return object.slice(0, 10_000).map((item) => toJsonSafe(item, depth + 1, ancestors));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(object).slice(0, 10_000)) {
      let member: unknown;
      try {
        member = (object as Record<string, unknown>)[key];
      } catch (error) {
        member = `[getter threw: ${String(error)}]`;
      }
      if (member !== undefined) setJsonMember(out, key.toWellFormed(), toJsonSafe(member, depth + 1, ancestors));
    }
    return out;
  } catch (error) {
    return `[unreadable: ${String(error)}]`;
  } finally {
    ancestors.delete(object);
  }
}

/** `String(value)` that cannot throw (a hostile `toString` included). */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

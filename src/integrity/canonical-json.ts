/** Thrown inside `sortedCopy` for a key JavaScript would reorder (see `canonicalJson`). */
class IntegerLikeKey extends Error {}

/**
 * The members of an object under the keys the receiver will see: a lone surrogate in a key becomes
 * U+FFFD (as on the wire, UTF-8) BEFORE the keys are sorted, so the order is that of the replaced
 * keys. Keys that become equal keep the last member in insertion order, as a receiver reading the
 * members in wire order does (and as `toJsonSafe` does). The object itself when every key is
 * well formed (the usual case: no copy).
 */
function wellFormedMembers(object: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(object);
  if (keys.every((key) => key.isWellFormed())) return object;
  const members: Record<string, unknown> = {};
  for (const key of keys) {
    const member = object[key];
    if (member !== undefined) setJsonMember(members, key.toWellFormed(), member);
  }
  return members;
}

/**
 * `object[key] = value`, where a key `__proto__` is a member like any other (as JSON.parse makes
 * it), not the object's prototype: an assignment would set the prototype and the member would
 * vanish, and a genuine event read back from a copy would no longer match its hash. Every reader
 * that builds JSON objects from outside data (OTLP key-value lists, SIEM fields) sets members with it.
 */
export function setJsonMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

/**
 * A copy with every object's keys inserted in UTF-16 code-unit order, so that the native
 * JSON.stringify writes RFC 8785 order in one fast pass. Lone surrogates become U+FFFD, as they
 * will on the wire (UTF-8): hash what the receiver will see.
 */
function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? value : value.toWellFormed();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot represent ${value}`);
      return value;
    case 'boolean':
    case 'undefined':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(sortedCopy);
      const members = wellFormedMembers(value as Record<string, unknown>);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(members).sort()) {
        const first = key.charCodeAt(0);
        // JavaScript objects list integer-like keys first, whatever the insertion order.
        if (first >= 48 && first <= 57) throw new IntegerLikeKey();
        setJsonMember(out, key, sortedCopy(members[key]));
      }
      return out;
    }
    default:
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
  }
}

/** The slow path, member by member, for objects with integer-like keys. */
function serialize(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(sortedCopy(value));
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : serialize(item))).join(',')}]`;
  const members = wellFormedMembers(value as Record<string, unknown>);
  const written: string[] = [];
  for (const key of Object.keys(members).sort()) {
    const member = members[key];
    if (member !== undefined) written.push(`${JSON.stringify(key)}:${serialize(member)}`);
  }
  return `{${written.join(',')}}`;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme) for plain JSON data: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them (which is
 * what RFC 8785 specifies). Throws on values JSON cannot represent; callers pass validated data.
 */
export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(sortedCopy(value));
  } catch (error) {
    if (error instanceof IntegerLikeKey) return serialize(value);
    throw error;
  }
}

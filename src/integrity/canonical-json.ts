/** Thrown inside `sortedCopy` for a key JavaScript would reorder (see `canonicalJson`). */
class IntegerLikeKey extends Error {}

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
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) {
        const first = key.charCodeAt(0);
        // JavaScript objects list integer-like keys first, whatever the insertion order.
        if (first >= 48 && first <= 57) throw new IntegerLikeKey();
        out[key.isWellFormed() ? key : key.toWellFormed()] = sortedCopy((value as Record<string, unknown>)[key]);
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
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) members.push(`${JSON.stringify(key.toWellFormed())}:${serialize(member)}`);
  }
  return `{${members.join(',')}}`;
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

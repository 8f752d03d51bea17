/**
 * RFC 8785 (JSON Canonicalization Scheme) for plain JSON data: object keys sorted by UTF-16 code
 * units, no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them (which is
 * what RFC 8785 specifies). Throws on values JSON cannot represent; callers pass validated data.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      // Lone surrogates become U+FFFD on the wire (UTF-8); hash what the receiver will see.
      return JSON.stringify(value.toWellFormed());
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot represent ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      // Default sort compares UTF-16 code units, exactly the order RFC 8785 asks for.
      const keys = Object.keys(value).sort();
      let out = '{';
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        if (out.length > 1) out += ',';
        out += `${JSON.stringify(key.toWellFormed())}:${canonicalJson(member)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
  }
}

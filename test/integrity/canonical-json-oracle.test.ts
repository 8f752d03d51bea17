// The chain's canonical JSON (canonicalJson, which every hash is taken over) against an
// independent RFC 8785 implementation, the `canonicalize` package, on well-formed JSON data: the
// same text, byte for byte. Where the two are not meant to agree, and why:
//   - a lone surrogate (in a string or a key): canonicalize refuses it; canonicalJson hashes what
//     a receiver gets over UTF-8, U+FFFD in its place, so it must equal canonicalize of that text;
//   - values that are not JSON data (NaN, Infinity, undefined at the top, a Date or anything with
//     toJSON, boxed primitives): the logger canonicalizes validated JSON data only, and zod
//     output that is not JSON is a counted drop before it gets here (test/delivery/guarantees.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { pieces, random, value } from '../helpers/random.js';

/**
 * Keys that catch a canonicalizer out: integer-like ones (JavaScript lists them first), `__proto__`
 * (a member, not the prototype), the empty key, prefixes of each other, and characters whose UTF-16
 * order (RFC 8785's) differs from their code-point order (an astral character sorts before U+FFFF).
 */
const KEYS = ['0', '1', '10', '9', '01', '-1', '1e3', '4294967295', '4294967296', '__proto__', '', 'a', 'ab', 'a b', 'A', 'é', 'e\u0301', '\uffff', '😀', '\ud7ff', '\ue000', 'ﬀ', 'key"quoted"', 'line\nbreak', '\u0000', '\u001f', '\u007f'];
const NUMBERS = [0, -0, 1, -1, 0.1, 0.1 + 0.2, 1e21, 1e-7, 1e-6, 123456789012345680000, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 5e-324, Number.MAX_VALUE, -1.5e300, 333333333.3333333, 4.35, 0.000001, 1 / 3];

/** An object whose members are set as JSON.parse sets them (`__proto__` included). */
function object(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, member] of entries) Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Well-formed JSON data with the tricky keys and numbers above, mixed with random.ts's values. */
function trickyValue(next: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  switch (Math.floor(next() * (depth > 3 ? 3 : 5))) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return pick(KEYS) + pick(pieces);
    case 2:
      return value(next, depth + 2);
    case 3:
      return Array.from({ length: Math.floor(next() * 4) }, () => trickyValue(next, depth + 1));
    default:
      return object(Array.from({ length: Math.floor(next() * 6) }, () => [pick(KEYS) + (next() < 0.3 ? pick(KEYS) : ''), next() < 0.1 ? undefined : trickyValue(next, depth + 1)] as const));
  }
}

/** A lone surrogate somewhere in the value: in a string, or in a key. */
function withLoneSurrogate(next: () => number, base: unknown): unknown {
  const lone = next() < 0.5 ? '\ud800' : '\udfff';
  if (next() < 0.5) return [base, `before${lone}after`];
  return object([[`key${lone}${Math.floor(next() * 1000)}`, base]]);
}

/** The value with every lone surrogate as U+FFFD: what a receiver reads back from UTF-8. */
function wellFormed(data: unknown): unknown {
  if (typeof data === 'string') return data.toWellFormed();
  if (Array.isArray(data)) return data.map(wellFormed);
  if (data !== null && typeof data === 'object') return object(Object.entries(data).map(([key, member]) => [key.toWellFormed(), wellFormed(member)] as const));
  return data;
}

describe('canonicalJson against the canonicalize package (RFC 8785)', () => {
  it('the same text for 20,000 random well-formed values (seeded) and each tricky key and number alone', () => {
    for (const key of KEYS) assert.equal(canonicalJson(object([[key, 1], ['z', [key]]])), canonicalize(object([[key, 1], ['z', [key]]])), JSON.stringify(key));
    for (const n of NUMBERS) assert.equal(canonicalJson({ n, list: [n] }), canonicalize({ n, list: [n] }), String(n));
    assert.equal(canonicalJson(object(KEYS.map((key, i) => [key, i]))), canonicalize(object(KEYS.map((key, i) => [key, i]))), 'every key in one object');
    const next = random(8785);
    for (let i = 0; i < 20_000; i++) {
      const data = trickyValue(next, 0);
      const expected = canonicalize(data);
      assert.equal(canonicalJson(data), expected, `value ${i}: ${expected}`);
    }
  });

  it('not meant to agree: a lone surrogate, which canonicalize refuses, is hashed as the U+FFFD a receiver reads (2,000 values)', () => {
    const next = random(65533);
    for (let i = 0; i < 2_000; i++) {
      const data = withLoneSurrogate(next, trickyValue(next, 1));
      assert.throws(() => canonicalize(data), /Lone surrogate/);
      assert.equal(canonicalJson(data), canonicalize(wellFormed(data)), `value ${i}`);
    }
  });
});

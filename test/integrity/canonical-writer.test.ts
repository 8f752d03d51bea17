// The canonical JSON writer compiled per action must give exactly what the general writer gives,
// for every catalog sample and for generated events: valid ones (seeded random values walked from
// each action's schema) and unusual ones (extra, inherited, hidden or mistyped members).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { eventSchemaFor } from '../../src/catalog/envelope.js';
import { jsonValue } from '../../src/catalog/json-value.js';
import { canonicalJson } from '../../src/integrity/canonical-json.js';
import { compileCanonicalWriter, outputIsDetached } from '../../src/integrity/canonical-writer.js';
import { sampleEvent } from '../helpers/fixtures.js';

/** mulberry32: a small seeded generator, so that a failure names its seed and replays. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

const NUMBERS = [0, -0, 1, -1, 42, 0.1, 4.5, 1e21, 1e-7, 5e-324, -1.7976931348623157e308, 9007199254740993, 333333333.33333329, 1e30];
const CHARS = ['a', 'Z', '0', '9', ' ', '"', '\\', '/', '\n', '\u0000', '\u001f', '\u007f', '\u0080', 'é', '\u2028', '€', '\ud83d\ude00', '\ud800', '\udfff', '\ufb33', '\ufffd'];

function text(r: Random): string {
  return Array.from({ length: r.int(8) }, () => r.pick(CHARS)).join('');
}

/** Any JSON value, with keys that sort in surprising ways (integer-like, surrogates, "__proto__"). */
function anyJson(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 6)) {
    case 0:
      return text(r);
    case 1:
      return r.pick(NUMBERS);
    case 2:
      return r.pick([true, false]);
    case 3:
      return null;
    case 4:
      return Array.from({ length: r.int(4) }, () => anyJson(r, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) out[r.pick(['b', 'a', '10', '9', '\ud800', '\ue000', 'é', '', text(r)])] = anyJson(r, depth + 1);
      return out;
    }
  }
}

/** A random value the schema accepts (mostly), walked from its zod definition. */
function valueOf(schema: z.ZodType, r: Random, depth = 0): unknown {
  const def = schema._zod.def as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'string':
      return def['format'] === 'uuid' ? crypto.randomUUID() : def['format'] === 'datetime' ? new Date(r.int(2e12)).toISOString() : text(r);
    case 'number':
      return r.pick(NUMBERS);
    case 'boolean':
      return r.pick([true, false]);
    case 'null':
      return null;
    case 'literal':
      return r.pick(def['values'] as unknown[]);
    case 'enum':
      return r.pick(Object.values(def['entries'] as Record<string, string>));
    case 'optional':
      return r.int(3) === 0 ? r.pick([undefined, 'absent']) : valueOf(def['innerType'] as z.ZodType, r, depth);
    case 'nullable':
      return r.int(3) === 0 ? null : valueOf(def['innerType'] as z.ZodType, r, depth);
    case 'union':
      return valueOf(r.pick(def['options'] as z.ZodType[]), r, depth);
    case 'array':
      return Array.from({ length: r.int(4) }, () => valueOf(def['element'] as z.ZodType, r, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      // Insertion order shuffled: the writer must not depend on it.
      const keys = Object.keys(def['shape'] as object).sort(() => r.next() - 0.5);
      for (const key of keys) {
        const value = valueOf((def['shape'] as Record<string, z.ZodType>)[key]!, r, depth + 1);
        if (value !== 'absent') out[key] = value;
      }
      return out;
    }
    default:
      return anyJson(r, depth);
  }
}

/** The same event made unusual in one place: what a writer compiled for the valid shape must not get wrong. */
function unusual(event: Record<string, unknown>, r: Random): unknown {
  const copy = structuredClone(event) as Record<string, Record<string, unknown>>;
  const target = r.pick([copy, copy['actor']!, copy['context']!, (copy['details'] ?? {}) as Record<string, unknown>]);
  switch (r.int(9)) {
    case 0:
      target[r.pick(['zzz', '0', 'extra', 'é'])] = anyJson(r);
      break;
    case 1:
      Object.defineProperty(target, 'hidden', { value: 1, enumerable: false });
      Object.defineProperty(target, 'user_agent', { value: 'not enumerable', enumerable: false });
      break;
    case 2:
      // Inherited members, and as many unknown own ones: a count of keys alone cannot tell.
      return Object.assign(Object.create({ action: 'inherited', context: { session_id: 'inherited' } }), { id: copy['id'], actor: copy['actor'], timestamp: copy['timestamp'], extra1: 1, extra2: 2 });
    case 3:
      copy['actor'] = r.pick([null, [], 'user', 7, { type: 'robot' }, { type: 'user' }]) as never;
      break;
    case 4:
      copy['timestamp'] = r.pick([7, null, {}, ['x'], Number.MAX_VALUE]) as never;
      break;
    case 5:
      target['session_id'] = undefined;
      target['name'] = undefined;
      break;
    case 6:
      copy['details'] = r.pick([[], [1, undefined, 2], 'text', null, new Date(0), anyJson(r)]) as never;
      break;
    case 7:
      return [copy, undefined, 3];
    default:
      target['site'] = { ...(target['site'] ?? {}), id: 1, extra: true };
  }
  return copy;
}

const actions = Object.keys(gristCatalog.actions) as (keyof typeof gristCatalog.actions)[];
/** Events the compiled writers handed whole to the general writer. */
let handedOver = 0;
const countingGeneral = (value: unknown) => (handedOver++, canonicalJson(value));
const writers = new Map(actions.map((action) => [action, compileCanonicalWriter(eventSchemaFor(action, gristCatalog.actions[action].details), countingGeneral)]));
const envelope = (action: string, r: Random) => valueOf(eventSchemaFor(action, z.unknown()), r) as Record<string, unknown>;

/** Both writers give the same text, or both throw. */
function assertSame(write: (event: unknown) => string, event: unknown, seed: number): void {
  let expected: string | undefined;
  let expectedError: unknown;
  try {
    expected = canonicalJson(event);
  } catch (error) {
    expectedError = error;
  }
  if (expectedError) assert.throws(() => write(event), `seed ${seed}: the general writer throws, so must the compiled one`);
  else assert.equal(write(event), expected, `seed ${seed}`);
}

describe('compileCanonicalWriter', () => {
  it('writes every catalog sample exactly as the general writer does, by itself', () => {
    handedOver = 0;
    for (const action of actions) {
      const event = { ...sampleEvent, action, details: gristCatalog.actions[action].sample };
      assert.ok(eventSchemaFor(action, gristCatalog.actions[action].details).safeParse(event).success, action);
      assert.equal(writers.get(action)!(event), canonicalJson(event), action);
    }
    assert.equal(handedOver, 0);
  });

  it('writes 20,000 generated valid events (seeded) as the general writer does, by itself', () => {
    handedOver = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const r = random(seed);
      const action = r.pick(actions);
      const schema = eventSchemaFor(action, gristCatalog.actions[action].details);
      const event = valueOf(schema, r);
      assertSame(writers.get(action)!, event, seed);
    }
    assert.equal(handedOver, 0, 'a valid event never needs the general writer whole');
  });

  it('gives generated unusual input (extra, inherited, hidden or mistyped members) to the general writer: same result', () => {
    handedOver = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const r = random(seed);
      const action = r.pick(actions);
      const event = { ...envelope(action, r), details: valueOf(gristCatalog.actions[action].details, r) };
      assertSame(writers.get(action)!, unusual(event, r), seed);
    }
    assert.ok(handedOver > 10_000, `${handedOver} handed over`);
  });

  it('compiles shapes the catalog does not use: records, loose objects, integer-like and odd keys, nested nullables, jsonValue', () => {
    const schema = z.strictObject({
      '10': z.number(),
      '9': z.string(),
      '\ud800': z.boolean().optional(),
      __proto__: z.number().optional(),
      tags: z.record(z.string(), z.number()),
      loose: z.looseObject({ b: z.number(), a: z.number() }),
      maybe: z.array(z.strictObject({ y: z.number(), x: z.string().nullable() }).nullable()).optional(),
      any: jsonValue,
      pair: z.tuple([z.string(), z.number()]),
      mixed: z.union([z.strictObject({ k: z.string() }), z.array(z.number())]),
    });
    const write = compileCanonicalWriter(schema);
    for (let seed = 1; seed <= 5_000; seed++) {
      const r = random(seed);
      const value = valueOf(schema, r) as Record<string, unknown>;
      if (r.int(2)) (value['loose'] as Record<string, unknown>)['c'] = 1;
      // Undefined items and holes are null in JSON.
      if (Array.isArray(value['maybe']) && r.int(2)) (value['maybe'] as unknown[]).push(undefined, ...(r.int(2) ? [null] : []));
      if (Array.isArray(value['maybe']) && r.int(2)) (value['maybe'] as unknown[]).length += 1;
      assertSame(write, value, seed);
    }
  });

  it('a polluted Object.prototype does not leak into what the compiled writer writes', () => {
    const event = { ...sampleEvent, action: 'document.create', details: { document: { id: 'd', name: 'n' } } };
    const proto = Object.prototype as Record<string, unknown>;
    proto['user_agent'] = 'polluted';
    try {
      assert.equal(writers.get('document.create')!(event), canonicalJson(event));
      assert.ok(!writers.get('document.create')!(event).includes('polluted'));
    } finally {
      delete proto['user_agent'];
    }
  });
});

describe('outputIsDetached: zod builds the output anew, as JSON data, so an event may wait after the call', () => {
  const cases: [string, z.ZodType, boolean][] = [
    ['strict object of strings, numbers, booleans, nulls', z.strictObject({ a: z.string(), b: z.number(), c: z.boolean(), d: z.null() }), true],
    ['stripping object, arrays, optional, nullable, union', z.object({ a: z.array(z.union([z.string(), z.int()])).optional(), b: z.string().nullable() }), true],
    ['JSON literals and enums', z.strictObject({ kind: z.literal('user'), level: z.enum(['low', 'high']) }), true],
    ['jsonValue hands the caller\'s value through', z.strictObject({ value: jsonValue }), false],
    ['a record', z.strictObject({ tags: z.record(z.string(), z.string()) }), false],
    ['a loose object keeps unknown members as they are', z.looseObject({ a: z.string() }), false],
    ['a transform may return anything', z.string().transform((s) => ({ s })), false],
    ['a default', z.string().default('x'), false],
    ['a date is not JSON', z.strictObject({ at: z.date() }), false],
    ['a bigint literal is not JSON', z.literal(1n), false],
    ['nor inside a union or nullable', z.strictObject({ a: z.union([z.literal(1n), z.literal(2n)]), b: z.literal(3n).nullable() }), false],
    ['an overwrite may return the caller\'s object', z.strictObject({ a: z.string() }).overwrite((value) => value), false],
    ['a custom check may set the value', z.strictObject({ a: z.string().refine((s) => s.length > 0) }), false],
    ['formats and length checks only check', z.strictObject({ email: z.email(), name: z.string().min(1).max(100) }), true],
  ];
  for (const [name, schema, expected] of cases) it(`${name}: ${expected}`, () => assert.equal(outputIsDetached(schema), expected));

  it('holds for 37 of the 40 reference actions (the config ones carry jsonValue)', () => {
    const detached = Object.entries(gristCatalog.actions).filter(([action, definition]) => outputIsDetached(eventSchemaFor(action, definition.details)));
    assert.equal(detached.length, 37);
    assert.ok(detached.every(([action]) => !action.startsWith('config.')));
  });
});

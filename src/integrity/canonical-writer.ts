import type { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/** Writes the canonical JSON (RFC 8785) of a value that is not undefined. */
type Writer = (value: unknown) => string;

/**
 * Thrown inside a compiled writer when a value is not of the shape it was compiled for (a wrong
 * type; an unknown, inherited or non-enumerable key): the general writer takes the whole event.
 * One frozen object, so throwing it costs no stack trace.
 */
const UNUSUAL = Object.freeze({ unusual: true });

/** Anything the compiled writers do not know: the general writer, on this value alone (canonical JSON composes). */
const general: Writer = (value) => canonicalJson(value);

/** Strings (lone surrogates as U+FFFD, as the general writer), finite numbers, booleans and null. */
const primitive: Writer = (value) => {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.isWellFormed() ? value : value.toWellFormed());
    case 'number':
      if (!Number.isFinite(value)) throw UNUSUAL;
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value === null) return 'null';
      throw UNUSUAL;
  }
};

const PRIMITIVE_TYPES = new Set(['string', 'number', 'boolean', 'null', 'literal', 'enum']);

function isPrimitive(schema: z.ZodType): boolean {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType; options?: readonly z.ZodType[] };
  if (PRIMITIVE_TYPES.has(def.type)) return true;
  if (def.type === 'nullable' || def.type === 'readonly') return isPrimitive(def.innerType!);
  if (def.type === 'union') return def.options!.every(isPrimitive);
  return false;
}

/** Own and enumerable: a member `Object.keys`, and so the general writer, sees. */
const isMember = Object.prototype.propertyIsEnumerable;

/** Members in UTF-16 code-unit order of their keys; the value must have no other own enumerable key. */
function objectWriter(shape: Readonly<Record<string, z.ZodType>>): Writer {
  const keys = Object.keys(shape);
  // Keys the receiver would see otherwise (lone surrogates), or that JavaScript treats specially: the general writer.
  if (keys.some((key) => !key.isWellFormed() || key === '__proto__')) return general;
  const members = keys.sort().map((key) => ({ key, name: `${JSON.stringify(key)}:`, write: compile(shape[key]!) }));
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw UNUSUAL;
    const object = value as Record<string, unknown>;
    let out = '';
    // Own members seen, written or undefined (which JSON leaves out).
    let present = 0;
    for (const member of members) {
      const item = object[member.key];
      if (item === undefined) {
        if (isMember.call(object, member.key)) present++;
        continue;
      }
      // Inherited (a prototype's getter, a polluted Object.prototype) or not enumerable: not a member in JSON.
      if (!isMember.call(object, member.key)) throw UNUSUAL;
      out += out === '' ? member.name : `,${member.name}`;
      out += member.write(item);
      present++;
    }
    // Members the schema does not know (a loose object, input that was not validated): the general writer.
    if (Object.keys(object).length !== present) throw UNUSUAL;
    return `{${out}}`;
  };
}

function arrayWriter(element: z.ZodType): Writer {
  const write = compile(element);
  return (value) => {
    if (!Array.isArray(value)) throw UNUSUAL;
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += item === undefined ? 'null' : write(item);
    }
    return `${out}]`;
  };
}

/** A union of objects told apart by one literal member: the writer of the option the value names. */
function discriminatedWriter(discriminator: string, options: readonly z.ZodType[]): Writer {
  const byValue = new Map<unknown, Writer>();
  for (const option of options) {
    const def = option._zod.def as { type: string; shape?: Record<string, z.ZodType> };
    const literal = def.shape?.[discriminator]?._zod.def as { type: string; values?: readonly unknown[] } | undefined;
    if (def.type !== 'object' || literal?.type !== 'literal') return general;
    const write = objectWriter(def.shape!);
    for (const value of literal.values!) byValue.set(value, write);
  }
  return (value) => {
    const write = typeof value === 'object' && value !== null ? byValue.get((value as Record<string, unknown>)[discriminator]) : undefined;
    if (!write) throw UNUSUAL;
    return write(value);
  };
}

function compile(schema: z.ZodType): Writer {
  const def = schema._zod.def as {
    type: string;
    shape?: Record<string, z.ZodType>;
    element?: z.ZodType;
    innerType?: z.ZodType;
    options?: readonly z.ZodType[];
    discriminator?: string;
  };
  if (isPrimitive(schema)) return primitive;
  switch (def.type) {
    case 'object':
      return objectWriter(def.shape!);
    case 'array':
      return arrayWriter(def.element!);
    case 'optional':
    case 'readonly':
      // Undefined never reaches a writer: a member is skipped, an array item written as null.
      return compile(def.innerType!);
    case 'nullable': {
      const write = compile(def.innerType!);
      return (value) => (value === null ? 'null' : write(value));
    }
    case 'union':
      return def.discriminator === undefined ? general : discriminatedWriter(def.discriminator, def.options!);
    default:
      // Records, jsonValue and any, tuples, transforms...: keys or shapes unknown until the value is here.
      return general;
  }
}

/**
 * A canonical JSON writer compiled for one event schema (an action's `eventSchemaFor`): keys
 * sorted once, here, by UTF-16 code units, and each value written by its type, with no copy and no
 * sort per event. It gives exactly what `canonicalJson` gives for any input: a part the schema
 * leaves open (records, `jsonValue`, unions of objects) is written by the general writer, and an
 * input of another shape (a wrong type; unknown, inherited or non-enumerable keys) goes to the general
 * writer whole. `generalWriter` is that writer (tests count its calls).
 */
export function compileCanonicalWriter(eventSchema: z.ZodType, generalWriter: (value: unknown) => string = canonicalJson): (event: unknown) => string {
  const write = compile(eventSchema);
  return (event) => {
    if (event === undefined) return generalWriter(event);
    try {
      return write(event);
    } catch (error) {
      if (error === UNUSUAL) return generalWriter(event);
      throw error;
    }
  };
}

/** A literal or enum value JSON carries as it is. */
const isJsonPrimitive = (value: unknown): boolean => value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

/** Checks that may replace the value (`.overwrite()`, `.check()` setting `ctx.value`; `.refine()` is one of these too). */
const REPLACING_CHECKS = new Set(['overwrite', 'custom']);

/**
 * True when zod's output for `schema` is JSON data that shares no object with its input: strings,
 * (finite) numbers, booleans, null, JSON literals and enums, and objects (strict or stripping),
 * arrays and unions built of them, which zod builds anew, with no check that may replace a value.
 * Records, loose objects, `jsonValue`, transforms, defaults and such checks may hand the caller's
 * own objects through (which the caller could still change after the call), or output what JSON
 * cannot carry.
 */
export function outputIsDetached(schema: z.ZodType): boolean {
  const def = schema._zod.def as {
    type: string;
    checks?: readonly { _zod: { def: { check: string } } }[];
    values?: readonly unknown[];
    entries?: Record<string, unknown>;
    shape?: Record<string, z.ZodType>;
    catchall?: z.ZodType;
    element?: z.ZodType;
    innerType?: z.ZodType;
    options?: readonly z.ZodType[];
  };
  if (def.checks?.some((check) => REPLACING_CHECKS.has(check._zod.def.check))) return false;
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return true;
    case 'literal':
      return def.values!.every(isJsonPrimitive);
    case 'enum':
      return Object.values(def.entries!).every(isJsonPrimitive);
    case 'object':
      return (def.catchall === undefined || def.catchall._zod.def.type === 'never') && Object.values(def.shape!).every(outputIsDetached);
    case 'array':
      return outputIsDetached(def.element!);
    case 'optional':
    case 'nullable':
    case 'readonly':
      return outputIsDetached(def.innerType!);
    case 'union':
      return def.options!.every(outputIsDetached);
    default:
      return false;
  }
}

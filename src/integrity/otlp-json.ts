import { setJsonMember } from './canonical-json.js';

/** OTLP/JSON `AnyValue`, as the Collector's file exporter and OTLP/JSON requests write it. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/** Thrown for OTLP/JSON of the wrong shape (a copy's bytes are outside data): the reader reports where. */
export class OtlpShapeError extends Error {
  override readonly name = 'OtlpShapeError';
}

/** The items of a repeated field: absent is empty, anything but a list is damage. */
export function listOf<T>(value: unknown, what: string): readonly T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpShapeError(`${what} is not a list`);
  return value as T[];
}

/** Plain JavaScript data from an OTLP `AnyValue` (ints as numbers, bytes as base64 strings). */
export function fromAnyValue(value: OtlpAnyValue | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw new OtlpShapeError('an AnyValue is not an object');
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return listOf<OtlpAnyValue>(value.arrayValue.values, 'arrayValue.values').map(fromAnyValue);
  if (value.kvlistValue) return fromKeyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

/** A key-value list as an object; a key `__proto__` is a member like any other (see `setJsonMember`). */
export function fromKeyValues(values: readonly OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of listOf<OtlpKeyValue>(values, 'a key-value list')) {
    if (typeof pair !== 'object' || pair === null || typeof pair.key !== 'string') throw new OtlpShapeError('a key-value pair without a string key');
    setJsonMember(out, pair.key, fromAnyValue(pair.value));
  }
  return out;
}

/** An OTLP `AnyValue` from plain JSON data (the inverse of `fromAnyValue`). */
export function toAnyValue(value: unknown): OtlpAnyValue {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
    default:
      if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
      if (value !== null && typeof value === 'object') return { kvlistValue: { values: toKeyValues(value as Record<string, unknown>) } };
      return {};
  }
}

/** Every own member, `__proto__` included (Object.entries lists it when it is a member, as JSON.parse makes it). */
export function toKeyValues(values: Readonly<Record<string, unknown>>): OtlpKeyValue[] {
  return Object.entries(values).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

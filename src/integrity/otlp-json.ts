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

/** Plain JavaScript data from an OTLP `AnyValue` (ints as numbers, bytes as base64 strings). */
export function fromAnyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(fromAnyValue);
  if (value.kvlistValue) return fromKeyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

export function fromKeyValues(values: readonly OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of values ?? []) out[key] = fromAnyValue(value);
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

export function toKeyValues(values: Readonly<Record<string, unknown>>): OtlpKeyValue[] {
  return Object.entries(values).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

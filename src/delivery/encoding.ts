import type { HrTime } from '@opentelemetry/api';
import type { AnyValue, LogAttributes, SeverityNumber } from '@opentelemetry/api-logs';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/**
 * A log record as the queue and the spool keep it: everything needed to send the exact same
 * record again after a restart (same body, attributes, timestamps, trace context). The resource
 * and scope are the sending process's own.
 */
interface StoredLogRecord {
  t: HrTime;
  o: HrTime;
  n?: SeverityNumber;
  s?: string;
  e?: string;
  b?: AnyValue;
  a: LogAttributes;
  /** trace id, span id, trace flags */
  c?: [string, string, number];
}

/** Bodies already serialized by the logger (their canonical JSON, made for the hash chain). */
const serializedBodies = new WeakMap<object, string>();

/** Lets `encodeRecord` reuse the JSON the logger already made of a body, instead of writing it twice. */
export function rememberSerializedBody(body: object, json: string): void {
  serializedBodies.set(body, json);
}

/** Serializes a record at emit time, so later changes to the caller's objects cannot alter it. */
export function encodeRecord(record: ReadableLogRecord): string {
  const body = record.body;
  const known = typeof body === 'object' && body !== null ? serializedBodies.get(body) : undefined;
  const stored: StoredLogRecord = {
    t: record.hrTime,
    o: record.hrTimeObserved,
    n: record.severityNumber,
    s: record.severityText,
    e: record.eventName,
    a: record.attributes,
  };
  if (known === undefined) stored.b = body;
  const span = record.spanContext;
  if (span) stored.c = [span.traceId, span.spanId, span.traceFlags];
  const json = JSON.stringify(stored);
  // Splices the body in as text: `{..."b":<json>}`.
  return known === undefined ? json : `${json.slice(0, -1)},"b":${known}}`;
}

export function decodeRecord(line: string, resource: Resource, scope: InstrumentationScope): ReadableLogRecord {
  const stored = JSON.parse(line) as StoredLogRecord;
  return {
    hrTime: stored.t,
    hrTimeObserved: stored.o,
    severityNumber: stored.n,
    severityText: stored.s,
    eventName: stored.e,
    body: stored.b,
    attributes: stored.a,
    spanContext: stored.c ? { traceId: stored.c[0], spanId: stored.c[1], traceFlags: stored.c[2] } : undefined,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
  };
}

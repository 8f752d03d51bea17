import { keyValue, type AttributeValue } from '../record/encoder.js';
import { LENGTH_DELIMITED, ProtoWriter, tag, varintSize } from '../record/protobuf.js';

/** The part of every request that names this process: resource attributes and scope. */
export interface Origin {
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly scope: { readonly name: string; readonly version: string };
}

/**
 * Frames encoded log records as one `ExportLogsServiceRequest` from `origin`. The resource and
 * scope bytes are written once per process and reused for every batch.
 */
export function requestFramer(origin: Origin): (records: readonly Uint8Array[]) => Uint8Array {
  const w = new ProtoWriter();
  w.varint(tag(1, LENGTH_DELIMITED));
  const resource = w.begin();
  for (const key of Object.keys(origin.resource)) keyValue(w, 1, key, origin.resource[key]);
  w.end(resource);
  const resourceField = w.take();
  w.reset();
  w.varint(tag(1, LENGTH_DELIMITED));
  const scope = w.begin();
  w.string(1, origin.scope.name);
  w.string(2, origin.scope.version);
  w.end(scope);
  const scopeField = w.take();

  return (records) => {
    let recordBytes = 0;
    for (const record of records) recordBytes += 1 + varintSize(record.length) + record.length;
    const scopeLogs = scopeField.length + recordBytes;
    const resourceLogs = resourceField.length + 1 + varintSize(scopeLogs) + scopeLogs;
    const out = new ProtoWriter();
    out.buf = Buffer.allocUnsafe(1 + varintSize(resourceLogs) + resourceLogs);
    out.varint(tag(1, LENGTH_DELIMITED));
    out.varint(resourceLogs);
    out.buf.set(resourceField, out.pos);
    out.pos += resourceField.length;
    out.varint(tag(2, LENGTH_DELIMITED));
    out.varint(scopeLogs);
    out.buf.set(scopeField, out.pos);
    out.pos += scopeField.length;
    for (const record of records) out.bytes(2, record);
    return out.buf;
  };
}

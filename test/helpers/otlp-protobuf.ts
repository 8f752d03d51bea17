// A minimal protobuf wire-format reader for OTLP ExportLogsServiceRequest, so tests can check what
// the protobuf exporter really put on the wire. Produces the OTLP/JSON shapes (camelCase), so both
// protocols are checked by the same assertions.
import type { OtlpAnyValue, OtlpKeyValue } from '../../src/integrity/otlp-json.js';

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 1) out.push({ no, wire, fixed: buf.subarray(pos, (pos += 8)) });
    else if (wire === 5) out.push({ no, wire, fixed: buf.subarray(pos, (pos += 4)) });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, bytes: buf.subarray(pos, (pos += len)) });
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (f: Field): string => f.bytes!.toString('utf8');

function anyValue(buf: Buffer): OtlpAnyValue {
  const value: OtlpAnyValue = {};
  for (const f of fields(buf)) {
    if (f.no === 1) value.stringValue = text(f);
    else if (f.no === 2) value.boolValue = f.varint !== 0n;
    else if (f.no === 3) value.intValue = BigInt.asIntN(64, f.varint!).toString();
    else if (f.no === 4) value.doubleValue = f.fixed!.readDoubleLE(0);
    else if (f.no === 5) value.arrayValue = { values: fields(f.bytes!).filter((g) => g.no === 1).map((g) => anyValue(g.bytes!)) };
    else if (f.no === 6) value.kvlistValue = { values: fields(f.bytes!).filter((g) => g.no === 1).map((g) => keyValue(g.bytes!)) };
    else if (f.no === 7) value.bytesValue = f.bytes!.toString('base64');
  }
  return value;
}

function keyValue(buf: Buffer): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '' };
  for (const f of fields(buf)) {
    if (f.no === 1) kv.key = text(f);
    else if (f.no === 2) kv.value = anyValue(f.bytes!);
  }
  return kv;
}

function logRecord(buf: Buffer): Record<string, unknown> {
  const record: Record<string, unknown> = { attributes: [] };
  for (const f of fields(buf)) {
    if (f.no === 1) record['timeUnixNano'] = f.fixed!.readBigUInt64LE(0).toString();
    else if (f.no === 11) record['observedTimeUnixNano'] = f.fixed!.readBigUInt64LE(0).toString();
    else if (f.no === 2) record['severityNumber'] = Number(f.varint);
    else if (f.no === 3) record['severityText'] = text(f);
    else if (f.no === 5) record['body'] = anyValue(f.bytes!);
    else if (f.no === 6) (record['attributes'] as OtlpKeyValue[]).push(keyValue(f.bytes!));
    else if (f.no === 9) record['traceId'] = f.bytes!.toString('hex');
    else if (f.no === 10) record['spanId'] = f.bytes!.toString('hex');
    else if (f.no === 12) record['eventName'] = text(f);
  }
  return record;
}

/** ExportLogsServiceRequest (protobuf) → `{ resourceLogs: [...] }` as OTLP/JSON would have it. */
export function decodeLogsRequest(buf: Buffer): { resourceLogs: Record<string, unknown>[] } {
  const resourceLogs = fields(buf)
    .filter((f) => f.no === 1)
    .map((rl) => {
      const out: Record<string, unknown> = { resource: { attributes: [] }, scopeLogs: [] };
      for (const f of fields(rl.bytes!)) {
        if (f.no === 1) {
          out['resource'] = { attributes: fields(f.bytes!).filter((g) => g.no === 1).map((g) => keyValue(g.bytes!)) };
        } else if (f.no === 2) {
          const scope: Record<string, unknown> = { logRecords: [] };
          for (const g of fields(f.bytes!)) {
            if (g.no === 1) {
              const s = fields(g.bytes!);
              scope['scope'] = { name: text(s.find((h) => h.no === 1)!), version: s.find((h) => h.no === 2) && text(s.find((h) => h.no === 2)!) };
            } else if (g.no === 2) (scope['logRecords'] as unknown[]).push(logRecord(g.bytes!));
          }
          (out['scopeLogs'] as unknown[]).push(scope);
        }
      }
      return out;
    });
  return { resourceLogs };
}

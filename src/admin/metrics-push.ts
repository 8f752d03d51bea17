// The Collector's own metrics, pushed: a periodic OTLP reader in the rendered config sends them to
// the panel, and its last push comes as the Collector's telemetry shuts down (at every reload and
// clean stop), after its exporters have stopped: the final counts of that run, which a scrape of
// the Prometheus endpoint can miss by the last sends. This release's reader speaks protobuf only
// (`http/json` passes validate but fails at start), so this reads the few messages it needs from
// the wire format, every length checked against what is left.
import { createServer, type Server } from 'node:http';

/** What one push says: the run it comes from (service.instance.id) and each exporter's metrics (`sent_log_records`, ...). */
export interface MetricsPush {
  readonly run: string | undefined;
  readonly exporters: Map<string, Record<string, number>>;
}

/** Bytes that are not the messages expected: the request is refused (400). */
export class MetricsDecodeError extends Error {
  override readonly name = 'MetricsDecodeError';
}

interface Field {
  readonly number: number;
  /** Varint and fixed64 values (as_int, bool, enum); doubles read from `bytes` (wire type 1). */
  readonly value?: bigint;
  readonly bytes?: Buffer;
}

/** Nesting of the messages read here is 6 deep; anything deeper is not one of them. */
const MAX_FIELDS = 1_000_000;

/** The fields of one message, in order. */
function fieldsOf(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buffer.length) throw new MetricsDecodeError('a varint runs past the end');
      const byte = buffer[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new MetricsDecodeError('a varint longer than 10 bytes');
  };
  const take = (length: number): Buffer => {
    if (length > buffer.length - pos) throw new MetricsDecodeError('a field runs past the end');
    const bytes = buffer.subarray(pos, pos + length);
    pos += length;
    return bytes;
  };
  while (pos < buffer.length) {
    if (fields.length >= MAX_FIELDS) throw new MetricsDecodeError('too many fields');
    const tag = varint();
    const number = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0:
        fields.push({ number, value: varint() });
        break;
      case 1: {
        const bytes = take(8);
        fields.push({ number, value: bytes.readBigInt64LE(0), bytes });
        break;
      }
      case 2: {
        const length = varint();
        if (length > BigInt(buffer.length - pos)) throw new MetricsDecodeError('a field runs past the end');
        fields.push({ number, bytes: take(Number(length)) });
        break;
      }
      case 5:
        take(4);
        break;
      default:
        throw new MetricsDecodeError(`wire type ${Number(tag & 7n)} is not used by these messages`);
    }
  }
  return fields;
}

const messages = (fields: readonly Field[], number: number): Buffer[] => fields.filter((f) => f.number === number && f.bytes && f.value === undefined).map((f) => f.bytes!);
const text = (fields: readonly Field[], number: number): string | undefined => {
  const bytes = messages(fields, number).at(-1);
  return bytes === undefined ? undefined : bytes.toString('utf8');
};

/** KeyValue { 1: key, 2: AnyValue { 1: string_value } }: the string attributes. */
function stringAttributes(list: readonly Buffer[]): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const keyValue of list) {
    const fields = fieldsOf(keyValue);
    const key = text(fields, 1);
    const value = messages(fields, 2).at(-1);
    const stringValue = value === undefined ? undefined : text(fieldsOf(value), 1);
    if (key !== undefined && stringValue !== undefined) attributes.set(key, stringValue);
  }
  return attributes;
}

/** NumberDataPoint { 4: as_double, 6: as_int, 7: attributes }. */
function dataPoint(bytes: Buffer): { exporter: string | undefined; value: number } | undefined {
  const fields = fieldsOf(bytes);
  const double = fields.findLast((f) => f.number === 4 && f.bytes?.length === 8);
  const integer = fields.findLast((f) => f.number === 6 && f.bytes?.length === 8);
  const value = double ? double.bytes!.readDoubleLE(0) : integer ? Number(integer.value) : undefined;
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return { exporter: stringAttributes(messages(fields, 7)).get('exporter'), value };
}

/** Decodes an ExportMetricsServiceRequest: the exporter metrics (`otelcol_exporter_*`) by exporter, summed over their other attributes. */
export function decodeMetricsPush(body: Buffer): MetricsPush {
  let run: string | undefined;
  const exporters = new Map<string, Record<string, number>>();
  for (const resourceMetrics of messages(fieldsOf(body), 1)) {
    const fields = fieldsOf(resourceMetrics);
    const resource = messages(fields, 1).at(-1);
    run ??= resource === undefined ? undefined : stringAttributes(messages(fieldsOf(resource), 1)).get('service.instance.id');
    for (const scopeMetrics of messages(fields, 2)) {
      for (const metric of messages(fieldsOf(scopeMetrics), 2)) {
        const metricFields = fieldsOf(metric);
        const name = /^otelcol_exporter_([a-z_]+)$/.exec(text(metricFields, 1) ?? '')?.[1];
        if (!name) continue;
        // 5: gauge, 7: sum; each holds its data points in field 1.
        for (const data of [...messages(metricFields, 5), ...messages(metricFields, 7)]) {
          for (const pointBytes of messages(fieldsOf(data), 1)) {
            const point = dataPoint(pointBytes);
            if (!point?.exporter) continue;
            const values = exporters.get(point.exporter) ?? {};
            values[name] = (values[name] ?? 0) + point.value;
            exporters.set(point.exporter, values);
          }
        }
      }
    }
  }
  return { run, exporters };
}

const MAX_BODY = 4 << 20;

/** A loopback OTLP/HTTP metrics receiver for the Collector's pushes; `endpoint` goes into its config. */
export async function startMetricsReceiver(onPush: (push: MetricsPush) => void): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      let status = 200;
      try {
        if (request.method !== 'POST' || request.url !== '/v1/metrics') status = 404;
        else onPush(decodeMetricsPush(Buffer.concat(chunks)));
      } catch {
        status = 400;
      }
      // An empty ExportMetricsServiceResponse: full success.
      response.writeHead(status, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}/v1/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

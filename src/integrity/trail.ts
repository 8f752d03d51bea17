import { readFileSync } from 'node:fs';
import { decompress } from 'fzstd';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from './otlp-json.js';
import { fromSiemCopy, recordOfCefLine, recordOfSiemJson } from './trail-siem.js';

/** One audit record as a destination kept it: the event (body) and the attributes that travelled with it. */
export interface TrailRecord {
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly eventName?: string;
  readonly timeUnixNano?: string;
  /** Where it was read: file and line (or frame) number. */
  readonly source: string;
}

type Json = Record<string, unknown>;

/** Records of one OTLP/JSON `ExportLogsServiceRequest` (a Collector file exporter line). */
function recordsOfOtlpJson(request: Json, source: string): TrailRecord[] {
  const out: TrailRecord[] = [];
  for (const rl of (request['resourceLogs'] as Json[] | undefined) ?? []) {
    const resource = fromKeyValues(((rl['resource'] as Json | undefined)?.['attributes'] as OtlpKeyValue[]) ?? []);
    for (const sl of (rl['scopeLogs'] as Json[] | undefined) ?? []) {
      for (const record of (sl['logRecords'] as Json[] | undefined) ?? []) {
        out.push(fromSiemCopy({
          body: fromAnyValue(record['body'] as OtlpAnyValue),
          attributes: fromKeyValues(record['attributes'] as OtlpKeyValue[]),
          resource,
          eventName: record['eventName'] as string | undefined,
          timeUnixNano: record['timeUnixNano'] as string | undefined,
          source,
        }));
      }
    }
  }
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The Collector file exporter with compression: 4-byte big-endian length, then a zstd frame of
 * OTLP/JSON. A frame cut short at the end is still being written: it is left for a later read.
 */
function* lengthPrefixedFrames(buf: Buffer): Generator<Buffer> {
  for (let pos = 0; pos + 4 <= buf.length; ) {
    const length = buf.readUInt32BE(pos);
    if (pos + 4 + length > buf.length) return;
    yield buf.subarray(pos + 4, pos + 4 + length);
    pos += 4 + length;
  }
}

/** A Splunk search export line (`{"result": {"_raw": ..., <fields>}}`), or a bare event with its fields. */
function recordOfSplunkResult(result: Json, source: string): TrailRecord {
  const { _raw: raw, ...fields } = result;
  const body = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (!key.startsWith('_')) attributes[key] = value;
  return fromSiemCopy({ body, attributes, resource: {}, source });
}

const SYSLOG_SD = /\[audit@32473 ([^\]]*)\]/;
const SD_PARAM = /([\w.]+)="((?:[^"\\]|\\.)*)"/g;

/**
 * A syslog line from the gateway's syslog pipeline: the event as JSON in MSG, the integrity
 * attributes in the `audit@32473` structured-data element.
 */
function recordOfSyslogLine(line: string, source: string): TrailRecord | undefined {
  const start = line.indexOf('{"');
  if (start === -1) return undefined;
  const attributes: Record<string, unknown> = {};
  const sd = SYSLOG_SD.exec(line.slice(0, start));
  for (const [, key, value] of sd?.[1]?.matchAll(SD_PARAM) ?? []) attributes[key!] = value!.replace(/\\(["\\\]])/g, '$1');
  return { body: JSON.parse(line.slice(start)) as unknown, attributes, resource: {}, source };
}

/**
 * Reads every audit record of a file a destination wrote: the Collector's file exporter output
 * (OTLP/JSON lines, or zstd-compressed frames), the HEC receiver's output (the same), NDJSON
 * exported from a Splunk search, or syslog lines carrying JSON.
 */
export function readTrail(path: string): TrailRecord[] {
  const buf = readFileSync(path);
  if (buf.length >= 8 && buf.readUInt32LE(4) === ZSTD_MAGIC) {
    let n = 0;
    return [...lengthPrefixedFrames(buf)].flatMap((frame) =>
      // A copy: fzstd reads the whole underlying ArrayBuffer of a view.
      recordsOfOtlpJson(JSON.parse(Buffer.from(decompress(new Uint8Array(frame))).toString('utf8')) as Json, `${path}#frame${++n}`),
    );
  }
  const out: TrailRecord[] = [];
  const lines = buf.toString('utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const source = `${path}:${index + 1}`;
    if (line.startsWith('{')) {
      let json: Json;
      try {
        json = JSON.parse(line) as Json;
      } catch (error) {
        // A last line without its newline may be one the destination is still writing; anywhere else it is damage.
        if (index === lines.length - 1) return;
        throw new Error(`${source}: not JSON (${(error as Error).message})`, { cause: error });
      }
      if (json['resourceLogs']) out.push(...recordsOfOtlpJson(json, source));
      else if (json['result']) out.push(recordOfSplunkResult(json['result'] as Json, source));
      else out.push(recordOfSiemJson(json, source) ?? recordOfSplunkResult(json, source));
    } else {
      const record = recordOfCefLine(line, source) ?? recordOfSyslogLine(line, source);
      if (record) out.push(record);
    }
  });
  return out;
}

import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { decompress } from 'fzstd';
import { fromAnyValue, fromKeyValues, type OtlpAnyValue, type OtlpKeyValue } from './otlp-json.js';
import { fromSiemCopy, recordOfCefMessage, recordOfSiemJson } from './trail-siem.js';

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
/** Bytes read from the file at a time: the reader holds about this much, whatever the file's size. */
const CHUNK_BYTES = 1 << 20;

/** The file's bytes, a chunk at a time (the buffer is reused: copy what must outlive the next step). */
function* chunksOf(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (read === 0) return;
      yield buffer.subarray(0, read);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The Collector file exporter with compression: 4-byte big-endian length, then a zstd frame of
 * OTLP/JSON. A frame cut short at the end is still being written: it is left for a later read.
 */
function* lengthPrefixedFrames(chunks: Iterable<Buffer>): Generator<Buffer> {
  let pending = Buffer.alloc(0);
  for (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
    let pos = 0;
    while (pos + 4 <= pending.length) {
      const length = pending.readUInt32BE(pos);
      if (pos + 4 + length > pending.length) break;
      yield pending.subarray(pos + 4, pos + 4 + length);
      pos += 4 + length;
    }
    pending = pending.subarray(pos);
  }
}

/** Lines of text with their numbers; `unterminated` for a last line without its newline. */
function* linesOf(chunks: Iterable<Buffer>): Generator<{ text: string; number: number; unterminated: boolean }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let number = 0;
  for (const chunk of chunks) {
    const text = pending + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield { text: text.slice(start, end), number: ++number, unterminated: false };
      start = end + 1;
    }
    pending = text.slice(start);
  }
  pending += decoder.end();
  if (pending !== '') yield { text: pending, number: ++number, unterminated: true };
}

/** A Splunk search export line (`{"result": {"_raw": ..., <fields>}}`), or a bare event with its fields. */
function recordOfSplunkResult(result: Json, source: string): TrailRecord {
  const { _raw: raw, ...fields } = result;
  const body = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (!key.startsWith('_')) attributes[key] = value;
  return fromSiemCopy({ body, attributes, resource: {}, source });
}

/** The SD-ID of the element the gateway's syslog pipeline writes the integrity attributes into. */
const AUDIT_SD_ID = 'audit@32473';
/** RFC 5424 HEADER: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID`, each field free of spaces. */
const SYSLOG_HEADER = /^<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ /;
/** SD-NAME: 1 to 32 printable US-ASCII characters but `=`, space, `]` and `"` (sticky: matched at lastIndex). */
const SD_NAME = /[!#-<>-\\^-~]{1,32}/y;

/**
 * RFC 5424 STRUCTURED-DATA at `text[at]`, by its grammar: `-`, or `[SD-ID *(SP NAME="VALUE")]`
 * elements where a VALUE escapes `"`, `\` and `]` with a backslash. Returns the elements and the
 * position after them, or undefined when the text does not follow the grammar.
 */
function parseStructuredData(text: string, at: number): { elements: Map<string, Record<string, string>[]>; end: number } | undefined {
  const elements = new Map<string, Record<string, string>[]>();
  if (text[at] === '-') return { elements, end: at + 1 };
  const name = (from: number): string | undefined => {
    SD_NAME.lastIndex = from;
    return SD_NAME.exec(text)?.[0];
  };
  let pos = at;
  while (text[pos] === '[') {
    const id = name(pos + 1);
    if (!id) return undefined;
    pos += 1 + id.length;
    const params: Record<string, string> = {};
    while (text[pos] === ' ') {
      const param = name(pos + 1);
      if (!param || text[pos + 1 + param.length] !== '=' || text[pos + 2 + param.length] !== '"') return undefined;
      pos += 3 + param.length;
      let value = '';
      for (;;) {
        const char = text[pos];
        if (char === undefined) return undefined;
        if (char === '"') break;
        if (char === '\\' && (text[pos + 1] === '"' || text[pos + 1] === '\\' || text[pos + 1] === ']')) {
          value += text[pos + 1];
          pos += 2;
        } else {
          // RFC 5424 section 6.3.3: a backslash before any other character is itself.
          value += char;
          pos++;
        }
      }
      params[param] = value;
      pos++;
    }
    if (text[pos] !== ']') return undefined;
    pos++;
    elements.set(id, [...(elements.get(id) ?? []), params]);
  }
  return pos === at ? undefined : { elements, end: pos };
}

/**
 * A syslog line from the gateway's syslog pipeline: a full RFC 5424 line, or what a daemon wrote
 * with a `%STRUCTURED-DATA% %msg%` template. The integrity attributes come from the one
 * `audit@32473` element of STRUCTURED-DATA, parsed by its grammar; the event is the JSON of MSG.
 * Nothing before STRUCTURED-DATA (MSGID included) or inside MSG can stand in for either. A line
 * with two `audit@32473` elements breaks RFC 5424: its record keeps no integrity attributes.
 */
function recordOfSyslogLine(line: string, source: string): TrailRecord | undefined {
  const header = SYSLOG_HEADER.exec(line);
  const sd = parseStructuredData(line, header ? header[0].length : 0);
  if (!sd || line[sd.end] !== ' ') return undefined;
  const message = line.slice(sd.end + 1).replace(/^\ufeff/, '');
  if (!message.startsWith('{')) return recordOfCefMessage(message, source);
  const audit = sd.elements.get(AUDIT_SD_ID);
  const attributes: Record<string, unknown> = audit?.length === 1 ? { ...audit[0] } : {};
  return { body: JSON.parse(message) as unknown, attributes, resource: {}, source };
}

/** The records of one line of a JSON-lines or syslog file. */
function recordsOfLine(line: string, source: string): TrailRecord[] {
  if (!line.startsWith('{')) {
    const record = recordOfSyslogLine(line, source);
    return record ? [record] : [];
  }
  const json = JSON.parse(line) as Json;
  if (json['resourceLogs']) return recordsOfOtlpJson(json, source);
  if (json['result']) return [recordOfSplunkResult(json['result'] as Json, source)];
  return [recordOfSiemJson(json, source) ?? recordOfSplunkResult(json, source)];
}

/**
 * Every audit record of a file a destination wrote, one at a time, reading the file a chunk at a
 * time (memory does not grow with the file): the Collector's file exporter output (OTLP/JSON
 * lines, or zstd-compressed frames), the HEC receiver's output (the same), NDJSON exported from a
 * Splunk search, or syslog lines carrying JSON. A last line or frame still being written is left
 * for a later read; a damaged line anywhere else is an error naming it.
 */
export function* streamTrail(path: string): Generator<TrailRecord> {
  const chunks = chunksOf(path);
  const first = chunks.next();
  if (first.done) return;
  const all = (function* () {
    yield first.value;
    yield* chunks;
  })();
  if (first.value.length >= 8 && first.value.readUInt32LE(4) === ZSTD_MAGIC) {
    let n = 0;
    for (const frame of lengthPrefixedFrames(all)) {
      // A copy: fzstd reads the whole underlying ArrayBuffer of a view.
      yield* recordsOfOtlpJson(JSON.parse(Buffer.from(decompress(new Uint8Array(frame))).toString('utf8')) as Json, `${path}#frame${++n}`);
    }
    return;
  }
  for (const { text, number, unterminated } of linesOf(all)) {
    if (text.trim() === '') continue;
    const source = `${path}:${number}`;
    let records: TrailRecord[];
    try {
      records = recordsOfLine(text, source);
    } catch (error) {
      // A last line without its newline may be one the destination is still writing; anywhere else it is damage.
      if (unterminated) return;
      throw new Error(`${source}: not JSON (${(error as Error).message})`, { cause: error });
    }
    yield* records;
  }
}

/** Every audit record of a file, in an array (see `streamTrail`, which reads without holding them all). */
export function readTrail(path: string): TrailRecord[] {
  return [...streamTrail(path)];
}

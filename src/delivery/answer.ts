import { isUtf8 } from 'node:buffer';
import { LENGTH_DELIMITED, ProtoDecodeError, ProtoReader, VARINT } from '../record/protobuf.js';

/**
 * What one export attempt came to. Every answer (and every failure to get one) is classified once,
 * here, into exactly one kind; the sender acts on the kind alone.
 * - `ack`: a 2xx carrying an OTLP `ExportLogsServiceResponse` (empty allowed) that rejects nothing.
 * - `partial`: the same, naming rejected records (it does not say which).
 * - `rejection`: the records are at fault: a 400 carrying an OTLP `google.rpc.Status` (a collector
 *   said so), a 413 of any kind (too large), or records that cannot be encoded for the protocol.
 * - `refusal`: something answered that is not a collector accepting OTLP, or one that refuses for
 *   a reason of configuration: every other 4xx, a redirect, and a 2xx that is not an OTLP response
 *   (an HTML page, garbage). Kept and retried; never delivered, never dead-lettered.
 * - `outage`: no answer (connection refused or reset, DNS, TLS, timeout), 408, 429, 5xx. Kept and retried.
 */
export type ExportOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'partial'; readonly rejected: number; readonly message: string }
  | { readonly kind: 'rejection'; readonly status: number | undefined; readonly message: string; readonly tooLarge: boolean }
  | { readonly kind: 'refusal'; readonly status: number | undefined; readonly message: string }
  | {
      readonly kind: 'outage';
      readonly status: number | undefined;
      readonly message: string;
      /** The server's Retry-After, in ms from now. */
      readonly retryAfterMillis: number | undefined;
      /** The answer names a size limit ("message too large"): the request is too large for something behind the collector. */
      readonly tooLarge: boolean;
    };

/** An HTTP answer as the transport read it. */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The body, or its first `RESPONSE_BODY_LIMIT` bytes when `truncated`. */
  readonly body: Buffer;
  /** The body was longer than `RESPONSE_BODY_LIMIT`: no OTLP answer is that long. */
  readonly truncated: boolean;
  readonly retryAfter: string | undefined;
  readonly location: string | undefined;
}

/** The longest answer body read (an OTLP answer is a few bytes; a longer one is not OTLP). */
export const RESPONSE_BODY_LIMIT = 64 * 1024;

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
/** What a size limit is called in the answers of collectors, proxies and brokers (Kafka's max_message_bytes). */
const SIZE_LIMIT = /too large|max_message_bytes|request entity|size limit/i;

/** Not the OTLP message expected: why, for the report. */
class NotOtlpError extends Error {}

const mediaTypeOf = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** A body's text for a report: printable, whitespace collapsed, at most 200 characters. */
function printable(body: Buffer): string {
  const text = body
    .toString('utf8', 0, Math.min(body.length, 1024))
    .replace(/[\u0000-\u001f\u007f-\u009f\ufffd]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const looksLikeHtml = (media: string, body: Buffer): boolean => media === 'text/html' || media === 'application/xhtml+xml' || (media === '' && /^\s*</.test(body.toString('utf8', 0, 64)));

/** What answered, in words: "an HTML page (text/html)", "an empty body", "a body of 2 bytes (application/x-protobuf)". */
function describeBody(answer: HttpAnswer): string {
  const media = mediaTypeOf(answer.contentType);
  const type = media || 'no content type';
  if (answer.truncated) return `a body longer than ${RESPONSE_BODY_LIMIT / 1024} KiB (${type})`;
  if (looksLikeHtml(media, answer.body)) return `an HTML page (${media || 'text/html'})`;
  if (answer.body.length === 0) return `an empty body (${type})`;
  return `a body of ${answer.body.length} bytes (${type})`;
}

function utf8(r: ProtoReader): string {
  const length = r.length();
  const bytes = r.buf.subarray(r.pos, r.pos + length);
  r.pos += length;
  if (!isUtf8(bytes)) throw new NotOtlpError('a string field that is not UTF-8');
  return bytes.toString('utf8');
}

/**
 * ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1 }
 * ExportLogsPartialSuccess  { int64 rejected_log_records = 1; string error_message = 2 }
 * Unknown fields are skipped (protobuf's own rule), but every field must be well formed.
 */
function decodeProtobufResponse(body: Buffer): { rejected: number; message: string } {
  const r = new ProtoReader(body);
  let rejected = 0;
  let message = '';
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field !== 1) {
      r.skip(wireType);
      continue;
    }
    r.expect(wireType, LENGTH_DELIMITED);
    const partial = r.sub();
    while (!partial.done) {
      const inner = partial.key();
      if (inner.field === 1) {
        partial.expect(inner.wireType, VARINT);
        rejected = partial.int64();
      } else if (inner.field === 2) {
        partial.expect(inner.wireType, LENGTH_DELIMITED);
        message = utf8(partial);
      } else partial.skip(inner.wireType);
    }
  }
  if (rejected < 0) throw new NotOtlpError(`a negative rejected count (${rejected})`);
  return { rejected, message };
}

/** A JSON object with no members but `allowed` (protobuf's JSON mapping refuses unknown fields by default). */
function jsonObject(value: unknown, allowed: readonly string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NotOtlpError(`${what} is not a JSON object`);
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw new NotOtlpError(`${what} has a member "${key.slice(0, 40)}"`);
  return value as Record<string, unknown>;
}

/** One of a field's two JSON names (lowerCamelCase or the proto name). */
const member = (object: Record<string, unknown>, camel: string, proto: string): unknown => object[camel] ?? object[proto];

function int64OfJson(value: unknown, what: string): number {
  const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) throw new NotOtlpError(`${what} is not a count`);
  return number;
}

function parseJson(body: Buffer): unknown {
  if (!isUtf8(body)) throw new NotOtlpError('not UTF-8');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new NotOtlpError('not JSON');
  }
}

function decodeJsonResponse(body: Buffer): { rejected: number; message: string } {
  if (body.toString('utf8').trim() === '') return { rejected: 0, message: '' };
  const response = jsonObject(parseJson(body), ['partialSuccess', 'partial_success'], 'the answer');
  const partial = member(response, 'partialSuccess', 'partial_success');
  if (partial === undefined || partial === null) return { rejected: 0, message: '' };
  const fields = jsonObject(partial, ['rejectedLogRecords', 'rejected_log_records', 'errorMessage', 'error_message'], 'partialSuccess');
  const rejected = member(fields, 'rejectedLogRecords', 'rejected_log_records');
  const message = member(fields, 'errorMessage', 'error_message');
  if (message !== undefined && typeof message !== 'string') throw new NotOtlpError('errorMessage is not a string');
  return { rejected: rejected === undefined ? 0 : int64OfJson(rejected, 'rejectedLogRecords'), message: message ?? '' };
}

/** The partial success of an OTLP `ExportLogsServiceResponse` of either content type; throws `NotOtlpError` for anything else. */
function decodeExportResponse(media: string, body: Buffer): { rejected: number; message: string } {
  if (media === PROTOBUF) return decodeProtobufResponse(body);
  if (media === JSON_TYPE) return decodeJsonResponse(body);
  throw new NotOtlpError(media ? `content type ${media}` : 'no content type');
}

/**
 * google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3 }
 * Any { string type_url = 1; bytes value = 2 }
 * What an OTLP collector answers a failed request with. Empty, or with neither code nor message, is not one.
 */
function decodeProtobufStatus(body: Buffer): { code: number; message: string } {
  const r = new ProtoReader(body);
  let code = 0;
  let message = '';
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field === 1) {
      r.expect(wireType, VARINT);
      code = r.int64();
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED);
      message = utf8(r);
    } else if (field === 3) {
      r.expect(wireType, LENGTH_DELIMITED);
      const any = r.sub();
      while (!any.done) {
        const inner = any.key();
        if (inner.field === 1) {
          any.expect(inner.wireType, LENGTH_DELIMITED);
          utf8(any);
        } else any.skip(inner.wireType);
      }
    } else r.skip(wireType);
  }
  return { code, message };
}

function decodeJsonStatus(body: Buffer): { code: number; message: string } {
  const status = jsonObject(parseJson(body), ['code', 'message', 'details'], 'the answer');
  const { code = 0, message = '', details = [] } = status;
  if (typeof code !== 'number' || !Number.isInteger(code)) throw new NotOtlpError('code is not an integer');
  if (typeof message !== 'string') throw new NotOtlpError('message is not a string');
  if (!Array.isArray(details)) throw new NotOtlpError('details is not an array');
  return { code, message };
}

/** The `google.rpc.Status` of an error answer, or undefined when the body is not one. */
function statusOf(answer: HttpAnswer): { code: number; message: string } | undefined {
  if (answer.truncated || answer.body.length === 0) return undefined;
  const media = mediaTypeOf(answer.contentType);
  try {
    const status = media === PROTOBUF ? decodeProtobufStatus(answer.body) : media === JSON_TYPE ? decodeJsonStatus(answer.body) : undefined;
    return status && (status.code !== 0 || status.message !== '') ? status : undefined;
  } catch (error) {
    if (error instanceof NotOtlpError || error instanceof ProtoDecodeError) return undefined;
    throw error;
  }
}

/** Retry-After: seconds, or an HTTP date; in ms from `now`. */
export function retryAfterMillis(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const HINTS: Readonly<Record<number, string>> = {
  401: ' (check the token or credentials)',
  403: ' (check the token or credentials)',
  404: ' (the OTLP logs path is /v1/logs: check the endpoint URL)',
  415: ' (the collector does not take this protocol or content type)',
};

function classify(answer: HttpAnswer, url: string, now: number): ExportOutcome {
  const { status } = answer;
  const media = mediaTypeOf(answer.contentType);
  if (status >= 200 && status < 300) {
    let why: string;
    if (answer.truncated) why = 'too long';
    else if (looksLikeHtml(media, answer.body)) return { kind: 'refusal', status, message: `an HTML page (${media || 'text/html'}) answered at ${url} with HTTP ${status}: is this the OTLP endpoint?` };
    else {
      try {
        const { rejected, message } = decodeExportResponse(media, answer.body);
        // A partial success that rejects nothing is a warning: the records were accepted.
        return rejected > 0 ? { kind: 'partial', rejected, message } : { kind: 'ack' };
      } catch (error) {
        if (!(error instanceof NotOtlpError || error instanceof ProtoDecodeError)) throw error;
        why = error.message;
      }
    }
    return { kind: 'refusal', status, message: `${describeBody(answer)} that is not an OTLP response (${why}) answered at ${url} with HTTP ${status}: is this the OTLP endpoint?` };
  }
  if (status === 413) {
    const detail = statusOf(answer)?.message;
    return { kind: 'rejection', status, message: `too large for ${url}${detail ? `: ${detail}` : ''}`, tooLarge: true };
  }
  const otlpStatus = statusOf(answer);
  if (status === 400 && otlpStatus) return { kind: 'rejection', status, message: otlpStatus.message || `rejected (status code ${otlpStatus.code})`, tooLarge: false };
  const detail = otlpStatus ? otlpStatus.message : answer.truncated || looksLikeHtml(media, answer.body) ? describeBody(answer) : printable(answer.body);
  if (status === 408 || status === 429 || status >= 500) {
    return {
      kind: 'outage',
      status,
      message: `HTTP ${status} from ${url}${detail ? `: ${detail}` : ''}`,
      retryAfterMillis: retryAfterMillis(answer.retryAfter, now),
      tooLarge: SIZE_LIMIT.test(otlpStatus?.message ?? answer.body.toString('utf8')),
    };
  }
  if (status >= 300 && status < 400) {
    return { kind: 'refusal', status, message: `a redirect (HTTP ${status}${answer.location ? ` to ${printable(Buffer.from(answer.location))}` : ''}) answered at ${url}: the endpoint must be the collector's own URL` };
  }
  if (status === 400) return { kind: 'refusal', status, message: `HTTP 400 with ${describeBody(answer)}, not an OTLP Status, answered at ${url}: a proxy or firewall in front of the collector?` };
  return { kind: 'refusal', status, message: `HTTP ${status} at ${url}${HINTS[status] ?? ''}${detail ? `: ${detail}` : ''}` };
}

/** Classifies an HTTP answer. Never throws: an answer that cannot be read at all is a refusal. */
export function classifyAnswer(answer: HttpAnswer, url: string, now: number): ExportOutcome {
  try {
    return classify(answer, url, now);
  } catch (error) {
    return { kind: 'refusal', status: answer.status, message: `an answer that cannot be read (HTTP ${answer.status}, ${(error as Error).message}) at ${url}` };
  }
}

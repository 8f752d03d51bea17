// Every option's error message, in plain words: what the option must be, and what it is (never a
// secret). One row per option of AuditLoggerOptions (the type makes the table complete).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { AuditOptionsError, createAuditLogger, type AuditLoggerOptions, type Catalog } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-options-'));
const garbage = join(dir, 'garbage.pem');
writeFileSync(garbage, 'not a certificate\n');

type Row = readonly [options: Record<string, unknown>, message: string | RegExp];

/** For each option, bad values and the whole message each gives. */
const table: { readonly [K in keyof AuditLoggerOptions<Catalog>]-?: readonly Row[] } = {
  catalog: [[{ catalog: { name: 'mine' } }, 'otel-audit: option catalog must be a catalog made by defineCatalog or extendCatalog (or the bundled gristCatalog), not an object']],
  endpoint: [[{ endpoint: 'gateway:4318' }, 'otel-audit: option endpoint must be an http(s) URL such as https://gateway:4318/v1/logs, not "gateway:4318"']],
  protocol: [[{ protocol: 'grpc' }, `otel-audit: option protocol must be 'http/protobuf' or 'http/json', not "grpc"`]],
  headers: [
    [{ headers: { 'x-n': 1 } }, 'otel-audit: option headers.x-n must be a string (its value is not shown here)'],
    [{ headers: 'authorization=secret' }, 'otel-audit: option headers must be an object whose values are each a string (its value is not shown here)'],
    [{ headers: { 'bad name': 'secret-token' } }, 'otel-audit: option headers has a header name that HTTP does not allow ("bad name") (its value is not shown here)'],
    [{ headers: { authorization: 'secret\ntoken' } }, 'otel-audit: option headers has a value for authorization that HTTP does not allow (a line break or control character) (its value is not shown here)'],
  ],
  timeoutMillis: [[{ timeoutMillis: 0.5 }, 'otel-audit: option timeoutMillis must be a whole number of at least 1, not 0.5']],
  compression: [[{ compression: 'zstd' }, `otel-audit: option compression must be 'gzip' or 'none', not "zstd"`]],
  certificateFile: [
    [{ certificateFile: join(dir, 'missing.pem') }, `otel-audit: option certificateFile names a file that cannot be read (it does not exist): ${JSON.stringify(join(dir, 'missing.pem'))}`],
    [{ certificateFile: garbage }, 'otel-audit: option certificateFile is only for an https:// endpoint, and the endpoint is http://localhost:4318/v1/logs'],
  ],
  clientCertificateFile: [
    [{ clientCertificateFile: garbage, endpoint: 'https://gateway:4318/v1/logs' }, 'otel-audit: option clientKeyFile (or OTEL_AUDIT_EXPORTER_OTLP_CLIENT_KEY) is needed too: a client certificate goes with its key'],
    [{ clientCertificateFile: garbage, clientKeyFile: garbage, endpoint: 'https://gateway:4318/v1/logs' }, /^otel-audit: option clientCertificateFile holds no certificate or key that can be used \(.+\)$/],
  ],
  clientKeyFile: [[{ clientKeyFile: dir }, `otel-audit: option clientKeyFile names a file that cannot be read (it is a directory): ${JSON.stringify(dir)}`]],
  serviceName: [[{ serviceName: '' }, 'otel-audit: option serviceName must be a string that is not empty, not an empty string']],
  serviceVersion: [[{ serviceVersion: 2 }, 'otel-audit: option serviceVersion must be a string that is not empty, not 2']],
  resourceAttributes: [
    [{ resourceAttributes: { 'team.tags': ['a'] } }, 'otel-audit: option resourceAttributes.team.tags must be a string, a number or a boolean, not an array'],
    [{ resourceAttributes: [] }, 'otel-audit: option resourceAttributes must be an object whose values are each a string, a number or a boolean, not an array'],
  ],
  spoolDir: [[{ spoolDir: '' }, 'otel-audit: option spoolDir must be a string that is not empty, not an empty string']],
  maxQueueRecords: [[{ maxQueueRecords: 0 }, 'otel-audit: option maxQueueRecords must be a whole number of at least 1, not 0']],
  maxBatchRecords: [[{ maxBatchRecords: '1000' }, 'otel-audit: option maxBatchRecords must be a whole number of at least 1, not "1000"']],
  maxBatchBytes: [[{ maxBatchBytes: 0 }, 'otel-audit: option maxBatchBytes must be a whole number of at least 1024, not 0']],
  maxConcurrentExports: [[{ maxConcurrentExports: 31 }, 'otel-audit: option maxConcurrentExports must be a whole number from 1 to 30, not 31']],
  maxSegmentBytes: [[{ maxSegmentBytes: 1024 }, 'otel-audit: option maxSegmentBytes must be a whole number of at least 65536, not 1024']],
  deadLetterFile: [[{ deadLetterFile: null }, 'otel-audit: option deadLetterFile must be a string that is not empty, not null']],
  retry: [
    [{ retry: 5 }, 'otel-audit: option retry must be an object, not 5'],
    [{ retry: { initialDelayMillis: -1 } }, 'otel-audit: option retry.initialDelayMillis must be a whole number of at least 1, not -1'],
    [{ retry: { initialDelayMillis: 1000, maxDelayMillis: 10 } }, 'otel-audit: option retry.maxDelayMillis must be a whole number of at least 1000 (retry.initialDelayMillis), not 10'],
    [{ retry: { maxElapsedMillis: 0 } }, 'otel-audit: option retry.maxElapsedMillis must be a whole number of at least 1, or Infinity, not 0'],
  ],
  outage: [
    [{ outage: 'soon' }, 'otel-audit: option outage must be an object, not "soon"'],
    [{ outage: { reportAfterMillis: -5 } }, 'otel-audit: option outage.reportAfterMillis must be a whole number of at least 0, not -5'],
    [{ outage: { repeatEveryMillis: Infinity } }, 'otel-audit: option outage.repeatEveryMillis must be a whole number of at least 1, not Infinity'],
  ],
  invalidEvents: [[{ invalidEvents: 'keep' }, `otel-audit: option invalidEvents must be 'deliver' or 'drop', not "keep"`]],
  onError: [[{ onError: 'console' }, 'otel-audit: option onError must be a function, not "console"']],
  onInfo: [[{ onInfo: {} }, 'otel-audit: option onInfo must be a function, not an object']],
  hmacKey: [
    [{ hmacKey: '' }, 'otel-audit: option hmacKey must be a string or a Buffer that is not empty, not an empty string'],
    [{ hmacKey: 12345 }, 'otel-audit: option hmacKey must be a string or a Buffer that is not empty (its value is not shown here)'],
  ],
  checkpoints: [
    [{ checkpoints: true }, 'otel-audit: option checkpoints must be false or an object, not true'],
    [{ checkpoints: { intervalMillis: 0 } }, 'otel-audit: option checkpoints.intervalMillis must be a whole number of at least 100, not 0'],
    [{ checkpoints: { signingKey: '-----BEGIN SECRET-----' } }, 'otel-audit: option checkpoints.signingKey must be an Ed25519 private key (PEM text or a KeyObject) (its value is not shown here)'],
  ],
  meterProvider: [
    [{ meterProvider: {} }, 'otel-audit: option meterProvider must be an OpenTelemetry MeterProvider (an object with getMeter), not an object'],
    [{ meterProvider: null }, 'otel-audit: option meterProvider must be an OpenTelemetry MeterProvider (an object with getMeter), not null'],
  ],
  exporter: [[{ exporter: { export: () => undefined } }, 'otel-audit: option exporter must be a LogRecordExporter (an object with export and shutdown), not an object']],
};

/** The variables of the export options are named instead of the option. */
const variables: readonly [Record<string, string>, string][] = [
  [{ OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT: 'soon' }, 'otel-audit: variable OTEL_AUDIT_EXPORTER_OTLP_TIMEOUT must be a whole number of at least 1, not "soon"'],
  [{ OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL: 'grpc' }, `otel-audit: variable OTEL_AUDIT_EXPORTER_OTLP_PROTOCOL must be 'http/protobuf' or 'http/json', not "grpc"`],
  [{ OTEL_AUDIT_EXPORTER_OTLP_HEADERS: 'authorization' }, 'otel-audit: variable OTEL_AUDIT_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas, values URL-encoded (its value is not shown here)'],
];

function messageOf(options: Record<string, unknown>): string {
  try {
    createAuditLogger({ catalog: gristCatalog, checkpoints: false, ...options } as never);
  } catch (error) {
    assert.ok(error instanceof AuditOptionsError, String(error));
    return error.message;
  }
  assert.fail(`${JSON.stringify(options)} was accepted`);
}

describe('option errors, in plain words', () => {
  for (const [option, rows] of Object.entries(table)) {
    it(option, () => {
      for (const [options, expected] of rows) {
        const message = messageOf(options);
        if (typeof expected === 'string') assert.equal(message, expected);
        else assert.match(message, expected);
        assert.doesNotMatch(message, /secret|any size|integer|\(got /);
      }
    });
  }

  it('the variables of the export options are named as variables', () => {
    for (const [environment, expected] of variables) {
      const saved = { ...process.env };
      Object.assign(process.env, environment);
      try {
        assert.equal(messageOf({}), expected);
      } finally {
        for (const name of Object.keys(environment)) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      }
    }
  });

  it("the library guide's example (docs/library.md) is the message the option gives", () => {
    const readme = readFileSync(new URL('../docs/library.md', import.meta.url), 'utf8');
    const example = /`(option maxBatchBytes must [^`]+)`/.exec(readme.replace(/\n/g, ' '))?.[1];
    assert.equal(`otel-audit: ${example}`, messageOf({ maxBatchBytes: 0 }));
  });
});

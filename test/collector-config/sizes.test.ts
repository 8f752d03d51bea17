// The library's defaults and the shipped Collector configs agree on sizes (issue 21, item 5): a
// request the library sends with its defaults (up to maxBatchBytes) is accepted by every shipped
// receiver, fits every destination's limit on one event, and where a destination's message limit is
// smaller (Kafka's 1 MB) the exporter is one that splits a request to fit (`lossless`). A config
// that breaks this would wedge a stream behind one batch. Reads the YAML only: no Collector.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULTS } from '../../src/options.js';

const CONFIGS = fileURLToPath(new URL('../../collector-config', import.meta.url));
/** The Collector's own defaults (confighttp, configgrpc) where a config sets nothing. */
const HTTP_MAX_REQUEST_BODY = 20 * 1024 * 1024;
const GRPC_MAX_RECV_MIB = 4;
/** splunkhecexporter's default max_event_size (its config.go, v0.145.0). */
const HEC_MAX_EVENT_SIZE = 5 * 1024 * 1024;

type Node = Record<string, unknown>;
const isMap = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'alerts' || name === 'lock' ? [] : yamlFiles(path);
    return name.endsWith('.yaml') && name !== 'manifest.yaml' ? [path] : [];
  });
}

/** A number from a YAML value that may be `${env:NAME:-default}`: its default. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const fallback = typeof value === 'string' ? /:-(\d+)\}$/.exec(value)?.[1] : undefined;
  return fallback === undefined ? undefined : Number(fallback);
}

/** Every exporter of a config, with the settings of the exporter it runs (inside `lossless` or not). */
interface Exporter {
  readonly name: string;
  readonly type: string;
  readonly settings: Node;
  readonly lossless: boolean;
}
function exporters(config: Node): Exporter[] {
  return Object.entries((config['exporters'] as Node | undefined) ?? {}).flatMap(([name, value]): Exporter[] => {
    if (!isMap(value)) return [];
    if (name.split('/')[0] === 'lossless') {
      return Object.entries((value['exporter'] as Node | undefined) ?? {}).map(([type, settings]) => ({ name, type, settings: isMap(settings) ? settings : {}, lossless: true }));
    }
    return [{ name, type: name.split('/')[0]!, settings: value, lossless: false }];
  });
}

const configs = yamlFiles(CONFIGS).map((path) => ({ name: relative(CONFIGS, path), config: parse(readFileSync(path, 'utf8'), { merge: true }) as Node }));

describe("the shipped configs and the library's defaults agree on sizes", () => {
  it('there are configs to check (each shipped one is read)', () => {
    assert.ok(configs.length >= 15, `${configs.length} configs`);
  });

  it(`every OTLP receiver accepts a request of maxBatchBytes (${DEFAULTS.maxBatchBytes} bytes)`, () => {
    let receivers = 0;
    for (const { name, config } of configs) {
      for (const [id, receiver] of Object.entries((config['receivers'] as Node | undefined) ?? {})) {
        if (id.split('/')[0] !== 'otlp' || !isMap(receiver)) continue;
        const protocols = (receiver['protocols'] as Node | undefined) ?? {};
        if (isMap(protocols['http'])) {
          receivers++;
          const limit = numberOf(protocols['http']['max_request_body_size']) ?? HTTP_MAX_REQUEST_BODY;
          assert.ok(limit >= DEFAULTS.maxBatchBytes, `${name}: ${id} takes requests of ${limit} bytes at most`);
        }
        if (isMap(protocols['grpc'])) {
          const mib = numberOf(protocols['grpc']['max_recv_msg_size_mib']) ?? GRPC_MAX_RECV_MIB;
          assert.ok(mib * 1024 * 1024 >= DEFAULTS.maxBatchBytes, `${name}: ${id} (gRPC) takes messages of ${mib} MiB at most`);
        }
      }
    }
    assert.ok(receivers >= 5, `${receivers} OTLP/HTTP receivers checked`);
  });

  it('a Splunk HEC destination takes one event as large as a whole batch (max_event_size)', () => {
    const hec = configs.flatMap(({ name, config }) => exporters(config).filter((e) => e.type === 'splunk_hec').map((e) => ({ config: name, ...e })));
    assert.ok(hec.length >= 3, `${hec.length} HEC exporters`);
    for (const e of hec) {
      const size = numberOf(e.settings['max_event_size']) ?? HEC_MAX_EVENT_SIZE;
      assert.ok(size >= DEFAULTS.maxBatchBytes, `${e.config}: ${e.name}'s max_event_size is ${size}`);
    }
  });

  it('a Kafka producer whose message limit is under a batch is wrapped in lossless, which splits a request to fit', () => {
    const kafka = configs.flatMap(({ name, config }) => exporters(config).filter((e) => e.type === 'kafka').map((e) => ({ config: name, ...e })));
    assert.ok(kafka.length >= 2, `${kafka.length} Kafka exporters`);
    for (const e of kafka) {
      const limit = numberOf((e.settings['producer'] as Node | undefined)?.['max_message_bytes']) ?? 1_000_000;
      if (limit < DEFAULTS.maxBatchBytes) assert.ok(e.lossless, `${e.config}: ${e.name} limits messages to ${limit} bytes and does not split`);
    }
  });
});

// The Admin Panel's base config with overlays, and what of the panel's environment reaches the Collector.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { inheritedEnvironment, readBaseConfig } from '../../src/admin/base-config.js';

const dir = mkdtempSync(join(tmpdir(), 'base-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('readBaseConfig', () => {
  test('one file is read as it is', () => {
    const text = '# a comment kept\nreceivers: {otlp: {}}\n';
    assert.equal(readBaseConfig([file('one.yaml', text)]), text);
  });

  test('overlays merge maps key by key and replace lists and scalars, after merge keys are resolved', () => {
    const base = file(
      'base.yaml',
      'queue: &queue {enabled: true, size: 10}\nexporters:\n  a: {sending_queue: {<<: *queue, size: 20}, retry: [1, 2]}\nservice:\n  pipelines:\n    logs/archive: {receivers: [otlp], exporters: [a]}\n',
    );
    const overlay = file('overlay.yaml', 'exporters:\n  a: {sending_queue: {enabled: false}, retry: [3]}\nservice:\n  pipelines:\n    logs/archive: {receivers: [kafka/shard]}\n');
    const merged = parse(readBaseConfig([base, overlay])) as { exporters: { a: { sending_queue: unknown; retry: unknown } }; service: { pipelines: Record<string, unknown> } };
    assert.deepEqual(merged.exporters.a.sending_queue, { enabled: false, size: 20 });
    assert.deepEqual(merged.exporters.a.retry, [3]);
    assert.deepEqual(merged.service.pipelines['logs/archive'], { receivers: ['kafka/shard'], exporters: ['a'] });
  });

  test('an overlay that is not a map is refused with its name', () => {
    assert.throws(() => readBaseConfig([file('b.yaml', 'a: 1\n'), file('list.yaml', '- 1\n')]), /list\.yaml is not a Collector config/);
  });
});

describe('inheritedEnvironment', () => {
  test('only the variables the base reads, and only those set', () => {
    const base = 'brokers: ["${env:KAFKA_BROKERS:-localhost:9092}"]\ngroup: ${env:AUDIT_SHARD_GROUP_ID}\ntopic: ${env:KAFKA_TOPIC:-audit-events}\n';
    assert.deepEqual(inheritedEnvironment(base, { KAFKA_BROKERS: 'k:9092', AUDIT_SHARD_GROUP_ID: 'shard-1', SECRET_OF_THE_PANEL: 'x', PATH: '/bin' }), {
      KAFKA_BROKERS: 'k:9092',
      AUDIT_SHARD_GROUP_ID: 'shard-1',
    });
  });
});

// The audit stream's resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES: our reader, held
// to the same results as the application's own OpenTelemetry SDK (@opentelemetry/resources) on the
// same variable, and fuzzed (random and mutated values: no throw, bounded output, no hang).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceAttributesEnvDetector } from '@opentelemetry/resources';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import type { AuditError } from '../../src/errors.js';
import { createAuditLogger } from '../../src/index.js';
import { auditResource, parseResourceAttributes, resourceFromEnvironment } from '../../src/logger/resource.js';
import { random } from '../helpers/random.js';

const options = { serviceName: undefined, serviceVersion: undefined, resourceAttributes: {}, version: '1.2.3' };

/**
 * Whether the SDK's result on `raw` is comparable: process.env stores UTF-8 (a lone surrogate
 * comes back as U+FFFD) and the SDK's Object.assign turns a `__proto__` key into a prototype
 * (ours keeps it as a key).
 */
const comparable = (raw: string): boolean => raw.isWellFormed() && !raw.includes('\0') && !raw.includes('__proto__');

/** What the application's SDK makes of the same OTEL_RESOURCE_ATTRIBUTES. */
function sdkAttributes(raw: string): Record<string, unknown> {
  const saved = process.env['OTEL_RESOURCE_ATTRIBUTES'];
  process.env['OTEL_RESOURCE_ATTRIBUTES'] = raw;
  try {
    return { ...resourceAttributesEnvDetector.detect().attributes };
  } finally {
    if (saved === undefined) delete process.env['OTEL_RESOURCE_ATTRIBUTES'];
    else process.env['OTEL_RESOURCE_ATTRIBUTES'] = saved;
  }
}

describe('OTEL_RESOURCE_ATTRIBUTES', () => {
  const cases: [string, Record<string, string> | 'discarded'][] = [
    ['deployment.environment.name=prod,service.version=9.9.9', { 'deployment.environment.name': 'prod', 'service.version': '9.9.9' }],
    [' a = 1 , b=2 ,, ', { a: '1', b: '2' }],
    ['team=a%2Cb%3Dc,owner=J%C3%BCrgen%20K', { team: 'a,b=c', owner: 'Jürgen K' }],
    ['plus=a+b', { plus: 'a+b' }],
    ['k%2Eey=v', { 'k.ey': 'v' }],
    ['empty=', { empty: '' }],
    ['a=1,a=2', { a: '2' }],
    ['__proto__=polluted', { ['__proto__']: 'polluted' }],
    ['a=1,b', 'discarded'],
    ['a=1=2', 'discarded'],
    ['=v', 'discarded'],
    ['a=%E0%A4%A', 'discarded'],
    ['a=%FF', 'discarded'],
    [`long=${'x'.repeat(256)}`, 'discarded'],
    [`${'k'.repeat(256)}=v`, 'discarded'],
    [`ok=${'x'.repeat(255)}`, { ok: 'x'.repeat(255) }],
  ];
  for (const [raw, expected] of cases) {
    it(`${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)}: ${expected === 'discarded' ? 'discarded whole, with the reason' : 'read'}, as the OpenTelemetry SDK reads it`, () => {
      const { attributes, problem } = parseResourceAttributes(raw);
      if (expected === 'discarded') {
        assert.deepEqual(attributes, {});
        assert.match(problem ?? '', /^OTEL_RESOURCE_ATTRIBUTES was ignored: /);
      } else {
        assert.equal(problem, undefined);
        assert.deepEqual(attributes, expected);
        assert.equal(Object.getPrototypeOf(attributes), Object.prototype, 'no key changed the prototype');
      }
      if (comparable(raw)) assert.deepEqual(attributes, sdkAttributes(raw));
    });
  }

  it('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES; blank variables are unset', () => {
    assert.deepEqual(resourceFromEnvironment({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a,x=1', OTEL_SERVICE_NAME: 'b' }).attributes, { 'service.name': 'b', x: '1' });
    assert.deepEqual(resourceFromEnvironment({ OTEL_RESOURCE_ATTRIBUTES: '  ', OTEL_SERVICE_NAME: ' ' }), { attributes: {}, problem: undefined });
    // The service name survives a discarded attribute list, as in the SDK.
    assert.deepEqual(resourceFromEnvironment({ OTEL_RESOURCE_ATTRIBUTES: 'broken', OTEL_SERVICE_NAME: 'b' }).attributes, { 'service.name': 'b' });
  });

  it('layers: defaults < options < environment; telemetry.sdk.* names otel-audit', () => {
    const defaults = auditResource(options, {}).attributes;
    assert.equal(defaults['service.name'], `unknown_service:${process.argv0}`);
    assert.deepEqual([defaults['telemetry.sdk.name'], defaults['telemetry.sdk.language'], defaults['telemetry.sdk.version']], ['otel-audit', 'nodejs', '1.2.3']);
    assert.match(String(defaults['service.instance.id']), /^[0-9a-f-]{36}$/);
    assert.equal(typeof defaults['host.name'], 'string');
    const fromOptions = auditResource({ ...options, serviceName: 'code', serviceVersion: '1.0', resourceAttributes: { 'deployment.environment.name': 'dev', 'team.size': 3 } }, {}).attributes;
    assert.deepEqual([fromOptions['service.name'], fromOptions['service.version'], fromOptions['deployment.environment.name'], fromOptions['team.size']], ['code', '1.0', 'dev', 3]);
    const fromEnvironment = auditResource(
      { ...options, serviceName: 'code', resourceAttributes: { 'deployment.environment.name': 'dev' } },
      { OTEL_SERVICE_NAME: 'env', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,host.name=h1' },
    ).attributes;
    assert.deepEqual([fromEnvironment['service.name'], fromEnvironment['deployment.environment.name'], fromEnvironment['host.name']], ['env', 'prod', 'h1']);
  });

  it('a discarded variable is reported once to onError at creation, and the logger works on', async () => {
    const saved = process.env['OTEL_RESOURCE_ATTRIBUTES'];
    process.env['OTEL_RESOURCE_ATTRIBUTES'] = 'team=a=b';
    const reports: AuditError[] = [];
    try {
      const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: 'http://127.0.0.1:9/v1/logs', onError: (error) => reports.push(error) });
      assert.deepEqual(reports.map((r) => r.message), ['OTEL_RESOURCE_ATTRIBUTES was ignored: "team=a=b" is not key=value (a \',\' or \'=\' inside a key or value must be percent-encoded)']);
      await audit.shutdown({ timeoutMillis: 100 });
    } finally {
      if (saved === undefined) delete process.env['OTEL_RESOURCE_ATTRIBUTES'];
      else process.env['OTEL_RESOURCE_ATTRIBUTES'] = saved;
    }
  });

  it('fuzzed: 20,000 random and mutated values never throw, stay within bounds, and agree with the SDK', () => {
    const next = random(23);
    const alphabet = ['a', 'b', 'Z', '0', '9', '.', '_', '-', ',', ',', '=', '=', '%', '%', '2C', '3D', 'E0', 'A4', 'FF', 'C3', 'BC', ' ', '\t', '+', 'ü', '東', '🎉', '\uD800', '"', '\\', '__proto__', 'constructor'];
    const seeds = cases.map(([raw]) => raw);
    const started = performance.now();
    let discarded = 0;
    for (let i = 0; i < 20_000; i++) {
      let raw: string;
      if (i % 2 === 0) {
        raw = Array.from({ length: Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      } else {
        // A valid value with a few characters inserted, deleted or replaced.
        const chars = [...seeds[Math.floor(next() * seeds.length)]!];
        for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
          const at = Math.floor(next() * (chars.length + 1));
          const piece = alphabet[Math.floor(next() * alphabet.length)]!;
          const kind = Math.floor(next() * 3);
          if (kind === 0) chars.splice(at, 0, piece);
          else if (kind === 1) chars.splice(at, 1);
          else chars.splice(at, 1, piece);
        }
        raw = chars.join('');
      }
      const result = parseResourceAttributes(raw);
      const entries = Object.entries(result.attributes);
      if (result.problem) {
        discarded++;
        assert.equal(entries.length, 0);
        assert.ok(result.problem.length < 300, 'the reason is bounded');
      }
      assert.ok(entries.length <= raw.split(',').length);
      for (const [key, value] of entries) assert.ok(key.length > 0 && key.length <= 255 && value.length <= 255);
      assert.equal(Object.getPrototypeOf(result.attributes), Object.prototype);
      if (comparable(raw) && i % 10 === 0) assert.deepEqual(result.attributes, sdkAttributes(raw), JSON.stringify(raw));
    }
    assert.ok(discarded > 1000 && discarded < 19_000, `${discarded} of 20,000 discarded: both paths were exercised`);
    assert.ok(performance.now() - started < 20_000, 'no hang');
  });
});

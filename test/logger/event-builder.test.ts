// The logger's event builder, alone: the envelope it builds from a call and the request, what zod
// checks and outputs, the issues of an invalid event and the evidence kept of it, and schema
// output that JSON cannot carry. No delivery, no chain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineCatalog } from '../../src/catalog/define.js';
import { jsonValue } from '../../src/catalog/json-value.js';
import { EventBuilder, type BuildResult } from '../../src/logger/event-builder.js';

const catalog = defineCatalog({
  'invoice.pay': { description: 'paid', scopes: ['site'], details: z.strictObject({ invoice: z.strictObject({ id: z.string(), amount: z.number() }) }), sample: { invoice: { id: 'i', amount: 1 } } },
  'user.login': { description: 'in', scopes: ['installation'], details: z.object({ name: z.string() }), sample: { name: 'n' } },
  'config.set': { description: 'set', scopes: ['site'], details: z.strictObject({ value: jsonValue }), sample: { value: 1 } },
  'report.date': { description: 'dated', scopes: ['installation'], details: z.strictObject({ at: z.string().transform((text) => new Date(text)) }), sample: { at: '2026-01-01' } },
});
const builder = new EventBuilder(catalog);
const ID = '3f1b7c1e-8a4d-4b8e-9f6a-2c5d7e9a1b3c';
const NOW = Date.parse('2026-03-01T10:00:00.000Z');

function valid(result: BuildResult) {
  assert.equal(result.kind, 'valid', JSON.stringify(result));
  return result as Extract<BuildResult, { kind: 'valid' }>;
}
function invalid(result: BuildResult) {
  assert.equal(result.kind, 'invalid');
  return result as Extract<BuildResult, { kind: 'invalid' }>;
}

describe('event builder', () => {
  it('a valid event: the envelope (id, the emit time, unknown actor, empty context), zod\'s output, the action\'s canonical writer and site scope', () => {
    const result = valid(builder.build(ID, 'invoice.pay', { details: { invoice: { id: 'i1', amount: 5 } } }, NOW, undefined));
    assert.deepEqual(result.event, { id: ID, action: 'invoice.pay', actor: { type: 'unknown' }, context: {}, timestamp: '2026-03-01T10:00:00.000Z', details: { invoice: { id: 'i1', amount: 5 } } });
    assert.equal(result.siteScoped, true);
    assert.equal(result.canonical(result.event), '{"action":"invoice.pay","actor":{"type":"unknown"},"context":{},"details":{"invoice":{"amount":5,"id":"i1"}},"id":"3f1b7c1e-8a4d-4b8e-9f6a-2c5d7e9a1b3c","timestamp":"2026-03-01T10:00:00.000Z"}');
  });

  it('what is sent is zod\'s output: unknown keys of a non-strict object stripped', () => {
    const result = valid(builder.build(ID, 'user.login', { details: { name: 'n', extra: 'dropped' } }, NOW, undefined));
    assert.deepEqual(result.event.details, { name: 'n' });
    assert.equal(result.siteScoped, false);
  });

  it('actor and context from the request; the call\'s context merged over it field by field, the call\'s actor wins', () => {
    const request = { actor: { type: 'user' as const, user: { id: 1, email: 'a@example.com', name: 'A' } }, context: { ip_address: '10.0.0.1', session_id: 's1' } };
    const fromRequest = valid(builder.build(ID, 'user.login', { details: { name: 'n' } }, NOW, request));
    assert.deepEqual([fromRequest.event.actor, fromRequest.event.context], [request.actor, request.context]);
    const merged = valid(builder.build(ID, 'user.login', { actor: { type: 'system' }, context: { session_id: 's2' }, details: { name: 'n' } }, NOW, request));
    assert.deepEqual([merged.event.actor, merged.event.context], [{ type: 'system' }, { ip_address: '10.0.0.1', session_id: 's2' }]);
  });

  it('an unknown action: one issue at path action, suggesting the nearest action', () => {
    const result = invalid(builder.build(ID, 'invoice.pya', { details: {} }, NOW, undefined));
    assert.equal(result.issues.length, 1);
    assert.equal(result.issues[0]!.path, 'action');
    assert.match(result.issues[0]!.message, /invoice\.pay/);
  });

  it('invalid details: each failing field by its dotted path; the evidence is a JSON-safe copy, chained with the general canonical writer, in its action\'s site scope', () => {
    const result = invalid(builder.build(ID, 'invoice.pay', { details: { invoice: { id: 7, amount: 10n, pay: () => 1 } } }, NOW, undefined));
    assert.deepEqual(result.issues.map((issue) => issue.path), ['details.invoice.id', 'details.invoice.amount', 'details.invoice']);
    assert.match(result.issues[2]!.message, /pay/);
    const evidence = result.evidence();
    assert.deepEqual(evidence.event.details, { invoice: { id: 7, amount: '10', pay: '[function pay]' } });
    assert.equal(evidence.siteScoped, true);
    assert.equal(evidence.detached, true);
    assert.doesNotThrow(() => evidence.canonical(evidence.event));
  });

  it('props that are not an object, and a hostile getter inside the details (zod lets its exception through): invalid, the event could not be read', () => {
    assert.equal(builder.build(ID, 'user.login', null, NOW, undefined).kind, 'invalid');
    const hostile = { details: { get name(): string { throw new Error('boom'); } } };
    const result = invalid(builder.build(ID, 'user.login', hostile, NOW, undefined));
    assert.deepEqual(result.issues, [{ path: '', message: 'the event could not be read: Error: boom' }]);
  });

  it('a schema whose output JSON cannot carry (a Date): unserializable, named by its action', () => {
    assert.deepEqual(builder.build(ID, 'report.date', { details: { at: '2026-01-01' } }, NOW, undefined), { kind: 'unserializable', action: 'report.date' });
  });

  it('where zod hands the caller\'s own objects through (jsonValue), the event is not detached: the logger copies it before it waits', () => {
    const value = { theme: 'dark' };
    const result = valid(builder.build(ID, 'config.set', { details: { value } }, NOW, undefined));
    assert.equal(result.detached, false);
    assert.equal((result.event.details as { value: unknown }).value, value);
    assert.equal(valid(builder.build(ID, 'invoice.pay', { details: { invoice: { id: 'i', amount: 1 } } }, NOW, undefined)).detached, true);
  });
});

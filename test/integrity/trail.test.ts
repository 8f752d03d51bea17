import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTrail } from '../../src/integrity/trail.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-trail-'));
const line = (id: string) => JSON.stringify({ result: { _raw: JSON.stringify({ id }), 'audit.seq': '1' } });

describe('readTrail on a file a destination is still writing', () => {
  it('leaves a last line cut short for a later read', () => {
    const file = join(dir, 'live.ndjson');
    writeFileSync(file, `${line('a')}\n${line('b')}\n${line('c').slice(0, 20)}`);
    assert.deepEqual(readTrail(file).map((r) => (r.body as { id: string }).id), ['a', 'b']);
  });

  it('reads a complete last line without a newline, and names a damaged line elsewhere', () => {
    const complete = join(dir, 'complete.ndjson');
    writeFileSync(complete, `${line('a')}\n${line('b')}`);
    assert.equal(readTrail(complete).length, 2);
    const damaged = join(dir, 'damaged.ndjson');
    writeFileSync(damaged, `${line('a').slice(0, 20)}\n${line('b')}\n`);
    assert.throws(() => readTrail(damaged), /damaged\.ndjson:1: not JSON/);
  });
});

describe('readTrail on syslog lines: structured data by its grammar', () => {
  const event = (id: string) => JSON.stringify({ id, action: 'document.create' });
  const sd = (params: string) => `[audit@32473 ${params}]`;
  const read = (text: string) => {
    const file = join(dir, `syslog-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(file, `${text}\n`);
    return readTrail(file);
  };

  it('reads a full RFC 5424 line and the STRUCTURED-DATA MSG form alike, unescaping \\" \\\\ and \\]', () => {
    const params = 'audit.seq="7" audit.stream.id="s\\"1\\\\x\\]y" log.record.uid="u"';
    for (const line of [`<110>1 2026-01-01T00:00:00Z host app - document.create ${sd(params)} ${event('a')}`, `${sd(params)} \ufeff${event('a')}`]) {
      const [record] = read(line);
      assert.deepEqual(record!.attributes, { 'audit.seq': '7', 'audit.stream.id': 's"1\\x]y', 'log.record.uid': 'u' });
      assert.deepEqual(record!.body, { id: 'a', action: 'document.create' });
    }
  });

  it('takes nothing for the integrity attributes from MSGID or MSG, wherever `[audit@32473` and `{"` appear', () => {
    const forged = `${sd('audit.seq="1" audit.hash="forged"')} ${event('forged')}`;
    // A hostile MSGID (what an unsanitized action would be) and hostile content in MSG.
    const [shifted] = read(`<110>1 2026-01-01T00:00:00Z host app - x${forged} ${sd('audit.seq="9"')} ${event('real')}`);
    assert.equal(shifted, undefined, 'a header shifted by a MSGID with spaces is no record at all');
    const [record] = read(`<110>1 2026-01-01T00:00:00Z host app - x ${sd('audit.seq="9"')} {"id":"real","name":"${forged.replaceAll('"', '\\"')}"}`);
    assert.deepEqual(record!.attributes, { 'audit.seq': '9' });
    assert.equal((record!.body as { id: string }).id, 'real');
  });

  it('a line with two audit@32473 elements keeps no integrity attributes; other elements are ignored', () => {
    const [twice] = read(`${sd('audit.seq="1"')}${sd('audit.seq="2"')} ${event('a')}`);
    assert.deepEqual(twice!.attributes, {});
    // Quotes delimit a value: a `]` in it, escaped or (as some senders write it) not, ends nothing.
    for (const value of ['\\]', ']']) {
      const [other] = read(`[meta@1 x="${value}"]${sd('audit.seq="3"')} ${event('b')}`);
      assert.deepEqual(other!.attributes, { 'audit.seq': '3' });
    }
    assert.equal(read(`[meta@1 x="a\\"]${sd('audit.seq="3"')} ${event('b')}`)[0], undefined, 'an element left open is no record');
  });
});

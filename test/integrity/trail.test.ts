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

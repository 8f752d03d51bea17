import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { gristReferences } from '../../src/catalog/catalogs/grist/references.js';
import { sampleEvent } from '../helpers/fixtures.js';

describe('generated references', () => {
  for (const [name, content] of Object.entries(gristReferences())) {
    it(`docs/${name} is up to date (run npm run docs)`, () => {
      assert.equal(readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8'), content);
    });
  }

  it('the JSON Schema accepts the sample event and rejects a broken one', () => {
    const schema = JSON.parse(gristReferences()['audit-event.schema.json']!) as { $defs: Record<string, unknown> };
    const documentCreate = z.fromJSONSchema(schema.$defs['document.create'] as never);
    assert.equal(documentCreate.safeParse(sampleEvent).success, true);
    assert.equal(documentCreate.safeParse({ ...sampleEvent, details: { document: { id: 1 } } }).success, false);
    assert.equal(Object.keys(schema.$defs).length, 40);
  });

  it('the Markdown lists every action with its details table and sample', () => {
    const markdown = gristReferences()['events.md']!;
    assert.equal(markdown.match(/^## /gm)?.length, 40);
    assert.match(markdown, /\| `access_changes\.users\[\]\.access` \| `owners` \\\| `editors` \\\| `viewers` \\\| `members` \\\| null \| yes \|/);
  });
});

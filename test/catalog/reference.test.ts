import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { bundledReferences } from '../../src/catalog/catalogs/references.js';
import { sampleEvent } from '../helpers/fixtures.js';

describe('generated references', () => {
  for (const [name, content] of Object.entries(bundledReferences())) {
    it(`docs/${name} is up to date (run npm run docs)`, () => {
      assert.equal(readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8'), content);
    });
  }

  it('the JSON Schema accepts the sample event and rejects a broken one', () => {
    const schema = JSON.parse(bundledReferences()['audit-event.schema.json']!) as { $defs: Record<string, unknown> };
    const documentCreate = z.fromJSONSchema(schema.$defs['document.create'] as never);
    assert.equal(documentCreate.safeParse(sampleEvent).success, true);
    assert.equal(documentCreate.safeParse({ ...sampleEvent, details: { document: { id: 1 } } }).success, false);
    assert.equal(Object.keys(schema.$defs).length, 48);
  });

  it('the Markdown lists every action of both catalogs, each with its details table and sample', () => {
    const markdown = bundledReferences()['events.md']!;
    assert.deepEqual(markdown.match(/^## .*/gm), ['## Grist', '## Authentication']);
    assert.equal(markdown.match(/^### /gm)?.length, 48);
    assert.match(markdown, /### user\.login_failed\n[\s\S]*?\| `reason` \| `bad_password` \\\| `unknown_user` \\\| `locked` /);
    assert.match(markdown, /\| `access_changes\.users\[\]\.access` \| `owners` \\\| `editors` \\\| `viewers` \\\| `members` \\\| null \| yes \|/);
  });
});

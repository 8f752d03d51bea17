// Writes the generated references from the bundled catalog: docs/events.md and
// docs/audit-event.schema.json. `npm run docs`; test/catalog/reference.test.ts checks them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { gristReferences } from '../src/catalog/catalogs/grist/references.js';

const docs = new URL('../docs/', import.meta.url);
mkdirSync(docs, { recursive: true });
for (const [name, content] of Object.entries(gristReferences())) {
  writeFileSync(new URL(name, docs), content);
  console.log(`wrote docs/${name}`);
}

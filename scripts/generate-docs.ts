// Writes the generated references from the bundled catalogs: docs/events.md,
// docs/audit-event.schema.json and docs/siem-mapping.md, and the SIEM format fragments
// collector-config/formats/<format>.yaml. `npm run docs`; test/catalog/reference.test.ts and
// test/catalog/siem-mapping.test.ts check them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { bundledActions, bundledReferences } from '../src/catalog/catalogs/references.js';
import { SIEM_FORMATS, siemFragment } from './siem-fragments.js';

const docs = new URL('../docs/', import.meta.url);
mkdirSync(docs, { recursive: true });
for (const [name, content] of Object.entries(bundledReferences())) {
  writeFileSync(new URL(name, docs), content);
  console.log(`wrote docs/${name}`);
}
const formats = new URL('../collector-config/formats/', import.meta.url);
mkdirSync(formats, { recursive: true });
for (const format of SIEM_FORMATS) {
  writeFileSync(new URL(`${format}.yaml`, formats), siemFragment(format, bundledActions));
  console.log(`wrote collector-config/formats/${format}.yaml`);
}

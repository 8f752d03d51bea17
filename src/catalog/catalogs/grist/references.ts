import { catalogJsonSchema, catalogMarkdown } from '../../reference.js';
import { siemMappingMarkdown } from '../../siem-mapping.js';
import { gristCatalog } from './index.js';

/** The generated reference files of the bundled catalog, by file name under `docs/`. */
export function gristReferences(): Record<string, string> {
  return {
    'events.md': catalogMarkdown(gristCatalog, 'Audit events of the bundled Grist catalog'),
    'siem-mapping.md': siemMappingMarkdown(gristCatalog, 'SIEM mapping of the bundled Grist catalog'),
    'audit-event.schema.json': `${JSON.stringify(catalogJsonSchema(gristCatalog, 'otel-audit event (Grist catalog)'), null, 2)}\n`,
  };
}

import { extendCatalog } from '../define.js';
import { catalogJsonSchema, catalogsMarkdown } from '../reference.js';
import { siemMappingMarkdown } from '../siem-mapping.js';
import { authCatalog } from './auth/index.js';
import { gristCatalog } from './grist/index.js';

/** Every bundled catalog's actions in one catalog: no action name is in two of them. */
export const bundledActions = extendCatalog(gristCatalog, authCatalog.actions);

/** The generated reference files of the bundled catalogs, by file name under `docs/`. */
export function bundledReferences(): Record<string, string> {
  return {
    'events.md': catalogsMarkdown('Audit events of the bundled catalogs', [
      { heading: 'Grist', intro: "The actions of the Grist product (`import { gristCatalog } from 'otel-audit/catalogs/grist'`).", catalog: gristCatalog },
      {
        heading: 'Authentication',
        intro: "What every application audits first (`import { authCatalog } from 'otel-audit/catalogs/auth'`): extend it with your own actions, `extendCatalog(authCatalog, {...})`, or put it beside the Grist catalog, `extendCatalog(gristCatalog, authCatalog.actions)`. After a login, `setAuditActor(req, ...)` makes the user who logged in the actor of the request's later events.",
        catalog: authCatalog,
      },
    ]),
    'siem-mapping.md': siemMappingMarkdown(bundledActions, 'SIEM mapping of the bundled catalogs'),
    'audit-event.schema.json': `${JSON.stringify(catalogJsonSchema(bundledActions, 'otel-audit event (bundled catalogs)'), null, 2)}\n`,
  };
}

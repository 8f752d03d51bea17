// The example's catalog: the bundled authentication actions, and the application's own.
import { z } from 'zod';
import { extendCatalog } from 'otel-audit';
import { authCatalog } from 'otel-audit/catalogs/auth';

const note = z.strictObject({ id: z.string(), title: z.string() });

export const catalog = extendCatalog(authCatalog, {
  'note.create': { description: 'A note was created.', scopes: ['installation'], details: z.strictObject({ note }), sample: { note: { id: 'n1', title: 'Groceries' } } },
  'note.delete': { description: 'A note was deleted.', scopes: ['installation'], details: z.strictObject({ note }), sample: { note: { id: 'n1', title: 'Groceries' } } },
});

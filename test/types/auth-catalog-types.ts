// Type-level tests of the authentication catalog: combined with the Grist catalog and extended by
// an application, every action keeps its own details. Compiled by `tsc --noEmit` and by
// test/types/types.test.ts, like logger-types.ts.
import { z } from 'zod';
import { authCatalog } from '../../src/catalog/catalogs/auth/index.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, extendCatalog } from '../../src/index.js';

// Beside the Grist catalog: both sets of actions, each with its details.
const product = createAuditLogger({ catalog: extendCatalog(gristCatalog, authCatalog.actions) });
product.logEvent('user.login', { details: { method: 'password', mfa: true } });
product.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
product.logEvent('user.login_failed', { details: { login: 'flapjack@example.com', reason: 'unknown_user', method: 'password' } });

// Extended by an application's own actions.
const app = createAuditLogger({
  catalog: extendCatalog(authCatalog, {
    'note.create': { description: 'A note was created.', scopes: ['installation'], details: z.strictObject({ note: z.strictObject({ id: z.string() }) }), sample: { note: { id: 'n1' } } },
  }),
});
app.logEvent('note.create', { details: { note: { id: 'n1' } } });
app.logEvent('user.logout', { details: {} });
app.logEvent('session.revoke', { details: { session: { id: 's1' }, user: { id: 146, email: 'flapjack@example.com', name: 'Flapjack Toasty' }, reason: 'administrator' } });
app.logEvent('user.enable_mfa', { details: { user: { id: 'u1', email: 'a@example.com', name: 'A' }, factor: { type: 'webauthn' } } });

// @ts-expect-error a failure reason the catalog does not have
app.logEvent('user.login_failed', { details: { login: 'a', reason: 'wrong_password', method: 'password' } });
// @ts-expect-error how the user logged in is required
app.logEvent('user.login', { details: {} });
// @ts-expect-error an action of the Grist catalog is not in an application built on the authentication catalog alone
app.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
// @ts-expect-error an API token is named by its id, never its value
app.logEvent('api_token.use', { details: { token: { id: 't1', value: 'secret' } } });

// Type-level tests, compiled by `tsc --noEmit` (part of `npm test`) and by test/types/types.test.ts,
// which also proves that each `@ts-expect-error` below really is an error without its directive.
import { z } from 'zod';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, defineCatalog, extendCatalog, type ActionOf, type LogEventProps } from '../../src/index.js';

const audit = createAuditLogger({ catalog: gristCatalog });

// Correct calls compile, with details inferred from the action.
audit.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
audit.logEvent('document.change_access', {
  actor: { type: 'user', user: { id: 1, email: 'a@example.com', name: 'A' } },
  details: { document: { id: 'd1', name: 'Plan' }, access_changes: { public_access: null } },
});
void audit.logEventOrThrow('user.delete_api_key', { details: { user: { id: 1, name: 'A' } } });

// An application's own wrapper, generic over the catalog's actions, compiles.
export function logFor<A extends ActionOf<typeof gristCatalog>>(action: A, props: LogEventProps<typeof gristCatalog, A>): string {
  return audit.logEvent(action, props);
}
logFor('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });

// @ts-expect-error an action that is not in the catalog (test/types/types.test.ts checks the message)
audit.logEvent('document.explode', { details: {} });
// @ts-expect-error details of another action
audit.logEvent('document.create', { details: { workspace: { id: 1, name: 'W' } } });
// @ts-expect-error a required property missing
audit.logEvent('document.create', { details: { document: { id: 'd1' } } });
// @ts-expect-error a property of the wrong type
audit.logEvent('document.create', { details: { document: { id: 1, name: 'Plan' } } });
// @ts-expect-error a role outside the enum
audit.logEvent('document.change_access', { details: { document: { id: 'd', name: 'n' }, access_changes: { public_access: 'admins' } } });
// @ts-expect-error an actor type that does not exist
audit.logEvent('document.create', { actor: { type: 'robot' }, details: { document: { id: 'd1', name: 'Plan' } } });
// @ts-expect-error details are required
audit.logEvent('document.create', {});

// Own catalogs, and extensions of the bundled one, are typed the same way.
const billing = extendCatalog(gristCatalog, {
  'invoice.pay': {
    description: 'An invoice was paid.',
    scopes: ['site'],
    details: z.strictObject({ invoice: z.strictObject({ id: z.string(), amount: z.number() }) }),
    sample: { invoice: { id: 'inv_1', amount: 42 } },
  },
});
const billingAudit = createAuditLogger({ catalog: billing });
billingAudit.logEvent('invoice.pay', { details: { invoice: { id: 'inv_2', amount: 3 } } });
billingAudit.logEvent('document.create', { details: { document: { id: 'd1', name: 'Plan' } } });
// @ts-expect-error amount must be a number
billingAudit.logEvent('invoice.pay', { details: { invoice: { id: 'inv_2', amount: '3' } } });

defineCatalog({
  'thing.do': {
    description: 'A thing was done.',
    scopes: ['installation'],
    details: z.strictObject({ n: z.number() }),
    // @ts-expect-error the sample must match the details schema
    sample: { n: 'one' },
  },
});

// The Grist audit-event catalog: 40 actions with their details schemas, scopes and samples.
// Each details schema matches the reference catalog property by property (path, type, optional);
// test/catalog/grist.test.ts walks the reference file to prove it. Objects are strict: a property the
// catalog does not know is a validation issue, so a typo in an application never goes unnoticed.
import { z } from 'zod';
import { defineCatalog } from '../../define.js';
import { jsonValue } from '../../json-value.js';

const siteRef = z.strictObject({ id: z.number(), name: z.string(), domain: z.string() });
const configRef = z.strictObject({ id: z.number(), key: z.string(), value: jsonValue, site: siteRef.optional() });
const documentRef = z.strictObject({ id: z.string(), name: z.string() });
const userAccess = z.strictObject({ id: z.number(), name: z.string(), email: z.string().optional(), access: z.enum(["owners", "editors", "viewers", "members"]).nullable() });
const documentAccessChanges = z.strictObject({ public_access: z.enum(["owners", "editors", "viewers", "members"]).nullable().optional(), max_inherited_access: z.enum(["owners", "editors", "viewers"]).nullable().optional(), users: z.array(userAccess).optional() });
const documentId = z.strictObject({ id: z.string() });
const workspaceRef = z.strictObject({ id: z.number(), name: z.string() });
const documentMaybeInWorkspace = z.strictObject({ id: z.string(), name: z.string(), workspace: workspaceRef.optional() });
const documentInWorkspace = z.strictObject({ id: z.string(), name: z.string(), workspace: workspaceRef });
const webhookEvents = z.strictObject({ delivered_to: z.string(), quantity: z.number() });
const webhookRef = z.strictObject({ id: z.string(), events: webhookEvents });
const workspaceId = z.strictObject({ id: z.number() });
const documentCopy = z.strictObject({ id: z.string(), name: z.string(), workspace: workspaceId.optional() });
const duplicateRef = z.strictObject({ document: documentCopy });
const duplicateOptions = z.strictObject({ as_template: z.boolean() });
const forkCreated = z.strictObject({ id: z.string(), document_id: z.string(), url_id: z.string() });
const userAction = z.strictObject({ num: z.number(), hash: z.string().nullable() });
const documentOpened = z.strictObject({ id: z.string(), name: z.string(), url_id: z.string(), fork_id: z.string().optional(), snapshot_id: z.string().optional() });
const forkRef = z.strictObject({ document_id: z.string() });
const sqlQuery = z.strictObject({ statement: z.string(), arguments: z.array(z.union([z.string(), z.number()])).nullable().optional() });
const queryOptions = z.strictObject({ timeout_ms: z.number().optional() });
const truncateOptions = z.strictObject({ keep_n_most_recent: z.number() });
const siteAccessChanges = z.strictObject({ users: z.array(userAccess) });
const userRef = z.strictObject({ id: z.number(), name: z.string(), email: z.string().optional() });
const userChange = z.strictObject({ user: userRef });
const workspaceAccessChanges = z.strictObject({ max_inherited_access: z.enum(["owners", "editors", "viewers"]).nullable().optional(), users: z.array(userAccess).optional() });

/** The bundled Grist catalog. Extend it with `extendCatalog(gristCatalog, {...})`. */
export const gristCatalog = defineCatalog({
  "config.create": {
    description: "An installation or site configuration item was created.",
    scopes: ["installation", "site"],
    details: z.strictObject({ config: configRef }),
    sample: {"config": {"id": 18, "key": "audit_log_streaming_destinations", "value": [{"id": "ee6971af-80f5-4654-9bd2-5c6ab33e7ccf", "name": "splunk", "url": "https://hec.example.com:8088/services/collector/event", "token": "Splunk B5A79AAD-D822-46CC-80D1-819F80D7BFB0"}], "site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}}},
  },
  "config.delete": {
    description: "An installation or site configuration item was deleted.",
    scopes: ["installation", "site"],
    details: z.strictObject({ config: configRef }),
    sample: {"config": {"id": 18, "key": "audit_log_streaming_destinations", "value": [{"id": "ee6971af-80f5-4654-9bd2-5c6ab33e7ccf", "name": "splunk", "url": "https://hec.example.com:8088/services/collector/event", "token": "Splunk B5A79AAD-D822-46CC-80D1-819F80D7BFB0"}], "site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}}},
  },
  "config.update": {
    description: "The value of an installation or site configuration item was changed.",
    scopes: ["installation", "site"],
    details: z.strictObject({ previous: z.strictObject({ config: configRef }), current: z.strictObject({ config: configRef }) }),
    sample: {"previous": {"config": {"id": 18, "key": "audit_log_streaming_destinations", "value": [{"id": "ee6971af-80f5-4654-9bd2-5c6ab33e7ccf", "name": "splunk", "url": "https://hec.example.com:8088/services/collector/event", "token": "Splunk B5A79AAD-D822-46CC-80D1-819F80D7BFB0"}], "site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}}}, "current": {"config": {"id": 18, "key": "audit_log_streaming_destinations", "value": [{"id": "ee6971af-80f5-4654-9bd2-5c6ab33e7ccf", "name": "splunk", "url": "https://hec.example.com:8088/services/collector/event", "token": "Splunk B5A79AAD-D822-46CC-80D1-819F80D7BFB0"}, {"id": "8f421760-14e9-4d11-b10a-f51d82041e0f", "name": "other", "url": "https://other.example.com/events"}], "site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}}}},
  },
  "document.change_access": {
    description: "The access rules of a document were changed: public access, inherited access or per-user roles.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef, access_changes: documentAccessChanges }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}, "access_changes": {"public_access": "viewers", "max_inherited_access": null, "users": [{"id": 146, "name": "Flapjack Toasty", "email": "flapjack@example.com", "access": "owners"}]}},
  },
  "document.clear_all_webhook_queues": {
    description: "Every webhook queue of a document was cleared, discarding undelivered webhook events.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}},
  },
  "document.clear_webhook_queue": {
    description: "The queue of one webhook of a document was cleared, discarding its undelivered events.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId, webhook: documentId }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}, "webhook": {"id": "17f8328e-0523-41fe-89aa-ae180bebb26e"}},
  },
  "document.create": {
    description: "A new document was created.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentMaybeInWorkspace }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 97, "name": "Secret Plans"}}},
  },
  "document.enable": {
    description: "A disabled document was enabled again.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentInWorkspace }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 97, "name": "Secret Plans"}}},
  },
  "document.delete": {
    description: "A document was deleted permanently.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}},
  },
  "document.disable": {
    description: "A document was disabled, making it unavailable to its users.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentInWorkspace }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 97, "name": "Secret Plans"}}},
  },
  "document.deliver_webhook_events": {
    description: "A batch of webhook events of a document was delivered to its endpoint.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId, webhook: webhookRef }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}, "webhook": {"id": "17f8328e-0523-41fe-89aa-ae180bebb26e", "events": {"delivered_to": "example.com", "quantity": 3}}},
  },
  "document.duplicate": {
    description: "A copy of a document was made, with or without its data.",
    scopes: ["installation", "site"],
    details: z.strictObject({ original: z.strictObject({ document: documentRef }), duplicate: duplicateRef, options: duplicateOptions }),
    sample: {"original": {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}}, "duplicate": {"document": {"id": "fFKKA6qjXJd9sNLhpw6iPn", "name": "Project Lollipop V2", "workspace": {"id": 92}}}, "options": {"as_template": false}},
  },
  "document.fork": {
    description: "A fork (a personal working copy) of a document was created.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef, fork: forkCreated }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}, "fork": {"id": "fGGyPYea1ueFiVW382uuAY", "document_id": "mRM8ydxxLkc6Ewo56jsDGx~fGGyPYea1ueFiVW382uuAY~9", "url_id": "mRM8ydxxLkc6~fGGyPYea1ueFiVW382uuAY~9"}},
  },
  "document.modify": {
    description: "The content of a document was changed by a user action.",
    scopes: ["installation", "site"],
    details: z.strictObject({ action: userAction, document: documentId }),
    sample: {"action": {"num": 7, "hash": "825f859cf9628d9df90c1b25e31c723bb1c05c061cab6d1d9ccfea340e68d638"}, "document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}},
  },
  "document.move": {
    description: "A document was moved to another workspace.",
    scopes: ["installation", "site"],
    details: z.strictObject({ previous: z.strictObject({ document: documentInWorkspace }), current: z.strictObject({ document: documentInWorkspace }) }),
    sample: {"previous": {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 97, "name": "Secret Plans"}}}, "current": {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 98, "name": "Not So Secret Plans"}}}},
  },
  "document.move_to_trash": {
    description: "A document was moved to the trash, from where it can still be restored.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}},
  },
  "document.open": {
    description: "A document was opened.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentOpened }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "url_id": "mRM8ydxxLkc6~fGGyPYea1ueFiVW382uuAY~9", "fork_id": "fGGyPYea1ueFiVW382uuAY"}},
  },
  "document.pin": {
    description: "A document was pinned to the top of its workspace.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}},
  },
  "document.reload": {
    description: "A document was reloaded on the server.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}},
  },
  "document.rename": {
    description: "A document was renamed.",
    scopes: ["installation", "site"],
    details: z.strictObject({ previous: z.strictObject({ document: documentRef }), current: z.strictObject({ document: documentRef }) }),
    sample: {"previous": {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}}, "current": {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Competitive Analysis"}}},
  },
  "document.replace": {
    description: "The content of a document was replaced by another document or a snapshot.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId, fork: forkRef.optional(), snapshot: documentId.optional() }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}, "fork": {"document_id": "mRM8ydxxLkc6Ewo56jsDGx~fGGyPYea1ueFiVW382uuAY~9"}},
  },
  "document.restore_from_trash": {
    description: "A document was restored from the trash.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentInWorkspace }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop", "workspace": {"id": 97, "name": "Secret Plans"}}},
  },
  "document.run_sql_query": {
    description: "A SQL query was run against a document through the API.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId, sql_query: sqlQuery, options: queryOptions }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}, "sql_query": {"statement": "SELECT * FROM Pets WHERE popularity >= ?", "arguments": [50]}, "options": {"timeout_ms": 500}},
  },
  "document.send_to_google_drive": {
    description: "A document was exported to Google Drive.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}},
  },
  "document.truncate_history": {
    description: "The history of a document was truncated, deleting older snapshots and actions.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentId, options: truncateOptions }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx"}, "options": {"keep_n_most_recent": 3}},
  },
  "document.unpin": {
    description: "A document was unpinned from its workspace.",
    scopes: ["installation", "site"],
    details: z.strictObject({ document: documentRef }),
    sample: {"document": {"id": "mRM8ydxxLkc6Ewo56jsDGx", "name": "Project Lollipop"}},
  },
  "site.change_access": {
    description: "The access rules of a site (team) were changed.",
    scopes: ["installation", "site"],
    details: z.strictObject({ site: siteRef, access_changes: siteAccessChanges }),
    sample: {"site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}, "access_changes": {"users": [{"id": 146, "name": "Flapjack Toasty", "email": "flapjack@example.com", "access": "owners"}]}},
  },
  "site.create": {
    description: "A new site (team) was created.",
    scopes: ["installation"],
    details: z.strictObject({ site: siteRef }),
    sample: {"site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}},
  },
  "site.delete": {
    description: "A site (team) was deleted, with all its workspaces and documents.",
    scopes: ["installation"],
    details: z.strictObject({ site: siteRef, error: z.string().optional() }),
    sample: {"site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}},
  },
  "site.rename": {
    description: "A site (team) was renamed or given a new domain.",
    scopes: ["installation", "site"],
    details: z.strictObject({ previous: z.strictObject({ site: siteRef }), current: z.strictObject({ site: siteRef }) }),
    sample: {"previous": {"site": {"id": 42, "name": "Grist Labs", "domain": "gristlabs"}}, "current": {"site": {"id": 42, "name": "ACME Unlimited", "domain": "acme"}}},
  },
  "user.change_name": {
    description: "A user changed their display name.",
    scopes: ["installation"],
    details: z.strictObject({ previous: userChange, current: userChange }),
    sample: {"previous": {"user": {"id": 146, "name": "Flapjack Waffleflap", "email": "flapjack@example.com"}}, "current": {"user": {"id": 146, "name": "Flapjack Toasty", "email": "flapjack@example.com"}}},
  },
  "user.create_api_key": {
    description: "A user created an API key.",
    scopes: ["installation"],
    details: userChange,
    sample: {"user": {"id": 146, "name": "Flapjack Waffleflap", "email": "flapjack@example.com"}},
  },
  "user.delete": {
    description: "A user account was deleted.",
    scopes: ["installation"],
    details: userChange,
    sample: {"user": {"id": 146, "name": "Flapjack Waffleflap", "email": "flapjack@example.com"}},
  },
  "user.delete_api_key": {
    description: "A user deleted their API key.",
    scopes: ["installation"],
    details: userChange,
    sample: {"user": {"id": 146, "name": "Flapjack Waffleflap", "email": "flapjack@example.com"}},
  },
  "workspace.change_access": {
    description: "The access rules of a workspace were changed.",
    scopes: ["installation", "site"],
    details: z.strictObject({ workspace: workspaceRef, access_changes: workspaceAccessChanges }),
    sample: {"workspace": {"id": 97, "name": "Secret Plans"}, "access_changes": {"max_inherited_access": "editors", "users": [{"id": 146, "name": "Flapjack Toasty", "email": "flapjack@example.com", "access": "editors"}]}},
  },
  "workspace.create": {
    description: "A new workspace was created.",
    scopes: ["installation", "site"],
    details: z.strictObject({ workspace: workspaceRef }),
    sample: {"workspace": {"id": 97, "name": "Secret Plans"}},
  },
  "workspace.delete": {
    description: "A workspace was deleted permanently.",
    scopes: ["installation", "site"],
    details: z.strictObject({ workspace: workspaceRef, error: z.string().optional() }),
    sample: {"workspace": {"id": 97, "name": "Secret Plans"}},
  },
  "workspace.move_to_trash": {
    description: "A workspace was moved to the trash, from where it can still be restored.",
    scopes: ["installation", "site"],
    details: z.strictObject({ workspace: workspaceRef }),
    sample: {"workspace": {"id": 97, "name": "Secret Plans"}},
  },
  "workspace.rename": {
    description: "A workspace was renamed.",
    scopes: ["installation", "site"],
    details: z.strictObject({ previous: z.strictObject({ workspace: workspaceRef }), current: z.strictObject({ workspace: workspaceRef }) }),
    sample: {"previous": {"workspace": {"id": 97, "name": "Secret Plans"}}, "current": {"workspace": {"id": 97, "name": "Retreat Docs"}}},
  },
  "workspace.restore_from_trash": {
    description: "A workspace was restored from the trash.",
    scopes: ["installation", "site"],
    details: z.strictObject({ workspace: workspaceRef }),
    sample: {"workspace": {"id": 97, "name": "Secret Plans"}},
  },
});

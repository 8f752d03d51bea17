import { readFileSync } from 'node:fs';
import type { AuditEvent } from '../../src/catalog/envelope.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

/** `sample-event.json`: the canonical event shape every body must keep. */
export const sampleEvent = fixture('sample-event.json') as AuditEvent;

export interface ReferenceProperty {
  path: string;
  type: unknown;
  optional: boolean;
  items?: unknown;
}

/** `grist-audit-events.json`: the reference catalog the bundled one must match. */
export const referenceCatalog = fixture('grist-audit-events.json') as Record<
  string,
  { scopes: string[]; properties: ReferenceProperty[]; sample_details: unknown }
>;

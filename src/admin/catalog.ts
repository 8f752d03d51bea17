// The Admin Panel's own audit actions: every change an administrator or a site's owner makes to
// where audit events go is itself an audit event, logged through otel-audit like any application's.
// A change to a site's destination has that site in its context: the destination actions are
// site-scoped, so the event also reaches the site's own stream. Rollbacks are the installation's.
import { z } from 'zod';
import { defineCatalog } from '../catalog/define.js';

const destinationRef = z.strictObject({ id: z.string(), name: z.string(), type: z.string() });
const change = z.strictObject({
  destination: destinationRef,
  /** The configuration revision the change produced (absent when it was rejected). */
  revision: z.number().optional(),
  /** applied, or rejected with the Collector's reason (the previous revision stays). */
  outcome: z.enum(['applied', 'rejected']),
  error: z.string().optional(),
});
const sample = { destination: { id: 'splunk', name: 'Splunk Cloud', type: 'splunk_hec' }, revision: 4, outcome: 'applied' as const };

export const adminCatalog = defineCatalog({
  'audit_destination.create': { description: 'An audit-log streaming destination was added.', scopes: ['installation', 'site'], details: change, sample },
  'audit_destination.update': {
    description: 'The settings of an audit-log streaming destination were changed.',
    scopes: ['installation', 'site'],
    details: change.extend({ fields: z.array(z.string()) }),
    sample: { ...sample, fields: ['url', 'token'] },
  },
  'audit_destination.delete': {
    description: 'An audit-log streaming destination was removed.',
    scopes: ['installation', 'site'],
    details: change.extend({ abandoned_queued_events: z.number() }),
    sample: { ...sample, abandoned_queued_events: 0 },
  },
  'audit_destination.pause': { description: 'Delivery to an audit-log streaming destination was paused.', scopes: ['installation', 'site'], details: change, sample },
  'audit_destination.resume': {
    description: 'Delivery to a paused audit-log streaming destination was resumed; the gap is replayed from the archive (an audit_destination.replay event follows).',
    scopes: ['installation', 'site'],
    details: change,
    sample,
  },
  'audit_destination.test': {
    description: 'A test event was sent to an audit-log streaming destination.',
    scopes: ['installation', 'site'],
    details: z.strictObject({ destination: destinationRef, delivered: z.boolean() }),
    sample: { destination: sample.destination, delivered: true },
  },
  'audit_destination.replay': {
    description: 'Archived audit events were replayed to one streaming destination.',
    scopes: ['installation', 'site'],
    details: z.strictObject({ destination: destinationRef, since: z.string(), until: z.string(), replayed_events: z.number() }),
    sample: { destination: sample.destination, since: '2026-11-26T10:00:00.000Z', until: '2026-11-26T11:00:00.000Z', replayed_events: 120 },
  },
  'audit_destination.redrive': {
    description: "The records a streaming destination refused for good (its dead letters) were handed back to the gateway, to be sent to it again.",
    scopes: ['installation', 'site'],
    details: z.strictObject({ destination: destinationRef, redriven_records: z.number() }),
    sample: { destination: sample.destination, redriven_records: 3 },
  },
  'audit_config.rollback': {
    description: 'The streaming configuration was rolled back to an earlier revision.',
    scopes: ['installation'],
    details: z.strictObject({ to_revision: z.number(), revision: z.number().optional(), outcome: z.enum(['applied', 'rejected']), error: z.string().optional() }),
    sample: { to_revision: 3, revision: 5, outcome: 'applied' },
  },
});

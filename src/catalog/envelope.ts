import { z } from 'zod';

/** User and site ids are numbers in the reference catalog; many applications use strings. */
const identifier = z.union([z.number(), z.string().min(1)]);

export const userSchema = z.strictObject({
  id: identifier,
  email: z.string(),
  /** The display name ("Flapjack Toasty"). */
  name: z.string(),
  /** The login or short user name, where the application has one ("flapjack"; the Admin Panel's users). */
  login: z.string().optional(),
});

/** Who performed the action. */
export const actorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), user: userSchema }),
  z.strictObject({ type: z.literal('guest') }),
  z.strictObject({ type: z.literal('system') }),
  z.strictObject({ type: z.literal('unknown') }),
]);

export const siteSchema = z.strictObject({
  id: identifier,
  name: z.string().optional(),
  domain: z.string().optional(),
});

/** Where the action came from; every field is optional. */
export const contextSchema = z.strictObject({
  ip_address: z.union([z.ipv4(), z.ipv6()]).optional(),
  user_agent: z.string().optional(),
  session_id: z.string().optional(),
  site: siteSchema.optional(),
});

/** RFC 3339, UTC (`Z`), millisecond precision: `2024-11-13T06:00:51.518Z`. */
export const timestampSchema = z.iso.datetime({ precision: 3 });

export type Actor = z.infer<typeof actorSchema>;
export type AuditContext = z.infer<typeof contextSchema>;

/** The canonical audit event: exactly the shape a SIEM receives as the log body. */
export interface AuditEvent<Action extends string = string, Details = unknown> {
  id: string;
  action: Action;
  actor: Actor;
  context: AuditContext;
  timestamp: string;
  details: Details;
}

/** The envelope schema of one action: the shared fields plus that action's details. */
export function eventSchemaFor(action: string, details: z.ZodType) {
  return z.strictObject({
    id: z.uuidv4(),
    action: z.literal(action),
    actor: actorSchema,
    context: contextSchema,
    timestamp: timestampSchema,
    details,
  });
}

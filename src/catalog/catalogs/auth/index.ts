// The authentication catalog: what every application audits first (logins, failed logins,
// logouts, sessions revoked, password and MFA changes, API token use). Extend it with your own
// actions (`extendCatalog(authCatalog, {...})`), or put it beside the Grist catalog
// (`extendCatalog(gristCatalog, authCatalog.actions)`): no action name is shared.
//
// Who acted is the event's actor: after a login, `setAuditActor(req, ...)` makes it the user who
// just logged in. The account an action is about (a password changed by an administrator) is in
// `details.user`, with the actor's own fields. A secret (a password, a token's value) never goes in
// an event: an API token is named by its id.
import { z } from 'zod';
import { defineCatalog } from '../../define.js';
import { userSchema } from '../../envelope.js';

/** How a user proved who they are. */
const method = z.enum(['password', 'sso', 'oauth', 'passkey', 'magic_link', 'api_token', 'other']);
/** Why a login was refused: what a SIEM's brute-force and lockout rules key on. */
const failure = z.enum(['bad_password', 'unknown_user', 'locked', 'disabled', 'mfa_failed', 'password_expired', 'rate_limited', 'sso_error', 'other']);
/** A second factor. */
const factor = z.strictObject({ type: z.enum(['totp', 'webauthn', 'sms', 'email', 'recovery_codes', 'other']) });

const flapjack = { id: 146, email: 'flapjack@example.com', name: 'Flapjack Toasty' };

/** The bundled authentication catalog (`otel-audit/catalogs/auth`). */
export const authCatalog = defineCatalog({
  'user.login': {
    description: 'A user logged in: the actor is that user, the context the new session.',
    scopes: ['installation'],
    details: z.strictObject({ method, mfa: z.boolean().optional() }),
    sample: { method: 'password', mfa: true },
  },
  'user.login_failed': {
    description: 'A login was refused. The actor is who tried (usually a guest); `login` is the name they gave, which may name no account.',
    scopes: ['installation'],
    details: z.strictObject({ login: z.string(), reason: failure, method }),
    sample: { login: 'flapjack@example.com', reason: 'bad_password', method: 'password' },
  },
  'user.logout': {
    description: 'A user logged out of their session.',
    scopes: ['installation'],
    details: z.strictObject({}),
    sample: {},
  },
  'session.revoke': {
    description: "A session was ended by someone or something other than its own logout: an administrator, a password change, the user's 'log out everywhere'.",
    scopes: ['installation'],
    details: z.strictObject({ session: z.strictObject({ id: z.string() }), user: userSchema, reason: z.enum(['administrator', 'password_change', 'logout_everywhere', 'security']).optional() }),
    sample: { session: { id: 'ixVo6maPbcgd1vvoj93teT' }, user: flapjack, reason: 'logout_everywhere' },
  },
  'user.change_password': {
    description: "A user's password was changed: by the user, through a reset link, or by an administrator.",
    scopes: ['installation'],
    details: z.strictObject({ user: userSchema, via: z.enum(['self', 'reset_link', 'administrator']) }),
    sample: { user: flapjack, via: 'self' },
  },
  'user.enable_mfa': {
    description: 'A second factor was added to a user account.',
    scopes: ['installation'],
    details: z.strictObject({ user: userSchema, factor }),
    sample: { user: flapjack, factor: { type: 'totp' } },
  },
  'user.disable_mfa': {
    description: 'A second factor was removed from a user account.',
    scopes: ['installation'],
    details: z.strictObject({ user: userSchema, factor }),
    sample: { user: flapjack, factor: { type: 'totp' } },
  },
  'api_token.use': {
    description: 'A request authenticated with an API token: the actor is its owner, the token named by its id, never its value.',
    scopes: ['installation', 'site'],
    details: z.strictObject({ token: z.strictObject({ id: z.string(), name: z.string().optional() }) }),
    sample: { token: { id: 'tok_8f42176014e9', name: 'CI deploy' } },
  },
});

// otel-audit/admin: the Admin Panel, its own entry point. The core entry (otel-audit) loads none of
// it; a program that runs the panel, or writes its users and tokens files, or replays a window of
// its archive, imports this. What is not here is the panel's inside.
import { startAdmin as start, type AdminOptions, type AdminPanel } from './app.js';

/**
 * Starts otelcol-audit under supervision with the destinations of the state directory, and the
 * panel with its JSON API (loopback by default). Options are checked before anything starts: an
 * error names the option.
 *
 * @example
 * const panel = await startAdmin({ stateDir: '/var/lib/otel-audit-admin', usersFile: '/etc/otel-audit/users' });
 * console.log(`Admin Panel at ${panel.url}; applications send to ${panel.ingestEndpoint}`);
 * process.once('SIGTERM', () => void panel.close());
 */
export const startAdmin: (options: AdminOptions) => Promise<AdminPanel> = start;
export type { AdminOptions, AdminPanel };
export { hashPassword, hashToken, parseRoles } from './auth.js';
export type { Roles } from './auth.js';
export { replayToDestination, ReplayTargetError } from './offline-replay.js';
export type { ReplayOptions } from './offline-replay.js';

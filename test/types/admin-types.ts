// Type-level tests of the Admin Panel's entry point (otel-audit/admin), imported by the package's
// name as a program embedding the panel does. Compiled by `tsc --noEmit` and by
// test/types/types.test.ts, like logger-types.ts.
import { hashPassword, hashToken, parseRoles, replayToDestination, startAdmin, type AdminOptions, type AdminPanel, type Roles } from 'otel-audit/admin';

const options: AdminOptions = { stateDir: '/var/lib/otel-audit-admin', usersFile: '/etc/otel-audit/users', port: 8080 };
const panel: Promise<AdminPanel> = startAdmin(options);
void panel.then(async (running) => {
  const where: string = running.url;
  const ingest: string = running.ingestEndpoint;
  const token: string | undefined = running.oneTimeToken;
  const log: string = running.collectorLog();
  void [where, ingest, token, log];
  // @ts-expect-error the panel's inside (its control plane) is not part of the entry point
  void running.control;
  await running.close();
});

// @ts-expect-error stateDir is required
void startAdmin({ port: 8080 });
// @ts-expect-error port is a number
void startAdmin({ stateDir: '/tmp/state', port: '8080' });

const owner: Roles = parseRoles('owner=acme,globex');
const line: string = hashPassword('olga', 'a long enough password', 'olga@acme.example', owner);
// @ts-expect-error roles are admin or the sites owned, not a string
hashPassword('olga', 'a long enough password', 'olga@acme.example', 'owner=acme');
const tokenLine: string = hashToken('acme_backend', 'acme', 'f'.repeat(64));
void [line, tokenLine];

const replayed: Promise<number> = replayToDestination({ stateDir: '/tmp/state', destination: 'siem', since: 0, until: Date.now(), actor: { type: 'user', user: { id: 'ops', email: '', name: 'ops' } } });
void replayed;
// @ts-expect-error since is a time in ms, not a string
void replayToDestination({ stateDir: '/tmp/state', destination: 'siem', since: '2026-01-01', until: 0, actor: { type: 'unknown' } });

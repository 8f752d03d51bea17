// The shipped Express example (examples/express), run against an OTLP endpoint: a failed login is
// logged by the guest who tried, with its reason; a login and everything after it by the user who
// logged in, in the new session; nothing of the user row but the actor's fields reaches an event.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createApp } from '../../examples/express/app.js';
import { catalog } from '../../examples/express/catalog.js';
import { createAuditLogger, type AuditError } from '../../src/index.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

type Body = { action: string; actor: { type: string; user?: { id: number; email: string; name: string } }; context: { session_id?: string; ip_address?: string }; details: Record<string, unknown> };

describe('the Express example', () => {
  it('logs failed logins with their reason as the guest, the login and what follows as the user and session, nothing of the user row beyond the actor', async () => {
    const listener = await startOtlpListener();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog, checkpoints: false, endpoint: listener.url, onError: (error) => errors.push(error) });
    const server = createApp(audit).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let cookie = '';
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', cookie }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const set = response.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
      await response.arrayBuffer();
      return { status: response.status, eventId: response.headers.get('x-audit-event-id') };
    };
    const flapjack = (password: string) => ({ email: 'flapjack@example.com', password });

    const steps = [
      await call('POST', '/notes', { title: 'before login' }),
      await call('POST', '/login', { email: 'nobody@example.com', password: 'x' }),
      await call('POST', '/login', flapjack('wrong')),
      await call('POST', '/login', flapjack('correct horse battery staple')),
    ];
    const session = cookie.replace(/^sid=/, '');
    const created = await call('POST', '/notes', { title: 'Groceries' });
    steps.push(created);
    await audit.flush({ timeoutMillis: 10_000 });
    const note = (listener.records.find((r) => r.attributes['log.record.uid'] === created.eventId)!.body as Body).details['note'] as { id: string };
    steps.push(await call('DELETE', `/notes/${note.id}`), await call('POST', '/logout'), await call('POST', '/notes', { title: 'after logout' }));
    for (let i = 0; i < 5; i++) await call('POST', '/login', flapjack('wrong again'));
    steps.push(await call('POST', '/login', flapjack('correct horse battery staple')));
    server.close();
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    assert.deepEqual(steps.map((step) => step.status), [401, 401, 401, 200, 201, 200, 200, 401, 401]);
    assert.deepEqual(errors.map((error) => error.message), []);
    const events = steps.filter((step) => step.eventId).map((step) => listener.records.find((r) => r.attributes['log.record.uid'] === step.eventId)!);
    const bodies = events.map((record) => record.body as Body);
    const guest = { type: 'guest' };
    const user = { type: 'user', user: { id: 146, email: 'flapjack@example.com', name: 'Flapjack Toasty' } };
    assert.deepEqual(
      bodies.map((body) => [body.action, body.actor, body.context.session_id ?? null, body.details]),
      [
        ['user.login_failed', guest, null, { login: 'nobody@example.com', reason: 'unknown_user', method: 'password' }],
        ['user.login_failed', guest, null, { login: 'flapjack@example.com', reason: 'bad_password', method: 'password' }],
        ['user.login', user, session, { method: 'password' }],
        ['note.create', user, session, { note: { id: note.id, title: 'Groceries' } }],
        ['note.delete', user, session, { note: { id: note.id, title: 'Groceries' } }],
        ['user.logout', user, session, {}],
        ['user.login_failed', guest, null, { login: 'flapjack@example.com', reason: 'locked', method: 'password' }],
      ],
    );
    for (const record of listener.records) {
      assert.equal(record.attributes['audit.invalid'], undefined, String(record.eventName));
      assert.equal((record.body as Body).context.ip_address, '127.0.0.1');
    }
    assert.doesNotMatch(JSON.stringify(listener.records), /passwordHash|"role"|correct horse|scrypt/);
  });
});

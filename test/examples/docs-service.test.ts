import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { driveAllActions } from '../../examples/docs-service/traffic.js';
import { createApp } from '../../examples/docs-service/app.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, type AuditError } from '../../src/index.js';
import { startOtlpListener } from '../helpers/otlp-listener.js';

describe('the example document service', () => {
  it('reaches every action of the catalog with valid events carrying the request context', async () => {
    const listener = await startOtlpListener();
    const errors: AuditError[] = [];
    const audit = createAuditLogger({ catalog: gristCatalog, checkpoints: false, endpoint: listener.url, onError: (e) => errors.push(e) });
    const server = createApp(audit).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const events = await driveAllActions(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.close();
    await audit.shutdown({ timeoutMillis: 10_000 });
    await listener.close();

    assert.deepEqual(errors.map((e) => e.message), []);
    assert.deepEqual([...new Set(events.map((e) => e.action))].sort(), Object.keys(gristCatalog.actions).sort());
    assert.equal(listener.records.length, events.length);
    for (const record of listener.records) {
      assert.equal(record.attributes['audit.invalid'], undefined);
      const body = record.body as { actor: { type: string; user?: { id: number } }; context: { ip_address?: string; session_id?: string; user_agent?: string } };
      assert.equal(body.actor.type, 'user');
      assert.equal(body.actor.user?.id, 146);
      assert.equal(body.context.ip_address, '127.0.0.1');
      assert.equal(body.context.user_agent, 'otel-audit-demo/1.0');
      assert.ok(body.context.session_id);
    }
    const site = listener.records.find((r) => r.attributes['audit.action'] === 'site.rename');
    assert.equal(site?.attributes['audit.site.id'], String((site?.body as { details: { current: { site: { id: number } } } }).details.current.site.id));
  });
});

// The example configurations run, not only validate: routing by action, and redaction for a
// data-lake copy.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { freePort, startCollector, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

const events = (file: string): TrailRecord[] =>
  existsSync(file) ? readTrail(file).filter((r) => (r.body as { action: string }).action !== 'audit.checkpoint') : [];
const actionsOf = (file: string) => events(file).map((r) => (r.body as { action: string }).action).sort();

async function emit(endpoint: string, actions: (keyof typeof gristCatalog.actions)[]) {
  const audit = createAuditLogger({ catalog: gristCatalog, endpoint, checkpoints: false, onError: (error) => assert.fail(error) });
  for (const action of actions) audit.logEvent(action, { actor: sampleEvent.actor, context: sampleEvent.context, details: gristCatalog.actions[action].sample as never });
  await audit.shutdown({ timeoutMillis: 20_000 });
}

describe('example configurations', () => {
  const running: RunningProcess[] = [];
  after(async () => {
    for (const p of running.reverse()) await p.stop();
  });

  it('routing-by-action sends user.* and *.change_access to the security SIEM, everything to the archive', async () => {
    const dir = tempDir('routing');
    const ports = { hec: await freePort(), otlp: await freePort(), health: await freePort() };
    const files = { security: join(dir, 'security.jsonl'), archive: join(dir, 'archive.jsonl') };
    running.push(await startHecReceiver(ports.hec, files.security));
    running.push(
      await startCollector(
        'examples/routing-by-action/config.yaml',
        {
          AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
          AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
          AUDIT_STORAGE_DIR: join(dir, 'queue'),
          AUDIT_ARCHIVE_PATH: files.archive,
          SECURITY_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
          SECURITY_HEC_TOKEN: 'security-token',
        },
        `127.0.0.1:${ports.health}`,
      ),
    );
    const sent = ['user.change_name', 'document.change_access', 'document.create', 'workspace.create', 'site.change_access', 'user.delete'] as const;
    await emit(`http://127.0.0.1:${ports.otlp}/v1/logs`, [...sent]);
    await waitFor('the archive and the security SIEM', () => events(files.archive).length >= sent.length && events(files.security).length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // nothing else may follow
    assert.deepEqual(actionsOf(files.archive), [...sent].sort());
    assert.deepEqual(actionsOf(files.security), ['document.change_access', 'site.change_access', 'user.change_name', 'user.delete']);
  });

  it('redaction-data-lake replaces the actor email by a keyed hash in the data-lake copy only', async () => {
    const dir = tempDir('redaction');
    const ports = { otlp: await freePort(), health: await freePort() };
    const files = { archive: join(dir, 'archive.jsonl'), lake: join(dir, 'lake.jsonl') };
    const key = 'lake-key';
    running.push(
      await startCollector(
        'examples/redaction-data-lake/config.yaml',
        { AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`, AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`, AUDIT_STORAGE_DIR: join(dir, 'queue'), AUDIT_ARCHIVE_PATH: files.archive, DATA_LAKE_PATH: files.lake, REDACTION_KEY: key },
        `127.0.0.1:${ports.health}`,
      ),
    );
    await emit(`http://127.0.0.1:${ports.otlp}/v1/logs`, ['document.create', 'workspace.create']);
    await waitFor('both copies', () => events(files.archive).length >= 2 && events(files.lake).length >= 2);
    const email = sampleEvent.actor.type === 'user' ? sampleEvent.actor.user.email : '';
    const pseudonym = createHash('sha256').update(key + email).digest('hex');
    for (const record of events(files.archive)) {
      assert.equal((record.body as typeof sampleEvent).actor.type === 'user' && (record.body as { actor: { user: { email: string } } }).actor.user.email, email);
      assert.equal(record.attributes['user.email'], email);
    }
    for (const record of events(files.lake)) {
      const body = record.body as { actor: { user: { email: string } } };
      assert.equal(body.actor.user.email.toLowerCase(), pseudonym);
      assert.equal(String(record.attributes['user.email']).toLowerCase(), pseudonym);
      assert.ok(!JSON.stringify(record).includes(email), 'the address appears nowhere in the data-lake record');
    }
  });
});

// replayToDestination (otel-audit/admin, what `otel-audit replay` runs): what it refuses before
// anything is read or sent. A replay through a real Collector under the panel: test/e2e/admin.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replayToDestination, ReplayTargetError, type ReplayOptions } from '../../src/admin/index.js';

const request = (stateDir: string): ReplayOptions => ({ stateDir, destination: 'siem', since: 0, until: Date.now(), actor: { type: 'user', user: { id: 'ops', email: '', name: 'ops' } } });

describe('replayToDestination', () => {
  it('refuses a directory that is not a state directory of the panel, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-not-state-'));
    await assert.rejects(replayToDestination(request(dir)), (error: unknown) => error instanceof ReplayTargetError && error.message === `${dir} is not a state directory of otel-audit admin`);
  });

  it('refuses a destination the running configuration does not have, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-state-'));
    mkdirSync(join(dir, 'revisions'));
    await assert.rejects(replayToDestination(request(dir)), (error: unknown) => error instanceof ReplayTargetError && error.message === 'no destination siem in the running configuration');
  });
});

// scripts/kafka/kafka.sh on its own, as a person or another script uses it: `start` brings a
// single-node KRaft broker up on free loopback ports and prints its address, `stop` ends it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listening, ROOT, tempDir } from '../helpers/processes.js';

const script = join(ROOT, 'scripts/kafka/kafka.sh');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('scripts/kafka/kafka.sh', () => {
  const dir = tempDir('kafka-script');
  let pid: number | undefined;
  after(() => {
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  });

  // One random cluster id in 64 starts with "-", as this one: the broker must still be formatted and start.
  const clusterId = '-Dji9NJPKPzBelSENVbKO4Q';

  it('start prints the address of a broker that accepts connections; stop ends it', async () => {
    const address = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, KAFKA_CLUSTER_ID: clusterId } }).trim();
    pid = Number(readFileSync(join(dir, 'kafka.pid'), 'utf8'));
    assert.match(readFileSync(join(dir, 'data/meta.properties'), 'utf8'), new RegExp(`^cluster\\.id=${clusterId}$`, 'm'));
    assert.match(address, /^127\.0\.0\.1:\d+$/);
    assert.ok(await listening(Number(address.split(':')[1])), `${address} accepts connections`);
    execFileSync('bash', [script, 'stop', dir], { timeout: 60_000 });
    assert.equal(alive(pid), false, 'the broker has exited');
  });

  it('resolve is a no-op when .kafka/lib matches the pom', () => {
    assert.match(execFileSync('bash', [script, 'resolve'], { encoding: 'utf8' }), /up to date/);
  });
});

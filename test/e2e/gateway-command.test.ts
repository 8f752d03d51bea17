// `otel-audit gateway` for real: the shipped gateway.yaml run by the command with the destinations
// it is given (the HEC stand-in and an archive), every other one switched off; secrets in the
// Collector's environment only; validation before the start; SIGINT and SIGTERM stop it cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { verifyTrail } from '../../src/integrity/verify.js';
import { readTrail } from '../../src/integrity/trail.js';
import { fileRecordUids } from '../helpers/gateway.js';
import { COLLECTOR, freePort, ROOT, startHecReceiver, tempDir, track, waitFor, type RunningProcess } from '../helpers/processes.js';

const TOKEN = `hec-token-${process.pid}-never-shown`;

/** The command, from source, as `otel-audit gateway ...` runs it. */
function gateway(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'gateway', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running = track(child, 'otel-audit gateway');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, running, exited };
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

describe('otel-audit gateway', () => {
  let dir: string;
  let hec: RunningProcess;
  let hecPort: number;
  let tokenFile: string;
  const hecFile = () => join(dir, 'hec-received.jsonl');

  before(async () => {
    dir = tempDir('gateway-command');
    hecPort = await freePort();
    hec = await startHecReceiver(hecPort, hecFile());
    tokenFile = join(dir, 'hec-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  });
  after(() => hec?.stop());

  it('runs the named destinations and no other, keeps its secret out of argv and output, and stops on SIGINT, then again on SIGTERM', async () => {
    const stateDir = join(dir, 'state');
    const archiveDir = join(dir, 'archive');
    const args = ['--splunk', `http://127.0.0.1:${hecPort}`, '--splunk-token-file', tokenFile, '--archive', archiveDir, '--state-dir', stateDir, '--port', '0', '--grpc-port', '0', '--collector', COLLECTOR];
    const first = gateway(args);
    try {
      await waitFor('the gateway to say where it listens', () => first.running.output().includes('  stop  ') || first.child.exitCode !== null, 60_000);
      const out = first.running.output();
      const endpoint = /OTLP\/HTTP +(http:\/\/127\.0\.0\.1:\d+\/v1\/logs)/.exec(out)?.[1];
      const collectorPid = Number(/otelcol-audit pid (\d+)/.exec(out)?.[1]);
      assert.ok(endpoint && collectorPid, out);
      assert.match(out, new RegExp(`splunk +http://127\\.0\\.0\\.1:${hecPort}/services/collector\\n`));
      assert.match(out, new RegExp(`archive +${join(archiveDir, 'audit.zst')}`));
      assert.match(out, new RegExp(`queues +${join(stateDir, 'queue')}`));
      assert.match(out, new RegExp(`dead letters +${join(stateDir, 'queue', 'dead-letters')}`));
      assert.match(out, /stop +Ctrl-C, or kill -TERM \d+/);

      const audit = createAuditLogger({ catalog: gristCatalog, endpoint, serviceName: 'gateway-command-e2e', checkpoints: false, onError: (error) => assert.fail(error.message) });
      const ids = ['document.create', 'document.rename', 'user.delete_api_key'].map((action) => audit.logEvent(action as 'document.create', { details: gristCatalog.actions[action as 'document.create'].sample }));
      await audit.shutdown({ timeoutMillis: 10_000 });
      await waitFor('the events at the HEC stand-in', () => ids.every((id) => fileRecordUids(hecFile()).includes(id)));
      const archive = join(archiveDir, 'audit.zst');
      await waitFor('the events in the archive', () => ids.every((id) => fileRecordUids(archive).includes(id)));
      assert.equal(verifyTrail(readTrail(archive)).ok, true);

      // The destinations left out were switched off: their exporters never started, so no queue of theirs exists.
      assert.deepEqual(readdirSync(join(stateDir, 'queue')).filter((name) => name.startsWith('exporter_')).sort(), ['exporter_lossless_archive_logs', 'exporter_lossless_splunk_logs']);
      // The token reached the Collector through its environment, not its command line, and is shown nowhere.
      assert.ok(!readFileSync(`/proc/${collectorPid}/cmdline`, 'utf8').includes(TOKEN));
      assert.ok(readFileSync(`/proc/${collectorPid}/environ`, 'utf8').split('\0').includes(`SPLUNK_HEC_TOKEN=${TOKEN}`));
      assert.ok(!first.running.output().includes(TOKEN));
      assert.ok(!readFileSync(join(stateDir, 'otelcol-audit.log'), 'utf8').includes(TOKEN));

      const second = gateway(args);
      assert.equal(await second.exited, 2);
      assert.match(second.running.output(), new RegExp(`another otel-audit gateway runs on ${stateDir} \\(one gateway per --state-dir\\)`));

      first.child.kill('SIGINT');
      assert.equal(await first.exited, 0, first.running.output());
      assert.match(first.running.output(), /SIGINT: stopping the Collector[\s\S]*otel-audit gateway: stopped\n/);
      assert.equal(alive(collectorPid), false, 'the Collector is gone');
    } finally {
      await first.running.stop();
    }

    // The same state directory again: its queues are reused, and SIGTERM stops it the same way.
    const again = gateway(args);
    try {
      await waitFor('the gateway to start again', () => again.running.output().includes('  stop  ') || again.child.exitCode !== null, 60_000);
      const collectorPid = Number(/otelcol-audit pid (\d+)/.exec(again.running.output())?.[1]);
      assert.ok(collectorPid, again.running.output());
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0, again.running.output());
      assert.equal(alive(collectorPid), false);
    } finally {
      await again.running.stop();
    }
  });

  it('validates the configuration before it starts anything: a bad setting is refused with the Collector reason, exit 3', async () => {
    const stateDir = join(dir, 'refused');
    const refused = gateway(['--splunk', `http://127.0.0.1:${hecPort}`, '--splunk-token-file', tokenFile, '--state-dir', stateDir, '--port', '0', '--grpc-port', '0', '--collector', COLLECTOR], { SPLUNK_INSECURE_SKIP_VERIFY: 'perhaps' });
    assert.equal(await refused.exited, 3);
    assert.match(refused.running.output(), /otel-audit gateway: otelcol-audit validate refused the configuration: exporters::lossless\/splunk[\s\S]*insecure_skip_verify. expected type .bool./);
    assert.equal(existsSync(join(stateDir, 'otelcol-audit.pid')), false, 'no Collector was started');
    await refused.running.stop();
  });
});

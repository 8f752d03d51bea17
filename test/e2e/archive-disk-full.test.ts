// The archive's disk full while an application keeps logging (issue #21 item 3): gateway.yaml with
// every destination, its archive alone on a real 1 MiB tmpfs that is full for ARCHIVE_FULL_SECONDS
// (60 s here; `ARCHIVE_FULL_SECONDS=600` for the 10-minute run whose figures are in the README),
// 10 events a second. Before, a failed archive write failed the whole request: the application
// resent it and every other destination queued it again (33,827 extra copies of 2,095 events in a
// minute), and the writes cut short left a frame that stopped `verify`. Now the archive has its own
// queue: the copies per event id at every other destination stay at one all through, and once the
// disk is grown the archive holds every event, readable and verify-clean.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileRecordUids, gatewayEnv, gatewayFiles, gatewayPorts, kafkaRecordUids, startOtlpReceiver, tally } from '../helpers/gateway.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, readTrail, verifyTrail } from '../../src/index.js';

const FULL_SECONDS = Number(process.env['ARCHIVE_FULL_SECONDS'] ?? 60);
const PER_SECOND = 10;

describe(`gateway.yaml with its archive's disk full for ${FULL_SECONDS} s`, { timeout: (FULL_SECONDS + 600) * 1000 }, () => {
  const dir = tempDir('archive-full');
  const disk = join(dir, 'archive-disk');
  const running: RunningProcess[] = [];
  let kafka: KafkaBroker | undefined;
  const sent: string[] = [];
  /** Every few seconds while the disk is full: the most copies of one event id at each other destination. */
  const samples: { at: number; sent: number; copies: Record<string, number> }[] = [];
  let files: ReturnType<typeof gatewayFiles>;
  let archivePath = '';
  let kafkaData = '';
  let gateway: RunningProcess;

  before(async () => {
    mkdirSync(disk, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', disk]);
    const ports = await gatewayPorts();
    files = gatewayFiles(dir);
    archivePath = join(disk, 'audit.zst');
    kafka = await startKafka(join(dir, 'kafka'));
    kafkaData = join(dir, 'kafka/data');
    running.push(await startHecReceiver(ports.hec, files.hec, 'hec'));
    running.push(await startRsyslog(ports.syslog, files.syslog));
    running.push(await startOtlpReceiver(ports.elastic, files.elastic, 'elastic'));
    gateway = await startCollector('gateway.yaml', { ...gatewayEnv(dir, ports, kafka.bootstrap), AUDIT_ARCHIVE_PATH: archivePath }, `127.0.0.1:${ports.health}`, 'gateway');
    running.push(gateway);
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`, serviceName: 'archive-full', checkpoints: { intervalMillis: 5000 }, onError: () => undefined });
    const details = gristCatalog.actions['document.create'].sample;
    const log = (count: number) => {
      for (let i = 0; i < count; i++) sent.push(audit.logEvent('document.create', { details }));
    };
    log(20);
    await audit.flush();
    // Fill what is left of the disk (dd stops at ENOSPC).
    spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    const started = Date.now();
    const copies = () => ({
      splunk: Math.max(0, ...countBy(fileRecordUids(files.hec))),
      syslog: Math.max(0, ...countBy(fileRecordUids(files.syslog))),
      elastic: Math.max(0, ...countBy(fileRecordUids(files.elastic))),
      kafka: Math.max(0, ...countBy(kafkaRecordUids(kafkaData, 'audit-events'))),
    });
    let nextSample = started;
    while (Date.now() - started < FULL_SECONDS * 1000) {
      log(PER_SECOND);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (Date.now() >= nextSample) {
        samples.push({ at: Math.round((Date.now() - started) / 1000), sent: sent.length, copies: copies() });
        nextSample += Math.max(5000, (FULL_SECONDS * 1000) / 12);
      }
    }
    // The disk grown, as an administrator would.
    execFileSync('mount', ['-o', 'remount,size=64m', disk]);
    log(20);
    await audit.shutdown({ timeoutMillis: 30_000 });
    await waitFor(
      'every event in the archive and at every other destination',
      () =>
        [files.hec, files.syslog, files.elastic, archivePath].every((file) => tally(sent, fileRecordUids(file)).missing.length === 0) &&
        tally(sent, kafkaRecordUids(kafkaData, 'audit-events')).missing.length === 0,
      180_000,
    ).catch(() => undefined);
  });

  after(async () => {
    for (const process of running.reverse()) await process.stop();
    await kafka?.stop();
    try {
      execFileSync('umount', ['-l', disk]);
    } catch {
      // not mounted: before failed early
    }
  });

  it('the other destinations hold each event once while the archive fails', () => {
    console.log(`archive disk full ${FULL_SECONDS} s at ${PER_SECOND} events/s: the most copies of one event id at each other destination, sampled:`);
    for (const sample of samples) console.log(`  +${sample.at} s (${sample.sent} sent): ${JSON.stringify(sample.copies)}`);
    assert.ok(samples.length >= 3);
    for (const sample of samples) for (const [destination, most] of Object.entries(sample.copies)) assert.ok(most <= 1, `+${sample.at} s: ${destination} holds ${most} copies of an event`);
    for (const [destination, held] of Object.entries({ splunk: fileRecordUids(files.hec), syslog: fileRecordUids(files.syslog), elastic: fileRecordUids(files.elastic), kafka: kafkaRecordUids(kafkaData, 'audit-events') })) {
      const counts = tally(sent, held);
      console.log(`  ${destination}: ${counts.delivered} of ${counts.sent} events, ${counts.duplicates} extra copies`);
      assert.deepEqual(counts.missing, [], destination);
      assert.equal(counts.duplicates, 0, destination);
    }
  });

  it('once the disk has room the archive holds every event, reads without damage, and verifies clean', () => {
    const counts = tally(sent, fileRecordUids(archivePath));
    console.log(`  archive: ${counts.delivered} of ${counts.sent} events, ${counts.duplicates} extra copies`);
    assert.deepEqual(counts.missing, []);
    const damage: unknown[] = [];
    const report = verifyTrail(readTrail(archivePath, { onDamage: (found) => damage.push(found) }));
    assert.deepEqual(damage, [], 'no torn frame in the archive');
    assert.ok(report.ok, JSON.stringify(report.streams.map((s) => ({ gaps: s.gaps, tampered: s.tampered.slice(0, 2), bad: s.badCheckpoints, silences: s.silences }))));
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', archivePath], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    assert.match(gateway.output(), /Cut a failed write out of the file|no space left on device/);
  });
});

function countBy(ids: readonly string[]): number[] {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts.values()];
}

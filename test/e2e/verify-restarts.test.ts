// verify never cries wolf, through the real Collector (local.yaml) into its archive: a graceful
// restart with events logged while shutdown drains, a disk failure then a death (the next process
// resumes from an older head), a backlog replayed by `otel-audit spool --replay` after a death, and
// what emit leaves beside them. Real loggers, the real gateway, the real `otel-audit verify` on the
// archive: it exits 0 and names each case in a note.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { nodeFileSystem } from '../../src/delivery/file-system.js';
import { readTrail } from '../../src/integrity/trail.js';
import { createAuditLogger } from '../../src/index.js';
import { createAuditLoggerWith } from '../../src/logger.js';
import { freePort } from '../helpers/ports.js';
import { localPipeline, ROOT, tempDir, waitFor } from '../helpers/processes.js';
import { faultyFs, type Faults } from '../helpers/faulty-fs.js';

const run = promisify(execFile);
const keys = generateKeyPairSync('ed25519');
const details = (id: string) => ({ document: { id, name: `doc ${id}` } });
const tick = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
const cli = async (args: string[]) => {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args]);
    return { code: 0, out: stdout };
  } catch (error) {
    return { code: (error as { code: number }).code, out: `${(error as { stdout: string }).stdout}${(error as { stderr: string }).stderr}` };
  }
};

/** A TCP forwarder to the gateway on a port of its own, whose line can be cut (connections refused and torn down). */
async function forwarder(target: number): Promise<{ port: number; cut(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('verify on the archive of the real Collector, after restarts that are no tampering', () => {
  const dir = tempDir('verify-restarts');
  let env: Awaited<ReturnType<typeof localPipeline>> | undefined;
  after(() => env?.stopAll());

  it('a graceful restart under traffic, a disk failure then a death, a replayed backlog, and an emit: exit 0, each named in a note', async () => {
    env = await localPipeline(dir);
    await env.startHec();
    await env.startGateway();
    const checkpoints = { intervalMillis: 1000, signingKey: keys.privateKey };
    const logger = (spoolDir: string, serviceName: string, endpoint = env!.endpoint) =>
      createAuditLogger({ catalog: gristCatalog, serviceName, endpoint, spoolDir, timeoutMillis: 2000, checkpoints, onError: (e) => console.error(`${serviceName}: ${e.message}`) });
    let events = 0;
    const log = (audit: ReturnType<typeof logger>, tag: string, count: number) => {
      for (let i = 0; i < count; i++, events++) audit.logEvent('document.create', { details: details(`${tag}-${i}`) });
    };

    // 1. A graceful restart: events keep coming while the shutdown drains.
    const draining = join(dir, 'spool-draining');
    const first = logger(draining, 'docs-api');
    log(first, 'before', 20);
    const closing = first.shutdown({ timeoutMillis: 10_000 });
    log(first, 'draining', 5);
    await closing;
    const second = logger(draining, 'docs-api');
    log(second, 'restarted', 3);
    await second.shutdown({ timeoutMillis: 10_000 });

    // 2. The disk fails: five events are chained and delivered from memory; then the process dies
    // (its spool directory as it was then is what the next process finds) and the next one resumes from seq 5.
    const faults: Faults = {};
    const failing = join(dir, 'spool-failing');
    // Its way to the gateway, cut when it dies: a dead process sends nothing more.
    const line = await forwarder(env.ports.otlp);
    const dying = createAuditLoggerWith(
      { catalog: gristCatalog, serviceName: 'billing', endpoint: `http://127.0.0.1:${line.port}/v1/logs`, spoolDir: failing, timeoutMillis: 2000, checkpoints, onError: () => undefined },
      { fs: faultyFs(faults).fs, now: Date.now },
    );
    for (let i = 0; i < 5; i++, events++) await dying.logEventOrThrow('document.create', { details: details(`on-disk-${i}`) });
    await dying.flush();
    faults.write = 'EIO';
    for (let i = 0; i < 5; i++, events++) await dying.logEventOrThrow('document.create', { details: details(`from-memory-${i}`) });
    const failed = join(dir, 'spool-failed');
    cpSync(failing, failed, { recursive: true });
    line.cut();
    void dying.shutdown({ timeoutMillis: 0 });
    await tick(10);
    const resumed = createAuditLoggerWith({ catalog: gristCatalog, serviceName: 'billing', endpoint: env.endpoint, spoolDir: failed, checkpoints, onError: assert.fail }, { fs: nodeFileSystem, now: Date.now });
    for (let i = 0; i < 4; i++, events++) resumed.logEvent('document.create', { details: details(`resumed-${i}`) });
    await resumed.shutdown({ timeoutMillis: 10_000 });

    // 3. The gateway cannot be reached: the backlog waits in the spool, the process dies; a replay
    // delivers it (otel-audit spool --replay) and the next run resumes after a while.
    const stranded = join(dir, 'spool-stranded');
    const cut = logger(stranded, 'reports', `http://127.0.0.1:${await freePort()}/v1/logs`);
    for (let i = 0; i < 5; i++, events++) await cut.logEventOrThrow('document.create', { details: details(`backlog-${i}`) });
    const left = join(dir, 'spool-left');
    cpSync(stranded, left, { recursive: true });
    void cut.shutdown({ timeoutMillis: 0 });
    const replay = await cli(['spool', left, '--replay', '--endpoint', env.endpoint]);
    assert.equal(replay.code, 0, replay.out);
    await tick(2000); // longer than one and a half checkpoint intervals: a silence, unless it is the downtime it is
    const next = logger(left, 'reports');
    log(next, 'after-replay', 3);
    await next.shutdown({ timeoutMillis: 10_000 });

    // 4. What an operator's test leaves beside them.
    assert.equal((await cli(['emit', 'document.create', '--endpoint', env.endpoint])).code, 0);

    const archived = () => (existsSync(env!.files.archive) ? readTrail(env!.files.archive).filter((r) => (r.body as { action: string }).action !== 'audit.checkpoint').length : 0);
    await waitFor(`all ${events + 1} events in the archive`, () => archived() >= events + 1, 60_000);
    const publicKey = join(dir, 'public.pem');
    writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const result = await cli(['verify', env.files.archive, '--public-key', publicKey, '--require-signed', '--exclude-test']);
    console.log(result.out);
    assert.equal(result.code, 0, result.out);
    assert.equal(result.out.match(/^ {2}complete and intact$/gm)?.length, 3);
    assert.match(result.out, /^docs-api \(stream [0-9a-f]{8}…\): 28 event\(s\), seq 1\.\.28/m);
    assert.match(result.out, /^billing \(stream [0-9a-f]{8}…\): 10 event\(s\), seq 1\.\.10, [^\n]*\n(?: {2}note: [^\n]*\n)*? {2}note: seq 6-10 superseded: a run sent them beyond what its spool kept, then died; the next run resumed from seq 5/m);
    assert.match(result.out, /^reports \(stream [0-9a-f]{8}…\): 8 event\(s\), seq 1\.\.8, [^\n]*\n(?: {2}note: [^\n]*\n)*? {2}note: down from \S+ to \S+ \(\d+ s\): the process stopped without its final checkpoint, and the next run resumed from seq 5\n/m);
    assert.match(result.out, /record\(s\) left out \(--exclude-test\)/);
    // A stream is its application's, whatever process delivered its backlog (the replay sends it as otel-audit-cli).
    const reports = await cli(['verify', env.files.archive, '--public-key', publicKey, '--service', 'reports']);
    assert.equal(reports.code, 0, reports.out);
    assert.match(reports.out, /^reports \(stream [0-9a-f]{8}…\): 8 event\(s\), seq 1\.\.8,/m);
  });
});

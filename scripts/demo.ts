// The main job, `npm start`: otelcol-audit (collector-config/local.yaml) in front of a Splunk HEC
// stand-in, the example document service, scripted traffic that triggers all 40 actions, then a
// table of where every event landed. Exits 0 only if every event arrived.
//   npm start                      run, report, stop
//   npm start -- --keep-running    leave everything running to click around (Ctrl-C stops)
// Output stays in .run/demo/: hec-received.jsonl (what "Splunk" got), archive.jsonl, spool/, *.log.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { readTrail } from '../src/integrity/trail.js';
import { verifyTrail } from '../src/integrity/verify.js';
import { driveAllActions } from '../examples/docs-service/traffic.js';
import { freePort, ROOT, startCollector, startHecReceiver, waitFor, type RunningProcess } from './lib/processes.js';

const keepRunning = process.argv.includes('--keep-running');
const out = join(ROOT, '.run/demo');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const running: RunningProcess[] = [];
async function stopAll(): Promise<void> {
  for (const p of running.reverse()) await p.stop();
  for (const p of running) writeFileSync(join(out, `${p.name}.log`), p.output());
}

function progress(label: string, done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(3)}/${total} ${label}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${bar}${done === total ? '\n' : ''}`);
  else if (done === total || done % 10 === 0) process.stdout.write(`${bar}\n`);
}

async function main(): Promise<number> {
  const ports = { hec: await freePort(), otlp: await freePort(), health: await freePort(), metrics: await freePort(), app: await freePort() };
  const files = { hec: join(out, 'hec-received.jsonl'), archive: join(out, 'archive.jsonl') };

  process.stdout.write(`starting the Splunk HEC stand-in on 127.0.0.1:${ports.hec}\n`);
  running.push(await startHecReceiver(ports.hec, files.hec, 'hec-receiver'));
  process.stdout.write(`starting otelcol-audit (collector-config/local.yaml), OTLP on 127.0.0.1:${ports.otlp}\n`);
  running.push(
    await startCollector(
      'local.yaml',
      {
        AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlp}`,
        AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${ports.health}`,
        AUDIT_METRICS_PORT: String(ports.metrics),
        AUDIT_STORAGE_DIR: join(out, 'collector-queue'),
        AUDIT_ARCHIVE_PATH: files.archive,
        SPLUNK_HEC_ENDPOINT: `http://127.0.0.1:${ports.hec}/services/collector`,
        SPLUNK_HEC_TOKEN: 'demo-token',
      },
      `127.0.0.1:${ports.health}`,
      'otelcol-audit',
    ),
  );

  process.stdout.write(`starting the example document service on http://127.0.0.1:${ports.app}\n`);
  const app = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/docs-service/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(ports.app), OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${ports.otlp}/v1/logs`, AUDIT_SPOOL_DIR: join(out, 'spool') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let appOutput = '';
  app.stdout.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
  app.stderr.on('data', (chunk: Buffer) => (appOutput += chunk.toString()));
  const appExited = new Promise<void>((resolve) => app.once('exit', () => resolve()));
  running.push({
    name: 'docs-service',
    child: app,
    output: () => appOutput,
    stop: async () => {
      if (app.exitCode === null) app.kill('SIGTERM');
      await appExited;
    },
  });
  await waitFor('the example service', () => appOutput.includes('listening') || app.exitCode !== null);
  if (app.exitCode !== null) throw new Error(`the example service exited:\n${appOutput}`);

  const events = await driveAllActions(`http://127.0.0.1:${ports.app}`, (done, total) => progress('requests', done, total));
  const ids = new Set(events.map((e) => e.id));
  const landed = (file: string) => new Set(existsSync(file) ? readTrail(file).map((r) => String((r.body as { id?: string }).id)) : []);
  const arrived = () => [...ids].filter((id) => landed(files.hec).has(id) && landed(files.archive).has(id)).length;
  await waitFor('every event at both destinations', () => (progress('events delivered', arrived(), ids.size), arrived() === ids.size), 60_000).catch(() => undefined);

  const hec = landed(files.hec);
  const archive = landed(files.archive);
  const rows = Object.keys(gristCatalog.actions).map((action) => {
    const own = events.filter((e) => e.action === action);
    const mark = (set: Set<string>) => `${own.filter((e) => set.has(e.id)).length}/${own.length}`;
    return { action, sent: own.length, hec: mark(hec), archive: mark(archive), ok: own.length > 0 && own.every((e) => hec.has(e.id) && archive.has(e.id)) };
  });
  const width = Math.max(...rows.map((r) => r.action.length));
  process.stdout.write(`\n${'action'.padEnd(width)}  sent  splunk-hec  archive\n`);
  for (const r of rows) process.stdout.write(`${r.action.padEnd(width)}  ${String(r.sent).padStart(4)}  ${r.hec.padStart(10)}  ${r.archive.padStart(7)}${r.ok ? '' : '  MISSING'}\n`);
  const missing = rows.filter((r) => !r.ok);
  const report = verifyTrail(readTrail(files.archive), { ignoreOrder: false });
  process.stdout.write(
    [
      '',
      `actions: ${rows.length - missing.length}/${rows.length} delivered; events: ${events.length} sent, ${[...ids].filter((id) => hec.has(id)).length} at Splunk HEC, ${[...ids].filter((id) => archive.has(id)).length} in the archive, missing ${[...ids].filter((id) => !hec.has(id) || !archive.has(id)).length}`,
      `otel-audit verify on the archive: ${report.ok ? 'complete and intact' : 'PROBLEMS FOUND'} (${report.streams.map((s) => `stream ${s.streamId.slice(0, 8)}: seq ${s.firstSeq}..${s.lastSeq}`).join(', ')})`,
      `output: ${out}`,
      '',
    ].join('\n'),
  );
  if (keepRunning) {
    process.stdout.write(
      `everything keeps running: the service at http://127.0.0.1:${ports.app} (POST /login {"email":"flapjack@example.com"}),\n` +
        `events land in ${files.hec} and ${files.archive}. Ctrl-C stops.\n`,
    );
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  return missing.length === 0 ? 0 : 1;
}

main()
  .then(async (code) => {
    await stopAll();
    process.exitCode = code;
  })
  .catch(async (error: Error) => {
    process.stderr.write(`demo failed: ${error.message}\n`);
    await stopAll();
    process.exitCode = 1;
  });

// The main job, `npm start`: otelcol-audit (collector-config/local.yaml) in front of a Splunk HEC
// stand-in, the example document service, scripted traffic that triggers all 40 actions, then a
// table of where every event landed. Exits 0 only if every event arrived.
//   npm start                      run, report, stop
//   npm start -- --keep-running    leave everything running to click around, and start the Admin
//                                  Panel (its URL and a one-time login are printed; Ctrl-C stops)
// Output stays in .run/demo/: hec-received.jsonl (what "Splunk" got), archive.jsonl, spool/, *.log.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { readTrail } from '../src/integrity/trail.js';
import { verifyTrail } from '../src/integrity/verify.js';
import { driveAllActions } from '../examples/docs-service/traffic.js';
import { startAdmin, type AdminPanel } from '../src/admin/index.js';
import { freePort, localPipeline, ROOT, waitFor } from '../test/helpers/processes.js';

const keepRunning = process.argv.includes('--keep-running');
const out = join(ROOT, '.run/demo');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const pipeline = await localPipeline(out);
const { running } = pipeline;
let panel: AdminPanel | undefined;
async function stopAll(): Promise<void> {
  if (panel) {
    await panel.close();
    writeFileSync(join(out, 'admin-collector.log'), panel.collectorLog());
  }
  await pipeline.stopAll();
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
  const files = pipeline.files;
  const appPort = await freePort();
  process.stdout.write(`starting the Splunk HEC stand-in on 127.0.0.1:${pipeline.ports.hec}\n`);
  await pipeline.startHec();
  process.stdout.write(`starting otelcol-audit (collector-config/local.yaml), OTLP on 127.0.0.1:${pipeline.ports.otlp}\n`);
  await pipeline.startGateway();

  process.stdout.write(`starting the example document service on http://127.0.0.1:${appPort}\n`);
  const app = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/docs-service/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(appPort), OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT: pipeline.endpoint, AUDIT_SPOOL_DIR: join(out, 'spool') },
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

  const events = await driveAllActions(`http://127.0.0.1:${appPort}`, (done, total) => progress('requests', done, total));
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
    await startPanel();
    process.stdout.write(
      `everything keeps running: the service at http://127.0.0.1:${appPort} (POST /login {"email":"flapjack@example.com"}),\n` +
        `events land in ${files.hec} and ${files.archive}. Ctrl-C stops.\n`,
    );
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  return missing.length === 0 ? 0 : 1;
}

/**
 * The Admin Panel beside its own otelcol-audit (gateway.yaml), with the HEC stand-in already added
 * as a destination through the panel's API, as an administrator would.
 */
async function startPanel(): Promise<void> {
  const admin = await startAdmin({ stateDir: join(out, 'admin'), otlpEndpoint: `127.0.0.1:${await freePort()}` });
  panel = admin;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(new URL(path, admin.url), { method, headers: { 'content-type': 'application/json', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return { body: (await response.json()) as Record<string, unknown>, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
  };
  // A session of its own: the one-time token stays usable for the person reading the terminal.
  const session = await api('POST', '/api/login', { token: admin.oneTimeToken });
  const auth = { cookie: session.cookie, 'x-csrf-token': String(session.body['csrfToken']) };
  const { body } = await api('GET', '/api/destinations', undefined, auth);
  await api(
    'POST',
    '/api/destinations',
    { id: 'splunk', name: 'Splunk (HEC stand-in)', type: 'splunk_hec', url: `http://127.0.0.1:${pipeline.ports.hec}/services/collector`, allowInsecure: true, token: 'local-token' },
    { ...auth, 'if-match': String(body['revision']) },
  );
  process.stdout.write(
    `\nAdmin Panel: ${admin.url}  (one-time login token: ${admin.oneTimeToken})\n` +
      `its gateway takes OTLP/HTTP at ${admin.ingestEndpoint} and streams to the HEC stand-in;\n` +
      `send an event: npx tsx src/cli/main.ts emit document.create --endpoint ${admin.ingestEndpoint}\n\n`,
  );
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

// A site's copy proves itself, through the real gateway: gateway.yaml with two site destinations
// (each a HEC receiver behind a `filter` processor, first in its pipeline, whose condition is
// `siteCopyDropCondition`, the rule the Admin Panel renders) beside the installation's destinations
// (the archive, syslog through rsyslogd, HEC). An application logs events of both sites,
// installation-only actions with a site, and events without one. Each site's copy holds exactly
// its site's site-scoped events (ids compared) and passes `verify --site`; the installation's copies
// pass `verify`, and `verify --site` on them checks each site's chain; a site's copy with one event
// removed, or one altered, fails `verify --site`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ATTR, inSiteCopy, siteCopyDropCondition } from '../../src/attributes.js';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';
import { gatewayEnv, gatewayFiles, gatewayPorts } from '../helpers/gateway.js';
import { freePort, ROOT, startCollector, startHecReceiver, startRsyslog, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

const run = promisify(execFile);
const keys = generateKeyPairSync('ed25519');
/** Two sites; the second's id has a quote and a backslash, which the filter's OTTL string literal must escape. */
const SITES = ['acme', 'o"neil\\co'] as const;
type Site = (typeof SITES)[number];
const isCheckpoint = (r: TrailRecord) => (r.body as { action?: string }).action === 'audit.checkpoint';
const idOf = (r: TrailRecord) => (r.body as { id: string }).id;
const records = (file: string): TrailRecord[] => (existsSync(file) ? readTrail(file) : []);
const finalOf = (site: Site) => (r: TrailRecord) => isCheckpoint(r) && (r.body as { details: { site_id?: string; final: boolean } }).details.site_id === site && (r.body as { details: { final: boolean } }).details.final;

/** A site destination as the Admin Panel renders one: its site filter first, then the rest of its pipeline, its own persistent queue. */
function siteDestination(name: string, site: Site, hecPort: number, storage: string) {
  return {
    processors: { [`filter/${name}`]: { error_mode: 'ignore', logs: { log_record: [siteCopyDropCondition(site)] } } },
    exporters: {
      [`lossless/${name}`]: {
        exporter: { splunk_hec: { endpoint: `http://127.0.0.1:${hecPort}/services/collector`, token: `${name}-token`, index: name, source: 'otel-audit', sourcetype: 'otel:audit', disable_compression: true } },
        sending_queue: { enabled: true, storage: 'file_storage', sizer: 'items', queue_size: 100_000, num_consumers: 2, batch: { flush_timeout: '200ms', min_size: 100, max_size: 1000 } },
        retry_on_failure: { enabled: true, initial_interval: '500ms', max_interval: '5s', max_elapsed_time: 0 },
        dead_letter: { directory: join(storage, 'dead-letters') },
      },
    },
    pipeline: { [`logs/${name}`]: { receivers: ['otlp'], processors: [`filter/${name}`, 'memory_limiter'], exporters: [`lossless/${name}`] } },
  };
}

describe('site destinations through the real gateway: each site\'s copy proves itself', () => {
  const dir = tempDir('site-copies');
  const files = { ...gatewayFiles(dir), acme: join(dir, 'site-acme.jsonl'), oneil: join(dir, 'site-oneil.jsonl') };
  const siteFile: Record<Site, string> = { acme: files.acme, 'o"neil\\co': files.oneil };
  const running: RunningProcess[] = [];
  /** The ids of the events sent, by where they must land. */
  const sent = { all: [] as string[], site: { acme: [] as string[], 'o"neil\\co': [] as string[] } };
  const publicKey = join(dir, 'public.pem');
  const hmacKeyFile = join(dir, 'hmac.key');
  after(async () => {
    for (const process of running.reverse()) await process.stop();
  });

  before(async () => {
    writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(hmacKeyFile, 'site-copies-hmac-key', { mode: 0o600 });
    const ports = { ...(await gatewayPorts()), closed: await freePort(), acme: await freePort(), oneil: await freePort() };
    const destinations = [siteDestination('site_acme', 'acme', ports.acme, join(dir, 'queue')), siteDestination('site_oneil', 'o"neil\\co', ports.oneil, join(dir, 'queue'))];
    const overlay = join(dir, 'sites.yaml');
    // JSON is YAML: the conditions' quotes and backslashes need no YAML escaping of our own.
    writeFileSync(
      overlay,
      JSON.stringify({
        processors: Object.assign({}, ...destinations.map((d) => d.processors)),
        exporters: Object.assign({}, ...destinations.map((d) => d.exporters)),
        service: { pipelines: Object.assign({}, ...destinations.map((d) => d.pipeline)) },
      }),
    );
    running.push(await startHecReceiver(ports.hec, files.hec, 'hec-installation'));
    running.push(await startHecReceiver(ports.acme, files.acme, 'hec-acme'));
    running.push(await startHecReceiver(ports.oneil, files.oneil, 'hec-oneil'));
    running.push(await startRsyslog(ports.syslog, files.syslog));
    // Elastic and Kafka are not running: their pipelines retry on their own queues.
    const env = gatewayEnv(dir, { ...ports, elastic: ports.closed }, `127.0.0.1:${ports.closed}`);
    running.push(await startCollector(['gateway.yaml', overlay], env, `127.0.0.1:${ports.health}`, 'otelcol-audit'));

    const audit = createAuditLogger({
      catalog: gristCatalog,
      serviceName: 'docs-api',
      endpoint: `http://127.0.0.1:${ports.otlp}/v1/logs`,
      hmacKey: readFileSync(hmacKeyFile),
      checkpoints: { intervalMillis: 1000, signingKey: keys.privateKey },
      onError: (error) => assert.fail(error),
    });
    const log = (action: 'document.create' | 'site.create' | 'user.change_name', site: Site | undefined, n: number) => {
      const context = site === undefined ? {} : { site: { id: site, name: `the ${site} site` } };
      const details =
        action === 'document.create' ? { document: { id: `doc-${n}`, name: `document ${n} of ${site ?? 'no site'}` } } : (gristCatalog.actions[action].sample as never);
      const id = audit.logEvent(action, { actor: { type: 'system' }, context, details });
      sent.all.push(id);
      // Only a site-scoped action with a site reaches the site's copy.
      if (action === 'document.create' && site !== undefined) sent.site[site].push(id);
    };
    // Three rounds a little over a checkpoint interval apart: periodic checkpoints of each site between them.
    for (let round = 0, n = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++, n++) {
        log('document.create', SITES[n % 2], n);
        if (i % 5 === 0) log('site.create', SITES[n % 2], n); // installation-only, with a site in its context
        if (i % 5 === 1) log('user.change_name', 'acme', n); // installation-only too
        if (i % 5 === 2) log('document.create', undefined, n); // site-scoped, without a site
      }
      // o"neil\co goes quiet after the first round.
      if (round === 0) for (let i = 0; i < 5; i++, n++) log('document.create', 'o"neil\\co', n);
      await new Promise((resolve) => setTimeout(resolve, 1300));
    }
    await audit.shutdown({ timeoutMillis: 30_000 });
    const events = (file: string) => records(file).filter((r) => !isCheckpoint(r)).length;
    await waitFor('every event in the installation\'s copies, each site\'s in its own with its final checkpoint', () =>
      events(files.archive) >= sent.all.length &&
      events(files.syslog) >= sent.all.length &&
      events(files.hec) >= sent.all.length &&
      SITES.every((site) => events(siteFile[site]) >= sent.site[site].length && records(siteFile[site]).some(finalOf(site))),
      60_000,
    );
  });

  const verify = async (...args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', '--public-key', publicKey, '--require-signed', '--hmac-key-file', hmacKeyFile, ...args]);
      return { code: 0, out: stdout };
    } catch (error) {
      return { code: (error as { code: number }).code, out: `${(error as { stdout: string }).stdout}${(error as { stderr: string }).stderr}` };
    }
  };

  it('each site\'s copy holds exactly its site\'s site-scoped events (ids compared), and its site\'s checkpoints only', () => {
    for (const site of SITES) {
      const copy = records(siteFile[site]);
      assert.deepEqual(copy.filter((r) => !isCheckpoint(r)).map(idOf).sort(), [...sent.site[site]].sort(), site);
      for (const record of copy) assert.ok(inSiteCopy(record.attributes, site), `${site}: ${JSON.stringify(record.attributes)}`);
      assert.ok(copy.filter(isCheckpoint).length >= 3, `${site}: its resume marker, periodic and final checkpoints`);
    }
    assert.equal(new Set(sent.all).size, sent.all.length);
    assert.deepEqual(records(files.archive).filter((r) => !isCheckpoint(r)).map(idOf).sort(), [...sent.all].sort(), 'the archive holds everything');
  });

  it('otel-audit verify --site passes on each site\'s copy, one verdict line per site chain', async () => {
    for (const site of SITES) {
      const result = await verify(siteFile[site], '--site', site, '--ignore-order');
      console.log(result.out);
      assert.equal(result.code, 0, result.out);
      const count = sent.site[site].length;
      assert.match(result.out, new RegExp(`^docs-api \\(stream [0-9a-f]{8}…\\), site ${site.replace(/[\\"]/g, '\\$&')}: ${count} event\\(s\\), seq 1\\.\\.${count}, checked seq 1-${count}, \\d+ checkpoint\\(s\\)\\n {2}complete and intact$`, 'm'));
      assert.equal(result.out.match(/complete and intact/g)?.length, 1);
    }
  });

  it('the installation\'s copies pass verify as a stream, and verify --site checks each site\'s chain within them', async () => {
    for (const file of [files.archive, files.syslog, files.hec]) {
      const whole = await verify(file, '--ignore-order');
      assert.equal(whole.code, 0, `${file}: ${whole.out}`);
      // A syslog line carries no resource: its stream is named by its id alone.
      assert.match(whole.out, new RegExp(`^(docs-api \\(stream [0-9a-f]{8}…\\)|stream [0-9a-f]{8}… \\(no service.name\\)): ${sent.all.length} event\\(s\\), seq 1\\.\\.${sent.all.length},`, 'm'));
      assert.match(whole.out, /note: \d+ checkpoint\(s\) of sites' chains, not checked here/);
      const bySite = await verify(file, '--ignore-order', ...SITES.flatMap((site) => ['--site', site]));
      assert.equal(bySite.code, 0, `${file}: ${bySite.out}`);
      assert.equal(bySite.out.match(/^ {2}complete and intact$/gm)?.length, 2, bySite.out);
      for (const site of SITES) assert.ok(bySite.out.includes(`, site ${site}: ${sent.site[site].length} event(s)`), `${file}: ${bySite.out}`);
    }
  });

  it('a site\'s copy with one event removed, or one altered, fails verify --site', async () => {
    const lines = readFileSync(files.acme, 'utf8').split('\n').filter(Boolean);
    const victim = sent.site.acme[7]!;
    // Removed: its log record taken out of the OTLP/JSON line that holds it.
    const removed = lines.map((line) => {
      const request = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] };
      for (const resourceLogs of request.resourceLogs) {
        for (const scopeLogs of resourceLogs.scopeLogs) {
          scopeLogs.logRecords = scopeLogs.logRecords.filter((record) => !record.attributes.some((a) => a.key === ATTR.recordUid && a.value.stringValue === victim));
        }
      }
      return JSON.stringify(request);
    });
    assert.notEqual(removed.join('\n'), lines.join('\n'));
    const removedFile = join(dir, 'site-acme-removed.jsonl');
    writeFileSync(removedFile, `${removed.join('\n')}\n`);
    const gap = await verify(removedFile, '--site', 'acme', '--ignore-order');
    assert.equal(gap.code, 1, gap.out);
    assert.match(gap.out, /site acme: \d+ event\(s\)[^\n]*\n {2}missing: 1 event\(s\): \d+\n/);

    // Altered: one document's name changed in the copy.
    const text = lines.join('\n');
    const name = 'document 14 of acme';
    assert.ok(text.includes(name));
    const alteredFile = join(dir, 'site-acme-altered.jsonl');
    writeFileSync(alteredFile, `${text.replace(name, 'document 14 of acme (approved)')}\n`);
    const altered = await verify(alteredFile, '--site', 'acme', '--ignore-order');
    assert.equal(altered.code, 1, altered.out);
    assert.match(altered.out, /\n {2}altered: seq \d+ \([^)]+\): content does not match its hash\n/);
  });
});

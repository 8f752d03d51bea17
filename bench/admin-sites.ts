// How far one gateway goes with site destinations (issue 24 item 5): for 10, 100 and 500 site
// destinations, each with its own pipeline and persistent queue, the Admin Panel's apply time (all
// of them at once, then one more destination: what a site's owner waits for), the gateway's memory
// (RSS) and its CPU per 1,000 events with the traffic spread over the sites. Every destination is
// an OTLP/HTTP one to the null sink (bench/null-sink.ts), so the gateway's own work is measured.
//
//   node --import tsx bench/admin-sites.ts [counts...]      (default: 10 100 500)
//
// A measurement, not a test: run it on a quiet machine (it waits a minute for one, then says it
// measured under load).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startAdmin } from '../src/admin/app.js';
import { parseDestination } from '../src/admin/destinations.js';
import { freePort } from '../src/gateway/ports.js';
import { otlpRequest } from '../src/admin/replay.js';
import type { StoredDestination } from '../src/admin/state.js';
import type { TrailRecord } from '../src/integrity/trail.js';
import { tempDir } from '../test/helpers/processes.js';
import { fmt, machine, median, processCpuMillis, startNullSink, table, waitForQuietMachine } from './lib.js';

const EVENTS = 20_000;
const BATCH = 500;
const counts = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);

/** `kB` of a /proc/<pid>/status line, in MiB. */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** An event of a site-scoped action as the logger writes it for that site: `audit.site.id` and `audit.site.seq`. */
function siteEvent(site: string, seq: number): TrailRecord {
  const id = randomUUID();
  return {
    body: { id, action: 'document.open', actor: { type: 'user', user: { id: 7, email: 'ada@example.com', name: 'Ada' } }, context: { site: { id: site } }, timestamp: new Date().toISOString(), details: { document: { id: 'doc-1', name: 'Budget' } } },
    attributes: { 'log.record.uid': id, 'audit.action': 'document.open', 'audit.site.id': site, 'audit.site.seq': seq },
    resource: { 'service.name': 'bench-sites' },
    source: '',
  };
}

async function measure(sites: number, sinkUrl: string) {
  const admin = await startAdmin({ stateDir: `${tempDir('bench-sites')}/state`, otlpEndpoint: `127.0.0.1:${await freePort()}`, adminToken: 'bench-admin-token-0123456789' });
  try {
    const { control } = admin;
    const taken: number[] = [];
    const destinations: StoredDestination[] = [];
    for (let i = 0; i < sites; i++) {
      const directPort = await freePort(taken);
      taken.push(directPort);
      const { destination } = parseDestination({ id: `site_${i}`, site: `site-${i}`, name: `Site ${i}`, type: 'otlp_http', endpoint: sinkUrl, allowInsecure: true }, { path: 'destination', formats: control.formats(), directPort });
      destinations.push({ ...destination, secretFiles: {} });
    }
    const all = await control.apply('bench', control.current().revision, `${sites} site destinations`, destinations);
    // One more destination, as a site's owner adds it: three times, the median.
    const one: { millis: number; by: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const directPort = await freePort(taken);
      const { destination } = parseDestination({ id: `extra_${i}`, site: `site-${i}`, name: `Extra ${i}`, type: 'otlp_http', endpoint: sinkUrl, allowInsecure: true }, { path: 'destination', formats: control.formats(), directPort });
      const revision = await control.apply('bench', control.current().revision, `create extra_${i}`, [...control.destinations(), { ...destination, secretFiles: {} }]);
      one.push({ millis: revision.applyMillis ?? Number.NaN, by: revision.appliedBy ?? '' });
    }
    const pid = control.supervisor.pid!;
    const idleMiB = statusMiB(pid, 'VmRSS');
    const sentNow = async () => [...(await control.health.sample()).entries()].filter(([exporter]) => exporter.includes('/site_')).reduce((sum, [, values]) => sum + (values['sent_log_records'] ?? 0), 0);
    const sentBefore = await sentNow();
    const cpuBefore = processCpuMillis(pid);
    const started = performance.now();
    const seq = new Map<string, number>();
    for (let at = 0; at < EVENTS; at += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, i) => {
        const site = `site-${(at + i) % sites}`;
        const next = (seq.get(site) ?? 0) + 1;
        seq.set(site, next);
        return siteEvent(site, next);
      });
      const response = await fetch(admin.ingestEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpRequest(batch)) });
      if (!response.ok) throw new Error(`the gateway answered ${response.status}`);
    }
    // Every event delivered by its site's destination (its queue flushes a batch after 1 s at the latest).
    const deadline = Date.now() + 300_000;
    while ((await sentNow()) - sentBefore < EVENTS) {
      if (Date.now() > deadline) throw new Error(`only ${(await sentNow()) - sentBefore} of ${EVENTS} events delivered`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      sites,
      applyAll: all.applyMillis ?? Number.NaN,
      applyAllBy: all.appliedBy ?? '',
      applyOne: median(one.map((o) => o.millis)),
      applyOneBy: [...new Set(one.map((o) => o.by))].join('/'),
      idleMiB,
      peakMiB: statusMiB(pid, 'VmHWM'),
      cpuPerThousand: ((processCpuMillis(pid) - cpuBefore) * 1000) / EVENTS,
      eventsPerSecond: EVENTS / seconds,
    };
  } finally {
    await admin.close();
  }
}

const sink = await startNullSink();
try {
  const rows = [];
  for (const sites of counts.length ? counts : [10, 100, 500]) {
    // A shared machine may never be quiet: then the figures say so.
    const quiet = await waitForQuietMachine(0.2, 3000, 60_000).then(
      () => true,
      () => false,
    );
    if (!quiet) console.error('the machine stayed busy for a minute: these figures were measured under load');
    const row = await measure(sites, sink.url);
    console.error(`${sites} site destinations: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  console.log(`Site destinations on one gateway (${machine}); ${EVENTS.toLocaleString('en-US')} events spread over the sites, OTLP/JSON in batches of ${BATCH}, each destination OTLP/HTTP to a null sink.\n`);
  console.log(
    table(
      ['site destinations', 'apply, all at once', 'apply, one more (median of 3)', 'gateway RSS idle', 'gateway RSS peak', 'gateway CPU per 1,000 events', 'events/s'],
      rows.map((r) => [r.sites, `${fmt(r.applyAll / 1000, 1)} s (${r.applyAllBy})`, `${fmt(r.applyOne / 1000, 2)} s (${r.applyOneBy})`, `${fmt(r.idleMiB, 0)} MiB`, `${fmt(r.peakMiB, 0)} MiB`, `${fmt(r.cpuPerThousand, 0)} ms`, fmt(r.eventsPerSecond, 0)]),
    ),
  );
} finally {
  sink.stop();
}

// 3. Durability: logEventOrThrow with the spool on (resolves once fsynced): events per second and
// latency, with 1, 16 and 256 calls in flight (group commit shares one fdatasync among them).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../src/index.js';
import { fmt, percentile, propsFor, startNullSink, table } from './lib.js';

const PER_RUN = 20_000;

export async function durability(): Promise<string> {
  const rows: (string | number)[][] = [];
  // The collector side answers at once, from its own process: what is measured is the spool.
  const sink = await startNullSink();
  for (const inFlight of [1, 16, 256]) {
    const spoolDir = mkdtempSync(join(tmpdir(), 'bench-durable-'));
    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: sink.url, spoolDir, checkpoints: false, onError: () => undefined });
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < PER_RUN) {
          const { action, props } = propsFor(next++);
          const t = process.hrtime.bigint();
          await audit.logEventOrThrow(action, props);
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { spooledEvents } = audit.stats();
    await audit.shutdown();
    rmSync(spoolDir, { recursive: true, force: true });
    rows.push([inFlight, fmt(PER_RUN / seconds, 0), fmt(percentile(latencies, 50)), fmt(percentile(latencies, 99)), spooledEvents.toLocaleString()]);
  }
  sink.stop();
  return [
    '## 3. Durability: logEventOrThrow with the spool',
    '',
    `${PER_RUN.toLocaleString()} calls per run; each resolves once its event is written and fdatasync'ed. The disk here is the machine's /tmp.`,
    '',
    table(['calls in flight', 'events/s', 'p50 ms', 'p99 ms', 'spooled'], rows),
    '',
  ].join('\n');
}

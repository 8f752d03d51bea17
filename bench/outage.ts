// 4. Memory during an outage: resident memory of an application process logging 2,000 events/s
// for 15 s while the collector is down, with and without a spool.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from '../test/helpers/processes.js';
import { fmt, table } from './lib.js';

interface Sample {
  t: number;
  sent: number;
  rss: number;
  stats: { dropped: number; spooledBytes: number; pending: number };
}

async function run(withSpool: boolean): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-outage-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/e2e/fixtures/emitter.ts')], {
    cwd: ROOT,
    env: { ...process.env, MODE: 'steady', COUNT: '30000', RATE: '2000', ENDPOINT: `http://127.0.0.1:${await freePort()}/v1/logs`, SPOOL_DIR: withSpool ? join(dir, 'spool') : '', IDS_FILE: join(dir, 'ids.txt') },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const samples: Sample[] = [];
  let buffer = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const parsed = JSON.parse(line) as Sample & { done?: boolean };
        if (parsed.done) {
          child.kill('SIGKILL');
          resolve();
        } else if (parsed.rss) samples.push(parsed);
      }
    });
  });
  return samples;
}

export async function outage(): Promise<string> {
  const spool = await run(true);
  const memory = await run(false);
  const mib = (bytes: number) => fmt(bytes / 1024 / 1024, 0);
  const rows = spool.map((s, i) => [s.t >= 1000 ? `${Math.round(s.t / 1000)} s` : `${s.t} ms`, s.sent.toLocaleString(), mib(s.rss), mib(s.stats.spooledBytes), memory[i] ? mib(memory[i].rss) : '-', memory[i] ? memory[i].stats.pending.toLocaleString() : '-', memory[i] ? memory[i].stats.dropped.toLocaleString() : '-']);
  return [
    '## 4. Memory during an outage',
    '',
    'An application process logs 2,000 events/s for 15 s (30,000 events: a 10-minute outage at 50 events/s) while the collector is unreachable. Resident memory (MiB, including the tsx loader) sampled every second.',
    '',
    table(['time', 'events logged', 'RSS with spool', 'spool on disk (MiB)', 'RSS without spool', 'held in memory', 'dropped (reported)'], rows),
    '',
    `Peak RSS: ${mib(Math.max(...spool.map((s) => s.rss)))} MiB with the spool (memory flat, the backlog on disk), ${mib(Math.max(...memory.map((s) => s.rss)))} MiB without (the queue holds up to its bound of 20,000 events; beyond it events are dropped, counted and reported).`,
    '',
  ].join('\n');
}

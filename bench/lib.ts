// Small measuring helpers: every benchmark runs its baseline and ours in the same process, in
// alternating rounds, and reports medians.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { sampleEvent } from '../test/helpers/fixtures.js';

export const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** The realistic events: every catalog sample, with the sample actor and context. */
export const actions = Object.keys(gristCatalog.actions) as (keyof typeof gristCatalog.actions)[];
export const propsFor = (i: number) => {
  const action = actions[i % actions.length]!;
  return { action, props: { actor: sampleEvent.actor, context: sampleEvent.context, details: gristCatalog.actions[action].sample as never } };
};

/** An exporter that accepts everything at once: measures the emitting side only. */
export class DiscardingExporter implements LogRecordExporter {
  exported = 0;
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.exported += records.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Row {
  readonly name: string;
  readonly microsPerEvent: number;
  readonly eventsPerSecond: number;
}

/**
 * Runs each contender `perRound` times per round, rounds alternating between contenders, and
 * returns the median cost per call. `between` runs after each round (outside the timing).
 */
export async function compare(contenders: { name: string; run: (i: number) => void; between?: () => Promise<void> }[], perRound: number, rounds = 7): Promise<Row[]> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      globalThis.gc?.();
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) contender.run(i);
      const elapsed = Number(process.hrtime.bigint() - start);
      await contender.between?.();
      if (round > 0) samples.get(contender.name)!.push(elapsed / perRound); // round 0 warms up
    }
  }
  return contenders.map((c) => {
    const ns = median(samples.get(c.name)!);
    return { name: c.name, microsPerEvent: ns / 1000, eventsPerSecond: 1e9 / ns };
  });
}

export const fmt = (n: number, digits = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const table = (header: string[], rows: (string | number)[][]): string =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export function processCpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** The most resident memory a process has used so far (VmHWM), in MiB, from /proc (Linux). */
export function processPeakRssMiB(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

/** CPU time every process of the machine has used so far (user, nice, system, irq, softirq, steal), in ms, from /proc/stat. */
export function machineCpuMillis(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / CLOCK_TICKS;
}

/**
 * Waits until the machine is quiet (less than `maxCores` busy over `windowMillis`) before a measurement
 * that another user's work would skew: the machine is shared.
 */
export async function waitForQuietMachine(maxCores = 0.2, windowMillis = 3000, timeoutMillis = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const before = machineCpuMillis();
    await new Promise((resolve) => setTimeout(resolve, windowMillis));
    if (machineCpuMillis() - before < maxCores * windowMillis) return;
    if (Date.now() > deadline) throw new Error(`the machine stayed busy for ${timeoutMillis} ms`);
  }
}

/** This process's CPU time so far, in ms. */
export const ownCpuMillis = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Starts bench/null-sink.ts; resolves with its logs URL and a stop function. */
export async function startNullSink(): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('null-sink.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  return { url: `http://127.0.0.1:${port}/v1/logs`, pid: child.pid!, stop: () => void child.kill() };
}

/** The sum of a counter in a Prometheus text exposition, over the series whose labels contain `labels`. */
export async function prometheusCounter(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    // Prometheus names counters with a `_total` suffix.
    const rest = line.slice(name.length).replace(/^_total/, '');
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const spread = (values: number[]): string => `${fmt(Math.min(...values), 0)}–${fmt(Math.max(...values), 0)}`;

// npm run bench: every benchmark, baseline and ours side by side, into bench/RESULTS.md.
// `npm run bench -- <section>...` runs only those sections and prints them (RESULTS.md unchanged).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { durability } from './durability.js';
import { endToEnd } from './end-to-end.js';
import { gatewayCeiling } from './gateway-ceiling.js';
import { hotPath } from './hot-path.js';
import { machine } from './lib.js';
import { outage } from './outage.js';

const sections: Record<string, () => Promise<string>> = {
  'hot-path': hotPath,
  'end-to-end': endToEnd,
  durability,
  outage,
  'gateway-ceiling': gatewayCeiling,
};

const own = process.env['BENCH_SECTION'];
if (own !== undefined) {
  process.stdout.write(await sections[own]!());
  process.exit(0);
}

const only = process.argv.slice(2);
const unknown = only.filter((name) => !(name in sections));
if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; the sections are ${Object.keys(sections).join(', ')}`);
const parts = [
  `# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}. Each section runs in a process of its own, after a \`sync\`, so that one section's heap and the disk writes it leaves do not weigh on the next.\n`,
];
for (const name of Object.keys(sections)) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  execFileSync('sync');
  const section = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_SECTION: name },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(`${section}\n`);
  parts.push(section);
}
if (!only.length) writeFileSync(new URL('RESULTS.md', import.meta.url), parts.join('\n'));

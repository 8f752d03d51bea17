// npm run bench: every benchmark, baseline and ours side by side, into bench/RESULTS.md.
import { writeFileSync } from 'node:fs';
import { durability } from './durability.js';
import { endToEnd } from './end-to-end.js';
import { gatewayCeiling } from './gateway-ceiling.js';
import { hotPath } from './hot-path.js';
import { machine } from './lib.js';
import { outage } from './outage.js';

const only = process.argv.slice(2);
const sections: [string, () => Promise<string>][] = [
  ['hot-path', hotPath],
  ['end-to-end', endToEnd],
  ['durability', durability],
  ['outage', outage],
  ['gateway-ceiling', gatewayCeiling],
];
const parts = [`# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.\n`];
for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  process.stdout.write(`running ${name}...\n`);
  const section = await run();
  process.stdout.write(`${section}\n`);
  parts.push(section);
}
if (!only.length) writeFileSync(new URL('RESULTS.md', import.meta.url), parts.join('\n'));

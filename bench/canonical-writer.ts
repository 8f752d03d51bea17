// Microbenchmark, run by hand (not part of `npm run bench`, not a test):
//   npx tsx bench/canonical-writer.ts
// The canonical JSON of each catalog sample event, by the general writer (canonicalJson) and by the
// writer compiled for its action (compileCanonicalWriter), alternating in rounds on the same events.
// CPU time of the process, not wall time: the machine is shared.
import { gristCatalog } from '../src/catalog/catalogs/grist/index.js';
import { eventSchemaFor } from '../src/catalog/envelope.js';
import { canonicalJson } from '../src/integrity/canonical-json.js';
import { compileCanonicalWriter } from '../src/integrity/canonical-writer.js';
import { sampleEvent } from '../test/helpers/fixtures.js';

const ROUNDS = 7;
const PER_ROUND = 200_000;
const actions = Object.keys(gristCatalog.actions) as (keyof typeof gristCatalog.actions)[];
// As the logger would hold them after validation: fresh objects, one per action.
const events = actions.map((action) => ({ ...structuredClone(sampleEvent), id: crypto.randomUUID(), action, timestamp: new Date().toISOString(), details: structuredClone(gristCatalog.actions[action].sample) }));
const writers = actions.map((action) => compileCanonicalWriter(eventSchemaFor(action, gristCatalog.actions[action].details)));

for (let i = 0; i < events.length; i++) if (writers[i]!(events[i]) !== canonicalJson(events[i])) throw new Error(`${actions[i]}: the writers differ`);

function nanosPerEvent(write: (event: unknown, index: number) => string): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (let n = 0; n < PER_ROUND; n++) sink += write(events[n % events.length], n % events.length).length;
  const used = process.cpuUsage(start);
  const elapsed = (used.user + used.system) * 1000;
  if (sink === 0) throw new Error('unreachable: keeps the work from being optimized away');
  return elapsed / PER_ROUND;
}

const general: number[] = [];
const compiled: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  general.push(nanosPerEvent((event) => canonicalJson(event)));
  compiled.push(nanosPerEvent((event, index) => writers[index]!(event)));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const bytes = events.reduce((sum, event) => sum + canonicalJson(event).length, 0) / events.length;
console.log(`${events.length} actions' sample events (${bytes.toFixed(0)} characters of canonical JSON on average), ${ROUNDS} rounds of ${PER_ROUND}, median (min-max) CPU time:`);
for (const [name, values] of [['general canonicalJson', general], ['compiled per action', compiled]] as const) {
  console.log(`  ${name.padEnd(22)} ${(median(values) / 1000).toFixed(2)} µs/event (${(Math.min(...values) / 1000).toFixed(2)}-${(Math.max(...values) / 1000).toFixed(2)})`);
}
console.log(`  compiled / general: ${(median(compiled) / median(general)).toFixed(2)}`);

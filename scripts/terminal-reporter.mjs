// The node:test reporter of scripts/test.sh in a terminal: node's `dot` reporter (a dot per test,
// the failures in full at the end), then the run's counts on one line.
// Plain JavaScript: node loads reporters before the TypeScript loader (tsx) is registered.
import { dot } from 'node:test/reporters';

const COUNTS = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'];

/** @param {AsyncIterable<import('node:test/reporters').TestEvent>} source */
export default async function* terminalReporter(source) {
  const counts = new Map();
  async function* counted() {
    for await (const event of source) {
      // The runner states its totals as top-level diagnostics ("tests 12", "pass 11", ...).
      if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
        const [name, value] = event.data.message.split(' ');
        if (COUNTS.includes(name)) counts.set(name, Number(value));
      }
      yield event;
    }
  }
  yield* dot(counted());
  const n = (name) => counts.get(name) ?? 0;
  yield `\n${n('tests')} tests: ${n('pass')} passed, ${n('fail')} failed, ${n('cancelled')} cancelled, ${n('skipped')} skipped, ${n('todo')} todo (${(n('duration_ms') / 1000).toFixed(1)} s)\n`;
}

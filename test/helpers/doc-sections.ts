// Generated sections of the guides: text between `<!-- name:start -->` and `<!-- name:end -->` that
// a test prints (a fault matrix) and keeps equal to what it printed in its last full run.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function bounds(text: string, name: string, path: string): { start: number; end: number } {
  const open = `<!-- ${name}:start -->\n`;
  const start = text.indexOf(open);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  if (start === -1 || end < start) throw new Error(`${path} has no section ${name} (<!-- ${name}:start --> ... <!-- ${name}:end -->)`);
  return { start: start + open.length, end };
}

/**
 * Checks that the section `name` of the repository file `path` is `content`; with UPDATE_DOCS=1 in
 * the environment it writes `content` there instead (after a change that changes the matrix).
 */
export function checkDocSection(path: string, name: string, content: string): void {
  const file = `${ROOT}${path}`;
  const text = readFileSync(file, 'utf8');
  const { start, end } = bounds(text, name, path);
  const wanted = `${content.trim()}\n`;
  if (process.env['UPDATE_DOCS'] === '1') {
    writeFileSync(file, `${text.slice(0, start)}${wanted}${text.slice(end)}`);
    return;
  }
  assert.equal(text.slice(start, end), wanted, `${path}'s ${name} section is not what the test shows: run it with UPDATE_DOCS=1 to write it`);
}

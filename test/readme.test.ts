import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ATTR } from '../src/attributes.js';
import { VERSION } from '../src/version.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents exactly the attribute names of src/attributes.ts in its mapping table', () => {
    const table = readme.slice(readme.indexOf('| attribute | from | convention |'));
    const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), Object.values(ATTR).sort());
  });

  it('names the two commands', () => {
    assert.match(readme, /npm start/);
    assert.match(readme, /npm test/);
  });
});

describe('version', () => {
  it('the scope version equals package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version);
  });
});

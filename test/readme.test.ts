import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ATTR } from '../src/attributes.js';
import { VERSION } from '../src/version.js';

const doc = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = doc('README.md');
const library = doc('docs/library.md');
const collector = doc('docs/collector.md');

describe('the tables of the docs', () => {
  it('docs/library.md documents exactly the attribute names of src/attributes.ts in its mapping table', () => {
    const table = library.slice(library.indexOf('| attribute | from | convention |'));
    const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), Object.values(ATTR).sort());
  });

  it('docs/collector.md documents, in one table per config, exactly the variables gateway.yaml, local.yaml and the HEC stand-in read', () => {
    for (const [config, heading] of [
      ['gateway.yaml', '## Environment of gateway.yaml'],
      ['local.yaml', '## Environment of local.yaml'],
      ['examples/hec-receiver/config.yaml', '## Environment of the HEC stand-in'],
    ] as const) {
      const read = new Set([...readFileSync(new URL(`../collector-config/${config}`, import.meta.url), 'utf8').matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]));
      const section = collector.slice(collector.indexOf(`\n${heading}\n`) + heading.length + 2);
      assert.ok(collector.includes(`\n${heading}\n`), heading);
      const table = section.slice(section.indexOf('| variable |'), section.indexOf('\n\n', section.indexOf('| variable |')));
      const documented = table.split('\n').flatMap((row) => [...(/^\| ([^|]+) \|/.exec(row)?.[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
      assert.deepEqual([...documented].sort(), [...read].sort(), config);
      assert.equal(new Set(documented).size, documented.length, `${config}: a variable in two rows`);
    }
  });
});

describe('README', () => {
  it("names the two commands of a user (install, then the gateway) and a clone's (npm start, npm test)", () => {
    const commands = /## The two commands\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(commands, /^npm install otel-audit /m);
    assert.match(commands, /^npx otel-audit gateway /m);
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

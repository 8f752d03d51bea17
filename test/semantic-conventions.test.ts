// The attribute names the mapping table (docs/library.md) marks "semconv", and the resource attributes,
// checked against the @opentelemetry/semantic-conventions package itself: its ATTR_* constants and
// their JSDoc (@deprecated, @experimental) in the .d.mts files it ships.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ATTR } from '../src/attributes.js';
import { auditResource } from '../src/logger/resource.js';

const require = createRequire(import.meta.url);
// The package exports no ./package.json: its entry point lies in dist/, beside the declarations.
const dist = dirname(require.resolve('@opentelemetry/semantic-conventions'));
const conventionsVersion = (JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string }).version;

interface Convention {
  readonly constant: string;
  readonly stable: boolean;
  readonly deprecated: string | undefined;
}

/** Every `ATTR_*` constant of the given declaration files, by attribute name. */
function conventionsOf(files: readonly { readonly name: string; readonly text: string }[]): Map<string, Convention[]> {
  const byName = new Map<string, Convention[]>();
  for (const { name, text } of files) {
    for (const match of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*declare const (ATTR_\w+): "([^"]+)";/g)) {
      const [, doc, constant, attribute] = match as unknown as [string, string, string, string];
      const deprecated = /@deprecated\s*([^\n]*)/.exec(doc)?.[1]?.trim();
      const entry = { constant, stable: name.startsWith('stable_'), deprecated: deprecated === undefined ? undefined : deprecated || 'deprecated' };
      byName.set(attribute, [...(byName.get(attribute) ?? []), entry]);
    }
  }
  return byName;
}

/** What is wrong with using `attribute`: unknown to the conventions, deprecated, or not stable when the table says stable. */
function problemsOf(conventions: Map<string, Convention[]>, attribute: string, stable: boolean): string[] {
  const found = conventions.get(attribute);
  if (!found) return [`${attribute}: no ATTR_* constant has this name (renamed or removed?)`];
  const problems = found.filter((c) => c.deprecated).map((c) => `${attribute}: ${c.constant} is deprecated: ${c.deprecated}`);
  if (stable && !found.some((c) => c.stable)) problems.push(`${attribute}: the table says stable, the package has it experimental only`);
  return problems;
}

const attributeFiles = readdirSync(dist)
  .filter((file) => /attributes\.d\.mts$/.test(file))
  .map((file) => ({ name: file, text: readFileSync(join(dist, file), 'utf8') }));
const conventions = conventionsOf(attributeFiles);

/** The mapping table's rows: attribute name and its convention column. */
const library = readFileSync(new URL('../docs/library.md', import.meta.url), 'utf8');
const table = library.slice(library.indexOf('| attribute | from | convention |'));
const rows = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([^`]+)` \|[^\n]*\| ([^|\n]+) \|$/gm)].map((m) => ({ attribute: m[1]!, convention: m[2]!.trim() }));

describe('semantic conventions', () => {
  it(`the package is semantic conventions 1.45 or newer (${conventionsVersion}) and its declarations were read`, () => {
    const [major, minor] = conventionsVersion.split('.').map(Number) as [number, number];
    assert.ok(major > 1 || (major === 1 && minor >= 45), conventionsVersion);
    assert.ok(attributeFiles.some((f) => f.name.startsWith('stable_')) && attributeFiles.some((f) => f.name.startsWith('experimental_')), 'stable and experimental attribute files');
    assert.ok(conventions.size > 500, `${conventions.size} attribute names`);
  });

  it('every attribute the mapping table marks semconv is a current convention (stable where the table says so)', () => {
    const semconv = rows.filter((row) => row.convention.startsWith('semconv'));
    assert.equal(semconv.length, Object.values(ATTR).filter((name) => !name.startsWith('audit.')).length, JSON.stringify(rows));
    assert.deepEqual(semconv.flatMap((row) => problemsOf(conventions, row.attribute, row.convention.startsWith('semconv (stable)'))), []);
  });

  it('every attribute outside audit.* is marked semconv in the table, and every audit.* one is ours', () => {
    for (const name of Object.values(ATTR)) {
      const row = rows.find((r) => r.attribute === name);
      assert.ok(row, `${name} is in the table`);
      assert.equal(row.convention.startsWith('ours'), name.startsWith('audit.'), `${name}: ${row.convention}`);
      if (name.startsWith('audit.')) assert.equal(conventions.has(name), false, `${name} is a convention now: use its name`);
    }
  });

  it('the display name is user.full_name and user.name is the login, as the conventions define them', () => {
    assert.equal(ATTR.userFullName, 'user.full_name');
    assert.equal(ATTR.userLogin, 'user.name');
    const doc = (name: string) => new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*declare const ATTR_\\w+: "${name.replace('.', '\\.')}";`).exec(attributeFiles.map((f) => f.text).join('\n'))?.[1] ?? '';
    assert.match(doc('user.name'), /login/);
    assert.match(doc('user.full_name'), /full name/i);
  });

  it('every resource attribute the logger writes is a current convention', () => {
    const { attributes } = auditResource({ serviceName: 'svc', serviceVersion: '1.0.0', resourceAttributes: {}, version: '0.0.0' }, {});
    const names = Object.keys(attributes);
    assert.deepEqual(names.sort(), ['host.name', 'service.instance.id', 'service.name', 'service.version', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version']);
    assert.deepEqual(names.flatMap((name) => problemsOf(conventions, name, false)), []);
  });

  it('the check fails on a renamed or deprecated convention (the declarations edited as a new release would)', () => {
    const deprecating = attributeFiles.map((f) => ({ ...f, text: f.text.replace(/(\n \*\/\ndeclare const ATTR_USER_NAME: "user\.name";)/, '\n *\n * @deprecated Replaced by `user.login`.$1') }));
    assert.notEqual(deprecating.map((f) => f.text).join(), attributeFiles.map((f) => f.text).join(), 'the edit applied');
    assert.deepEqual(problemsOf(conventionsOf(deprecating), 'user.name', false), ['user.name: ATTR_USER_NAME is deprecated: Replaced by `user.login`.']);
    const renaming = attributeFiles.map((f) => ({ ...f, text: f.text.replace('declare const ATTR_USER_FULL_NAME: "user.full_name";', 'declare const ATTR_USER_DISPLAY_NAME: "user.display_name";') }));
    assert.deepEqual(problemsOf(conventionsOf(renaming), 'user.full_name', false), ['user.full_name: no ATTR_* constant has this name (renamed or removed?)']);
    assert.deepEqual(problemsOf(conventions, 'session.id', true), ['session.id: the table says stable, the package has it experimental only']);
  });
});

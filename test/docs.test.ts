// The README is the front door and docs/ holds the guides by task (issue 25): the README stays
// short, every guide is reachable from it, every relative link and #anchor of the documents
// resolves in the repository, every link to the repository names what it has, and docs/cli.md
// names every command and option of src/cli. The package test checks the links again inside the
// packed tarball, where only what is shipped counts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from '../src/cli/args.js';
import { headingSlugs, linksOf } from './helpers/markdown.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPOSITORY = 'https://github.com/otel-audit/otel-audit';
/** "At most about 200 lines": what a newcomer reads before the map sends them on. */
const README_MAX_LINES = 200;

/** Every document: the README, and the Markdown files of the folders that hold docs (repository-relative, `/`-separated). */
const documents = [
  'README.md',
  ...['docs', 'examples', 'collector-config', 'collector', 'bench'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.md'))
      .map((file) => `${dir}/${file.split(sep).join('/')}`),
  ),
];
const text = new Map(documents.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

/** A link of `file` within the repository: the repository-relative path it names (the file itself for `#anchor`) and its anchor. */
function local(file: string, link: string): { path: string; anchor: string | undefined } | undefined {
  if (/^[a-z]+:/i.test(link)) return undefined;
  const [target = '', anchor] = link.split('#');
  const path = target === '' ? file : normalize(join(dirname(file), decodeURIComponent(target))).split(sep).join('/');
  return { path, anchor };
}

function slugsOf(path: string): Set<string> {
  return headingSlugs(text.get(path) ?? readFileSync(join(ROOT, path), 'utf8'));
}

describe('README and docs', () => {
  it(`the README is a front door of at most ${README_MAX_LINES} lines`, () => {
    const lines = (text.get('README.md')!.match(/\n/g) ?? []).length;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
  });

  it('every guide in docs/ is reachable from the README, through links between documents', () => {
    const reached = new Set(['README.md']);
    const pending = ['README.md'];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      for (const link of linksOf(text.get(file)!)) {
        const target = local(file, link)?.path;
        if (target && target.endsWith('.md') && text.has(target) && !reached.has(target)) {
          reached.add(target);
          pending.push(target);
        }
      }
    }
    const guides = documents.filter((file) => file.startsWith('docs/'));
    assert.ok(guides.length >= 10, guides.join(', '));
    assert.deepEqual(guides.filter((file) => !reached.has(file)), []);
  });

  it('every relative link and #anchor of the documents resolves in the repository', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of documents) {
      for (const link of linksOf(text.get(file)!)) {
        const target = local(file, link);
        if (!target) continue;
        checked++;
        if (target.path.startsWith('..')) problems.push(`${file}: ${link} leaves the repository`);
        else if (!existsSync(join(ROOT, target.path))) problems.push(`${file}: ${link}: no ${target.path}`);
        else if (target.anchor !== undefined && !(target.path.endsWith('.md') && slugsOf(target.path).has(target.anchor))) problems.push(`${file}: ${link}: ${target.path} has no heading #${target.anchor}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 150, `${checked} links checked`);
  });

  it('every link to the repository names a file or folder it has', () => {
    const problems: string[] = [];
    for (const file of documents) {
      for (const link of linksOf(text.get(file)!)) {
        if (!link.startsWith('https://github.com/otel-audit/')) continue;
        const [url = ''] = link.split('#');
        const path = new RegExp(`^${REPOSITORY}/(?:blob|tree)/main/(.+)$`).exec(url)?.[1];
        if (path === undefined) {
          if (url !== REPOSITORY) problems.push(`${file}: ${link} is not a ${REPOSITORY}/blob/main/ link`);
        } else if (!existsSync(join(ROOT, path))) problems.push(`${file}: ${link} names no ${path}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('docs/cli.md has a row for every command of src/cli, naming each of its options', async () => {
    const dir = join(ROOT, 'src/cli');
    const commands: Command[] = [];
    // main.ts is the program itself (it runs a command when imported); every other module is read for the commands it exports.
    for (const module of readdirSync(dir).filter((file) => file.endsWith('.ts') && file !== 'main.ts')) {
      const exports = (await import(pathToFileURL(join(dir, module)).href)) as Record<string, unknown>;
      for (const value of Object.values(exports)) {
        const command = value as Partial<Command> | null;
        if (command && typeof command === 'object' && typeof command.name === 'string' && typeof command.usage === 'string' && typeof command.run === 'function' && command.options) commands.push(command as Command);
      }
    }
    assert.ok(commands.length >= 10, commands.map((c) => c.name).join(', '));
    const table = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    const nameOf = (row: string) => /^\| `([a-z-]+)/.exec(row)?.[1];
    assert.deepEqual([...new Set(table.map(nameOf))].sort(), commands.map((c) => c.name).sort(), 'a row per command, and no row of another');
    for (const command of commands) {
      const rows = table.filter((row) => nameOf(row) === command.name).join('\n');
      const missing = Object.keys(command.options).filter((option) => !new RegExp(`--${option}\\b(?!-)`).test(rows));
      assert.deepEqual(missing, [], `docs/cli.md: otel-audit ${command.name}`);
    }
  });
});

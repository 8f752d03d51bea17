// The package's entry points: the core (otel-audit) loads none of the Admin Panel, which has its own
// (otel-audit/admin); the command line reaches the panel through that entry only and the logger
// through its public API (no seam of the tests). Read from the import graph, statically.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { importChain, importGraph } from './helpers/import-graph.js';
import { ROOT } from './helpers/processes.js';

const SRC = join(ROOT, 'src');
const ADMIN = join(SRC, 'admin');
const name = (file: string) => relative(ROOT, file);

describe('entry points', () => {
  it('otel-audit (src/index.ts) loads no module of src/admin, directly or through another', () => {
    const graph = importGraph(join(SRC, 'index.ts'));
    assert.ok(graph.size > 20, `the walk found ${graph.size} modules: it does not follow the imports`);
    const admin = [...graph.keys()].filter((file) => file.startsWith(`${ADMIN}/`));
    assert.deepEqual(admin.map((file) => importChain(graph, file).map(name).join(' → ')), []);
  });

  it('package.json maps otel-audit/admin to the built src/admin/index.ts, and tsconfig to its source', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    assert.deepEqual(pkg.exports['./admin'], { types: './dist/src/admin/index.d.ts', default: './dist/src/admin/index.js' });
    const tsconfig = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } };
    assert.deepEqual(tsconfig.compilerOptions.paths['otel-audit/admin'], ['./src/admin/index.ts']);
  });

  it('the command line reaches the Admin Panel through src/admin/index.ts only', () => {
    const reaching: string[] = [];
    for (const command of readdirSync(join(SRC, 'cli')).filter((file) => file.endsWith('.ts'))) {
      const file = join(SRC, 'cli', command);
      for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        const target = join(SRC, 'cli', fileName.replace(/\.js$/, '.ts'));
        if (target.startsWith(`${ADMIN}/`) && target !== join(ADMIN, 'index.ts')) reaching.push(`${name(file)} imports ${fileName}`);
      }
    }
    assert.deepEqual(reaching, []);
  });

  it('the command line creates loggers through the public API: no test seam of src/logger.ts', () => {
    const seams: string[] = [];
    for (const command of readdirSync(join(SRC, 'cli')).filter((file) => file.endsWith('.ts'))) {
      const file = join(SRC, 'cli', command);
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
      for (const statement of source.statements) {
        if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier) || statement.moduleSpecifier.text !== '../logger.js') continue;
        const clause = statement.importClause;
        if (clause?.isTypeOnly) continue;
        const bindings = clause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings)) {
          seams.push(`${name(file)} imports the whole module`);
          continue;
        }
        for (const element of bindings.elements) {
          const imported = (element.propertyName ?? element.name).text;
          if (!element.isTypeOnly && imported !== 'createAuditLogger') seams.push(`${name(file)} imports ${imported}`);
        }
      }
    }
    assert.deepEqual(seams, []);
  });
});

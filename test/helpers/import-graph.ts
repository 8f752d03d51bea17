// The static import graph of a module: every file it loads through relative imports, exports and
// dynamic imports of a literal, transitively, read by the TypeScript compiler's pre-processor (no
// code runs). Works on the sources (`./x.js` is `./x.ts` when that exists) and on the built package.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** The file a relative specifier names, as node resolves it from the built code, or its TypeScript source. */
function fileOf(from: string, specifier: string): string {
  const path = resolve(dirname(from), specifier);
  const source = path.replace(/\.js$/, '.ts');
  return path.endsWith('.js') && !existsSync(path) && existsSync(source) ? source : path;
}

/** Every module file `entry` loads, itself included, each with the file that imports it first. */
export function importGraph(entry: string): Map<string, string | undefined> {
  const importedBy = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages and node: builtins
      const imported = fileOf(file, fileName);
      if (importedBy.has(imported)) continue;
      importedBy.set(imported, file);
      queue.push(imported);
    }
  }
  return importedBy;
}

/** How `file` is reached from the entry: entry → ... → file. */
export function importChain(graph: ReadonlyMap<string, string | undefined>, file: string): string[] {
  const chain = [file];
  for (let by = graph.get(file); by !== undefined; by = graph.get(by)) chain.unshift(by);
  return chain;
}

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Catalog } from '../catalog/define.js';
import { authCatalog } from '../catalog/catalogs/auth/index.js';
import { gristCatalog } from '../catalog/catalogs/grist/index.js';
import { UsageError } from './args.js';

export const catalogOption = {
  catalog: { type: 'string', default: 'grist' },
} as const;

export const catalogHelp = `  --catalog <name|module>    a bundled catalog, grist or auth (authentication), or a module exporting
                             \`catalog\` (default: grist); a TypeScript module (.ts, .mts, .cts) is loaded
                             through tsx, which the application installs (npm install --save-dev tsx)`;

const TYPESCRIPT = /\.[cm]?ts$/;

type TsImport = (specifier: string, parentUrl: string) => Promise<unknown>;

/**
 * tsx's `tsImport` (it compiles the module and what it imports, in a namespace of its own, without
 * changing how anything else loads), resolved from the catalog's project first (where the
 * application installed it), then from otel-audit's own dependencies.
 */
async function tsxImporter(path: string): Promise<TsImport> {
  for (const from of [path, fileURLToPath(import.meta.url)]) {
    let manifest: string;
    try {
      manifest = createRequire(from).resolve('tsx/package.json');
    } catch {
      continue;
    }
    // Its ESM entry, as an import would resolve it: the CommonJS one registers its hooks from the wrong place when imported.
    const exported = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> }).exports?.['./esm/api']?.import?.default;
    if (!exported) continue;
    return ((await import(pathToFileURL(join(dirname(manifest), exported)).href)) as { tsImport: TsImport }).tsImport;
  }
  throw new UsageError(`${path} is TypeScript: install tsx beside it (npm install --save-dev tsx), or give the compiled .js module`);
}

/** A bundled catalog, or `catalog` (or the default export) of an application's module, JavaScript or TypeScript. */
export async function loadCatalog(name: string): Promise<Catalog> {
  if (name === 'grist') return gristCatalog;
  if (name === 'auth') return authCatalog;
  const path = isAbsolute(name) ? name : resolve(name);
  if (!existsSync(path)) throw new UsageError(`--catalog ${name}: no such file`);
  const url = pathToFileURL(path).href;
  const module = (TYPESCRIPT.test(path) ? await (await tsxImporter(path))(url, url) : await import(url)) as { catalog?: Catalog; default?: Catalog };
  const catalog = module.catalog ?? module.default;
  if (!catalog?.actions) throw new UsageError(`${name} exports no catalog (export one made with defineCatalog as \`catalog\`)`);
  return catalog;
}

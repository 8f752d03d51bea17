import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Catalog } from '../catalog/define.js';
import { gristCatalog } from '../catalog/catalogs/grist/index.js';
import { UsageError } from './args.js';

export const catalogOption = {
  catalog: { type: 'string', default: 'grist' },
} as const;

export const catalogHelp = `  --catalog <grist|module>   the bundled Grist catalog, or a module exporting \`catalog\` (default: grist)`;

/** The bundled catalog, or `catalog` (or the default export) of an application's module. */
export async function loadCatalog(name: string): Promise<Catalog> {
  if (name === 'grist') return gristCatalog;
  const url = pathToFileURL(isAbsolute(name) ? name : resolve(name)).href;
  const module = (await import(url)) as { catalog?: Catalog; default?: Catalog };
  const catalog = module.catalog ?? module.default;
  if (!catalog?.actions) throw new UsageError(`${name} exports no catalog (export one made with defineCatalog as \`catalog\`)`);
  return catalog;
}

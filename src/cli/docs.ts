import { catalogJsonSchema, catalogMarkdown } from '../catalog/reference.js';
import { EXIT, type Command } from './args.js';
import { catalogHelp, catalogOption, loadCatalog } from './catalog-option.js';

export const docsCommand: Command = {
  name: 'docs',
  summary: 'print the event catalog as Markdown',
  usage: `otel-audit docs [options]

Prints the Markdown reference of a catalog: every action, its description, scopes, details and sample.

Options:
${catalogHelp}`,
  options: catalogOption,
  async run(values) {
    const catalog = await loadCatalog(String(values['catalog']));
    process.stdout.write(catalogMarkdown(catalog, 'Audit events'));
    return EXIT.ok;
  },
};

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of the events of a catalog',
  usage: `otel-audit schema [options]

Prints the JSON Schema (2020-12) of the event envelope and each action's details.

Options:
${catalogHelp}`,
  options: catalogOption,
  async run(values) {
    const catalog = await loadCatalog(String(values['catalog']));
    process.stdout.write(`${JSON.stringify(catalogJsonSchema(catalog, 'otel-audit event'), null, 2)}\n`);
    return EXIT.ok;
  },
};

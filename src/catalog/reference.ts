import { z } from 'zod';
import type { Catalog } from './define.js';
import { eventSchemaFor } from './envelope.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  [key: string]: unknown;
};

const toSchema = (schema: z.ZodType): JsonSchema =>
  // `unrepresentable: 'any'`: the catalog's JSON-value fields (`any`) become `{}`, i.e. any JSON.
  z.toJSONSchema(schema, { unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;

/** JSON Schema (2020-12) of the whole event for every action of the catalog. */
export function catalogJsonSchema(catalog: Catalog, title: string): Record<string, unknown> {
  const defs: Record<string, JsonSchema> = {};
  for (const [action, definition] of Object.entries(catalog.actions)) {
    const { $schema: _ignored, ...schema } = toSchema(eventSchemaFor(action, definition.details));
    defs[action] = { description: definition.description, ...schema };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title,
    description: 'An audit event as otel-audit sends it: the body of every log record. Generated from the catalog by `npm run docs`.',
    oneOf: Object.keys(defs).map((action) => ({ $ref: `#/$defs/${action}` })),
    $defs: defs,
  };
}

function typeName(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeName).join(' \\| ');
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (schema.type === 'array') return `array of ${schema.items ? typeName(schema.items) : 'any'}`;
  if (Array.isArray(schema.type)) return schema.type.join(' \\| ');
  return schema.type ?? 'any JSON';
}

/** Rows `path | type | required` for every property, depth first, arrays as `path[]`. */
function rows(schema: JsonSchema, prefix: string): string[] {
  const out: string[] = [];
  const object = schema.anyOf?.find((option) => option.properties) ?? schema;
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const required = object.required?.includes(key) ? 'yes' : 'no';
    out.push(`| \`${path}\` | ${typeName(child)} | ${required} |`);
    out.push(...rows(child, path));
    const items = child.items ?? child.anyOf?.find((option) => option.items)?.items;
    if (items?.properties) out.push(...rows(items, `${path}[]`));
  }
  return out;
}

/** The Markdown reference of a catalog: every action, its description, scopes, details and sample. */
export function catalogMarkdown(catalog: Catalog, title: string): string {
  return [`# ${title}`, '', GENERATED, '', `${Object.keys(catalog.actions).length} actions. ${ENVELOPE}`, '', ...actionIndex(catalog), '', ...actionSections(catalog, '##')].join('\n');
}

/** One page for several catalogs (docs/events.md): a section each, with its own index. */
export function catalogsMarkdown(title: string, parts: readonly { readonly heading: string; readonly intro: string; readonly catalog: Catalog }[]): string {
  return [
    `# ${title}`,
    '',
    GENERATED,
    '',
    ENVELOPE,
    '',
    ...parts.flatMap(({ heading, intro, catalog }) => [`## ${heading}`, '', `${Object.keys(catalog.actions).length} actions. ${intro}`, '', ...actionIndex(catalog), '', ...actionSections(catalog, '###')]),
  ].join('\n');
}

const GENERATED = '<!-- Generated from the catalog by `npm run docs`; test/catalog/reference.test.ts fails when it is out of date. -->';
const ENVELOPE = 'Every event has the envelope of [the canonical event](library.md#the-event): `id`, `action`, `actor`, `context`, `timestamp`, and the `details` below.';

function actionIndex(catalog: Catalog): string[] {
  return ['| action | scopes | description |', '| --- | --- | --- |', ...Object.entries(catalog.actions).map(([action, d]) => `| [\`${action}\`](#${action.replace(/[^a-z0-9_-]/g, '')}) | ${d.scopes.join(', ')} | ${d.description} |`)];
}

function actionSections(catalog: Catalog, heading: '##' | '###'): string[] {
  return Object.entries(catalog.actions).flatMap(([action, definition]) => [
    `${heading} ${action}`,
    '',
    definition.description,
    '',
    `Scopes: ${definition.scopes.join(', ')}.`,
    '',
    '| details property | type | required |',
    '| --- | --- | --- |',
    ...rows(toSchema(definition.details), ''),
    '',
    'Sample `details`:',
    '',
    '```json',
    JSON.stringify(definition.sample, null, 2),
    '```',
    '',
  ]);
}

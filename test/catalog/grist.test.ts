import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { eventSchemaFor } from '../../src/catalog/envelope.js';
import { referenceCatalog, sampleEvent, type ReferenceProperty } from '../helpers/fixtures.js';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; entries?: Record<string, string> };
const def = (schema: z.ZodType): Def => (schema as unknown as { def: Def }).def;

/** Peels optional/nullable wrappers off a schema, telling which were there. */
function unwrap(schema: z.ZodType): { core: z.ZodType; optional: boolean; nullable: boolean } {
  let core = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    const d = def(core);
    if (d.type === 'optional') optional = true;
    else if (d.type === 'nullable') nullable = true;
    else return { core, optional, nullable };
    core = d.innerType!;
  }
}

/** The schema at a reference path such as `access_changes.users[].access`. */
function schemaAt(root: z.ZodType, path: string): z.ZodType {
  let current = root;
  for (const part of path.split('.')) {
    const name = part.replace(/\[\]$/, '');
    const object = def(unwrap(current).core);
    assert.equal(object.type, 'object', `${path}: parent of ${name} is not an object`);
    current = object.shape![name]!;
    assert.ok(current, `${path}: no property ${name}`);
    if (part.endsWith('[]')) current = def(unwrap(current).core).element!;
  }
  return current;
}

/** The reference type name(s) a zod schema stands for. */
function describeType(schema: z.ZodType): unknown {
  const { core, nullable } = unwrap(schema);
  const d = def(core);
  const base =
    d.type === 'custom' ? 'any' : d.type === 'enum' ? { enum: Object.values(d.entries!) } : d.type;
  return nullable ? ['null', base] : base;
}

function itemsType(schema: z.ZodType): unknown {
  const element = def(def(unwrap(schema).core).element!);
  return element.type === 'union' ? element.options!.map((o) => def(o).type) : element.type;
}

/** Every property path the schema defines, in reference notation. */
function pathsOf(schema: z.ZodType, prefix = ''): string[] {
  const d = def(unwrap(schema).core);
  if (d.type === 'array') {
    const element = def(unwrap(d.element!).core);
    return element.type === 'object' ? pathsOf(d.element!, `${prefix}[]`) : [];
  }
  if (d.type !== 'object') return [];
  return Object.entries(d.shape!).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...pathsOf(child, path)];
  });
}

function withoutPath(value: unknown, parts: string[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  delete node[parts.at(-1)!];
  return copy;
}

function setPath(value: unknown, parts: string[], leaf: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts.at(-1)!] = leaf;
  return copy;
}

const wrongValueFor = (type: unknown): unknown => (type === 'string' || (Array.isArray(type) && type.includes('string')) ? 12345 : 'not-the-right-type');

describe('the bundled Grist catalog matches grist-audit-events.json', () => {
  it('has exactly the 40 reference actions', () => {
    assert.deepEqual(Object.keys(gristCatalog.actions).sort(), Object.keys(referenceCatalog).sort());
    assert.equal(Object.keys(gristCatalog.actions).length, 40);
  });

  for (const [action, reference] of Object.entries(referenceCatalog)) {
    describe(action, () => {
      const definition = gristCatalog.actions[action as keyof typeof gristCatalog.actions];
      const details = definition.details as z.ZodType;

      it('has the reference scopes, a description, and a sample equal to the reference sample', () => {
        assert.deepEqual([...definition.scopes], reference.scopes);
        assert.ok(definition.description.length > 10);
        assert.deepEqual(definition.sample, reference.sample_details);
      });

      it('accepts the reference sample in a full event', () => {
        const event = { ...sampleEvent, action, details: reference.sample_details };
        assert.equal(eventSchemaFor(action, details).safeParse(event).success, true);
      });

      it('defines every listed property with its type and optionality, and no other', () => {
        for (const property of reference.properties as ReferenceProperty[]) {
          const schema = schemaAt(details, property.path);
          assert.equal(unwrap(schema).optional, property.optional, `${property.path}: optional`);
          assert.deepEqual(describeType(schema), property.type, `${property.path}: type`);
          if (property.items) assert.deepEqual(itemsType(schema), property.items, `${property.path}: items`);
        }
        assert.deepEqual(pathsOf(details).sort(), reference.properties.map((p) => p.path).sort());
      });

      it('rejects the sample without a required property, or with a wrong type, naming the path', () => {
        for (const property of reference.properties) {
          if (property.path.includes('[]')) continue; // array elements are covered by their parents' samples
          const parts = property.path.split('.');
          const present = parts.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], reference.sample_details);
          if (present === undefined) continue; // not in the sample: nothing to remove or retype
          if (!property.optional) {
            const result = details.safeParse(withoutPath(reference.sample_details, parts));
            assert.equal(result.success, false, `${property.path} removed must fail`);
            assert.ok(result.error!.issues.some((issue) => issue.path.join('.') === property.path), `${property.path} named`);
          }
          if (property.type === 'any') continue;
          const result = details.safeParse(setPath(reference.sample_details, parts, wrongValueFor(property.type)));
          assert.equal(result.success, false, `${property.path} with a wrong type must fail`);
          assert.ok(result.error!.issues.some((issue) => issue.path.join('.') === property.path), `${property.path} named`);
        }
      });
    });
  }
});

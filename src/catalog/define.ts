import type { z } from 'zod';

/** Where an event is visible: to installation administrators, to site administrators, or both. */
export type Scope = 'installation' | 'site';

/** `<object>.<verb>`, lower case, e.g. `document.create`, `user.delete_api_key`. */
const ACTION_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** One action of a catalog. */
export interface ActionDefinition<Details extends z.ZodType = z.ZodType> {
  /** One sentence for the generated reference, e.g. `A new document was created.` */
  readonly description: string;
  /** Who may see the event. @example ['installation', 'site'] */
  readonly scopes: readonly Scope[];
  /** The schema of the event's `details`. */
  readonly details: Details;
  /** A valid `details` value, used in the generated reference and by `otel-audit emit`. */
  readonly sample: z.input<Details>;
}

/** A catalog: the actions an application may log, with their details schemas. */
export interface Catalog<Schemas extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  readonly actions: { readonly [A in keyof Schemas]: ActionDefinition<Schemas[A]> };
}

/** The action names of a catalog. */
export type ActionOf<C extends Catalog> = keyof C['actions'] & string;

/**
 * The type of `logEvent`'s action argument: `A` itself when the catalog has it; otherwise a message
 * the compiler prints in its error, naming the valid actions closest to the misspelling, e.g.
 * `document.creat is not an action of this catalog; valid actions: document.create`.
 */
export type KnownAction<C extends Catalog, A extends string> = [A] extends [ActionOf<C>]
  ? A
  : // Not distributive, and `A & ActionOf<C>` in the second branch: a caller's own type parameter
    // constrained to ActionOf<C> is then accepted too (a literal outside the catalog makes it never).
    (A & ActionOf<C>) | UnknownActionMessage<Exclude<A, ActionOf<C>>, ActionOf<C>>;

type UnknownActionMessage<Unknown extends string, Actions extends string> =
  `${Unknown} is not an action of this catalog; valid actions: ${Listed<TupleOf<Closest<Unknown, Actions>>>}`;

// The helpers below only shape that message. Closest: the actions sharing the longest prefix with
// the misspelling (all of them when not even the first letter matches).
type Closest<Typed extends string, Actions extends string, Prefix extends string = ''> = Typed extends `${infer Next}${infer Rest}`
  ? [Extract<Actions, `${Prefix}${Next}${string}`>] extends [never]
    ? Extract<Actions, `${Prefix}${string}`>
    : Closest<Rest, Actions, `${Prefix}${Next}`>
  : Extract<Actions, `${Prefix}${string}`>;
type IntersectionOf<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type LastOf<U> = IntersectionOf<U extends unknown ? () => U : never> extends () => infer L ? L : never;
type TupleOf<U, Last = LastOf<U>> = [U] extends [never] ? [] : [...TupleOf<Exclude<U, Last>>, Last];
// At most eight names: the compiler cuts messages longer than about 300 characters.
type Listed<Names extends unknown[]> = Names extends [infer A extends string, infer B extends string, infer C extends string, infer D extends string, infer E extends string, infer F extends string, infer G extends string, infer H extends string, infer _ extends string, ...infer More]
  ? `${Joined<[A, B, C, D, E, F, G, H]>} and ${[_, ...More]['length']} more (otel-audit docs lists them)`
  : Joined<Names>;
type Joined<Names extends unknown[]> = Names extends [infer First extends string, ...infer Rest]
  ? Rest extends [] ? First : `${First}, ${Joined<Rest>}`
  : '';

/** What `logEvent` accepts as `details` for an action. */
export type DetailsOf<C extends Catalog, A extends ActionOf<C>> = z.input<C['actions'][A]['details']>;

type Definitions<Schemas extends Record<string, z.ZodType>> = {
  [A in keyof Schemas]: ActionDefinition<Schemas[A]>;
};

/** Thrown at definition time (never while logging) for a malformed catalog. */
export class CatalogDefinitionError extends Error {
  override readonly name = 'CatalogDefinitionError';
}

function checkDefinition(action: string, definition: ActionDefinition): void {
  if (!ACTION_NAME.test(action)) {
    throw new CatalogDefinitionError(`action "${action}" must look like <object>.<verb>, e.g. document.create`);
  }
  if (definition.scopes.length === 0) {
    throw new CatalogDefinitionError(`action "${action}" needs at least one scope`);
  }
  const sample = definition.details.safeParse(definition.sample);
  if (!sample.success) {
    const where = sample.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new CatalogDefinitionError(`the sample of action "${action}" does not match its details schema at ${where}`);
  }
}

/**
 * Defines a catalog of audit actions. Types of `details` are inferred per action, so
 * `logEvent('document.create', { details })` type-checks against the schema.
 *
 * @example
 * const catalog = defineCatalog({
 *   'invoice.pay': {
 *     description: 'An invoice was paid.',
 *     scopes: ['site'],
 *     details: z.strictObject({ invoice: z.strictObject({ id: z.string(), amount: z.number() }) }),
 *     sample: { invoice: { id: 'inv_1', amount: 42 } },
 *   },
 * });
 */
export function defineCatalog<Schemas extends Record<string, z.ZodType>>(
  actions: Definitions<Schemas>,
): Catalog<Schemas> {
  for (const [action, definition] of Object.entries<ActionDefinition>(actions)) checkDefinition(action, definition);
  return Object.freeze({ actions: Object.freeze({ ...actions }) });
}

/** A catalog with the actions of `base` and more; redefining an action of `base` is an error. */
export function extendCatalog<Base extends Record<string, z.ZodType>, Added extends Record<string, z.ZodType>>(
  base: Catalog<Base>,
  added: Definitions<Added>,
): Catalog<Base & Added> {
  for (const action of Object.keys(added)) {
    if (Object.hasOwn(base.actions, action)) {
      throw new CatalogDefinitionError(`action "${action}" is already defined by the base catalog`);
    }
  }
  return defineCatalog<Base & Added>({ ...base.actions, ...added } as Definitions<Base & Added>);
}

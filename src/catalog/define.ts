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
 * the compiler prints in its error, naming at most three actions within a few edits of the
 * misspelling, closest first, e.g.
 * `documnt.rename is not an action of this catalog; did you mean document.rename?`.
 */
export type KnownAction<C extends Catalog, A extends string> = [A] extends [ActionOf<C>]
  ? A
  : // Not distributive, and `A & ActionOf<C>` in the second branch: a caller's own type parameter
    // constrained to ActionOf<C> is then accepted too (a literal outside the catalog makes it never).
    (A & ActionOf<C>) | UnknownActionMessage<Exclude<A, ActionOf<C>>, ActionOf<C>>;

type UnknownActionMessage<Unknown extends string, Actions extends string> =
  Suggested<Unknown, Actions> extends [infer First extends string, ...infer Rest extends string[]]
    ? `${Unknown} is not an action of this catalog; did you mean ${Listed<First, Rest>}?`
    : `${Unknown} is not an action of this catalog, and none is close to it (otel-audit docs lists them)`;

// The helpers below only shape that message, within what the compiler does quickly: a full edit
// distance per candidate would be a table of types per pair of names. Instead each name is split
// into its object and verb, and each part is compared by what it shares with the candidate's at its
// start and at its end: the edits are at most what lies between (exact for one edit per part, an
// upper bound otherwise). The run-time suggestion (`suggestActions`) computes the true distance.

/** A tuple as long as the string. */
type LengthOf<S extends string, Counted extends 0[] = []> = S extends `${string}${infer Rest}` ? LengthOf<Rest, [...Counted, 0]> : Counted;
type Reversed<S extends string, Done extends string = ''> = S extends `${infer First}${infer Rest}` ? Reversed<Rest, `${First}${Done}`> : Done;
/** A tuple as long as the common start of both strings. */
type SharedStart<A extends string, B extends string, Counted extends 0[] = []> = A extends `${infer First}${infer RestA}`
  ? B extends `${First}${infer RestB}`
    ? SharedStart<RestA, RestB, [...Counted, 0]>
    : Counted
  : Counted;
type Longest<X extends 0[], Y extends 0[]> = X extends [...Y, ...0[]] ? X : Y;
type Shortest<X extends 0[], Y extends 0[]> = X extends [...Y, ...0[]] ? Y : X;
type Minus<X extends 0[], Y extends 0[]> = X extends [...Y, ...infer Rest extends 0[]] ? Rest : [];
/** The edits between two strings, at most: what lies between their shared start and their shared end (never counted beyond the shorter string). */
type EditsAtMost<A extends string, B extends string> = Minus<
  Longest<LengthOf<A>, LengthOf<B>>,
  Shortest<[...SharedStart<A, B>, ...SharedStart<Reversed<A>, Reversed<B>>], Shortest<LengthOf<A>, LengthOf<B>>>
>;
/** Object and verb compared apart: a misspelled object does not hide a matching verb. */
type Distance<Typed extends string, Action extends string> = Typed extends `${infer TypedObject}.${infer TypedVerb}`
  ? Action extends `${infer Object}.${infer Verb}`
    ? [...EditsAtMost<TypedObject, Object>, ...EditsAtMost<TypedVerb, Verb>]['length']
    : never
  : EditsAtMost<Typed, Action>['length'];
/** The actions exactly `Edits` away. */
type AtDistance<Typed extends string, Actions extends string, Edits extends number> = { [A in Actions]: Distance<Typed, A> extends Edits ? A : never }[Actions];
/** The first three actions within MAX_SUGGESTION_EDITS (3) edits, closest first, and no more than one edit farther than the closest. */
type Suggested<Typed extends string, Actions extends string> = FirstThree<
  [AtDistance<Typed, Actions, 1>] extends [never]
    ? [AtDistance<Typed, Actions, 2>] extends [never]
      ? TupleOf<AtDistance<Typed, Actions, 3>>
      : [...TupleOf<AtDistance<Typed, Actions, 2>>, ...TupleOf<AtDistance<Typed, Actions, 3>>]
    : [...TupleOf<AtDistance<Typed, Actions, 1>>, ...TupleOf<AtDistance<Typed, Actions, 2>>]
>;
type FirstThree<Names extends unknown[]> = Names extends [infer A, infer B, infer C, ...unknown[]] ? [A, B, C] : Names;
type IntersectionOf<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type LastOf<U> = IntersectionOf<U extends unknown ? () => U : never> extends () => infer L ? L : never;
type TupleOf<U, Last = LastOf<U>> = [U] extends [never] ? [] : [...TupleOf<Exclude<U, Last>>, Last];
type Listed<First extends string, Rest extends string[]> = Rest extends [infer Second extends string]
  ? `${First} or ${Second}`
  : Rest extends [infer Second extends string, infer Third extends string]
    ? `${First}, ${Second} or ${Third}`
    : First;

/** How far a suggestion may be from what was typed: more edits than this is another name, not a typo. */
const MAX_SUGGESTION_EDITS = 3;
const MAX_SUGGESTIONS = 3;

/**
 * The edit distance of two strings (Damerau–Levenshtein, optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours), or `bound + 1` as soon as it must exceed `bound`.
 */
function editDistance(a: string, b: string, bound: number): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let cost = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cost = Math.min(cost, before[j - 2]! + 1);
      current.push(cost);
      smallest = Math.min(smallest, cost);
    }
    if (smallest > bound) return bound + 1;
    [before, previous] = [previous, current];
  }
  return previous[b.length]!;
}

/**
 * At most three actions within three edits of `typed`, and no more than one edit farther than the
 * closest, closest first (ties in name order): what an unknown action's message suggests.
 */
export function suggestActions(typed: string, actions: Iterable<string>): string[] {
  const scored: { action: string; edits: number }[] = [];
  for (const action of actions) {
    const edits = editDistance(typed, action, MAX_SUGGESTION_EDITS);
    if (edits <= MAX_SUGGESTION_EDITS) scored.push({ action, edits });
  }
  scored.sort((x, y) => x.edits - y.edits || (x.action < y.action ? -1 : 1));
  const closest = scored[0]?.edits ?? 0;
  return scored.filter(({ edits }) => edits <= closest + 1).slice(0, MAX_SUGGESTIONS).map(({ action }) => action);
}

/** The issue of an event whose action is not in the catalog, with the closest actions. */
export function unknownActionMessage(typed: string, actions: Iterable<string>): string {
  const suggested = suggestActions(typed, actions).map((action) => `"${action}"`);
  const listed = suggested.length <= 1 ? suggested.join('') : `${suggested.slice(0, -1).join(', ')} or ${suggested.at(-1)}`;
  return `unknown action "${typed}": not in the catalog${listed ? `; did you mean ${listed}?` : ', and none is close to it'}`;
}

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

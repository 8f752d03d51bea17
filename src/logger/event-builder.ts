import type { z } from 'zod';
import { unknownActionMessage, type Catalog } from '../catalog/define.js';
import { eventSchemaFor, type AuditEvent } from '../catalog/envelope.js';
import { isJsonOutput } from '../catalog/json-value.js';
import type { RequestAuditContext } from '../context/request-context.js';
import { canonicalJson } from '../integrity/canonical-json.js';
import { compileCanonicalWriter, outputIsDetached } from '../integrity/canonical-writer.js';
import type { ValidationIssue } from '../record/mapping.js';
import { safeString, toJsonSafe } from './sanitize.js';

/** What one action needs at every event, compiled once at creation. */
interface CompiledAction {
  readonly validator: z.ZodType;
  /** The canonical JSON writer with the action's keys pre-sorted. */
  readonly canonical: (event: unknown) => string;
  /** Whether zod's output is JSON data detached from the caller's objects (else it is checked to be JSON, and copied before it waits). */
  readonly detached: boolean;
  /** Whether the action's scopes include `site`: its events with a site get a link in their site's chain. */
  readonly siteScoped: boolean;
}

/** An event built and checked, ready to be chained. */
export interface BuiltEvent {
  readonly kind: 'valid' | 'invalid';
  /** What is chained and sent: zod's output for a valid event, a JSON-safe copy of what was given for an invalid one. */
  readonly event: AuditEvent;
  /** The printable action name, for reports. */
  readonly action: string;
  readonly canonical: (event: unknown) => string;
  readonly siteScoped: boolean;
  /** False where zod handed the caller's own objects through: the event is copied before it waits. */
  readonly detached: boolean;
}

/** What `build` found: a valid event, an invalid one (its issues, and its evidence when it is kept), or schema output that JSON cannot carry. */
export type BuildResult =
  | (BuiltEvent & { readonly kind: 'valid' })
  | { readonly kind: 'invalid'; readonly action: string; readonly issues: ValidationIssue[]; readonly evidence: () => BuiltEvent }
  | { readonly kind: 'unserializable'; readonly action: string };

function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/**
 * Builds an event from what `logEvent` was given and checks it against its action's schema: the
 * envelope (id, the emit time as timestamp, actor and context from the call over the request's),
 * validation with zod (what is sent is zod's output: unknown keys stripped, transforms and
 * defaults applied), and for what fails, the path of each failing field. Throws only what a getter
 * of `props` itself throws (`logEvent` reports it as `log_failed`); what zod's walk throws is an issue.
 */
export class EventBuilder {
  readonly #actions = new Map<string, CompiledAction>();

  constructor(catalog: Catalog) {
    for (const [action, definition] of Object.entries(catalog.actions)) {
      const validator = eventSchemaFor(action, definition.details);
      this.#actions.set(action, { validator, canonical: compileCanonicalWriter(validator), detached: outputIsDetached(validator), siteScoped: definition.scopes.includes('site') });
    }
  }

  build(id: string, action: string, props: unknown, now: number, request: RequestAuditContext | undefined): BuildResult {
    const given = (typeof props === 'object' && props !== null ? props : {}) as { actor?: AuditEvent['actor']; context?: AuditEvent['context']; details?: unknown };
    const raw: AuditEvent = {
      id,
      action,
      actor: given.actor ?? request?.actor ?? { type: 'unknown' },
      context: request?.context && given.context ? { ...request.context, ...given.context } : (given.context ?? request?.context ?? {}),
      timestamp: new Date(now).toISOString(),
      details: given.details,
    };
    const compiled = this.#actions.get(action);
    const name = safeString(action);
    let issues: ValidationIssue[];
    if (!compiled) issues = [{ path: 'action', message: unknownActionMessage(name, this.#actions.keys()) }];
    else {
      try {
        const result = compiled.validator.safeParse(raw);
        if (result.success) {
          const event = result.data as AuditEvent;
          // A schema may output what JSON cannot carry (z.date(), z.bigint(), a class instance).
          if (!compiled.detached && !isJsonOutput(event)) return { kind: 'unserializable', action: name };
          return { kind: 'valid', event, action: name, canonical: compiled.canonical, siteScoped: compiled.siteScoped, detached: compiled.detached };
        }
        issues = issuesOf(result.error);
      } catch (error) {
        // zod lets exceptions of hostile getters and proxies through.
        issues = [{ path: '', message: `the event could not be read: ${safeString(error)}` }];
      }
    }
    return {
      kind: 'invalid',
      action: name,
      issues,
      // Copied into JSON-safe data: the evidence is kept, nothing can throw later.
      evidence: () => ({ kind: 'invalid', event: toJsonSafe(raw) as AuditEvent, action: name, canonical: canonicalJson, siteScoped: compiled?.siteScoped ?? false, detached: true }),
    };
  }
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AttributeValue } from '../record/encoder.js';

/**
 * The resource of the audit stream, read from the same variables, by the same rules, as the
 * application's own OpenTelemetry SDK (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`): audit
 * records and the application's traces name the same service. Ours rather than
 * `@opentelemetry/resources`, whose 2.x and 3.x lines each accept only their own `@opentelemetry/api`.
 */

/** Longest decoded key or value OpenTelemetry JS accepts in OTEL_RESOURCE_ATTRIBUTES (beyond it, the variable is discarded). */
const MAX_ENV_ATTRIBUTE_LENGTH = 255;

/** What a variable yielded, and why it yielded nothing when it could not be read. */
export interface EnvironmentResource {
  readonly attributes: Record<string, string>;
  /** Set when OTEL_RESOURCE_ATTRIBUTES was discarded: what is wrong in it. */
  readonly problem: string | undefined;
}

/** A variable's value, or undefined when it is unset or blank (as OpenTelemetry JS reads them). */
function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs separated by commas, W3C Baggage style without
 * properties. Whitespace around keys and values is trimmed, keys and values are percent-decoded
 * (`+` stays a plus; `,` and `=` inside them must be encoded), empty entries are skipped. Any
 * error discards the whole variable, as the specification asks: no half-read resource.
 */
export function parseResourceAttributes(raw: string): EnvironmentResource {
  const entries: [string, string][] = [];
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    if (parts.length !== 2) return discarded(`"${entry}" is not key=value (a ',' or '=' inside a key or value must be percent-encoded)`);
    const key = parts[0]!.trim();
    const value = parts[1]!.trim();
    if (key === '') return discarded(`"${entry}" has an empty key`);
    let decodedKey: string;
    let decodedValue: string;
    try {
      decodedKey = decodeURIComponent(key);
      decodedValue = decodeURIComponent(value);
    } catch {
      return discarded(`"${entry}" is not valid percent-encoded UTF-8`);
    }
    if (decodedKey.length > MAX_ENV_ATTRIBUTE_LENGTH || decodedValue.length > MAX_ENV_ATTRIBUTE_LENGTH) {
      return discarded(`a key or value of "${decodedKey.slice(0, 40)}" is longer than ${MAX_ENV_ATTRIBUTE_LENGTH} characters`);
    }
    entries.push([decodedKey, decodedValue]);
  }
  // fromEntries defines own keys: a `__proto__` from outside stays a key, never a prototype.
  return { attributes: Object.fromEntries(entries), problem: undefined };
}

function discarded(why: string): EnvironmentResource {
  return { attributes: {}, problem: `OTEL_RESOURCE_ATTRIBUTES was ignored: ${why.length > 200 ? `${why.slice(0, 200)}…` : why}` };
}

/** The application's resource variables: OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME over its `service.name`. */
export function resourceFromEnvironment(env: NodeJS.ProcessEnv): EnvironmentResource {
  const raw = variable(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const fromAttributes = raw === undefined ? { attributes: {}, problem: undefined } : parseResourceAttributes(raw);
  const serviceName = variable(env, 'OTEL_SERVICE_NAME');
  if (serviceName !== undefined) fromAttributes.attributes['service.name'] = serviceName;
  return fromAttributes;
}

/** What the logger's options say about the resource. */
export interface ResourceOptions {
  readonly serviceName: string | undefined;
  readonly serviceVersion: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, AttributeValue>>;
  /** The otel-audit version, as `telemetry.sdk.version`. */
  readonly version: string;
}

/**
 * The audit stream's resource. Later layers win: defaults (an `unknown_service:<program>` name
 * and `telemetry.sdk.*` naming otel-audit, which writes these records, not the OpenTelemetry SDK)
 * < the options < the environment.
 */
export function auditResource(options: ResourceOptions, env: NodeJS.ProcessEnv): { readonly attributes: Record<string, AttributeValue>; readonly problem: string | undefined } {
  const fromEnvironment = resourceFromEnvironment(env);
  const attributes: Record<string, AttributeValue> = {
    'service.name': process.argv0 ? `unknown_service:${process.argv0}` : 'unknown_service',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'otel-audit',
    'telemetry.sdk.version': options.version,
    'service.instance.id': randomUUID(),
    'host.name': hostname(),
    ...options.resourceAttributes,
  };
  if (options.serviceName !== undefined) attributes['service.name'] = options.serviceName;
  if (options.serviceVersion !== undefined) attributes['service.version'] = options.serviceVersion;
  // Spread, not Object.assign: keys from the environment are defined, never set (`__proto__`).
  return { attributes: { ...attributes, ...fromEnvironment.attributes }, problem: fromEnvironment.problem };
}

// The base config the Admin Panel adds its destinations to: collector-config/gateway.yaml, or
// gateway.yaml with overlays (a shard of sites reading the gateway pool's topic:
// topologies/gateway-pool-kafka/shard.yaml), merged as the Collector merges several `--config`
// files.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

type Node = Record<string, unknown>;

const isMap = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Maps merged key by key; anything else (a list, a scalar) is the later file's. */
function merge(into: Node, from: Node): Node {
  const merged: Node = { ...into };
  for (const [key, value] of Object.entries(from)) merged[key] = isMap(merged[key]) && isMap(value) ? merge(merged[key], value) : value;
  return merged;
}

/** The files, merged in order, as YAML text. */
export function readBaseConfig(paths: readonly string[]): string {
  if (paths.length === 0) throw new Error('baseConfig names no file');
  if (paths.length === 1) return readFileSync(paths[0]!, 'utf8');
  const merged = paths.reduce<Node>((config, path) => {
    // Merge keys (`<<: *anchor`) resolved, as the Collector reads them, so an overlay's key wins over one merged in.
    const document = parse(readFileSync(path, 'utf8'), { merge: true }) as unknown;
    if (!isMap(document)) throw new Error(`baseConfig ${path} is not a Collector config (a YAML map)`);
    return merge(config, document);
  }, {});
  return stringify(merged, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/**
 * What the base config reads from the environment (`${env:NAME}`) and the panel's own environment
 * has: the Collector gets these (a shard's KAFKA_BROKERS, say), beside the panel's AUDIT_* settings,
 * which win. Nothing else of the panel's environment reaches the Collector.
 */
export function inheritedEnvironment(base: string, environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [, name] of base.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const value = environment[name!];
    if (value !== undefined) inherited[name!] = value;
  }
  return inherited;
}

import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, UsageError, type Command } from './args.js';
import { progress, type Progress } from './progress.js';

/**
 * The package's root: the nearest directory above this module holding the Collector manifest.
 * Found by walking up because this file runs from src/cli (tests) and from dist/src/cli (installed).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    if (existsSync(join(dir, 'collector-config/manifest.yaml'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('collector-config/manifest.yaml is not in this installation of otel-audit');
}

export const collectorCommand: Command = {
  name: 'collector',
  summary: 'build the otelcol-audit Collector distribution (needs Go)',
  usage: `otel-audit collector build [options]

Builds otelcol-audit, the OpenTelemetry Collector distribution of otel-audit, from the manifest and
the module lock shipped in this package (collector-config/manifest.yaml, collector-config/lock), with
the OpenTelemetry Collector Builder and the Go toolchain (>= 1.24). A binary that is up to date with
the manifest is kept. The configs to run it with are in collector-config/ of this package.

Options:
  --out <dir>             where the binary (<dir>/otelcol-audit) and the build files go (default: .collector)

Exit codes: 0 built or up to date, 2 usage error, 3 the build failed (Go missing, a module not served).`,
  options: { out: { type: 'string', default: '.collector' } },
  async run(values, positionals) {
    if (positionals.length !== 1 || positionals[0] !== 'build') throw new UsageError('the only subcommand is build: otel-audit collector build');
    // On a terminal, how long the build has taken, under the script's own lines.
    const building = progress({ label: 'otel-audit collector build' });
    try {
      return (await buildCollector(resolve(String(values['out'])), building.active ? building : 'inherit')) ? EXIT.ok : EXIT.failure;
    } finally {
      building.finish();
    }
  },
};

/**
 * Builds otelcol-audit into `out` (`<out>/otelcol-audit`) with the package's manifest, lock and
 * script, or keeps a binary that is up to date with them. The script's progress goes to `stdio`,
 * or above a progress line. Resolves with whether the binary is there and up to date.
 */
export async function buildCollector(out: string, output: StdioOptions | Progress): Promise<boolean> {
  const above = typeof output === 'object' && !Array.isArray(output) ? output : undefined;
  const status = await new Promise<number | null>((done, fail) => {
    const build = spawn('bash', [join(packageRoot(), 'scripts/build-collector.sh')], {
      stdio: above ? ['inherit', 'pipe', 'pipe'] : (output as StdioOptions),
      env: { ...process.env, OTELCOL_AUDIT_OUT: out },
    });
    build.stdout?.on('data', (chunk: Buffer) => above?.above(chunk.toString(), process.stdout));
    build.stderr?.on('data', (chunk: Buffer) => above?.above(chunk.toString(), process.stderr));
    build.once('error', fail);
    build.once('close', done);
  });
  return status === 0;
}

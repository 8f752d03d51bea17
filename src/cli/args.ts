import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of every command (documented in the README). */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3 } as const;

/** A mistake in how the command was called: printed in one line with where the help is, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

export function parse(command: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // The first sentence names the option; the rest of Node's message is advice about positionals.
    throw new UsageError((error as Error).message.split('. ')[0]!);
  }
}

/** `k=v` pairs (repeatable `--header`) into a record. */
export function headersOf(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--header expects name=value, got "${pair}"`);
    headers[pair.slice(0, eq).trim().toLowerCase()] = pair.slice(eq + 1).trim();
  }
  return headers;
}

/** A string option's value (parseArgs types every value as string | boolean | string[]). */
export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

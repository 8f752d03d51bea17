#!/usr/bin/env node
// otel-audit: the command-line tool. Thin: each command calls the library's rooms.
import { EXIT, UsageError, parse, type Command } from './args.js';
import { adminCommand } from './admin.js';
import { collectorCommand } from './collector.js';
import { deadLettersCommand } from './dead-letters.js';
import { docsCommand, schemaCommand } from './docs.js';
import { doctorCommand } from './doctor.js';
import { emitCommand } from './emit.js';
import { gatewayCommand } from './gateway.js';
import { replayCommand } from './replay.js';
import { spoolCommand } from './spool.js';
import { verifyCommand } from './verify.js';

const commands: readonly Command[] = [gatewayCommand, verifyCommand, emitCommand, doctorCommand, spoolCommand, deadLettersCommand, replayCommand, adminCommand, docsCommand, schemaCommand, collectorCommand];

const help = `otel-audit <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}

Run otel-audit <command> --help for its options.
Exit codes: 0 success, 1 findings (verify, doctor), 2 usage error, 3 failure (not delivered, unreadable).`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`otel-audit: unknown command "${name}"\nsee otel-audit --help\n`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parse(command, rest);
    if (values['help']) {
      process.stdout.write(`${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(values, positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line, and where the help is: the whole help would bury the mistake.
      process.stderr.write(`otel-audit ${command.name}: ${error.message}\nsee otel-audit ${command.name} --help\n`);
      return EXIT.usage;
    }
    process.stderr.write(`otel-audit ${command.name}: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

const code = await main(process.argv.slice(2));
// The answer is given: what a command leaves behind (a request of a shut-down logger still in
// flight, its retry timers) must not keep the process, so that emit --timeout bounds the whole
// command. Exit once everything written has reached stdout and stderr (pipes write asynchronously).
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(code);

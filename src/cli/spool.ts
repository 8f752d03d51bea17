import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inspectSpool } from '../delivery/spool.js';
import { createAuditLogger } from '../logger.js';
import type { AuditError } from '../errors.js';
import { EXIT, UsageError, headersOf, type Command } from './args.js';
import { catalogOption, loadCatalog } from './catalog-option.js';
import { endpointHelp, endpointOptions, millis, protocolOf, resolvedEndpoint } from './endpoint.js';

export const spoolCommand: Command = {
  name: 'spool',
  summary: 'inspect a spool directory, replay what is pending, export dead letters',
  usage: `otel-audit spool <dir> [options]

Without options, prints what the spool holds: stream, chain head, segments, pending and damaged
records, dead letters. It changes nothing.

Options:
  --replay                send what is pending now, then exit (the application may be stopped)
  --dead-letters          print the dead-letter records as NDJSON (reason, error, record)
  --json                  the inspection as JSON
${endpointHelp}

Exit codes: 0 done (for --replay: everything acknowledged), 2 usage error, 3 replay incomplete.`,
  options: { ...endpointOptions, ...catalogOption, replay: { type: 'boolean' }, 'dead-letters': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, [dir, ...rest]) {
    if (!dir || rest.length) throw new UsageError('name exactly one spool directory');
    if (!existsSync(join(dir, 'stream.json'))) throw new UsageError(`${dir} is not an otel-audit spool (no stream.json)`);
    if (values['dead-letters']) {
      const file = join(dir, 'dead-letters.ndjson');
      if (existsSync(file)) process.stdout.write(readFileSync(file, 'utf8'));
      return EXIT.ok;
    }
    if (values['replay']) {
      const timeoutMillis = millis(values['timeout'], '--timeout');
      const problems: AuditError[] = [];
      const audit = createAuditLogger({
        catalog: await loadCatalog(String(values['catalog'])),
        endpoint: resolvedEndpoint(values['endpoint'] as string | undefined),
        protocol: protocolOf(values['protocol']),
        headers: headersOf(values['header'] as string[] | undefined),
        spoolDir: dir,
        checkpoints: false,
        onError: (error) => problems.push(error),
      });
      const replayed = audit.stats().replayed;
      try {
        await audit.shutdown({ timeoutMillis });
        process.stdout.write(`replayed ${replayed} record(s); acknowledged ${audit.stats().exported}, dead-lettered ${audit.stats().deadLettered}\n`);
        return EXIT.ok;
      } catch (error) {
        process.stderr.write(`replay incomplete: ${(error as Error).message}; the rest stays in the spool\n`);
        for (const problem of problems) process.stderr.write(`  ${problem.message}\n`);
        return EXIT.failure;
      }
    }
    const inspection = inspectSpool(dir);
    if (values['json']) process.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
    else {
      process.stdout.write(
        [
          `stream ${inspection.streamId ?? '(none)'}`,
          `head: seq ${inspection.head?.seq ?? 0}, hash ${inspection.head?.hash ?? '-'}`,
          `segments: ${inspection.segments.length} (${inspection.segments.reduce((n, s) => n + s.bytes, 0)} bytes)`,
          `pending: ${inspection.pending} record(s) not yet acknowledged`,
          `damaged: ${inspection.corrupt}`,
          `dead letters: ${inspection.deadLetters}`,
        ].join('\n') + '\n',
      );
    }
    return EXIT.ok;
  },
};

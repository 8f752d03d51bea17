import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { lockDeadLetters, readDeadLetters, rewriteDeadLetters, DeadLettersLockedError } from '../delivery/dead-letters.js';
import { nodeFileSystem } from '../delivery/file-system.js';
import { createOtlpTransport } from '../delivery/otlp-http.js';
import { DEAD_LETTERS_FILE } from '../delivery/spool/format.js';
import { inspectSlot, type SlotInspection } from '../delivery/spool/inspect.js';
import { slotsOf } from '../delivery/spool/slots.js';
import { SpooledHead } from '../integrity/spooled-head.js';
import type { ExportSettings } from '../delivery/transport.js';
import { resolveExportOptions } from '../options.js';
import type { ChainHead } from '../integrity/chain.js';
import { replaySpool } from '../spool-replay.js';
import { VERSION } from '../version.js';
import { EXIT, UsageError, headersOf, type Command } from './args.js';
import { catalogOption, loadCatalog } from './catalog-option.js';
import { endpointHelp, endpointOptions, millis, protocolOf, resolvedEndpoint } from './endpoint.js';
import { progress } from './progress.js';


export const spoolCommand: Command = {
  name: 'spool',
  summary: 'inspect a spool directory, replay what is pending, export or re-send dead letters',
  usage: `otel-audit spool <dir> [options]

Without options, prints what each slot of the spool holds (one slot per writing process): stream,
chain head, segments, pending and damaged records, dead letters, and whether a process holds it.
It changes nothing.

Options:
  --replay                send what is pending in every slot no process holds now, then exit
                          (safe while the application runs: its own slots are locked)
  --dead-letters          print the dead-letter records as NDJSON (reason, error, event, record)
  --redrive               send the dead letters again, once each, in order; remove those the collector
                          accepted whole (a partial success is not); lines that cannot be read stay.
                          Holds each dead-letter file's lock meanwhile: a running application keeps
                          the records it would dead-letter queued until the redrive is done
  --json                  the inspection as JSON
${endpointHelp}

Exit codes: 0 done (for --replay and --redrive: everything acknowledged), 2 usage error,
3 incomplete (what was not acknowledged stays where it was).`,
  options: { ...endpointOptions, ...catalogOption, replay: { type: 'boolean' }, 'dead-letters': { type: 'boolean' }, redrive: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, [dir, ...rest]) {
    if (!dir || rest.length) throw new UsageError('name exactly one spool directory');
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
    const slots = slotsOf(nodeFileSystem, dir);
    if (slots.length === 0) throw new UsageError(`${dir} is not an otel-audit spool (no slot-NNNN directory)`);
    const endpoint = () => ({
      endpoint: resolvedEndpoint(values['endpoint'] as string | undefined),
      protocol: protocolOf(values['protocol']),
      headers: headersOf(values['header'] as string[] | undefined),
      timeoutMillis: millis(values['timeout'], '--timeout'),
    });
    if (values['dead-letters']) {
      for (const slot of slots) for (const { letter } of readDeadLetters(join(slot, DEAD_LETTERS_FILE)).letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
      return EXIT.ok;
    }
    if (values['redrive']) return redrive(slots, resolveExportOptions(endpoint()));
    if (values['replay']) {
      const options = endpoint();
      let complete = true;
      const replays = replaySpool(
        { catalog: await loadCatalog(String(values['catalog'])), serviceName: 'otel-audit-cli', ...options, spoolDir: dir, onError: () => undefined },
        { timeoutMillis: options.timeoutMillis },
      );
      for await (const replay of replays) {
        process.stdout.write(`${replay.slot}: replayed ${replay.replayed} record(s); acknowledged ${replay.acknowledged}, dead-lettered ${replay.deadLettered}, left ${replay.keptInSpool}\n`);
        if (replay.undelivered > 0) {
          complete = false;
          for (const problem of replay.problems) process.stderr.write(`  ${problem.message}\n`);
        }
      }
      if (!complete) process.stderr.write('replay incomplete: the rest stays in the spool\n');
      return complete ? EXIT.ok : EXIT.failure;
    }
    const inspections = slots.map((slot) => ({ ...withHead(slot), deadLetters: readDeadLetters(join(slot, DEAD_LETTERS_FILE)).letters.length }));
    if (values['json']) process.stdout.write(`${JSON.stringify(inspections, null, 2)}\n`);
    else {
      for (const inspection of inspections) {
        process.stdout.write(
          [
            `${inspection.slot}${inspection.inUse ? ' (held by a running process)' : ''}`,
            `  stream ${inspection.streamId ?? '(none)'}`,
            `  head: seq ${inspection.head?.seq ?? 0}, hash ${inspection.head?.hash ?? '-'}`,
            `  segments: ${inspection.segments.length} (${inspection.segments.reduce((n, s) => n + s.bytes, 0)} bytes)`,
            `  pending: ${inspection.pending} record(s) not yet acknowledged`,
            `  damaged: ${inspection.corrupt}`,
            `  dead letters: ${inspection.deadLetters}`,
          ].join('\n') + '\n',
        );
      }
    }
    return EXIT.ok;
  },
};

/** A slot's inspection with the chain head its segments keep (the greatest of any stream: nothing is filtered offline). */
function withHead(slot: string): SlotInspection & { head: ChainHead | undefined } {
  const head = new SpooledHead();
  const { streamId, segments, pending, corrupt, inUse } = inspectSlot(nodeFileSystem, slot, head);
  return { slot, streamId, head: head.found, segments, pending, corrupt, inUse };
}

/**
 * Sends each slot's dead letters again, one request each, in order, holding the file's lock; keeps
 * what is not acknowledged whole (still rejected, a partial success, not sent) and every line that
 * cannot be read, in the file's order.
 */
async function redrive(slots: readonly string[], settings: ExportSettings): Promise<number> {
  const transport = createOtlpTransport(settings, {
    resource: { 'service.name': 'otel-audit-cli', 'service.instance.id': randomUUID(), 'host.name': hostname() },
    scope: { name: 'otel-audit', version: VERSION },
  });
  const signal = new AbortController().signal;
  let complete = true;
  try {
    for (const slot of slots) {
      const file = join(slot, DEAD_LETTERS_FILE);
      if (!existsSync(file)) continue;
      let lock;
      try {
        lock = lockDeadLetters(file);
      } catch (error) {
        if (!(error instanceof DeadLettersLockedError)) throw error;
        process.stderr.write(`${file}: another process holds it (a redrive running?); left as it is\n`);
        complete = false;
        continue;
      }
      try {
        const { letters, damaged, lines } = readDeadLetters(file);
        if (damaged.length > 0) {
          complete = false;
          process.stderr.write(`${file}: line(s) ${damaged.join(', ')} cannot be read; kept in the file\n`);
        }
        const accepted = new Set<number>();
        const sending = progress({ label: `re-drive ${file}`, unit: 'records', total: letters.length });
        for (const [sent, { letter, bytes, line }] of letters.entries()) {
          const outcome = await transport.send([{ bytes, at: 0, header: new Uint8Array(0), ordinal: 0 }], signal);
          sending.update(sent + 1);
          if (outcome.kind === 'ack') {
            accepted.add(line);
            continue;
          }
          complete = false;
          const why = outcome.kind === 'partial' ? `partial success, ${outcome.rejected} rejected: ${outcome.message || 'no reason given'}` : `${outcome.status ? `HTTP ${outcome.status}: ` : ''}${outcome.message}`;
          sending.above(`${letter.id ?? 'a record'}: ${why}\n`, process.stderr);
          // Refused for its content (partial success, rejection): kept, the next one is tried. Anything else: stop; the rest stays.
          if (outcome.kind !== 'partial' && outcome.kind !== 'rejection') break;
        }
        sending.finish();
        if (letters.length > 0) {
          rewriteDeadLetters(file, lines.filter((text, index) => text !== '' && !accepted.has(index)));
          process.stdout.write(`${file}: ${accepted.size} of ${letters.length} dead letter(s) accepted\n`);
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    await transport.shutdown();
  }
  return complete ? EXIT.ok : EXIT.failure;
}

import { setTimeout as sleepFor } from 'node:timers/promises';
import { createAuditLogger } from '../logger.js';
import type { AuditError } from '../errors.js';
import { EXIT, UsageError, headersOf, type Command } from './args.js';
import { catalogHelp, catalogOption, loadCatalog } from './catalog-option.js';
import { endpointHelp, endpointOptions, millis, protocolOf, resolvedEndpoint } from './endpoint.js';
import { testDetails, testEventResource } from './test-event.js';

/** A pause that does not keep the process alive. */
const sleep = (millis: number) => sleepFor(millis, undefined, { ref: false });

export const emitCommand: Command = {
  name: 'emit',
  summary: 'send a test event of any catalog action to an OTLP endpoint',
  usage: `otel-audit emit <action> [options]

Sends one test event (actor: system; service.name otel-audit-emit and audit.test=true on its
resource) and waits until the collector acknowledges it, like the "send test event" button of a
streaming product. The details are the catalog's sample, with secret-looking values such as tokens
replaced, unless --details is given.

Options:
  --details <json>        the event's details
${endpointHelp}
${catalogHelp}

--timeout bounds the whole command (each attempt, the retries and the shutdown): against a
collector that is down it exits 3 within that time, naming the reason once.

Exit codes: 0 acknowledged, 2 usage error (unknown action, invalid details), 3 not delivered.`,
  options: { ...endpointOptions, ...catalogOption, details: { type: 'string' } },
  async run(values, [action, ...rest]) {
    if (!action || rest.length) throw new UsageError('name exactly one action, e.g. otel-audit emit document.create');
    const catalog = await loadCatalog(String(values['catalog']));
    const definition = catalog.actions[action];
    if (!definition) throw new UsageError(`unknown action "${action}"; otel-audit docs lists them`);
    let details: unknown = testDetails(definition.sample);
    if (typeof values['details'] === 'string') {
      try {
        details = JSON.parse(values['details']);
      } catch (error) {
        throw new UsageError(`--details is not JSON: ${(error as Error).message}`);
      }
    }
    // --timeout bounds the whole command: each attempt, the retries, and the shutdown after them.
    const timeoutMillis = millis(values['timeout'], '--timeout');
    const deadline = Date.now() + timeoutMillis;
    const endpoint = resolvedEndpoint(values['endpoint'] as string | undefined);
    const problems: AuditError[] = [];
    const audit = createAuditLogger({
      catalog,
      ...testEventResource('emit'),
      endpoint,
      protocol: protocolOf(values['protocol']),
      headers: headersOf(values['header'] as string[] | undefined),
      timeoutMillis,
      checkpoints: false,
      retry: { maxElapsedMillis: timeoutMillis },
      // Every failed attempt is reported at once: its reason is what the command prints.
      outage: { reportAfterMillis: 0 },
      onError: (error) => problems.push(error),
    });
    const failure = () => {
      const last = problems.at(-1);
      return last ? ((last.cause as Error | undefined)?.message ?? last.message) : `no answer from ${endpoint}`;
    };
    const outcome = await Promise.race([
      audit.logEventOrThrow(action as never, { actor: { type: 'system' }, details: details as never }).then(
        (id) => ({ id }),
        (error: Error) => ({ error }),
      ),
      sleep(timeoutMillis).then(() => ({ timedOut: failure() })),
    ]);
    await Promise.race([audit.shutdown({ timeoutMillis: Math.max(0, deadline - Date.now()) }), sleep(Math.max(0, deadline - Date.now()))]);
    if ('id' in outcome) {
      process.stdout.write(`acknowledged: ${action} ${outcome.id} by ${endpoint}\n`);
      return EXIT.ok;
    }
    if ('error' in outcome && outcome.error.name === 'AuditValidationError') throw new UsageError(outcome.error.message);
    // The reason once: the rejection is itself the last report.
    const reason = 'error' in outcome ? outcome.error.message : outcome.timedOut;
    process.stderr.write(`not delivered within ${timeoutMillis} ms: ${reason}\n`);
    return EXIT.failure;
  },
};

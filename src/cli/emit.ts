import { createAuditLogger } from '../logger.js';
import type { AuditError } from '../errors.js';
import { EXIT, UsageError, headersOf, type Command } from './args.js';
import { catalogHelp, catalogOption, loadCatalog } from './catalog-option.js';
import { endpointHelp, endpointOptions, millis, protocolOf, resolvedEndpoint } from './endpoint.js';
import { testDetails, testEventResource } from './test-event.js';

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
    const timeoutMillis = millis(values['timeout'], '--timeout');
    const problems: AuditError[] = [];
    const audit = createAuditLogger({
      catalog,
      ...testEventResource('emit'),
      endpoint: resolvedEndpoint(values['endpoint'] as string | undefined),
      protocol: protocolOf(values['protocol']),
      headers: headersOf(values['header'] as string[] | undefined),
      timeoutMillis,
      checkpoints: false,
      retry: { maxElapsedMillis: timeoutMillis },
      onError: (error) => problems.push(error),
    });
    try {
      const id = await audit.logEventOrThrow(action as never, { actor: { type: 'system' }, details: details as never });
      process.stdout.write(`acknowledged: ${action} ${id} by ${resolvedEndpoint(values['endpoint'] as string | undefined)}\n`);
      return EXIT.ok;
    } catch (error) {
      if ((error as Error).name === 'AuditValidationError') throw new UsageError((error as Error).message);
      process.stderr.write(`not delivered: ${(error as Error).message}\n`);
      for (const problem of problems) process.stderr.write(`  ${problem.message}\n`);
      return EXIT.failure;
    } finally {
      await audit.shutdown({ timeoutMillis: 1000 }).catch(() => undefined);
    }
  },
};

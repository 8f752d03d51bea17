import { userInfo } from 'node:os';
import { replayToDestination, ReplayTargetError } from '../admin/index.js';
import { EXIT, stringOption as str, UsageError, type Command } from './args.js';
import { progress } from './progress.js';

function time(option: string, value: string | undefined): number {
  const parsed = Date.parse(value ?? '');
  if (Number.isNaN(parsed)) throw new UsageError(`--${option} must be a date and time (ISO 8601), got "${value}"`);
  return parsed;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay archived events of a time window to one destination of otel-audit admin',
  usage: `otel-audit replay --since <time> --destination <id> --state-dir <dir> [options]

Reads the archive (the system of record) and sends the events of [since, until] to that destination
only, through its own loopback receiver in the running Collector: same id, seq and hash, so its copy
passes otel-audit verify (events at the edges may arrive twice, as identical duplicates). A site's
destination is sent that site's site-scoped events only. The replay is itself logged as an audit
event (audit_destination.replay), with you as the actor.

Options:
  --since <time>          ISO 8601, e.g. 2026-11-26T10:00:00Z
  --until <time>          default: now
  --destination <id>      the destination's id in the Admin Panel
  --state-dir <dir>       the --state-dir of otel-audit admin
  --archive <file>        default <state-dir>/archive/audit.zst (and audit.jsonl of earlier versions)
  --otlp-endpoint <h:p>   the gateway's OTLP/HTTP endpoint, for the audit event (default 127.0.0.1:4318)
  --signing-key-file <f>  the panel's --signing-key-file: signs the checkpoints around the audit event`,
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    destination: { type: 'string' },
    'state-dir': { type: 'string' },
    archive: { type: 'string' },
    'otlp-endpoint': { type: 'string' },
    'signing-key-file': { type: 'string' },
  },
  async run(values) {
    const stateDir = str(values['state-dir']);
    const id = str(values['destination']);
    if (!stateDir || !id) throw new UsageError('--state-dir and --destination are required');
    const since = time('since', str(values['since']));
    const until = values['until'] === undefined ? Date.now() : time('until', str(values['until']));
    const signingKeyFile = str(values['signing-key-file']);
    const archivePath = str(values['archive']);
    const otlpEndpoint = str(values['otlp-endpoint']);
    const user = userInfo().username;
    const sending = progress({ label: `replay to ${id}`, unit: 'records' });
    let replayed: number;
    try {
      replayed = await replayToDestination({
        stateDir,
        destination: id,
        since,
        until,
        actor: { type: 'user', user: { id: user, email: '', name: user } },
        ...(archivePath ? { archivePath } : {}),
        ...(otlpEndpoint ? { otlpEndpoint } : {}),
        ...(signingKeyFile ? { signingKeyFile } : {}),
        onProgress: (records) => sending.update(records),
      });
    } catch (error) {
      if (error instanceof ReplayTargetError) throw new UsageError(error.message);
      throw error;
    } finally {
      sending.finish();
    }
    process.stdout.write(`${replayed} event(s) replayed to ${id}\n`);
    return EXIT.ok;
  },
};

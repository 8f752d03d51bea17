// otel-audit dead-letters: what the gateway's destinations refused for good, and the re-drive.
import { existsSync } from 'node:fs';
import { inspectDeadLetters, redriveDeadLetters } from '../gateway/dead-letters.js';
import { EXIT, UsageError, type Command } from './args.js';
import { progress } from './progress.js';

export const deadLettersCommand: Command = {
  name: 'dead-letters',
  summary: "list, or hand back to the gateway, the records its destinations refused for good",
  usage: `otel-audit dead-letters <dir> [options]

<dir> is the gateway's dead-letter directory (dead_letter::directory of its lossless exporters;
gateway.yaml: $AUDIT_STORAGE_DIR/dead-letters). Without options, prints per destination how many
records it refused for good, since when, and why. It changes nothing.

Options:
  --destination <name>    only this destination (lossless/splunk, or splunk); repeatable
  --redrive               hand the records back to the gateway, which puts them in the
                          destination's queue and sends them again (fix the cause first: a record
                          refused again comes back here)
  --json                  the listing as JSON

Exit codes: 0 done, 2 usage error, 3 the directory cannot be read.`,
  options: { destination: { type: 'string', multiple: true }, redrive: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, [dir, ...rest]) {
    if (!dir || rest.length) throw new UsageError('name exactly one dead-letter directory');
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
    const wanted = (values['destination'] as string[] | undefined)?.map((name) => (name.includes('/') ? name : `lossless/${name}`));
    const reading = progress({ label: `read ${dir}`, unit: 'bytes', json: values['json'] === true });
    const all = (await inspectDeadLetters(dir, (read, total) => reading.update(read, total))).filter((letters) => !wanted || wanted.includes(letters.destination));
    reading.finish();
    if (wanted) for (const name of wanted) if (!all.some((letters) => letters.destination === name)) throw new UsageError(`no dead letters of ${name} in ${dir}`);
    if (values['redrive']) {
      const handed = all.filter((letters) => letters.records > 0).map((letters) => ({ ...letters, request: redriveDeadLetters(letters) }));
      if (values['json']) process.stdout.write(`${JSON.stringify(handed)}\n`);
      else if (handed.length === 0) process.stdout.write('nothing to re-drive\n');
      else for (const letters of handed) process.stdout.write(`${letters.destination}: ${letters.records} record(s) handed back to the gateway (${letters.request})\n`);
      return EXIT.ok;
    }
    if (values['json']) {
      process.stdout.write(`${JSON.stringify(all)}\n`);
      return EXIT.ok;
    }
    if (all.length === 0) process.stdout.write(`no dead letters in ${dir}\n`);
    for (const letters of all) {
      process.stdout.write(`${letters.destination}: ${letters.records} record(s)${letters.oldest ? `, the oldest of ${letters.oldest}` : ''}\n`);
      for (const [reason, count] of Object.entries(letters.reasons)) process.stdout.write(`  ${count} × ${reason}\n`);
      if (letters.unreadable) process.stdout.write(`  ${letters.unreadable} unreadable line(s), kept\n`);
      if (letters.pendingRedrives) process.stdout.write(`  ${letters.pendingRedrives} re-drive request(s) the gateway has not taken yet (is it running?)\n`);
    }
    return EXIT.ok;
  },
};

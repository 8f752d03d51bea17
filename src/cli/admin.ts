import { readFileSync } from 'node:fs';
import { hashPassword, hashToken, parseRoles, startAdmin } from '../admin/index.js';
import { EXIT, stringOption as str, UsageError, type Command } from './args.js';

export const adminCommand: Command = {
  name: 'admin',
  summary: 'run otelcol-audit with the Admin Panel: destinations, health, test, pause, replay',
  usage: `otel-audit admin --state-dir <dir> [options]
otel-audit admin hash-password <user> [<email>] [--owner <site>[,<site>...]]
                   (reads the password from stdin; prints a users-file line: an administrator's,
                   or with --owner the owner's of those sites, who sees and manages their destinations only)
otel-audit admin hash-token <token id> <site>
                   (reads the token's secret from stdin; prints a tokens-file line; the token is
                   then sent as Authorization: Bearer <token id>.<secret>, for that site only)

Starts otelcol-audit (collector-config/gateway.yaml plus the destinations configured in the panel)
under supervision, and the Admin Panel with its JSON API (/api/openapi.json). Changes are validated
by the Collector, applied by reload (SIGHUP) and rolled back by themselves if the Collector fails.
Runs until SIGINT or SIGTERM.

Options:
  --state-dir <dir>       everything the panel writes (revisions, secrets, config, archive, queues)
  --host <address>        the panel's address (default 127.0.0.1: loopback only)
  --port <n>              the panel's port (default 8080; 0 picks a free one)
  --otlp-endpoint <h:p>   where applications send OTLP/HTTP (default 127.0.0.1:4318)
  --trail-endpoint <url>  where the panel sends its own trail (default its gateway's; a shard of
                          sites: the gateway pool's, so that it reaches the topic)
  --archive <file>        the archive (default <state-dir>/archive/audit.zst; a state directory of an
                          earlier version keeps its archive/audit.jsonl files, read before it)
  --storage-dir <dir>     the Collector's persistent queues (default <state-dir>/queue)
  --token-file <file>     the administrator token (without it and --users-file, a one-time token is printed)
  --users-file <file>     users with scrypt-hashed passwords (lines from hash-password)
  --tokens-file <file>    site API tokens (lines from hash-token)
  --collector <path>      the otelcol-audit binary (default .collector/otelcol-audit of the package)
  --base-config <file>    the config destinations are added to (default collector-config/gateway.yaml);
                          events come in through the receivers of its logs/archive pipeline. Again
                          for each overlay, merged in order as the Collector merges --config files
                          (a shard of sites: gateway.yaml, then topologies/gateway-pool-kafka/shard.yaml);
                          the variables it reads come from this command's environment
  --trusted-proxies <n>   reverse proxies in front of the panel whose X-Forwarded-For names the client
                          and whose X-Forwarded-Proto: https makes the cookie Secure (default 0)
  --public-url <url>      the URL users reach the panel at through your TLS proxy: changes may come
                          from its origin, and an https URL makes the session cookie Secure
  --signing-key-file <f>  Ed25519 private key (PEM) signing the checkpoints of the panel's own trail`,
  options: {
    'state-dir': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'otlp-endpoint': { type: 'string' },
    'trail-endpoint': { type: 'string' },
    archive: { type: 'string' },
    'storage-dir': { type: 'string' },
    'token-file': { type: 'string' },
    'users-file': { type: 'string' },
    'tokens-file': { type: 'string' },
    owner: { type: 'string' },
    collector: { type: 'string' },
    'base-config': { type: 'string', multiple: true },
    'trusted-proxies': { type: 'string' },
    'public-url': { type: 'string' },
    'signing-key-file': { type: 'string' },
  },
  async run(values, positionals) {
    if (positionals[0] === 'hash-password') {
      const [, user, email, ...more] = positionals;
      if (!user || more.length) throw new UsageError('hash-password takes a user name and an optional email');
      const owner = str(values['owner']);
      const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (password.length < 12) throw new UsageError('the password must have at least 12 characters');
      try {
        process.stdout.write(`${hashPassword(user, password, email, owner === undefined ? { admin: true } : parseRoles(`owner=${owner}`))}\n`);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      return EXIT.ok;
    }
    if (positionals[0] === 'hash-token') {
      const [, id, site, ...more] = positionals;
      if (!id || !site || more.length) throw new UsageError('hash-token takes a token id and a site');
      const secret = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (secret.length < 32 || /\s/.test(secret)) throw new UsageError('the secret must have at least 32 characters and no spaces (openssl rand -hex 32)');
      try {
        process.stdout.write(`${hashToken(id, site, secret)}\n`);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      return EXIT.ok;
    }
    if (values['owner'] !== undefined) throw new UsageError('--owner is an option of hash-password');
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const stateDir = str(values['state-dir']);
    if (!stateDir) throw new UsageError('--state-dir is required');
    const port = Number(str(values['port']) ?? 8080);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
    const tokenFile = str(values['token-file']);
    const trustedProxies = str(values['trusted-proxies']);
    if (trustedProxies !== undefined && !/^\d{1,2}$/.test(trustedProxies)) throw new UsageError('--trusted-proxies must be a whole number of proxies');
    const admin = await startAdmin({
      stateDir,
      port,
      ...(str(values['host']) ? { host: str(values['host'])! } : {}),
      ...(str(values['otlp-endpoint']) ? { otlpEndpoint: str(values['otlp-endpoint'])! } : {}),
      ...(str(values['trail-endpoint']) ? { trailEndpoint: str(values['trail-endpoint'])! } : {}),
      ...(str(values['archive']) ? { archivePath: str(values['archive'])! } : {}),
      ...(str(values['storage-dir']) ? { storageDir: str(values['storage-dir'])! } : {}),
      ...(tokenFile ? { adminToken: readFileSync(tokenFile, 'utf8').trim() } : {}),
      ...(str(values['users-file']) ? { usersFile: str(values['users-file'])! } : {}),
      ...(str(values['tokens-file']) ? { tokensFile: str(values['tokens-file'])! } : {}),
      ...(str(values['collector']) ? { collectorBinary: str(values['collector'])! } : {}),
      ...(values['base-config'] ? { baseConfig: values['base-config'] as string[] } : {}),
      ...(trustedProxies !== undefined ? { trustedProxies: Number(trustedProxies) } : {}),
      ...(str(values['public-url']) ? { publicUrl: str(values['public-url'])! } : {}),
      ...(str(values['signing-key-file']) ? { signingKeyFile: str(values['signing-key-file'])! } : {}),
    });
    process.stdout.write(`otel-audit admin: ${admin.url}\napplications send OTLP/HTTP to ${admin.ingestEndpoint}\n`);
    if (admin.oneTimeToken) process.stdout.write(`one-time login token (valid while this process runs): ${admin.oneTimeToken}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await admin.close();
    return EXIT.ok;
  },
};

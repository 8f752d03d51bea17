import { createServer } from 'node:net';

/**
 * Every port this process handed out. The OS picks a free port at random, and a port handed out
 * earlier is free again until its listener starts (or while it is stopped for a restart), so two
 * picks could name the same port; one process never gets the same port twice.
 */
const handedOut = new Set<number>();
/** Ports the OS picks are spread over thousands; this many picks all taken means something is wrong. */
const MAX_PICKS = 100;

/**
 * A loopback port that was free a moment ago (the OS picks it), that this process did not hand out
 * before, and that is not one of `taken` (ports stored for listeners that are not running now).
 */
export async function freePort(taken: Iterable<number> = []): Promise<number> {
  const avoid = new Set(taken);
  for (let pick = 0; pick < MAX_PICKS; pick++) {
    const port = await osPickedPort();
    if (handedOut.has(port) || avoid.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port after ${MAX_PICKS} picks`);
}

function osPickedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

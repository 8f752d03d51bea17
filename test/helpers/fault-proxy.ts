// Fault stand-ins in front of real destinations (the HEC receiver, the OTLP receiver, rsyslogd):
// they pass everything through to the real daemon until told to answer a fault instead. They carry
// the wire details of a fault (a status and its body, a reset, a hang, a closed port); whether
// events arrive is always read from the real daemon's output.
import { createServer as createHttpServer, request, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** What an HTTP stand-in does with a request. */
export type HttpFault =
  | { readonly kind: 'pass' }
  /** Answers this instead of forwarding. */
  | { readonly kind: 'answer'; readonly status: number; readonly contentType?: string; readonly body?: string | Uint8Array; readonly headers?: Readonly<Record<string, string>> }
  /** Answers `answer` to a request whose (decompressed) body contains `needle`; forwards the others. */
  | { readonly kind: 'reject-containing'; readonly needle: string; readonly answer: Omit<Extract<HttpFault, { kind: 'answer' }>, 'kind'> }
  /** 413 to a request whose decompressed body is over `limit` bytes; forwards the others. */
  | { readonly kind: 'body-limit'; readonly limit: number }
  /** Resets the connection without answering. */
  | { readonly kind: 'reset' }
  /** Never answers (the request is dropped when the fault ends). */
  | { readonly kind: 'hang' }
  /** Closes the port: connections are refused. */
  | { readonly kind: 'down' };

const listen = (server: HttpServer | TcpServer, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

async function listenAgain(server: HttpServer | TcpServer, port: number): Promise<void> {
  // The port was ours a moment ago; another process may hold it briefly (TIME_WAIT does not apply to listeners).
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, port);
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

function decompressed(req: IncomingMessage, body: Buffer): Buffer {
  try {
    return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  } catch {
    return body;
  }
}

/** An HTTP stand-in: forwards to `upstream` (host:port) unless a fault is set. */
export class HttpFaultProxy {
  #fault: HttpFault = { kind: 'pass' };
  readonly #hanging = new Set<ServerResponse>();
  readonly #server: HttpServer;
  /** Requests seen, and those answered with the fault. */
  requests = 0;
  faulted = 0;

  private constructor(
    readonly port: number,
    private readonly upstream: string,
  ) {
    this.#server = createHttpServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 1000;
  }

  static async start(port: number, upstream: string): Promise<HttpFaultProxy> {
    const proxy = new HttpFaultProxy(port, upstream);
    await listen(proxy.#server, port);
    return proxy;
  }

  get fault(): HttpFault {
    return this.#fault;
  }

  async set(fault: HttpFault): Promise<void> {
    const was = this.#fault;
    this.#fault = fault;
    if (was.kind === 'hang') for (const res of this.#hanging) res.socket?.destroy();
    this.#hanging.clear();
    if (fault.kind === 'down' && was.kind !== 'down') await this.#close();
    if (was.kind === 'down' && fault.kind !== 'down') await listenAgain(this.#server, this.port);
  }

  async #close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.socket?.destroy();
    if (this.#server.listening) await this.#close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    const body = await readBody(req).catch(() => undefined);
    if (!body) return;
    const fault = this.#fault;
    const answer = (a: Omit<Extract<HttpFault, { kind: 'answer' }>, 'kind'>) => {
      this.faulted++;
      res.writeHead(a.status, { ...(a.contentType ? { 'content-type': a.contentType } : {}), ...a.headers });
      res.end(a.body ?? '');
    };
    switch (fault.kind) {
      case 'answer':
        return answer(fault);
      case 'reject-containing':
        if (decompressed(req, body).includes(fault.needle)) return answer(fault.answer);
        break;
      case 'body-limit':
        if (decompressed(req, body).length > fault.limit) return answer({ status: 413, contentType: 'text/html', body: '<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>' });
        break;
      case 'reset':
        this.faulted++;
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        this.faulted++;
        this.#hanging.add(res);
        return;
      case 'down':
        // A request accepted just before the port closed.
        req.socket.resetAndDestroy();
        return;
      case 'pass':
        break;
    }
    this.#forward(req, body, res);
  }

  #forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const [host, port] = this.upstream.split(':');
    const out = request({ host, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: this.upstream } }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    out.on('error', () => res.socket?.resetAndDestroy());
    out.end(body);
  }
}

/** What a TCP stand-in (syslog) does. */
export type TcpFault = 'pass' | 'reset' | 'hang' | 'down';

/** A TCP stand-in: pipes each connection to `upstream` (host:port) unless a fault is set. */
export class TcpFaultProxy {
  #fault: TcpFault = 'pass';
  readonly #server: TcpServer;
  readonly #clients = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly upstream: string,
  ) {
    this.#server = createTcpServer((client) => this.#connection(client));
  }

  static async start(port: number, upstream: string): Promise<TcpFaultProxy> {
    const proxy = new TcpFaultProxy(port, upstream);
    await listen(proxy.#server, port);
    return proxy;
  }

  get fault(): TcpFault {
    return this.#fault;
  }

  async set(fault: TcpFault): Promise<void> {
    const was = this.#fault;
    this.#fault = fault;
    if (fault === 'hang') for (const client of this.#clients) client.pause();
    if (was === 'hang') for (const client of this.#clients) client.resume();
    if (fault === 'reset') for (const client of this.#clients) client.resetAndDestroy();
    if (fault === 'down' && was !== 'down') {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const client of this.#clients) client.resetAndDestroy();
      await closed;
    }
    if (was === 'down' && fault !== 'down') await listenAgain(this.#server, this.port);
  }

  async stop(): Promise<void> {
    for (const client of this.#clients) client.destroy();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #connection(client: Socket): void {
    if (this.#fault === 'reset' || this.#fault === 'down') {
      client.resetAndDestroy();
      return;
    }
    this.#clients.add(client);
    const [host, port] = this.upstream.split(':');
    const upstream = connect(Number(port), host!);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      this.#clients.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    client.on('error', end);
    upstream.on('close', end);
    upstream.on('error', end);
    if (this.#fault === 'hang') client.pause();
  }
}

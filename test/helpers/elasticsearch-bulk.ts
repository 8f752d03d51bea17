// Elasticsearch's bulk API, as far as the `elasticsearch` exporter uses it: the documents it indexes
// are kept as they arrived on the wire. The product header is what the exporter's Go client checks
// before it trusts a reply. It stands in for Elasticsearch, which this machine cannot run; the
// pipelines in front of it are the real Collector's.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type ElasticsearchDocument = Record<string, unknown>;

export interface ElasticsearchBulkEndpoint {
  /** Every document indexed so far, in arrival order. */
  readonly documents: ElasticsearchDocument[];
  /**
   * While set, a document (its JSON line) for which it returns true is refused as its mapping would
   * refuse it: its bulk item answers 400 `document_parsing_exception`, the others are indexed.
   */
  rejecting: ((document: string) => boolean) | undefined;
  close(): Promise<void>;
}

export function startElasticsearchBulkEndpoint(port: number, documents: ElasticsearchDocument[] = []): Promise<ElasticsearchBulkEndpoint> {
  const endpoint = { documents, rejecting: undefined as ((document: string) => boolean) | undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.setHeader('X-Elastic-Product', 'Elasticsearch');
      response.setHeader('content-type', 'application/json');
      if (!request.url?.startsWith('/_bulk')) return response.end('{}');
      const raw = Buffer.concat(chunks);
      const lines = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter(Boolean);
      const items: Record<string, unknown>[] = [];
      let errors = false;
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const [operation] = Object.keys(JSON.parse(lines[i]!) as ElasticsearchDocument);
        if (endpoint.rejecting?.(lines[i + 1]!)) {
          errors = true;
          items.push({ [operation!]: { _index: 'audit-events', status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse field [audit] of type [keyword]' } } });
          continue;
        }
        documents.push(JSON.parse(lines[i + 1]!) as ElasticsearchDocument);
        items.push({ [operation!]: { _index: 'audit-events', status: 201 } });
      }
      response.end(JSON.stringify({ errors, items }));
    });
  });
  return listen(server, port).then(() => Object.assign(endpoint, { close: () => closeNow(server) }));
}

/** The audit event ids of ECS documents (`event.id`). */
export function documentEventIds(documents: readonly ElasticsearchDocument[]): string[] {
  return documents.map((document) => (document['event'] as { id: string }).id);
}

/** Elasticsearch while it starts: every request answered 503 (unavailable shards), as a node does before its shards are allocated. */
export function startUnavailableElasticsearch(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(503, { 'X-Elastic-Product': 'Elasticsearch', 'content-type': 'application/json' });
      response.end('{"error":{"type":"unavailable_shards_exception"},"status":503}');
    });
  });
  return listen(server, port).then(() => server);
}

/** Listens on loopback `port`; rejects if it is taken. */
function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops listening and ends every connection, idle or not: an exporter retrying on a kept-alive
 * connection would otherwise hold the close open.
 */
export function closeNow(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// Elasticsearch's bulk API, as far as the `elasticsearch` exporter uses it: the documents it indexes
// are kept as they arrived on the wire, one per document id (a `create` of an id already indexed is
// answered 409, as Elasticsearch answers a document sent again). The product header is what the exporter's Go client checks
// before it trusts a reply. It stands in for Elasticsearch, which this machine cannot run; the
// pipelines in front of it are the real Collector's.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type ElasticsearchDocument = Record<string, unknown>;

export interface ElasticsearchBulkEndpoint {
  /** Every document indexed so far, in arrival order (one per id). */
  readonly documents: ElasticsearchDocument[];
  /**
   * While set, a document (its JSON line) for which it returns true is refused as its mapping would
   * refuse it: its bulk item answers 400 `document_parsing_exception`, the others are indexed.
   */
  rejecting: ((document: string) => boolean) | undefined;
  readonly port: number;
  close(): Promise<void>;
}

export function startElasticsearchBulkEndpoint(port: number, documents: ElasticsearchDocument[] = []): Promise<ElasticsearchBulkEndpoint> {
  const endpoint = { documents, rejecting: undefined as ((document: string) => boolean) | undefined };
  /** Where each document id's document is in `documents`. */
  const positions = new Map<string, number>();
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
        const action = JSON.parse(lines[i]!) as Record<string, { _id?: string }>;
        const [operation] = Object.keys(action);
        const id = action[operation!]?._id;
        if (endpoint.rejecting?.(lines[i + 1]!)) {
          errors = true;
          items.push({ [operation!]: { _index: 'audit-events', status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse field [audit] of type [keyword]' } } });
          continue;
        }
        // A document id is indexed once: `create` of an id that exists is a conflict, `index` replaces it.
        const existing = id === undefined ? undefined : positions.get(id);
        if (existing !== undefined && operation === 'create') {
          errors = true;
          items.push({ create: { _index: 'audit-events', _id: id, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])` } } });
          continue;
        }
        const document = JSON.parse(lines[i + 1]!) as ElasticsearchDocument;
        if (existing !== undefined) documents[existing] = document;
        else {
          if (id !== undefined) positions.set(id, documents.length);
          documents.push(document);
        }
        items.push({ [operation!]: { _index: 'audit-events', ...(id === undefined ? {} : { _id: id }), status: 201 } });
      }
      response.end(JSON.stringify({ errors, items }));
    });
  });
  return listen(server, port).then(() => Object.assign(endpoint, { port, close: () => closeNow(server) }));
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

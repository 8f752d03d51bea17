// The API's OpenAPI 3.1 document (served at /api/openapi.json). test/admin/api.test.ts checks
// that every route it lists refuses a request without a session.
import { DESTINATION_TYPES, PII_POLICIES } from './destinations.js';

const error = { $ref: '#/components/responses/Error' };
const ifMatch = { name: 'If-Match', in: 'header', required: true, description: 'The revision the change is based on; a stale one gets 409.', schema: { type: 'string' } };
const csrf = { name: 'X-CSRF-Token', in: 'header', required: false, description: 'With a session: its csrfToken (from login or GET /api/session). Not with a bearer token.', schema: { type: 'string' } };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const n = { name: 'n', in: 'path', required: true, schema: { type: 'integer' } };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, ...json(schema) });
const change = (summary: string, extra: object = {}) => ({ summary, parameters: [ifMatch, csrf], responses: { 200: ok('Applied: the Collector runs the new revision.'), 400: error, 401: error, 403: error, 409: error, 422: error, 428: error }, ...extra });

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'otel-audit admin',
      version: '1',
      description:
        "Streaming destinations of audit events: configure, apply to the otelcol-audit gateway, watch, test, pause, replay. Installation administrators manage every destination; a site's owners (a session) and its API tokens (Authorization: Bearer <token id>.<secret>) manage that site's destinations only: any other destination, and any revision that did not change theirs, answers 404; the routes of the whole installation (rollback) answer 403.",
    },
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'otel_audit_admin' }, siteToken: { type: 'http', scheme: 'bearer', description: "A site's API token: <token id>.<secret> (otel-audit admin hash-token)." } },
      responses: { Error: ok('An error; `field` names what was wrong.', { type: 'object', properties: { error: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['message'] } } }) },
      schemas: {
        Destination: {
          type: 'object',
          required: ['id', 'name', 'type'],
          properties: {
            id: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'Unique in the installation (it names Collector components).' },
            site: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: "The site whose events it receives (audit.site.id, site-scoped events only); absent: the installation's. Set at create, never changed; a site's owner or token gets its own site by default." },
            name: { type: 'string' },
            type: { enum: [...DESTINATION_TYPES] },
            enabled: { type: 'boolean', default: true },
            paused: { type: 'boolean', default: false },
            filter: { type: 'object', properties: { include: { type: 'array', items: { type: 'string' } }, exclude: { type: 'array', items: { type: 'string' } } } },
            pii: { enum: [...PII_POLICIES], default: 'none' },
            format: { type: 'string', default: 'canonical', description: 'canonical, or a fragment of collector-config/formats/ (see GET /api/destinations: formats).' },
            url: { type: 'string', description: 'splunk_hec, elasticsearch: https unless allowInsecure.' },
            endpoint: { type: 'string', description: 'otlp_http: the logs URL.' },
            host: { type: 'string' },
            port: { type: 'integer' },
            tls: { type: 'boolean' },
            brokers: { type: 'array', items: { type: 'string' } },
            topic: { type: 'string' },
            index: { type: 'string', description: 'splunk_hec: the index.' },
            namespace: { type: 'string', default: 'default', description: 'elasticsearch: the data stream namespace (Elastic writes to logs-<dataset>-<namespace>).' },
            sourcetype: { type: 'string' },
            source: { type: 'string' },
            verifyTls: { type: 'boolean' },
            allowInsecure: { type: 'boolean' },
            token: { type: 'string', writeOnly: true },
            apiKey: { type: 'string', writeOnly: true },
            headers: { type: 'object', additionalProperties: { type: 'string' }, writeOnly: true },
            secrets: { type: 'object', readOnly: true, additionalProperties: { type: 'boolean' }, description: 'Which secrets are set; their values are never returned.' },
          },
        },
      },
    },
    security: [{ session: [] }, { siteToken: [] }],
    paths: {
      '/api/login': { post: { summary: 'Log in with the administrator token or a user and password (rate-limited).', security: [], requestBody: json({ type: 'object', properties: { token: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' } } }), responses: { 200: ok('Session cookie set; the body has csrfToken.'), 401: error, 429: error } } },
      '/api/logout': { post: { summary: 'Ends the session.', parameters: [csrf], responses: { 200: ok('Logged out.'), 401: error } } },
      '/api/session': { get: { summary: 'Who is logged in: user, admin (true for installation administrators), sites (an owner\'s or a token\'s), and with a session its csrfToken.', responses: { 200: ok('The session.'), 401: error } } },
      '/api/openapi.json': { get: { summary: 'This document.', responses: { 200: ok('OpenAPI 3.1.') } } },
      '/api/destinations': {
        get: { summary: 'The current revision, the formats, the archive and every destination with its health.', responses: { 200: ok('Destinations.'), 401: error } },
        post: change('Adds a destination; `backfillSince` (ISO time) replays archived events since then to it.', { requestBody: json({ $ref: '#/components/schemas/Destination' }), responses: { 201: ok('Created and applied.'), 400: error, 401: error, 403: error, 409: error, 422: error, 428: error } }),
      },
      '/api/destinations/{id}': {
        parameters: [id],
        get: { summary: 'One destination and its health.', responses: { 200: ok('The destination.'), 401: error, 404: error } },
        put: change('Changes a destination; omitted fields (and secrets) keep their values.', { requestBody: json({ $ref: '#/components/schemas/Destination' }) }),
        delete: change('Removes a destination; the response says how many queued events were abandoned.'),
      },
      '/api/destinations/{id}/pause': { parameters: [id], post: change('Pauses: nothing new reaches it; the archive keeps everything.') },
      '/api/destinations/{id}/resume': { parameters: [id], post: change('Resumes, and replays the gap from the archive to it only.') },
      '/api/destinations/{id}/dead-letters': { parameters: [id], get: { summary: 'What the destination refused for good, kept by the gateway: the count, the oldest, the reasons (never the events).', responses: { 200: ok('Dead letters.'), 401: error, 404: error } } },
      '/api/destinations/{id}/dead-letters/redrive': { parameters: [id], post: { summary: 'Hands the dead letters back to the gateway, which sends them again (fix the cause first: a record refused again comes back).', parameters: [csrf], responses: { 200: ok('How many were handed back.'), 401: error, 403: error, 404: error } } },
      '/api/destinations/{id}/test': { parameters: [id], post: { summary: 'Sends one test event (otel_audit.test=true) to it only; delivered: its sent counter moved.', parameters: [csrf], responses: { 200: ok('Result.'), 400: error, 401: error, 403: error } } },
      '/api/destinations/{id}/replay': {
        parameters: [id],
        post: { summary: 'Replays archived events of [since, until] to it only (same id, seq, hash).', parameters: [csrf], requestBody: json({ type: 'object', required: ['since'], properties: { since: { type: 'string' }, until: { type: 'string' } } }), responses: { 200: ok('How many were replayed.'), 400: error, 401: error, 403: error } },
      },
      '/api/revisions': { get: { summary: 'Every revision: who, when, what, applied or rejected (and why).', responses: { 200: ok('Revisions.'), 401: error } } },
      '/api/revisions/{n}': { parameters: [n], get: { summary: 'One revision with its rendered config and the diff from the revision before.', responses: { 200: ok('The revision.'), 401: error, 404: error } } },
      '/api/revisions/{n}/rollback': { parameters: [n], post: change('Applies an earlier revision again (as a new revision). Installation administrators only.') },
    },
  };
}

// A logged-in API client for the admin tests.
import { startAdmin, type AdminOptions, type RunningAdmin } from '../../src/admin/app.js';
import { freePort, tempDir } from './processes.js';
import { readTrail, type TrailRecord } from '../../src/integrity/trail.js';

export interface Client {
  readonly cookie: string;
  readonly csrf: string;
  revision(): Promise<number>;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, any>; text: string; headers: Headers }>;
  /** A change with the current revision and the CSRF token. */
  change(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any>; text: string; headers: Headers }>;
}

export async function request(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    // the page, not JSON
  }
  return { status: response.status, body: json, text, headers: response.headers };
}

export async function login(url: string, credentials: Record<string, string>): Promise<Client> {
  const response = await request(url, 'POST', '/api/login', credentials);
  if (response.status !== 200) throw new Error(`login: ${response.status} ${response.text}`);
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const csrf = response.body['csrfToken'] as string;
  const client: Client = {
    cookie,
    csrf,
    revision: async () => (await client.call('GET', '/api/destinations')).body['revision'] as number,
    call: (method, path, body, headers = {}) => request(url, method, path, body, { cookie, ...headers }),
    change: async (method, path, body) => client.call(method, path, body, { 'x-csrf-token': csrf, 'if-match': String(await client.revision()) }),
  };
  return client;
}

export async function startTestAdmin(options: Partial<AdminOptions> = {}): Promise<RunningAdmin & { dir: string; token: string }> {
  const dir = tempDir('admin');
  const token = 'test-admin-token-0123456789';
  const admin = await startAdmin({ stateDir: `${dir}/state`, otlpEndpoint: `127.0.0.1:${await freePort()}`, adminToken: token, sampleIntervalMillis: 500, ...options });
  return Object.assign(admin, { dir, token });
}

/** Every record in the panel's archive, its older files first. */
export function archived(admin: RunningAdmin): TrailRecord[] {
  return admin.control.archive.files().flatMap((file) => readTrail(file));
}

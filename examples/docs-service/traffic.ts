// Scripted traffic against the example service that triggers every action of the catalog once
// (workspace.create twice). Used by the demo (`npm start`) and by the example's test.

export interface Step {
  /** The action the step should log, or undefined for set-up calls (login, sign-up). */
  readonly action?: string;
  readonly method: string;
  readonly path: (state: State) => string;
  readonly body?: (state: State) => unknown;
  readonly keep?: (state: State, response: Record<string, unknown>) => void;
}

export interface State {
  cookie?: string;
  site?: number;
  workspace?: number;
  otherWorkspace?: number;
  doc?: string;
  fork?: string;
  webhook?: string;
  config?: number;
  otherUser?: number;
}

const r = (value: unknown) => value as Record<string, Record<string, unknown>>;

export const steps: readonly Step[] = [
  { method: 'POST', path: () => '/login', body: () => ({ email: 'flapjack@example.com' }) },
  { action: 'site.create', method: 'POST', path: () => '/sites', body: () => ({ name: 'Grist Labs', domain: 'gristlabs' }), keep: (s, res) => (s.site = r(res)['site']!['id'] as number) },
  { action: 'site.rename', method: 'PATCH', path: (s) => `/sites/${s.site}`, body: () => ({ name: 'ACME Unlimited', domain: 'acme' }) },
  { action: 'site.change_access', method: 'PATCH', path: (s) => `/sites/${s.site}/access`, body: () => ({ users: [{ id: 146, access: 'owners' }] }) },
  { action: 'workspace.create', method: 'POST', path: (s) => `/sites/${s.site}/workspaces`, body: () => ({ name: 'Secret Plans' }), keep: (s, res) => (s.workspace = r(res)['workspace']!['id'] as number) },
  { action: 'workspace.create', method: 'POST', path: (s) => `/sites/${s.site}/workspaces`, body: () => ({ name: 'Not So Secret Plans' }), keep: (s, res) => (s.otherWorkspace = r(res)['workspace']!['id'] as number) },
  { action: 'workspace.rename', method: 'PATCH', path: (s) => `/workspaces/${s.workspace}`, body: () => ({ name: 'Retreat Docs' }) },
  { action: 'workspace.change_access', method: 'PATCH', path: (s) => `/workspaces/${s.workspace}/access`, body: () => ({ max_inherited_access: 'editors', users: [{ id: 146, access: 'editors' }] }) },
  { action: 'document.create', method: 'POST', path: (s) => `/workspaces/${s.workspace}/docs`, body: () => ({ name: 'Project Lollipop' }), keep: (s, res) => (s.doc = r(res)['document']!['id'] as string) },
  { action: 'document.open', method: 'GET', path: (s) => `/docs/${s.doc}` },
  { action: 'document.rename', method: 'PATCH', path: (s) => `/docs/${s.doc}`, body: () => ({ name: 'Competitive Analysis' }) },
  { action: 'document.move', method: 'POST', path: (s) => `/docs/${s.doc}/move`, body: (s) => ({ workspaceId: s.otherWorkspace }) },
  { action: 'document.change_access', method: 'PATCH', path: (s) => `/docs/${s.doc}/access`, body: () => ({ public_access: 'viewers', max_inherited_access: null, users: [{ id: 146, access: 'owners' }] }) },
  { action: 'document.modify', method: 'POST', path: (s) => `/docs/${s.doc}/apply`, body: () => ({ actions: [['AddRecord', 'Pets', null, { name: 'Rex' }]] }) },
  { action: 'document.duplicate', method: 'POST', path: (s) => `/docs/${s.doc}/copy`, body: (s) => ({ name: 'Competitive Analysis V2', workspaceId: s.workspace, asTemplate: false }) },
  { action: 'document.fork', method: 'POST', path: (s) => `/docs/${s.doc}/fork`, keep: (s, res) => (s.fork = r(res)['fork']!['document_id'] as string) },
  { action: 'document.replace', method: 'POST', path: (s) => `/docs/${s.doc}/replace`, body: (s) => ({ forkDocumentId: s.fork }) },
  { action: 'document.reload', method: 'POST', path: (s) => `/docs/${s.doc}/reload` },
  { action: 'document.pin', method: 'POST', path: (s) => `/docs/${s.doc}/pin` },
  { action: 'document.unpin', method: 'POST', path: (s) => `/docs/${s.doc}/unpin` },
  { action: 'document.disable', method: 'POST', path: (s) => `/docs/${s.doc}/disable` },
  { action: 'document.enable', method: 'POST', path: (s) => `/docs/${s.doc}/enable` },
  { action: 'document.run_sql_query', method: 'POST', path: (s) => `/docs/${s.doc}/sql`, body: () => ({ sql: 'SELECT * FROM Pets WHERE popularity >= ?', args: [50], timeout: 500 }) },
  { action: 'document.send_to_google_drive', method: 'POST', path: (s) => `/docs/${s.doc}/send-to-drive` },
  { action: 'document.truncate_history', method: 'POST', path: (s) => `/docs/${s.doc}/truncate-history`, body: () => ({ keep: 3 }) },
  { method: 'POST', path: (s) => `/docs/${s.doc}/webhooks`, body: () => ({ url: 'https://example.com/hook' }), keep: (s, res) => (s.webhook = r(res)['webhook']!['id'] as string) },
  { action: 'document.deliver_webhook_events', method: 'POST', path: (s) => `/docs/${s.doc}/webhooks/${s.webhook}/deliver`, body: () => ({ host: 'example.com' }) },
  { action: 'document.clear_webhook_queue', method: 'DELETE', path: (s) => `/docs/${s.doc}/webhooks/${s.webhook}/queue` },
  { action: 'document.clear_all_webhook_queues', method: 'DELETE', path: (s) => `/docs/${s.doc}/webhooks/queue` },
  { action: 'document.move_to_trash', method: 'POST', path: (s) => `/docs/${s.doc}/trash` },
  { action: 'document.restore_from_trash', method: 'POST', path: (s) => `/docs/${s.doc}/restore` },
  { action: 'document.delete', method: 'DELETE', path: (s) => `/docs/${s.doc}` },
  { action: 'workspace.move_to_trash', method: 'POST', path: (s) => `/workspaces/${s.workspace}/trash` },
  { action: 'workspace.restore_from_trash', method: 'POST', path: (s) => `/workspaces/${s.workspace}/restore` },
  { action: 'workspace.delete', method: 'DELETE', path: (s) => `/workspaces/${s.workspace}` },
  {
    action: 'config.create',
    method: 'POST',
    path: () => '/configs',
    body: (s) => ({ key: 'audit_log_streaming_destinations', value: [{ id: 'ee6971af-80f5-4654-9bd2-5c6ab33e7ccf', name: 'splunk', url: 'https://hec.example.com:8088/services/collector/event' }], siteId: s.site }),
    keep: (s, res) => (s.config = r(res)['config']!['id'] as number),
  },
  { action: 'config.update', method: 'PATCH', path: (s) => `/configs/${s.config}`, body: () => ({ value: [] }) },
  { action: 'config.delete', method: 'DELETE', path: (s) => `/configs/${s.config}` },
  { action: 'user.create_api_key', method: 'POST', path: () => '/users/me/api-key' },
  { action: 'user.delete_api_key', method: 'DELETE', path: () => '/users/me/api-key' },
  { action: 'user.change_name', method: 'PATCH', path: () => '/users/me', body: () => ({ name: 'Flapjack Waffleflap' }) },
  { method: 'POST', path: () => '/users', body: () => ({ name: 'Kiwi Ketchup', email: 'kiwi@example.com' }), keep: (s, res) => (s.otherUser = r(res)['user']!['id'] as number) },
  { action: 'user.delete', method: 'DELETE', path: (s) => `/users/${s.otherUser}` },
  { action: 'site.delete', method: 'DELETE', path: (s) => `/sites/${s.site}` },
];

/** Runs every step against `baseUrl`; returns the event id of each step that logged one. */
export async function driveAllActions(baseUrl: string, onStep?: (done: number, total: number) => void): Promise<{ action: string; id: string }[]> {
  const state: State = {};
  const events: { action: string; id: string }[] = [];
  for (const [index, step] of steps.entries()) {
    const body = step.body?.(state);
    const response = await fetch(`${baseUrl}${step.path(state)}`, {
      method: step.method,
      headers: { 'content-type': 'application/json', 'user-agent': 'otel-audit-demo/1.0', ...(state.cookie ? { cookie: state.cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${step.method} ${step.path(state)}: HTTP ${response.status} ${await response.text()}`);
    const cookie = response.headers.get('set-cookie');
    if (cookie) state.cookie = cookie.split(';')[0];
    step.keep?.(state, (await response.json()) as Record<string, unknown>);
    if (step.action) {
      const id = response.headers.get('x-audit-event-id');
      if (!id) throw new Error(`${step.action}: no x-audit-event-id in the response`);
      events.push({ action: step.action, id });
    }
    onStep?.(index + 1, steps.length);
  }
  return events;
}

// @ts-check
// The Admin Panel page's script, served as it is at /admin.js (a module: page.ts loads it with
// <script type="module">). Plain JavaScript, so that the same file runs from the repository (under
// tsx, with no build) and from the installed package (tsc copies it into dist/ with allowJs);
// type-checked by the project's tsconfig (checkJs) against the types the server answers with.
// Secrets are never sent to the page: their inputs stay empty with a masked placeholder when one
// is set. An administrator sees every destination grouped by site (the installation's first, with
// the archive); a site's owner sees their sites' destinations, and the form's site is theirs.

/** @typedef {import('./destinations.js').Destination} Destination */
/** @typedef {import('./health.js').DestinationHealth} DestinationHealth */
/** @typedef {import('./state.js').Revision} Revision */
/** @typedef {{ user: string, admin: boolean, sites: string[], csrfToken?: string }} Session */
/** @typedef {{ records: number, reasons: Record<string, number> }} DeadLetters */
/** @typedef {Destination & { health: DestinationHealth, deadLetters?: DeadLetters }} DestinationView */
/** @typedef {{ id: string, name: string, type: 'archive', health: DestinationHealth }} ArchiveView */
/** @typedef {{ revision: number, formats: string[], archive?: ArchiveView, destinations: DestinationView[] }} DestinationsAnswer */
/** @typedef {Omit<Revision, 'config' | 'destinations'>} RevisionSummary */
/** @typedef {'test' | 'pause' | 'resume' | 'delete' | 'redrive'} DestinationAction */

let csrf = '';
let revision = 0;
/** Who is logged in. @type {Session} */
let me = { user: '', admin: false, sites: [] };

/**
 * The element with this id, of this kind (an element the page needs and does not have is a bug).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T }} [kind]
 * @returns {T}
 */
function $(id, kind) {
  const element = document.getElementById(id);
  if (!(element instanceof (kind ?? HTMLElement))) throw new Error(`#${id}: no such ${kind ? kind.name : 'element'} on the page`);
  return /** @type {T} */ (element);
}
const input = (/** @type {string} */ id) => $(id, HTMLInputElement);
const select = (/** @type {string} */ id) => $(id, HTMLSelectElement);
const button = (/** @type {string} */ id) => $(id, HTMLButtonElement);

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Partial<HTMLElementTagNameMap[K]>} [props]
 * @param {...(Node | string)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** @param {string} text @param {boolean} good */
function banner(text, good) { const b = $('banner'); b.textContent = text; b.className = text ? (good ? 'good' : 'bad') : ''; }

/**
 * A call of the JSON API; an answer that is not a success throws its message.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (method !== 'GET') { headers['x-csrf-token'] = csrf; headers['if-match'] = String(revision); }
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== '/api/login') { showLogin(); throw new Error('login required'); }
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

function showLogin() { $('login').hidden = false; $('app').hidden = true; $('who').textContent = ''; }

async function start() {
  try {
    /** @type {Session} */
    const session = await api('GET', '/api/session');
    csrf = session.csrfToken ?? ''; $('who').textContent = session.user + (session.admin ? '' : ' (sites: ' + session.sites.join(', ') + ')');
    me = session;
    // An administrator types any site (or none: the installation); an owner picks one of theirs.
    input('f-site').hidden = !me.admin; select('f-site-owned').hidden = me.admin;
    select('f-site-owned').replaceChildren(...me.sites.map((site) => el('option', { value: site, textContent: site })));
    $('login').hidden = true; $('app').hidden = false;
    await refresh();
  } catch { showLogin(); }
}

/** @param {DestinationHealth['history']} history */
function chart(history) {
  const w = 120, h = 24, points = history.slice(-60);
  const max = Math.max(1, ...points.map((p) => p.sent + p.queued));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'chart'); svg.setAttribute('width', String(w)); svg.setAttribute('height', String(h));
  /** @param {'sent' | 'queued'} key @param {string} color */
  const line = (key, color) => {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    p.setAttribute('points', points.map((pt, i) => (i * w / Math.max(1, points.length - 1)).toFixed(1) + ',' + (h - 1 - pt[key] * (h - 2) / max).toFixed(1)).join(' '));
    p.setAttribute('fill', 'none'); p.setAttribute('stroke', color); svg.append(p);
  };
  line('sent', '#17692a'); line('queued', '#b7791f');
  return svg;
}

/** @param {DestinationView | ArchiveView} d */
function row(d) {
  const h = d.health;
  const refusing = h.refusingSince ? 'refusing since ' + h.refusingSince + (h.lastError ? ': ' : '') : '';
  const letters = 'deadLetters' in d ? d.deadLetters : undefined;
  const dead = el('span', { className: letters && letters.records ? 'error' : '' });
  if (letters && letters.records) {
    dead.title = Object.entries(letters.reasons).map(([reason, count]) => count + ' × ' + reason).join('\n');
    dead.append(String(letters.records), ' ', el('button', { textContent: 'Re-drive', title: 'Send them again (fix the cause first)', onclick: () => act('redrive', d) }));
  }
  const cells = [d.name, d.type, el('span', { className: 'status ' + h.status, textContent: h.status }), String(h.sent), String(h.failed), String(h.queued), chart(h.history),
    el('span', { className: 'error', textContent: refusing + (h.lastError ? h.lastError.message : '') }), dead];
  const actions = el('td');
  if (d.type !== 'archive') {
    /** @param {string} label @param {DestinationAction} action */
    const actionButton = (label, action) => el('button', { textContent: label, onclick: () => act(action, d) });
    actions.append(actionButton('Test', 'test'), ' ', el('button', { textContent: 'Edit', onclick: () => edit(d) }), ' ', d.paused ? actionButton('Resume', 'resume') : actionButton('Pause', 'pause'), ' ', actionButton('Delete', 'delete'));
  }
  const tr = el('tr', { id: 'dest-' + d.id });
  tr.dataset['status'] = h.status;
  tr.append(...cells.map((c) => el('td', {}, c)), actions);
  return tr;
}

async function refresh() {
  /** @type {DestinationsAnswer} */
  const data = await api('GET', '/api/destinations');
  revision = data.revision;
  $('revision').textContent = '(revision ' + data.revision + ')';
  // Grouped by site: the installation's first (with the archive), then each site's.
  /** @type {Map<string, DestinationView[]>} */
  const groups = new Map(me.admin ? [['', []]] : []);
  for (const d of data.destinations) { const key = d.site ?? ''; if (!groups.has(key)) groups.set(key, []); groups.get(key)?.push(d); }
  const order = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  $('destinations').replaceChildren(...order.flatMap((key) => {
    const header = el('tr', { id: 'group-' + (key || 'installation'), className: 'group' }, el('td', { colSpan: 10, textContent: key ? 'Site ' + key : 'Installation' }));
    return [header, ...(key === '' && data.archive ? [row(data.archive)] : []), ...(groups.get(key) ?? []).map((d) => row(d))];
  }));
  const format = select('f-format');
  if (format.options.length !== data.formats.length) format.replaceChildren(...data.formats.map((f) => el('option', { value: f, textContent: f })));
  /** @type {{ current: number, revisions: RevisionSummary[] }} */
  const revs = await api('GET', '/api/revisions');
  $('revisions').replaceChildren(...revs.revisions.slice(0, 10).map((r) => {
    const tr = el('tr');
    const show = el('button', { textContent: 'Diff', onclick: async () => { $('diff').textContent = (await api('GET', '/api/revisions/' + r.revision)).diff; } });
    const back = el('button', { textContent: 'Roll back to this', onclick: () => act('rollback', r) });
    tr.append(el('td', { textContent: String(r.revision) }), el('td', { textContent: r.at }), el('td', { textContent: r.author }), el('td', { textContent: r.change }),
      el('td', { className: r.status === 'applied' ? '' : 'error', textContent: r.status + (r.error ? ': ' + r.error : '') + (r.applyMillis ? ' (' + r.applyMillis + ' ms' + (r.appliedBy === 'restart' ? ', by a restart' : '') + ')' : '') }),
      el('td', {}, show, ' ', me.admin && r.status === 'applied' && r.revision !== revs.current ? back : ''));
    return tr;
  }));
}

/**
 * @overload
 * @param {'rollback'} action
 * @param {RevisionSummary} target
 * @returns {Promise<void>}
 */
/**
 * @overload
 * @param {DestinationAction} action
 * @param {DestinationView | ArchiveView} target
 * @returns {Promise<void>}
 */
/**
 * @param {'rollback' | DestinationAction} action
 * @param {any} target
 */
async function act(action, target) {
  try {
    banner('', true);
    if (action === 'rollback') { await api('POST', '/api/revisions/' + target.revision + '/rollback'); banner('Rolled back to revision ' + target.revision, true); }
    else if (action === 'delete') { if (!confirm('Delete ' + target.name + '?')) return; const r = await api('DELETE', '/api/destinations/' + target.id); banner('Deleted ' + target.name + (r.abandonedQueuedEvents ? ' (' + r.abandonedQueuedEvents + ' queued events abandoned)' : ''), true); }
    else if (action === 'redrive') { const r = await api('POST', '/api/destinations/' + target.id + '/dead-letters/redrive'); banner(r.redriven + ' dead letter(s) of ' + target.name + ' handed back to the gateway', true); }
    else if (action === 'test') { const r = await api('POST', '/api/destinations/' + target.id + '/test'); banner(r.delivered ? 'Test event delivered to ' + target.name : 'Test event NOT confirmed by ' + target.name + ' (see its last error)', r.delivered); }
    else { const r = await api('POST', '/api/destinations/' + target.id + '/' + action); banner(target.name + ': ' + action + 'd' + (r.replayed !== undefined ? ', ' + r.replayed + ' events replayed from the archive' : ''), true); }
  } catch (error) { banner(/** @type {Error} */ (error).message, false); }
  await refresh().catch(() => undefined);
}

// Editing: the form shows the destination's settings; a secret that is set is never sent to the page,
// its field stays empty with a masked placeholder, and left empty it keeps its value.
/** @type {string | null} */
let editing = null;
const SECRETS = ['token', 'headers', 'apiKey'];
/** @param {DestinationView} d */
function edit(d) {
  const form = $('add-form', HTMLFormElement);
  form.reset();
  editing = d.id;
  $('form-title').textContent = 'Edit ' + d.name;
  button('add-button').textContent = 'Save and apply';
  button('cancel-edit').hidden = false;
  select('f-type').value = d.type; select('f-type').disabled = true; showFields();
  input('f-id').value = d.id; input('f-id').readOnly = true;
  input('f-site').value = d.site ?? ''; input('f-site').disabled = true; select('f-site-owned').value = d.site ?? ''; select('f-site-owned').disabled = true;
  const settings = new Map(Object.entries(d));
  for (const field of form.querySelectorAll('[name]')) {
    if (!(field instanceof HTMLInputElement || field instanceof HTMLSelectElement)) continue;
    const value = settings.get(field.name);
    if (SECRETS.includes(field.name)) {
      if (field instanceof HTMLInputElement) { field.dataset['placeholder'] ??= field.placeholder; field.placeholder = d.secrets[field.name] ? '•••••••• (set; leave empty to keep)' : field.dataset['placeholder']; }
      continue;
    }
    if (value === undefined || field.name === 'type' || field.name === 'id') continue;
    if (field instanceof HTMLInputElement && field.type === 'checkbox') field.checked = Boolean(value); else field.value = Array.isArray(value) ? value.join(', ') : String(value);
  }
  input('f-include').value = d.filter.include.join(', '); input('f-exclude').value = d.filter.exclude.join(', ');
  for (const e of document.querySelectorAll('.add-only')) if (e instanceof HTMLElement) e.hidden = true;
  form.scrollIntoView();
}
function stopEditing() {
  editing = null;
  $('add-form', HTMLFormElement).reset();
  $('form-title').textContent = 'Add a destination';
  button('add-button').textContent = 'Add and apply';
  button('cancel-edit').hidden = true;
  select('f-type').disabled = false; input('f-id').readOnly = false; input('f-site').disabled = false; select('f-site-owned').disabled = false;
  for (const field of document.querySelectorAll('[data-placeholder]')) if (field instanceof HTMLInputElement) field.placeholder = field.dataset['placeholder'] ?? '';
  showFields();
  for (const e of document.querySelectorAll('.add-only')) if (e instanceof HTMLElement) e.hidden = false;
}
button('cancel-edit').addEventListener('click', stopEditing);

select('f-type').addEventListener('change', showFields);
function showFields() {
  const type = select('f-type').value;
  for (const e of document.querySelectorAll('[data-for]')) if (e instanceof HTMLElement) e.hidden = !(e.dataset['for'] ?? '').split(' ').includes(type);
}
showFields();

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const body = input('login-token').value ? { token: input('login-token').value } : { user: input('login-user').value, password: input('login-password').value };
    await api('POST', '/api/login', body);
    input('login-token').value = ''; input('login-password').value = '';
    banner('', true);
    await start();
  } catch (error) { banner(/** @type {Error} */ (error).message, false); }
});

$('add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = /** @type {HTMLFormElement} */ (event.target);
  const form = new FormData(target);
  const type = select('f-type').value;
  /** @type {Record<string, unknown>} */
  const body = { type, id: form.get('id'), name: form.get('name'), pii: form.get('pii'), format: form.get('format') };
  const list = (/** @type {unknown} */ v) => String(v || '').split(',').map((s) => s.trim()).filter(Boolean);
  body['filter'] = { include: list(form.get('include')), exclude: list(form.get('exclude')) };
  for (const field of target.querySelectorAll('[data-for] [name], input[data-for], select[data-for]')) {
    if (!(field instanceof HTMLInputElement || field instanceof HTMLSelectElement)) continue;
    if (field.hidden || !(field.dataset['for'] ?? '').split(' ').includes(type)) continue;
    if (field instanceof HTMLInputElement && field.type === 'checkbox') body[field.name] = field.checked;
    else if (field.value !== '') body[field.name] = field.name === 'port' ? Number(field.value) : field.name === 'brokers' ? list(field.value) : field.value;
  }
  try {
    if (body['headers']) body['headers'] = JSON.parse(String(body['headers']));
    if (editing) {
      const result = await api('PUT', '/api/destinations/' + editing, body);
      stopEditing();
      banner('Saved ' + body['name'] + ' (revision ' + result.revision + ', applied in ' + result.applyMillis + ' ms)', true);
    } else {
      if (form.get('backfillSince')) body['backfillSince'] = new Date(String(form.get('backfillSince'))).toISOString();
      const site = me.admin ? input('f-site').value.trim() : select('f-site-owned').value;
      if (site) body['site'] = site;
      const result = await api('POST', '/api/destinations', body);
      target.reset(); showFields();
      banner('Added ' + body['name'] + ' (revision ' + result.revision + ', applied in ' + result.applyMillis + ' ms)', true);
    }
  } catch (error) { banner(/** @type {Error} */ (error).message, false); }
  await refresh().catch(() => undefined);
});

setInterval(() => { if (!$('app').hidden) refresh().catch(() => undefined); }, 5000);
start();

export {};

// The Admin Panel page: plain HTML and a script, served as they are (no build step). Secrets are
// never sent to the page; their inputs stay empty with a masked placeholder when one is set. An
// administrator sees every destination grouped by site (the installation's first, with the
// archive); a site's owner sees their sites' destinations, and the form's site is theirs.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>otel-audit admin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f4f6f9; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; }
  main { padding: 16px 20px; max-width: 1100px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e7ee; vertical-align: middle; }
  .status { padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
  .healthy { background: #d7f5dd; color: #17692a; } .delayed { background: #fff1c7; color: #7a5a00; }
  .failing { background: #fbd9d9; color: #9b1c1c; } .paused, .disabled, .unknown { background: #e3e7ee; color: #4b5565; }
  .error { color: #9b1c1c; white-space: pre-wrap; } .note { color: #4b5565; font-size: 12px; }
  form.grid { display: grid; grid-template-columns: 160px 1fr; gap: 6px 12px; max-width: 640px; }
  input, select { font: inherit; padding: 3px 6px; }
  button { font: inherit; padding: 3px 10px; cursor: pointer; }
  #banner { display: none; padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; white-space: pre-wrap; }
  #banner.bad { display: block; background: #fbd9d9; } #banner.good { display: block; background: #d7f5dd; }
  svg.chart { vertical-align: middle; }
  tr.group td { background: #eef1f6; font-weight: 600; padding-top: 10px; }
</style>
</head>
<body>
<header><strong>otel-audit admin</strong><span id="who"></span></header>
<main>
  <div id="banner" role="status"></div>
  <section id="login" hidden>
    <h2>Log in</h2>
    <form id="login-form" class="grid">
      <label for="login-token">Administrator token</label><input id="login-token" type="password" autocomplete="off">
      <label for="login-user">or user</label><input id="login-user" autocomplete="username">
      <label for="login-password">password</label><input id="login-password" type="password" autocomplete="current-password">
      <span></span><button id="login-button" type="submit">Log in</button>
    </form>
  </section>
  <div id="app" hidden>
    <section>
      <h2>Destinations <span class="note" id="revision"></span></h2>
      <table><thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Sent</th><th>Failed</th><th>Queued</th><th>Last hour</th><th>Last error</th><th>Dead letters</th><th></th></tr></thead>
      <tbody id="destinations"></tbody></table>
    </section>
    <section>
      <h2 id="form-title">Add a destination</h2>
      <form id="add-form" class="grid" autocomplete="off">
        <label for="f-type">Type</label>
        <select id="f-type" name="type">
          <option value="splunk_hec">Splunk HEC</option><option value="syslog">Syslog</option><option value="otlp_http">OTLP/HTTP</option>
          <option value="kafka">Kafka</option><option value="elasticsearch">Elasticsearch</option>
        </select>
        <label for="f-id">Id</label><input id="f-id" name="id" placeholder="splunk_cloud" required>
        <label for="f-site">Site</label><span><input id="f-site" placeholder="empty: the whole installation" hidden><select id="f-site-owned" hidden></select></span>
        <label for="f-name">Name</label><input id="f-name" name="name" required>
        <label data-for="splunk_hec elasticsearch" for="f-url">URL</label><input data-for="splunk_hec elasticsearch" id="f-url" name="url" placeholder="https://splunk.example.com:8088/services/collector">
        <label data-for="splunk_hec" for="f-token">HEC token</label><input data-for="splunk_hec" id="f-token" name="token" type="password">
        <label data-for="splunk_hec" for="f-index">Index</label><input data-for="splunk_hec" id="f-index" name="index" placeholder="audit">
        <label data-for="splunk_hec" for="f-sourcetype">Sourcetype</label><input data-for="splunk_hec" id="f-sourcetype" name="sourcetype" placeholder="otel:audit">
        <label data-for="syslog" for="f-host">Host</label><input data-for="syslog" id="f-host" name="host">
        <label data-for="syslog" for="f-port">Port</label><input data-for="syslog" id="f-port" name="port" type="number">
        <label data-for="syslog" for="f-tls">TLS</label><input data-for="syslog" id="f-tls" name="tls" type="checkbox" checked>
        <label data-for="otlp_http" for="f-endpoint">Endpoint</label><input data-for="otlp_http" id="f-endpoint" name="endpoint" placeholder="https://siem.example.com/v1/logs">
        <label data-for="otlp_http" for="f-headers">Headers (JSON)</label><input data-for="otlp_http" id="f-headers" name="headers" type="password" placeholder='{"Authorization": "Bearer ..."}'>
        <label data-for="kafka" for="f-brokers">Brokers</label><input data-for="kafka" id="f-brokers" name="brokers" placeholder="kafka1:9092, kafka2:9092">
        <label data-for="kafka" for="f-topic">Topic</label><input data-for="kafka" id="f-topic" name="topic" placeholder="audit-events">
        <label data-for="elasticsearch" for="f-apikey">API key</label><input data-for="elasticsearch" id="f-apikey" name="apiKey" type="password">
        <label data-for="elasticsearch" for="f-namespace">Namespace</label><input data-for="elasticsearch" id="f-namespace" name="namespace" placeholder="default">
        <label data-for="splunk_hec otlp_http elasticsearch" for="f-insecure">Allow http://</label><input data-for="splunk_hec otlp_http elasticsearch" id="f-insecure" name="allowInsecure" type="checkbox">
        <label for="f-include">Only actions</label><input id="f-include" name="include" placeholder="user.*, *.change_access">
        <label for="f-exclude">Except actions</label><input id="f-exclude" name="exclude" placeholder="document.open">
        <label for="f-pii">Emails and IPs</label><select id="f-pii" name="pii"><option value="none">send as they are</option><option value="hash">keyed hash</option><option value="drop">drop</option></select>
        <label for="f-format">Format</label><select id="f-format" name="format"></select>
        <label class="add-only" for="f-backfill">Deliver events since</label><input class="add-only" id="f-backfill" name="backfillSince" type="datetime-local">
        <span></span><span><button id="add-button" type="submit">Add and apply</button> <button id="cancel-edit" type="button" hidden>Cancel</button></span>
      </form>
    </section>
    <section>
      <h2>Revisions</h2>
      <table><thead><tr><th>#</th><th>When</th><th>Who</th><th>Change</th><th>Result</th><th></th></tr></thead><tbody id="revisions"></tbody></table>
      <pre id="diff" class="note"></pre>
    </section>
  </div>
</main>
<script src="/admin.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = `'use strict';
let csrf = '';
let revision = 0;
/** Who is logged in: { user, admin, sites }. */
let me = { user: '', admin: false, sites: [] };
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e; };

function banner(text, good) { const b = $('banner'); b.textContent = text; b.className = text ? (good ? 'good' : 'bad') : ''; }

async function api(method, path, body) {
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
    const session = await api('GET', '/api/session');
    csrf = session.csrfToken; $('who').textContent = session.user + (session.admin ? '' : ' (sites: ' + session.sites.join(', ') + ')');
    me = session;
    // An administrator types any site (or none: the installation); an owner picks one of theirs.
    $('f-site').hidden = !me.admin; $('f-site-owned').hidden = me.admin;
    $('f-site-owned').replaceChildren(...me.sites.map((site) => el('option', { value: site, textContent: site })));
    $('login').hidden = true; $('app').hidden = false;
    await refresh();
  } catch { showLogin(); }
}

function chart(history) {
  const w = 120, h = 24, points = history.slice(-60);
  const max = Math.max(1, ...points.map((p) => p.sent + p.queued));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'chart'); svg.setAttribute('width', w); svg.setAttribute('height', h);
  const line = (key, color) => {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    p.setAttribute('points', points.map((pt, i) => (i * w / Math.max(1, points.length - 1)).toFixed(1) + ',' + (h - 1 - pt[key] * (h - 2) / max).toFixed(1)).join(' '));
    p.setAttribute('fill', 'none'); p.setAttribute('stroke', color); svg.append(p);
  };
  line('sent', '#17692a'); line('queued', '#b7791f');
  return svg;
}

function row(d, archive) {
  const h = d.health;
  const refusing = h.refusingSince ? 'refusing since ' + h.refusingSince + (h.lastError ? ': ' : '') : '';
  const letters = d.deadLetters;
  const dead = el('span', { className: letters && letters.records ? 'error' : '' });
  if (letters && letters.records) {
    dead.title = Object.entries(letters.reasons).map(([reason, count]) => count + ' × ' + reason).join('\\n');
    dead.append(String(letters.records), ' ', el('button', { textContent: 'Re-drive', title: 'Send them again (fix the cause first)', onclick: () => act('redrive', d) }));
  }
  const cells = [d.name, d.type, el('span', { className: 'status ' + h.status, textContent: h.status }), h.sent, h.failed, h.queued, chart(h.history),
    el('span', { className: 'error', textContent: refusing + (h.lastError ? h.lastError.message : '') }), dead];
  const actions = el('td');
  if (!archive) {
    const button = (label, action) => el('button', { textContent: label, onclick: () => act(action, d) });
    actions.append(button('Test', 'test'), ' ', el('button', { textContent: 'Edit', onclick: () => edit(d) }), ' ', d.paused ? button('Resume', 'resume') : button('Pause', 'pause'), ' ', button('Delete', 'delete'));
  }
  const tr = el('tr', { id: 'dest-' + d.id });
  tr.dataset.status = h.status;
  tr.append(...cells.map((c) => el('td', {}, c)), actions);
  return tr;
}

async function refresh() {
  const data = await api('GET', '/api/destinations');
  revision = data.revision;
  $('revision').textContent = '(revision ' + data.revision + ')';
  // Grouped by site: the installation's first (with the archive), then each site's.
  const groups = new Map(me.admin ? [['', []]] : []);
  for (const d of data.destinations) { const key = d.site ?? ''; if (!groups.has(key)) groups.set(key, []); groups.get(key).push(d); }
  const order = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
  $('destinations').replaceChildren(...order.flatMap((key) => {
    const header = el('tr', { id: 'group-' + (key || 'installation'), className: 'group' }, el('td', { colSpan: 10, textContent: key ? 'Site ' + key : 'Installation' }));
    return [header, ...(key === '' && data.archive ? [row(data.archive, true)] : []), ...groups.get(key).map((d) => row(d, false))];
  }));
  const format = $('f-format');
  if (format.options.length !== data.formats.length) format.replaceChildren(...data.formats.map((f) => el('option', { value: f, textContent: f })));
  const revs = await api('GET', '/api/revisions');
  $('revisions').replaceChildren(...revs.revisions.slice(0, 10).map((r) => {
    const tr = el('tr');
    const show = el('button', { textContent: 'Diff', onclick: async () => { $('diff').textContent = (await api('GET', '/api/revisions/' + r.revision)).diff; } });
    const back = el('button', { textContent: 'Roll back to this', onclick: () => act('rollback', r) });
    tr.append(el('td', { textContent: r.revision }), el('td', { textContent: r.at }), el('td', { textContent: r.author }), el('td', { textContent: r.change }),
      el('td', { className: r.status === 'applied' ? '' : 'error', textContent: r.status + (r.error ? ': ' + r.error : '') + (r.applyMillis ? ' (' + r.applyMillis + ' ms' + (r.appliedBy === 'restart' ? ', by a restart' : '') + ')' : '') }),
      el('td', {}, show, ' ', me.admin && r.status === 'applied' && r.revision !== revs.current ? back : ''));
    return tr;
  }));
}

async function act(action, target) {
  try {
    banner('', true);
    if (action === 'rollback') { await api('POST', '/api/revisions/' + target.revision + '/rollback'); banner('Rolled back to revision ' + target.revision, true); }
    else if (action === 'delete') { if (!confirm('Delete ' + target.name + '?')) return; const r = await api('DELETE', '/api/destinations/' + target.id); banner('Deleted ' + target.name + (r.abandonedQueuedEvents ? ' (' + r.abandonedQueuedEvents + ' queued events abandoned)' : ''), true); }
    else if (action === 'redrive') { const r = await api('POST', '/api/destinations/' + target.id + '/dead-letters/redrive'); banner(r.redriven + ' dead letter(s) of ' + target.name + ' handed back to the gateway', true); }
    else if (action === 'test') { const r = await api('POST', '/api/destinations/' + target.id + '/test'); banner(r.delivered ? 'Test event delivered to ' + target.name : 'Test event NOT confirmed by ' + target.name + ' (see its last error)', r.delivered); }
    else { const r = await api('POST', '/api/destinations/' + target.id + '/' + action); banner(target.name + ': ' + action + 'd' + (r.replayed !== undefined ? ', ' + r.replayed + ' events replayed from the archive' : ''), true); }
  } catch (error) { banner(error.message, false); }
  await refresh().catch(() => undefined);
}

// Editing: the form shows the destination's settings; a secret that is set is never sent to the page,
// its field stays empty with a masked placeholder, and left empty it keeps its value.
let editing = null;
const SECRETS = ['token', 'headers', 'apiKey'];
function edit(d) {
  const form = $('add-form');
  form.reset();
  editing = d.id;
  $('form-title').textContent = 'Edit ' + d.name;
  $('add-button').textContent = 'Save and apply';
  $('cancel-edit').hidden = false;
  $('f-type').value = d.type; $('f-type').disabled = true; showFields();
  $('f-id').value = d.id; $('f-id').readOnly = true;
  $('f-site').value = d.site ?? ''; $('f-site').disabled = true; $('f-site-owned').value = d.site ?? ''; $('f-site-owned').disabled = true;
  for (const input of form.querySelectorAll('[name]')) {
    const value = d[input.name];
    if (SECRETS.includes(input.name)) { input.dataset.placeholder ??= input.placeholder; input.placeholder = d.secrets[input.name] ? '•••••••• (set; leave empty to keep)' : input.dataset.placeholder; continue; }
    if (value === undefined || input.name === 'type' || input.name === 'id') continue;
    if (input.type === 'checkbox') input.checked = value; else input.value = Array.isArray(value) ? value.join(', ') : value;
  }
  $('f-include').value = d.filter.include.join(', '); $('f-exclude').value = d.filter.exclude.join(', ');
  for (const e of document.querySelectorAll('.add-only')) e.hidden = true;
  form.scrollIntoView();
}
function stopEditing() {
  editing = null;
  $('add-form').reset();
  $('form-title').textContent = 'Add a destination';
  $('add-button').textContent = 'Add and apply';
  $('cancel-edit').hidden = true;
  $('f-type').disabled = false; $('f-id').readOnly = false; $('f-site').disabled = false; $('f-site-owned').disabled = false;
  for (const input of document.querySelectorAll('[data-placeholder]')) input.placeholder = input.dataset.placeholder;
  showFields();
  for (const e of document.querySelectorAll('.add-only')) e.hidden = false;
}
$('cancel-edit').addEventListener('click', stopEditing);

$('f-type').addEventListener('change', showFields);
function showFields() {
  const type = $('f-type').value;
  for (const e of document.querySelectorAll('[data-for]')) e.hidden = !e.dataset.for.split(' ').includes(type);
}
showFields();

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const body = $('login-token').value ? { token: $('login-token').value } : { user: $('login-user').value, password: $('login-password').value };
    await api('POST', '/api/login', body);
    $('login-token').value = ''; $('login-password').value = '';
    banner('', true);
    await start();
  } catch (error) { banner(error.message, false); }
});

$('add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const type = $('f-type').value;
  const body = { type, id: form.get('id'), name: form.get('name'), pii: form.get('pii'), format: form.get('format') };
  const list = (v) => String(v || '').split(',').map((s) => s.trim()).filter(Boolean);
  body.filter = { include: list(form.get('include')), exclude: list(form.get('exclude')) };
  for (const input of event.target.querySelectorAll('[data-for] [name], input[data-for], select[data-for]')) {
    if (input.hidden || !input.dataset.for.split(' ').includes(type)) continue;
    if (input.type === 'checkbox') body[input.name] = input.checked;
    else if (input.value !== '') body[input.name] = input.name === 'port' ? Number(input.value) : input.name === 'brokers' ? list(input.value) : input.value;
  }
  try {
    if (body.headers) body.headers = JSON.parse(body.headers);
    if (editing) {
      const result = await api('PUT', '/api/destinations/' + editing, body);
      stopEditing();
      banner('Saved ' + body.name + ' (revision ' + result.revision + ', applied in ' + result.applyMillis + ' ms)', true);
    } else {
      if (form.get('backfillSince')) body.backfillSince = new Date(String(form.get('backfillSince'))).toISOString();
      const site = me.admin ? $('f-site').value.trim() : $('f-site-owned').value;
      if (site) body.site = site;
      const result = await api('POST', '/api/destinations', body);
      event.target.reset(); showFields();
      banner('Added ' + body.name + ' (revision ' + result.revision + ', applied in ' + result.applyMillis + ' ms)', true);
    }
  } catch (error) { banner(error.message, false); }
  await refresh().catch(() => undefined);
});

setInterval(() => { if (!$('app').hidden) refresh().catch(() => undefined); }, 5000);
start();
`;

// The Admin Panel page: plain HTML, and its script (page-script.js, type-checked), served as they
// are (no build step). What the page shows and does: page-script.js.
import { readFileSync } from 'node:fs';

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
<script type="module" src="/admin.js"></script>
</body>
</html>
`;

/**
 * The page's script: page-script.js beside this module (src/admin/ under tsx; dist/src/admin/ in
 * the package, where the build copies it). Read when a panel starts, not when the command line
 * loads this module.
 */
export function readPageScript(): string {
  return readFileSync(new URL('./page-script.js', import.meta.url), 'utf8');
}

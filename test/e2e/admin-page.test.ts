// The Admin Panel page in a real browser: Debian's chromium, headless, driven by playwright-core
// (no browser is downloaded). Log in, add a Splunk HEC destination (the stand-in), send a test
// event, see the destination healthy; the secret never reaches the page. An administrator sees
// every destination grouped by site; a site's owner sees their site's only, and adds one with the
// same form, its site preset.
// ADMIN_SCREENSHOT=docs/admin-panel.png also saves the screenshot the README shows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, readTrail } from '../../src/index.js';
import { freePort, ROOT, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { login, startTestAdmin } from '../helpers/admin.js';
import { hashPassword } from '../../src/admin/auth.js';

const OWNER_PASSWORD = 'owner password of acme';

const HEC_TOKEN = 'page-test-hec-token-5b1e';

describe('the Admin Panel page in headless Chromium', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let hec: RunningProcess;
  let hecPort: number;
  let hecFile: string;
  let browser: BrowserContext;
  let page: Page;
  let dir_: string;

  before(async () => {
    const dir = tempDir('admin-page');
    // A format fragment the Collector refuses, to see the page say why.
    const formats = join(dir, 'formats');
    mkdirSync(formats);
    writeFileSync(join(formats, 'broken.yaml'), 'processors:\n  transform/broken:\n    log_statements:\n      - context: log\n        statements: ["set(log.nonsense, 1"]\n');
    writeFileSync(join(dir, 'users'), `${hashPassword('olga', OWNER_PASSWORD, 'olga@acme.example', { admin: false, sites: ['acme'] })}\n`);
    admin = await startTestAdmin({ formatsDir: formats, usersFile: join(dir, 'users') });
    dir_ = dir;
    hecPort = await freePort();
    hecFile = join(dir, 'hec.jsonl');
    hec = await startHecReceiver(hecPort, hecFile);
    browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });
  after(async () => {
    await browser?.close();
    await admin?.close();
    await hec?.stop();
  });

  test('log in, add a Splunk HEC destination, send a test event, see it healthy', async () => {
    await page.goto(admin.url);
    await page.fill('#login-token', 'wrong-token');
    await page.click('#login-button');
    await page.waitForSelector('#banner.bad');
    assert.match(await page.textContent('#banner') ?? '', /wrong token/);

    await page.fill('#login-token', admin.token);
    await page.click('#login-button');
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.textContent('#who'), 'admin');

    // Field-named errors and the Collector's own refusal reach the page.
    await page.selectOption('#f-type', 'splunk_hec');
    await page.fill('#f-id', 'insecure');
    await page.fill('#f-name', 'Insecure');
    await page.fill('#f-url', `http://127.0.0.1:${hecPort}/services/collector`);
    await page.fill('#f-token', HEC_TOKEN);
    await page.click('#add-button');
    await page.waitForSelector('#banner.bad:has-text("destination.url: must be https unless allowInsecure")');
    await page.check('#f-insecure');
    await page.selectOption('#f-format', 'broken');
    await page.click('#add-button');
    await page.waitForSelector('#banner.bad:has-text("rejected the configuration")');
    await page.waitForSelector('#revisions td.error:has-text("rejected: otelcol-audit validate")');
    assert.equal(await page.locator('#dest-insecure').count(), 0);

    await page.fill('#f-id', 'splunk');
    await page.fill('#f-name', 'Splunk (stand-in)');
    await page.fill('#f-url', `http://127.0.0.1:${hecPort}/services/collector`);
    await page.fill('#f-token', HEC_TOKEN);
    await page.check('#f-insecure');
    await page.selectOption('#f-format', 'canonical');
    await page.fill('#f-include', 'document.*, user.*');
    await page.click('#add-button');
    await page.waitForSelector('#banner.good');
    assert.match(await page.textContent('#banner') ?? '', /Added Splunk \(stand-in\) \(revision \d+, applied in \d+ ms\)/);
    await page.waitForSelector('#dest-splunk');

    const audit = createAuditLogger({ catalog: gristCatalog, endpoint: admin.ingestEndpoint, serviceName: 'page-test', checkpoints: false });
    const id = audit.logEvent('document.open', { actor: sampleEvent.actor, context: sampleEvent.context, details: gristCatalog.actions['document.open'].sample });
    await audit.shutdown({ timeoutMillis: 20_000 });

    // Edit: the token is not shown, only masked; left empty, it is kept.
    await page.click('#dest-splunk button:text("Edit")');
    assert.equal(await page.inputValue('#f-token'), '');
    assert.match((await page.getAttribute('#f-token', 'placeholder')) ?? '', /•+ \(set; leave empty to keep\)/);
    assert.equal(await page.inputValue('#f-url'), `http://127.0.0.1:${hecPort}/services/collector`);
    await page.fill('#f-index', 'edited');
    await page.click('#add-button');
    await page.waitForSelector('#banner.good:has-text("Saved Splunk (stand-in)")');

    await page.click('#dest-splunk button:text("Test")');
    await page.waitForSelector('#banner.good:has-text("Test event delivered")', { timeout: 30_000 });
    await page.waitForSelector('#dest-splunk[data-status="healthy"]', { timeout: 30_000 });
    await waitFor('the event at the stand-in', () => existsSync(hecFile) && readTrail(hecFile).some((r) => (r.body as { id: string }).id === id));
    assert.ok(readTrail(hecFile).some((r) => r.resource['com.splunk.index'] === 'edited' && String(r.attributes['otel_audit.test']) === 'true'), 'the test event went out with the edited index and the kept token');

    assert.ok(!(await page.content()).includes(HEC_TOKEN), 'the token reached the page');
    assert.equal(await page.getAttribute('#f-token', 'type'), 'password');
    const screenshot = process.env['ADMIN_SCREENSHOT'] ? join(ROOT, process.env['ADMIN_SCREENSHOT']) : join(admin.dir, 'admin-panel.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(existsSync(screenshot));
  });

  /** Fills the form for a Splunk HEC destination to the stand-in, and submits it. */
  const addHecDestination = async (view: Page, id: string, name: string) => {
    await view.selectOption('#f-type', 'splunk_hec');
    await view.fill('#f-id', id);
    await view.fill('#f-name', name);
    await view.fill('#f-url', `http://127.0.0.1:${hecPort}/services/collector`);
    await view.fill('#f-token', HEC_TOKEN);
    await view.check('#f-insecure');
    await view.click('#add-button');
  };

  test('an administrator sees every destination grouped by site, the installation first; a site is set in the form', async () => {
    const administrator = await login(admin.url, { token: admin.token });
    const hecUrl = `http://127.0.0.1:${hecPort}/services/collector`;
    assert.equal((await administrator.change('POST', '/api/destinations', { id: 'globex_siem', name: 'Globex SIEM', type: 'splunk_hec', url: hecUrl, allowInsecure: true, token: HEC_TOKEN, site: 'globex' })).status, 201);
    // Made behind the page's back: the page shows it once it reloads (and changes then name the new revision).
    await page.reload();
    await page.waitForSelector('#dest-globex_siem');
    await page.fill('#f-site', 'acme');
    await addHecDestination(page, 'acme_siem', 'Acme SIEM');
    await page.waitForSelector('#banner.good:has-text("Added Acme SIEM")');
    await page.waitForSelector('#dest-acme_siem');
    const order = await page.$$eval('#destinations > tr', (rows) => rows.map((row) => row.id));
    assert.deepEqual(order, ['group-installation', 'dest-archive', 'dest-splunk', 'group-acme', 'dest-acme_siem', 'group-globex', 'dest-globex_siem']);
    assert.ok((await page.locator('#revisions button:text("Roll back to this")').count()) > 0);
  });

  test("a site's owner sees that site's destinations only, no archive and no rollback, and adds one with the site preset", async () => {
    const owner = await chromium.launchPersistentContext(join(dir_, 'chromium-owner'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    try {
      const view = owner.pages()[0] ?? (await owner.newPage());
      await view.goto(admin.url);
      await view.fill('#login-user', 'olga');
      await view.fill('#login-password', OWNER_PASSWORD);
      await view.click('#login-button');
      await view.waitForSelector('#app:not([hidden])');
      assert.equal(await view.textContent('#who'), 'olga (sites: acme)');
      await view.waitForSelector('#dest-acme_siem');
      assert.deepEqual(await view.$$eval('#destinations > tr', (rows) => rows.map((row) => row.id)), ['group-acme', 'dest-acme_siem']);
      // The same form; the site is theirs, chosen for them.
      assert.equal(await view.isHidden('#f-site'), true);
      assert.deepEqual(await view.$$eval('#f-site-owned option', (options) => options.map((o) => (o as unknown as { value: string }).value)), ['acme']);
      await addHecDestination(view, 'acme_backup', 'Acme backup');
      await view.waitForSelector('#banner.good:has-text("Added Acme backup")');
      await view.waitForSelector('#dest-acme_backup');
      assert.deepEqual(await view.$$eval('#destinations > tr', (rows) => rows.map((row) => row.id)), ['group-acme', 'dest-acme_siem', 'dest-acme_backup']);
      const administrator = await login(admin.url, { token: admin.token });
      assert.equal((await administrator.call('GET', '/api/destinations/acme_backup')).body['destination'].site, 'acme');
      // Revisions of acme only, and no rollback of the whole configuration.
      await view.waitForSelector('#revisions tr');
      const changes = await view.$$eval('#revisions tr td:nth-child(4)', (cells) => cells.map((cell) => cell.textContent ?? ''));
      assert.ok(changes.length > 0 && changes.every((change) => /acme/.test(change)), changes.join(' | '));
      assert.equal(await view.locator('#revisions button:text("Roll back to this")').count(), 0);
      assert.ok(!(await view.content()).includes('globex'), "another site's destination reached the page");
      await view.screenshot({ path: join(admin.dir, 'admin-panel-owner.png'), fullPage: true });
    } finally {
      await owner.close();
    }
  });
});

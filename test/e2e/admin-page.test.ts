// The Admin Panel page in a real browser: Debian's chromium, headless, driven by playwright-core
// (no browser is downloaded). Log in, add a Splunk HEC destination (the stand-in), send a test
// event, see the destination healthy; the secret never reaches the page.
// ADMIN_SCREENSHOT=docs/admin-panel.png also saves the screenshot the README shows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger, readTrail } from '../../src/index.js';
import { freePort, ROOT, startHecReceiver, tempDir, waitFor, type RunningProcess } from '../../scripts/lib/processes.js';
import { sampleEvent } from '../helpers/fixtures.js';
import { startTestAdmin } from '../admin/helpers.js';

const HEC_TOKEN = 'page-test-hec-token-5b1e';

describe('the Admin Panel page in headless Chromium', () => {
  let admin: Awaited<ReturnType<typeof startTestAdmin>>;
  let hec: RunningProcess;
  let hecPort: number;
  let hecFile: string;
  let browser: BrowserContext;
  let page: Page;

  before(async () => {
    const dir = tempDir('admin-page');
    // A format fragment the Collector refuses, to see the page say why.
    const formats = join(dir, 'formats');
    mkdirSync(formats);
    writeFileSync(join(formats, 'broken.yaml'), 'processors:\n  transform/broken:\n    log_statements:\n      - context: log\n        statements: ["set(log.nonsense, 1"]\n');
    admin = await startTestAdmin({ formatsDir: formats });
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
});

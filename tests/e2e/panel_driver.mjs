// Drives the control panel (/management.html) in Debian's headless chromium with
// playwright-core (pinned in tests/e2e/node/package.json; it never downloads a browser).
// Called by tests/e2e/test_panel.py and tests/e2e/panel_screenshot.py; prints one JSON object
// with what it saw on stdout, and fails (exit 1, the step on stderr) when a step times out.
//
//   node tests/e2e/panel_driver.mjs '{"mode":"flow","gateway":"http://127.0.0.1:P",...}'
//
// Modes: "flow" (the operator's round: wrong key, sign in, accounts, add a client key and
// serve a request with it, add a provider key, request log on, an OAuth login through the
// provider's pages in a second tab with the redirect pasted back, the logs, sign out)
// and "screenshot" (sign in, wait for the data, write a PNG).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.NODE_MODULES || path.join(here, '..', '..', '.tools', 'node', 'node_modules');
const { chromium } = await import(pathToFileURL(path.join(modules, 'playwright-core', 'index.mjs')).href);

const args = JSON.parse(process.argv[2]);
const STEP_MS = args.stepTimeoutMs || 10000;
const out = { consoleErrors: [], steps: [] };
// A 401 or 404 the page asked for on purpose is logged by chromium as a failed resource; it is
// not an error of the page.
const expected = (text) => text.startsWith('Failed to load resource: the server responded with a status of');
let step = 'launch';

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  // Root in a container has no user namespace for the sandbox; the page is our own.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    // An OAuth login's loopback redirect (args.oauthRedirect) is not reachable from this
    // browser, as from a remote operator's: `localhost` does not resolve.
    ...(args.oauthRedirect ? ['--host-resolver-rules=MAP localhost ~NOTFOUND'] : [])],
  timeout: 20000,
});
try {
  const context = await browser.newContext({ viewport: args.viewport || { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (m) => { if (m.type() === 'error' && !expected(m.text())) out.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => out.consoleErrors.push(String(e)));
  const text = async (sel) => (await page.locator(sel).textContent()) || '';
  // The page's own masking (management/mod.rs `mask`): what a new key looks like once listed.
  const masked = (k) => (k.length < 12 ? '****' : k.slice(0, 4) + '****' + k.slice(-4));
  const at = (name) => { step = name; out.steps.push(name); };

  at('open');
  const resp = await page.goto(args.gateway + '/management.html');
  out.status = resp.status();
  out.csp = resp.headers()['content-security-policy'] || '';
  await page.locator('#login').waitFor({ state: 'visible' });

  if (args.mode === 'flow') {
    at('wrong key');
    await page.fill('#login-key', 'not-the-key');
    await page.click('#login-submit');
    await page.locator('#login-msg:not(:empty)').waitFor();
    out.wrongKeyMessage = await text('#login-msg');
  }

  at('sign in');
  await page.fill('#login-key', args.key);
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible' });
  out.stored = await page.evaluate(() => sessionStorage.getItem('switchyard.management-key') !== null);
  await page.locator(`tr[data-account="${args.account}"]`).waitFor();
  out.accounts = await page.locator('#accounts-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.account));

  if (args.mode === 'screenshot') {
    await page.locator('#breakdown-body tr td.num').first().waitFor();
    await page.locator('#chart rect.bar').first().waitFor();
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: args.screenshot, clip: args.clip || { x: 0, y: 0, width: 1280, height: 900 } });
    out.screenshot = args.screenshot;
  } else {
    at('add a client key');
    await page.fill('#client-key-new', args.newClientKey);
    await page.click('#client-key-add');
    await page.locator('#client-keys-msg.ok').waitFor();
    out.addKeyMessage = await text('#client-keys-msg');
    await page.locator('#client-keys-body td.mono', { hasText: masked(args.newClientKey) }).waitFor();
    out.clientKeys = await page.locator('#client-keys-body td.mono').allTextContents();

    at('a request with the new key');
    const r = await fetch(args.gateway + '/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': args.newClientKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: args.model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    out.requestStatus = r.status;
    await r.arrayBuffer();

    at('usage by key');
    await page.click('#refresh');
    await page.locator('#t-requests', { hasText: /^[1-9]/ }).waitFor();
    out.totalRequests = await text('#t-requests');
    out.usageByKey = await page.locator('#breakdown-body tr').evaluateAll((rows) => rows.map((r) => [...r.cells].slice(0, 2).map((c) => c.textContent)));
    out.chartBars = await page.locator('#chart rect.bar').count();
    // The accounts table refreshes on its own call: wait until it has counted the request.
    await page.waitForFunction((id) => {
      const row = document.querySelector(`tr[data-account="${id}"]`);
      return row && row.querySelector('td.num').textContent !== '0';
    }, args.account, { timeout: STEP_MS });
    await page.click('#group-by button[data-v="account"]');
    out.usageByAccount = await page.locator('#breakdown-body tr').evaluateAll((rows) => rows.map((r) => [...r.cells].slice(0, 2).map((c) => c.textContent)));

    at('add a provider key');
    await page.selectOption('#provider-key-kind', 'claude-api-key');
    await page.fill('#provider-key-new', args.newProviderKey);
    await page.fill('#provider-key-url', args.upstream);
    await page.click('#provider-key-add');
    await page.locator('#provider-keys-msg.ok').waitFor();
    await page.locator('#provider-keys-body td.mono', { hasText: masked(args.newProviderKey) }).waitFor();
    out.providerKeys = await page.locator('#provider-keys-body tr[data-list="claude-api-key"] td.mono:nth-child(2)').allTextContents();

    at('request log on');
    await page.check('#set-request-log');
    await page.locator('#settings-msg.ok').waitFor();
    out.settingsMessage = await text('#settings-msg');

    at('oauth login');
    await page.selectOption('#oauth-provider', args.oauthProvider);
    await page.click('#oauth-start');
    await page.locator('#oauth-status.bad, #oauth-status.ok, #oauth-flow:not([hidden])').first().waitFor();
    out.oauthStartStatus = await text('#oauth-status');
    out.oauthUrl = (await page.locator('#oauth-flow').isVisible()) ? await text('#oauth-url') : null;
    if (out.oauthUrl && args.oauthRedirect) {
      // The operator follows the link to the provider (a new tab), signs in and allows access.
      // The provider then sends the tab to its registered loopback address (args.oauthRedirect,
      // e.g. http://localhost:1455/auth/callback), which this browser cannot reach (see the
      // launch): the address the tab was sent to is pasted into the panel, whether or not the
      // gateway could listen on that port itself.
      at('oauth provider pages');
      let caught;
      const redirected = new Promise((resolve) => { caught = resolve; });
      context.on('request', (r) => { if (r.url().startsWith(args.oauthRedirect)) caught(r.url()); });
      context.on('requestfailed', (r) => { if (r.url().startsWith(args.oauthRedirect)) out.oauthRedirectFailure = r.failure()?.errorText; });
      const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#oauth-url')]);
      tab.setDefaultTimeout(STEP_MS);
      const tabLog = [];
      tab.on('response', (r) => tabLog.push(r.status() + ' ' + r.url()));
      tab.on('requestfailed', (r) => tabLog.push(r.failure()?.errorText + ' ' + r.url()));
      await tab.fill('input[name=login]', args.oauthUser || 'alice');
      await tab.fill('input[name=password]', 'any-password');
      await tab.click('button[type=submit]');
      await tab.locator('input[name=prompt][value=consent]').waitFor({ state: 'attached' });
      await tab.click('button[type=submit]');
      let timer;
      out.oauthRedirected = await Promise.race([redirected, new Promise((_, reject) => {
        timer = setTimeout(async () => reject(new Error('the provider did not redirect to ' + args.oauthRedirect + '; the tab is at ' + tab.url() + ': ' + (await tab.content()).slice(0, 800) + ' requests: ' + tabLog.join(' | '))), STEP_MS);
      })]).finally(() => clearTimeout(timer));
      // The tab's navigation to it fails (and so reaches no listener of the gateway's).
      for (let i = 0; i < 50 && !out.oauthRedirectFailure; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      await tab.close();

      at('oauth paste the redirect');
      await page.fill('#oauth-redirect', out.oauthRedirected);
      await page.click('#oauth-redirect-send');
      await page.locator('#oauth-status.ok, #oauth-status.bad').waitFor();
      if (await page.locator('#oauth-status.bad').count()) throw new Error('the login failed: ' + await text('#oauth-status'));
      // The page reloads the auth files and the accounts once the login is done: the new
      // file, then the account it makes (args.authAccountPrefix and the file's name).
      await page.locator('#auth-files-body td.mono').first().waitFor();
      const file = await page.locator('#auth-files-body td.mono').first().textContent();
      await page.locator(`tr[data-account="${(args.authAccountPrefix || '') + file}"]`).waitFor();
      out.accountsAfterLogin = await page.locator('#accounts-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.account));
      out.authFiles = await page.locator('#auth-files-body td.mono').allTextContents();
      out.oauthFlowVisible = await page.locator('#oauth-flow').isVisible();
    }
    out.oauthStatus = await text('#oauth-status');

    at('logs');
    await page.click('#logs-load');
    await page.locator('#logs-msg:not(:empty), #logs-text:not([hidden])').first().waitFor();
    out.logsMessage = await text('#logs-msg');
    out.logsText = (await page.locator('#logs-text').isVisible()) ? await text('#logs-text') : null;
    out.logsHint = await text('#logs-hint');

    if (args.followPath) {
      // Follow: a request made in a later second (`?after=` has one-second resolution) shows
      // up on the page without another click.
      at('logs follow');
      await page.check('#logs-follow');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const m = await fetch(args.gateway + args.followPath, { headers: { 'x-api-key': args.newClientKey } });
      out.followStatus = m.status;
      await m.arrayBuffer();
      await page.waitForFunction((p) => document.getElementById('logs-text').textContent.includes(`path="${p}"`), args.followPath, { timeout: STEP_MS });
      out.followedText = await text('#logs-text');
      await page.uncheck('#logs-follow');
    }

    at('sign out');
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    out.storedAfterSignOut = await page.evaluate(() => sessionStorage.getItem('switchyard.management-key') !== null);
  }
  out.done = true;
} catch (e) {
  process.stderr.write(`panel driver: step "${step}" failed: ${e.message}\n`);
  out.failedStep = step;
  out.error = e.message;
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

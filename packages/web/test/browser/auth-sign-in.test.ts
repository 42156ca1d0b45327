import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, browserGate, launchBrowser, newPage, pageErrors, screenshot } from './harness.js';
import { startGalley as startServer, type GalleyProcess } from '@galley/testkit';

// The UI against a server with auth `token`, under its strict Content-Security-Policy: the
// sign-in page when the API answers 401, a cookie session after pasting a token, a change made
// with the session (the CSRF header sent), the user in the header, and signing out.

const gate = browserGate();
const BOOTSTRAP = 'browser-bootstrap-token-0123456789abcdefghijkl';

describe.runIf(gate.available)('UI sign-in (auth token)', () => {
  let browser: Browser;
  let server: GalleyProcess;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-ui-auth-'));
    await writeFile(join(dir, 'bootstrap'), BOOTSTRAP);
    server = await startServer({
      args: ['--auth', 'token', '--auth-bootstrap-token-file', join(dir, 'bootstrap')],
    });
    if (!gate.available) return;
    browser = await launchBrowser(gate.service);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in with a pasted token, makes a change with the session, shows the user and signs out', async () => {
    const created = await fetch(`${server.url}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dana', groups: ['admin'] }),
    });
    const { token } = (await created.json()) as { token: string };
    const { context, page } = await newPage(browser);
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    await page.goto(`${server.url}/tasks`);
    await page.getByRole('heading', { name: 'Sign in to Galley' }).waitFor();
    await page.getByLabel('Token').fill('glt_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('the API token is not valid').waitFor();
    await screenshot(page, 'auth-sign-in');
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect.poll(() => page.locator('.user-menu').textContent()).toContain('dana');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'galley_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    // A change through the UI's form: its request carries the CSRF header, or the server refuses it.
    await page.goto(`${server.url}/tasks/new`);
    await page.getByLabel('Alias').fill('from-ui');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.waitForURL(/\/tasks\/from-ui$/);
    await page.getByRole('heading', { name: 'from-ui' }).waitFor();
    await screenshot(page, 'auth-signed-in');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Galley' }).waitFor();
    expect(await api(server.url, 'GET', '/health')).toMatchObject({});
    expect(blocked).toEqual([]);
    expect(pageErrors(page)).toEqual([]);
    await context.close();
  });
});

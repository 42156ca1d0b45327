import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  type GalleyProcess,
  HELLO_WORLD,
  newPage,
  type RunJson,
  screenshot,
  useGalleyAndBrowser,
} from './harness.js';

const gate = browserGate();

/** Presses Tab until the focused element matches, failing after `max` presses. */
async function tabTo(
  page: Page,
  matches: (el: { text: string; id: string; tag: string }) => boolean,
  max = 40,
) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return { text: (a?.textContent ?? '').trim(), id: a?.id ?? '', tag: a?.tagName ?? '' };
    });
    if (matches(el)) return;
  }
  throw new Error(`no element matched after ${max} Tab presses`);
}

/** The focused element's outline, which must be visible. */
const focusOutline = (page: Page) =>
  page.evaluate(() => {
    const style = getComputedStyle(document.activeElement as Element);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });

/** WCAG contrast ratio of an element's text against the background it sits on. */
async function contrast(page: Page, selector: string): Promise<number> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 4).map(Number);
      let bgEl: Element | null = el;
      let bg = [0, 0, 0, 0];
      while (bgEl) {
        bg = rgb(getComputedStyle(bgEl).backgroundColor);
        if ((bg[3] ?? 1) > 0.5 && bg.length >= 3) break;
        bgEl = bgEl.parentElement;
      }
      const lum = (c: number[]) => {
        const [r, g, b] = c.slice(0, 3).map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
      };
      const a = lum(rgb(getComputedStyle(el).color));
      const b = lum(bg);
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
}

describe.runIf(gate.available)('web UI: keyboard only, and light and dark themes (real server)', () => {
  let galley: GalleyProcess;
  let browser: Browser;

  useGalleyAndBrowser(gate, [], async (suite) => {
    ({ galley, browser } = suite);
    await api(galley.url, 'POST', '/task', HELLO_WORLD);
    await api(galley.url, 'POST', '/task', { alias: 'sleeper', command: 'echo started; sleep 300' });
  });

  it('runs a task and stops another with the keyboard alone', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${galley.url}/runs`);
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();

    // `g t` goes to the tasks, `/` jumps to the search.
    await page.keyboard.press('g');
    await page.keyboard.press('t');
    await page.waitForURL(/\/tasks$/);
    await page.getByRole('table', { name: 'Tasks' }).waitFor();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search');
    await page.keyboard.type('hello');
    // Every key typed lands, even while the URL follows the search.
    expect(await page.getByLabel(/Search by alias/).inputValue()).toBe('hello');
    await tabTo(page, (el) => el.tag === 'A' && el.text === 'hello-flotilla');
    expect(await focusOutline(page)).toEqual({ style: 'solid', width: 2 });
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/tasks\/hello-flotilla$/);

    await tabTo(page, (el) => el.text === '▶ Run');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/run$/);
    await tabTo(page, (el) => el.id === 'run-owner');
    await page.keyboard.type('keyboard-user');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/runs\/[^/]+$/);
    await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();
    await page.getByRole('region', { name: 'Log output' }).getByText('hello _fill_me_in_').waitFor();

    // The stop dialog: Escape cancels and gives focus back; Enter confirms.
    const run = await api<RunJson>(galley.url, 'PUT', '/task/alias/sleeper/execute', {
      run_tags: { owner_id: 'kb' },
    });
    await page.goto(`${galley.url}/runs/${run.run_id}`);
    await page.locator('.timeline li[data-status="RUNNING"][data-state="current"]').waitFor();
    await tabTo(page, (el) => el.text === '■ Stop');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Stop this run?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Stop run');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('■ Stop');
    expect((await api<RunJson>(galley.url, 'GET', `/history/${run.run_id}`)).status).toBe('RUNNING');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('stop-answer').waitFor();
    await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();

    // `?` lists the shortcuts; Escape closes the list.
    await page.locator('body').focus();
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    await screenshot(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    await context.close();
  }, 120_000);

  it('follows the system’s dark preference, stays readable, and remembers the toggle', async () => {
    const { page, context } = await newPage(browser, { dark: true });
    await page.goto(`${galley.url}/runs`);
    await page.getByRole('table', { name: 'Runs' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(15, 18, 22)');
    for (const selector of ['h1', '.page-header .subtitle', 'tbody a', '.badge[data-status]', 'th']) {
      expect(await contrast(page, selector), selector).toBeGreaterThanOrEqual(4.5);
    }
    await screenshot(page, 'runs-dark');
    const runId = await page.locator('tbody tr[data-run-id]').first().getAttribute('data-run-id');
    await page.goto(`${galley.url}/runs/${runId}`);
    await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();
    await page.locator('.log-line').first().waitFor();
    for (const selector of ['.log-line .log-text', '.log-ln', '.kv dt', '.timeline-time']) {
      expect(await contrast(page, selector), selector).toBeGreaterThanOrEqual(4.5);
    }
    await screenshot(page, 'run-dark');

    // The toggle overrides the system and is remembered.
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('light');
    await page.reload();
    await page.getByRole('button', { name: 'Switch to dark theme' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('light');
    for (const selector of ['h1', '.log-line .log-text', '.log-ln', '.kv dt', '.timeline-time']) {
      expect(await contrast(page, selector), `light ${selector}`).toBeGreaterThanOrEqual(4.5);
    }
    await context.close();
  }, 120_000);
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  type GalleyProcess,
  type RunJson,
  screenshot,
  useGalleyAndBrowser,
  POLL,
  PATIENCE_MS,
} from './harness.js';

const gate = browserGate();
const LINES = 100_000;

describe.runIf(gate.available)('web UI: run logs — live tail, search, 100,000 lines (real server)', () => {
  let galley: GalleyProcess;
  let page: Page;

  useGalleyAndBrowser(gate, [], async (suite) => {
    ({ galley, page } = suite);
  });

  const execute = async (alias: string, command: string) => {
    await api(galley.url, 'POST', '/task', { alias, command });
    return api<RunJson>(galley.url, 'PUT', `/task/alias/${alias}/execute`, {
      run_tags: { owner_id: 'logs' },
    });
  };

  it('follows the log of a running run as lines arrive, until it stops', async () => {
    // The run prints its first line, then waits for the test to open a gate (however slow the
    // machine, it is still running when the page shows that line), then prints the rest.
    const gateDir = mkdtempSync(join(tmpdir(), 'galley-web-logs-'));
    // Jobs run as nobody when the tests run as root (--run-as): they must see the gate file.
    chmodSync(gateDir, 0o755);
    const gate = join(gateDir, 'gate');
    const run = await execute(
      'ticker',
      `echo "tick 1"; while [ ! -e ${gate} ]; do sleep 0.05; done; for i in 2 3 4 5 6; do echo "tick $i"; sleep 0.4; done`,
    );
    await page.goto(`${galley.url}/runs/${run.run_id}`);
    const log = page.getByRole('region', { name: 'Log output' });
    await log.getByText('tick 1', { exact: true }).waitFor();
    // Still running when the first lines show: later lines arrive without a reload.
    expect(await page.locator('.timeline li[data-status="STOPPED"]').getAttribute('data-state')).toBe(
      'upcoming',
    );
    writeFileSync(gate, '');
    await log.getByText('tick 6', { exact: true }).waitFor();
    await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();
    await page.getByText('6 lines · complete').waitFor();
    rmSync(gateDir, { recursive: true, force: true });
  }, 120_000);

  it('loads a 100,000-line log with only a window of lines in the DOM, and searches it', async () => {
    const run = await execute(
      'big-log',
      `awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) print "line " i " of the big log" }'`,
    );
    await api(galley.url, 'GET', `/history/${run.run_id}`);
    const started = Date.now();
    await page.goto(`${galley.url}/runs/${run.run_id}`);
    const viewport = page.getByRole('region', { name: 'Log output' });
    await page.locator(`[data-line-count="${LINES}"]`).waitFor({ timeout: PATIENCE_MS });
    await page.getByText('100,000 lines · complete').waitFor();
    const loadMs = Date.now() - started;

    const inDom = () => page.locator('.log-line').count();
    expect(await inDom()).toBeGreaterThan(0);
    expect(await inDom()).toBeLessThan(200);

    // Jump to the middle: the lines there are rendered, still only a window of them.
    const scrollStart = Date.now();
    await viewport.evaluate((el) => {
      el.scrollTop = el.scrollHeight / 2;
    });
    await page.locator('.log-line[data-line="50000"]').waitFor();
    const scrollMs = Date.now() - scrollStart;
    expect(await inDom()).toBeLessThan(200);

    // Search: every match counted; it starts at the first match in view (we are at line ~50,000).
    const matching = Array.from({ length: LINES }, (_, i) => i + 1).filter((n) => String(n).includes('9999'));
    const total = matching.length;
    const counter = page.locator('#log-search-count');
    const position = async () => Number(/^(\d+) of /.exec((await counter.textContent()) ?? '')?.[1]);
    const currentLine = () =>
      current.evaluate((m) => Number(m.closest('.log-line')?.getAttribute('data-line')));
    const current = page.locator('.log-line mark.current');
    const searchStart = Date.now();
    await page.getByLabel('Search the log').fill('9999');
    await page.getByText(new RegExp(`^\\d+ of ${total}$`)).waitFor();
    const searchMs = Date.now() - searchStart;
    await current.waitFor();
    expect(await current.textContent()).toBe('9999');
    const start = await position();
    expect(matching[start - 1]).toBe(await currentLine());
    expect(await currentLine()).toBeGreaterThanOrEqual(50_000 - 40);

    // Enter = next, Shift+Enter = previous, and the current match is always rendered.
    await page.getByLabel('Search the log').press('Enter');
    await expect.poll(() => counter.textContent(), POLL).toBe(`${start + 1} of ${total}`);
    expect(await currentLine()).toBe(matching[start]);
    await page.getByLabel('Search the log').press('Shift+Enter');
    await expect.poll(() => counter.textContent(), POLL).toBe(`${start} of ${total}`);
    // Next from the last wraps to the first: line 9999, far above.
    for (let i = start; i <= total; i++) await page.getByRole('button', { name: 'Next match' }).click();
    await expect.poll(() => counter.textContent(), POLL).toBe(`1 of ${total}`);
    await page.locator('.log-line[data-line="9999"] mark.current').waitFor();
    await page.getByRole('button', { name: 'Previous match' }).click();
    await expect.poll(() => counter.textContent(), POLL).toBe(`${total} of ${total}`);
    await page.locator('.log-line[data-line="99999"] mark.current').waitFor();
    expect(await inDom()).toBeLessThan(200);
    await screenshot(page, 'run-log-search');

    await page.getByLabel('Search the log').fill('no such text');
    await page.getByText('No matches').waitFor();
    expect(await page.locator('.log-line mark').count()).toBe(0);

    console.log(JSON.stringify({ lines: LINES, load_ms: loadMs, scroll_ms: scrollMs, search_ms: searchMs }));
  }, 120_000);
});

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  type GalleyProcess,
  HELLO_WORLD,
  pageErrors,
  type RunJson,
  screenshot,
  useGalleyAndBrowser,
  POLL,
} from './harness.js';

const gate = browserGate();

describe.runIf(gate.available)(
  'web UI: running tasks, watching runs, stopping, history (real server)',
  () => {
    let galley: GalleyProcess;
    let page: Page;

    useGalleyAndBrowser(gate, [], async (suite) => {
      ({ galley, page } = suite);
      await api(galley.url, 'POST', '/task', HELLO_WORLD);
      await api(galley.url, 'POST', '/task', {
        alias: 'fails',
        group_name: 'checks',
        command: 'echo oops >&2; exit 3',
      });
      await api(galley.url, 'POST', '/task', {
        alias: 'sleeper',
        group_name: 'checks',
        command: 'echo started; sleep 300',
      });
    });

    /** The run id in the page's URL. */
    const runIdOf = (p: Page) => decodeURIComponent(new URL(p.url()).pathname.split('/').pop() ?? '');

    it('runs hello-world from the UI and watches it reach STOPPED with exit code 0 and its log', async () => {
      await page.goto(`${galley.url}/tasks/hello-flotilla`);
      await page.getByRole('link', { name: '▶ Run' }).click();
      await page.getByLabel('Owner').fill('youruser');
      await page.getByLabel('Variable 1 value').fill('yourusername');
      await screenshot(page, 'run-task-form');
      await page.getByRole('button', { name: '▶ Run' }).click();

      await page.waitForURL(/\/runs\/[^/]+$/);
      const timeline = page.getByRole('list', { name: 'Status timeline' });
      await timeline.locator('li[data-status="STOPPED"][data-state="done"]').waitFor();
      // The steps' times come with the run's events, which may be read after the run itself.
      for (const status of ['QUEUED', 'PENDING', 'RUNNING']) {
        await expect
          .poll(() => timeline.locator(`li[data-status="${status}"]`).getAttribute('data-state'), POLL)
          .toBe('done');
      }
      await expect(page.getByTestId('exit-code').textContent()).resolves.toBe('0');
      await page.getByRole('region', { name: 'Log output' }).getByText('hello yourusername').waitFor();
      await expect(page.locator('.badge[data-status="STOPPED"]').first().textContent()).resolves.toBe(
        'Success',
      );
      await expect(page.getByTestId('run-instance').textContent()).resolves.not.toContain('not placed');

      const run = await api<RunJson & { env: { name: string; value: string }[]; owner_id: string }>(
        galley.url,
        'GET',
        `/history/${runIdOf(page)}`,
      );
      expect(run).toMatchObject({ status: 'STOPPED', exit_code: 0, owner_id: 'youruser' });
      expect(run.env).toContainEqual({ name: 'USERNAME', value: 'yourusername' });
      await screenshot(page, 'run');

      // The owner is remembered for the next run.
      await page.goto(`${galley.url}/tasks/hello-flotilla/run`);
      await expect(page.getByLabel('Owner').inputValue()).resolves.toBe('youruser');
    }, 120_000);

    it('shows a failing command as Failed with its exit code and stderr', async () => {
      const run = await api<RunJson>(galley.url, 'PUT', '/task/alias/fails/execute', {
        run_tags: { owner_id: 'ci' },
      });
      await page.goto(`${galley.url}/runs/${run.run_id}`);
      await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();
      await expect(page.getByTestId('exit-code').textContent()).resolves.toBe('3');
      await expect(page.locator('h1 .badge').textContent()).resolves.toBe('Failed');
      await page.getByRole('region', { name: 'Log output' }).getByText('oops').waitFor();
    }, 120_000);

    it('stops a long run after a confirmation and shows the server’s answer', async () => {
      await page.goto(`${galley.url}/tasks/sleeper/run`);
      await page.getByRole('button', { name: '▶ Run' }).click();
      await page.waitForURL(/\/runs\/[^/]+$/);
      await page.locator('.timeline li[data-status="RUNNING"][data-state="current"]').waitFor();
      await page.getByRole('region', { name: 'Log output' }).getByText('started').waitFor();
      await screenshot(page, 'run-running');

      const stop = page.getByRole('button', { name: '■ Stop' });
      expect(await stop.isEnabled()).toBe(true);
      await stop.click();
      const dialog = page.getByRole('dialog', { name: 'Stop this run?' });
      await dialog.waitFor();
      await screenshot(page, 'run-stop-dialog');
      await dialog.getByRole('button', { name: 'Stop run' }).click();

      // The server's own words, then the run really ends.
      const answer = page.getByTestId('stop-answer');
      await answer.waitFor();
      expect(await answer.textContent()).toMatch(/^Stopping: SIGTERM sent/);
      await page.locator('.timeline li[data-status="STOPPED"][data-state="done"]').waitFor();
      await expect(page.locator('h1 .badge').textContent()).resolves.toBe('Stopped');
      expect(await stop.isDisabled()).toBe(true);
      const run = await api<RunJson>(galley.url, 'GET', `/history/${runIdOf(page)}`);
      expect(run.status).toBe('STOPPED');
    }, 120_000);

    it('filters, sorts and pages the history, with filters in the URL', async () => {
      await page.goto(`${galley.url}/runs`);
      const rows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(3);
      await screenshot(page, 'runs');

      await page.getByLabel('Task alias').fill('fails');
      await page.waitForURL(/alias=fails/);
      await page.locator('tbody tr[data-run-id]').filter({ hasText: 'fails' }).waitFor();
      await expect.poll(() => rows.count(), POLL).toBe(1);

      await page.getByLabel('Task alias').fill('');
      await page.getByLabel('Owner').fill('youruser');
      await page.waitForURL((u) => u.search.includes('owner=youruser') && !u.search.includes('alias='));
      await expect.poll(() => rows.count(), POLL).toBe(2);

      await page.getByRole('checkbox', { name: 'Running' }).check();
      await page.getByText('No run matches these filters').waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => rows.count(), POLL).toBe(3);

      // Time range on queued_at: a window in the future holds nothing; one around now holds all.
      const local = (ms: number) => {
        const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
        return d.toISOString().slice(0, 16);
      };
      await page.getByLabel('Queued from').fill(local(Date.now() + 3_600_000));
      await page.getByText('No run matches these filters').waitFor();
      expect(new URL(page.url()).searchParams.get('from')).not.toBeNull();
      await page.getByLabel('Queued from').fill(local(Date.now() - 3_600_000));
      await page.getByLabel('Queued until').fill(local(Date.now() + 3_600_000));
      await expect.poll(() => rows.count(), POLL).toBe(3);
      await page.getByRole('button', { name: 'Clear filters' }).click();

      // Sort by task alias, ascending on the second click.
      const taskHeader = page.getByRole('columnheader', { name: /Task/ });
      await taskHeader.getByRole('button').click();
      await taskHeader.getByRole('button').click();
      await expect.poll(() => taskHeader.getAttribute('aria-sort'), POLL).toBe('ascending');
      await expect
        .poll(() => rows.locator('td:nth-child(3)').allTextContents(), POLL)
        .toEqual(['fails', 'hello-flotilla', 'sleeper']);

      // Paging: one a page, from a deep link.
      await page.goto(`${galley.url}/runs?limit=1&sort=alias&order=asc`);
      await page.getByText('1–1 of 3').waitFor();
      await page.getByRole('button', { name: 'Next →' }).click();
      await page.getByText('2–2 of 3').waitFor();
      await expect(rows.locator('td:nth-child(3)').textContent()).resolves.toBe('hello-flotilla');
    }, 120_000);

    it('shows new runs and their changes live, without reloading the page', async () => {
      await page.goto(`${galley.url}/runs`);
      await page.getByRole('table', { name: 'Runs' }).waitFor();
      await page.locator('.live[data-state="open"]').waitFor();
      await page.evaluate(() => Object.assign(window, { __sameDocument: true }));

      const run = await api<RunJson>(galley.url, 'PUT', '/task/alias/hello-flotilla/execute', {
        run_tags: { owner_id: 'live' },
      });
      const row = page.locator(`tr[data-run-id="${run.run_id}"]`);
      await row.waitFor();
      await row.locator('.badge[data-status="STOPPED"]').waitFor();
      expect(
        await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
      ).toBe(true);
      expect(pageErrors(page)).toEqual([]);
    }, 120_000);

    it('says so when a run does not exist, and when the server cannot be reached', async () => {
      await page.goto(`${galley.url}/runs/no-such-run`);
      await page.getByRole('heading', { name: 'There is no run no-such-run' }).waitFor();
      await screenshot(page, 'run-not-found');

      // The network to the API fails: the page says so and offers to try again, which then works.
      await page.route('**/api/v1/history?*', (route) => route.abort('connectionrefused'));
      await page.goto(`${galley.url}/runs`);
      await page.getByRole('heading', { name: 'The Galley server cannot be reached' }).waitFor();
      await screenshot(page, 'runs-unreachable');
      await page.unroute('**/api/v1/history?*');
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.getByRole('table', { name: 'Runs' }).waitFor();
    }, 120_000);
  },
);

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  eventually,
  type GalleyProcess,
  pageErrors,
  screenshot,
  useGalleyAndBrowser,
} from './harness.js';

const gate = browserGate();

describe.runIf(gate.available)('web UI: schedules and retries (real server)', () => {
  let galley: GalleyProcess;
  let page: Page;

  useGalleyAndBrowser(gate, [], async (suite) => {
    ({ galley, page } = suite);
  });

  it('previews the next fire times as the cron is typed, adds the schedule, and lists it', async () => {
    const def = await api<{ definition_id: string }>(galley.url, 'POST', '/task', {
      alias: 'nightly',
      command: 'true',
    });
    await page.goto(`${galley.url}/tasks/nightly`);
    const preview = page.getByTestId('schedule-preview');
    await page.getByLabel('Cron').fill('not a cron');
    await expect.poll(() => preview.textContent()).toMatch(/invalid|exactly five, six, or seven/i);
    expect(await page.getByRole('button', { name: 'Add schedule' }).isDisabled()).toBe(true);
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByLabel('Cron').fill('30 2 * * *');
    // Five times, each 02:30 in Paris.
    await expect.poll(async () => await preview.locator('.mono').count()).toBe(5);
    await screenshot(page, 'schedule-editor');
    await page.getByRole('button', { name: 'Add schedule' }).click();
    await page.getByTestId('schedule-row').waitFor();
    const [schedule] = (
      await api<{ schedules: { cron: string; timezone: string; next_runs: string[] }[] }>(
        galley.url,
        'GET',
        `/task/${def.definition_id}/schedules`,
      )
    ).schedules;
    expect(schedule).toMatchObject({ cron: '30 2 * * *', timezone: 'Europe/Paris' });
    for (const t of schedule!.next_runs) expect(['01:30', '00:30']).toContain(t.slice(11, 16));

    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.waitForURL(/\/schedules$/);
    await expect.poll(() => page.getByTestId('schedule-row').count()).toBe(1);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    expect(await page.getByTestId('schedule-row').textContent()).toContain('paused');
    expect(pageErrors(page)).toEqual([]);
  });

  it("shows a run's retries with the rule and reason of each", async () => {
    const def = await api<{ definition_id: string }>(galley.url, 'POST', '/task', {
      alias: 'flaky',
      command: 'exit 3',
      retry_strategy: {
        attempts: 2,
        backoff: { initial_seconds: 0.05 },
        evaluate_on_exit: [{ on_exit_code: '3', action: 'retry' }],
      },
    });
    const run = await api<{ run_id: string }>(galley.url, 'PUT', `/task/${def.definition_id}/execute`, {
      run_tags: { owner_id: 'ui' },
    });
    await eventually(async () => {
      const r = await api<{ status: string }>(galley.url, 'GET', `/history/${run.run_id}`);
      return r.status === 'STOPPED' ? r : undefined;
    });
    await page.goto(`${galley.url}/runs/${run.run_id}`);
    const retries = page.getByTestId('run-retries');
    await retries.waitFor();
    // The timeline loads beside the run: its retry reasons appear once it has.
    await expect.poll(() => retries.textContent()).toContain('retrying by rule 1 (on_exit_code 3 → retry)');
    expect(await retries.textContent()).toContain('Attempt 2 of at most 2');
    await screenshot(page, 'run-retries');
  });
});

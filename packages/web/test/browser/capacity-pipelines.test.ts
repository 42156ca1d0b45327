import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  eventually,
  type GalleyProcess,
  type RunJson,
  screenshot,
  useGalleyAndBrowser,
  POLL,
} from './harness.js';

const gate = browserGate();

describe.runIf(gate.available)('web UI: capacity and queued runs (real server, 1 local CPU)', () => {
  let galley: GalleyProcess;
  let page: Page;
  const execute = (alias: string) =>
    api<RunJson>(galley.url, 'PUT', `/task/alias/${alias}/execute`, { run_tags: { owner_id: 'cap' } });
  const statusOf = async (id: string) => (await api<RunJson>(galley.url, 'GET', `/history/${id}`)).status;

  useGalleyAndBrowser(gate, ['--local-cpus', '1'], async (suite) => {
    ({ galley, page } = suite);
    await api(galley.url, 'POST', '/task', { alias: 'half', cpu: 500, memory: 64, command: 'sleep 300' });
    await api(galley.url, 'POST', '/task', { alias: 'big', cpu: 2000, memory: 64, command: 'echo big' });
  });

  it('shows each cluster’s total, used and free resources and what waits, with the reason', async () => {
    const first = await execute('half');
    const second = await execute('half');
    await eventually(async () =>
      (await statusOf(first.run_id)) === 'RUNNING' && (await statusOf(second.run_id)) === 'RUNNING'
        ? true
        : undefined,
    );
    const third = await execute('half');
    const big = await execute('big');
    const bigReason = await eventually(
      async () =>
        (await api<RunJson>(galley.url, 'GET', `/history/${big.run_id}`)).queued_reason ?? undefined,
    );
    expect(bigReason).toMatch(/2 cpus/);

    await page.goto(`${galley.url}/capacity`);
    const card = page.getByRole('region', { name: 'Cluster local' });
    await card.waitFor();
    const cpu = card.getByRole('meter', { name: 'CPU used' });
    await expect.poll(() => cpu.getAttribute('aria-valuetext'), POLL).toBe('1 CPU of 1 CPU used');
    await card.getByText('0 CPU free').waitFor();
    await card.getByText('2 running').waitFor();

    const queued = page.getByRole('table', { name: 'Queued runs' });
    await queued.locator(`tr[data-run-id="${big.run_id}"]`).getByText(bigReason).waitFor();
    await queued.locator(`tr[data-run-id="${third.run_id}"]`).waitFor();
    await screenshot(page, 'capacity');

    // Capacity frees up: the waiting run leaves the queue live, and the meter follows.
    await api(galley.url, 'POST', `/history/${first.run_id}/stop`);
    await queued.locator(`tr[data-run-id="${third.run_id}"]`).waitFor({ state: 'detached' });
    await eventually(async () => ((await statusOf(third.run_id)) === 'RUNNING' ? true : undefined));

    // The run page says why it still waits.
    await page.goto(`${galley.url}/runs/${big.run_id}`);
    const banner = page.getByTestId('queued-reason');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(bigReason);
    expect(await page.locator('.timeline li[data-status="QUEUED"]').getAttribute('data-state')).toBe(
      'current',
    );
    await screenshot(page, 'run-queued');
  }, 120_000);
});

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  eventually,
  type GalleyProcess,
  pageErrors,
  type RunJson,
  screenshot,
  useGalleyAndBrowser,
} from './harness.js';

const gate = browserGate();

describe.runIf(gate.available)('web UI: arrays, dependencies and queues (real server)', () => {
  let galley: GalleyProcess;
  let page: Page;

  useGalleyAndBrowser(gate, [], async (suite) => {
    ({ galley, page } = suite);
    // Child 2 fails: the array fails, and what waits for it to succeed fails with it.
    await api(galley.url, 'POST', '/task', {
      alias: 'arr',
      group_name: 'q',
      command: 'test "$GALLEY_ARRAY_INDEX" != 2',
    });
  });

  it("shows an array's progress and children, and a dependant's link to it with its state", async () => {
    const parent = await api<RunJson>(galley.url, 'PUT', '/task/alias/arr/execute', {
      run_tags: { owner_id: 'alice' },
      array_size: 3,
      array_parallelism: 2,
    });
    const after = await api<RunJson>(galley.url, 'PUT', '/task/alias/arr/execute', {
      run_tags: { owner_id: 'bob' },
      depends_on: [{ run_id: parent.run_id }],
    });
    await eventually(async () => {
      const r = await api<RunJson>(galley.url, 'GET', `/history/${after.run_id}`);
      return r.status === 'STOPPED' ? r : undefined;
    });

    await page.goto(`${galley.url}/runs/${encodeURIComponent(parent.run_id)}`);
    const batch = page.getByTestId('run-batch');
    await batch.getByRole('heading', { name: 'Array of 3' }).waitFor();
    await expect(batch.getByRole('progressbar').getAttribute('aria-valuenow')).resolves.toBe('3');
    await expect(batch.getByTestId('array-counts').textContent()).resolves.toBe(
      '2 succeeded · 1 failed · 0 running · 0 queued',
    );
    const rows = batch.getByRole('table', { name: 'Array children' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    await expect(rows.nth(2).locator('td').last().textContent()).resolves.toBe('1');
    await screenshot(page, 'array-run');

    await page.goto(`${galley.url}/runs/${encodeURIComponent(after.run_id)}`);
    const deps = page.getByRole('list', { name: 'Dependencies' });
    await deps.getByRole('link', { name: parent.run_id }).waitFor();
    await deps.locator('.badge[data-status="STOPPED"]').waitFor();
    await expect(page.getByTestId('exit-reason').textContent()).resolves.toBe(
      `dependency ${parent.run_id} failed (exit 1)`,
    );

    await page.getByRole('link', { name: 'Queues' }).click();
    const queues = page.getByRole('table', { name: 'Queues' });
    await queues.getByRole('cell', { name: 'default', exact: true }).waitFor();
    expect(pageErrors(page)).toEqual([]);
  });
});

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
  POLL,
  PATIENCE_MS,
} from './harness.js';

/** The fields of a pipeline the test reads from the API. */
interface PipelineJson {
  id: string;
  version: number;
  tasks: { id: string; ok: boolean; version: number; killing: boolean }[];
  update: { phase: string } | null;
}

const gate = browserGate();

describe.runIf(gate.available)('web UI: pipelines (real server, local backend)', () => {
  let galley: GalleyProcess;
  let page: Page;
  const pipeline = () => api<PipelineJson>(galley.url, 'GET', '/pipelines/example-pipeline');

  useGalleyAndBrowser(gate, ['--local-cpus', '2'], async (suite) => {
    ({ galley, page } = suite);
  });

  it('creates a pipeline from the editor, watches its instances start, scales it up and down, rolls out a change and deletes it', async () => {
    await page.goto(`${galley.url}/pipelines`);
    await page.getByText('No pipelines yet').waitFor();
    await page.getByRole('link', { name: '+ New pipeline' }).click();
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    await page.waitForURL(/\/pipelines\/example-pipeline$/);

    const rows = page.getByRole('table', { name: 'Instances' }).locator('tbody tr');
    const health = page.getByTestId('pipeline-health');
    await health.getByText('2/2 healthy').waitFor({ timeout: PATIENCE_MS });
    expect(await rows.count()).toBe(2);
    await rows.first().getByText('worker: running').waitFor();

    // Scale up: one more instance, the two others untouched.
    const before = (await pipeline()).tasks.map((t) => t.id);
    await page.getByRole('spinbutton', { name: 'Instances' }).fill('3');
    await page.getByRole('button', { name: 'Scale' }).click();
    await page.getByRole('status').getByText('Scaling to 3 instances.').waitFor();
    await health.getByText('3/3 healthy').waitFor({ timeout: PATIENCE_MS });
    await expect.poll(() => rows.count(), POLL).toBe(3);
    expect((await pipeline()).tasks.map((t) => t.id).slice(0, 2)).toEqual(before);
    await screenshot(page, 'pipeline');

    await page.goto(`${galley.url}/pipelines`);
    await page.locator('tr[data-pipeline-id="example-pipeline"]').getByText('3/3 healthy').waitFor();
    await screenshot(page, 'pipelines');

    // Scale down: the youngest instance goes.
    await page.getByRole('link', { name: 'example-pipeline' }).click();
    await page.getByRole('spinbutton', { name: 'Instances' }).fill('2');
    await page.getByRole('button', { name: 'Scale' }).click();
    await expect.poll(() => rows.count(), POLL).toBe(2);
    await health.getByText('2/2 healthy').waitFor();
    expect((await pipeline()).tasks.map((t) => t.id)).toEqual(before);

    // A change other than the count is rolled out: the page shows the update until it is done.
    await page.getByRole('link', { name: 'Edit' }).click();
    const editor = page.getByLabel('Pipeline (JSON)');
    const spec = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    expect(spec['version']).toBeUndefined();
    await editor.fill(
      JSON.stringify(
        { ...spec, environment: { GREETING: 'hello' }, update_strategy: { min_healthy_seconds: 1 } },
        null,
        2,
      ),
    );
    await page.getByRole('button', { name: 'Save and roll out' }).click();
    await page.waitForURL(/\/pipelines\/example-pipeline$/);
    const banner = page.getByTestId('rolling-update');
    await banner.waitFor();
    await banner.getByText(/Update done \(version 1 → 2\)/).waitFor({ timeout: PATIENCE_MS });
    await banner.getByText('2 of 2 new instances available').waitFor();
    await screenshot(page, 'pipeline-update');
    const updated = await eventually(async () => {
      const p = await pipeline();
      return p.tasks.length === 2 && p.tasks.every((t) => t.version === 2 && t.ok) ? p : undefined;
    });
    expect(updated.version).toBe(2);

    // Delete, confirmed in a dialog.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete pipeline' }).click();
    await page.waitForURL(/\/pipelines$/);
    await page.getByText('No pipelines yet').waitFor({ timeout: PATIENCE_MS });
    expect(pageErrors(page)).toEqual([]);
  }, 180_000);

  it('shows the API’s words when a pipeline is refused', async () => {
    await page.goto(`${galley.url}/pipelines/new`);
    const editor = page.getByLabel('Pipeline (JSON)');
    const spec = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    await editor.fill(JSON.stringify({ ...spec, id: 'no spaces allowed', instances: -1 }));
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    const error = page.getByTestId('form-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('id must match ^[a-zA-Z0-9_-]+$');
    expect(await error.textContent()).toContain('instances must be a whole number ≥ 0');
    await screenshot(page, 'pipeline-refused');
  }, 120_000);
});

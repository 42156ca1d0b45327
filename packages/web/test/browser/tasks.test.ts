import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  type GalleyProcess,
  pageErrors,
  screenshot,
  useGalleyAndBrowser,
  POLL,
} from './harness.js';

const gate = browserGate();

interface DefinitionJson {
  definition_id: string;
  alias: string;
  memory: number;
  tags: string[];
  env: { name: string; value: string }[];
}

describe.runIf(gate.available)('web UI: task definitions (real server)', () => {
  let galley: GalleyProcess;
  let page: Page;

  useGalleyAndBrowser(gate, [], async (suite) => {
    ({ galley, page } = suite);
  });

  it('defines a task through the form, showing the API’s validation messages inline', async () => {
    await page.goto(`${galley.url}/tasks`);
    await page.getByText('No tasks yet').waitFor();
    await screenshot(page, 'tasks-empty');
    await page.getByRole('link', { name: '+ New task' }).click();
    await page.waitForURL(/\/tasks\/new$/);

    // The server refuses an alias with a space and a memory that is not a number, field by field.
    await page.getByLabel('Alias').fill('hello flotilla');
    await page.getByLabel('Memory (MB)').fill('lots');
    await page.getByRole('button', { name: 'Create task' }).click();
    const aliasError = page.locator('#f-alias-error');
    await aliasError.waitFor();
    expect(await aliasError.textContent()).toMatch(/must match/);
    expect(await page.getByLabel('Alias').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('form-error').textContent()).toBe(
      'Not saved: fix the 2 fields marked below.',
    );
    expect(await page.locator('#f-memory-error').textContent()).toMatch(/whole number/);
    await screenshot(page, 'task-form-errors');

    await page.getByLabel('Alias').fill('hello-flotilla');
    await page.getByLabel('Memory (MB)').fill('512');
    await page.getByLabel('Group').fill('examples');
    await page.getByLabel('Tags').fill('demo, examples');
    await page.getByLabel('Variable 1 value').fill('_fill_me_in_');
    await page.getByRole('button', { name: '+ Add variable' }).click();
    await page.getByLabel('Variable 2 name').fill('GREETING');
    await page.getByLabel('Variable 2 value').fill('hi');
    await page.getByRole('button', { name: 'Create task' }).click();

    await page.waitForURL(/\/tasks\/hello-flotilla$/);
    await page.getByRole('heading', { name: 'hello-flotilla' }).waitFor();
    const saved = await api<DefinitionJson>(galley.url, 'GET', '/task/alias/hello-flotilla');
    expect(saved).toMatchObject({ memory: 512, tags: ['demo', 'examples'] });
    expect(saved.env).toEqual([
      { name: 'USERNAME', value: '_fill_me_in_' },
      { name: 'GREETING', value: 'hi' },
    ]);
    await screenshot(page, 'task');
  }, 120_000);

  it('shows the JSON and edits through the JSON editor', async () => {
    await page.goto(`${galley.url}/tasks/hello-flotilla`);
    await page.getByRole('tab', { name: 'JSON' }).click();
    expect(await page.getByLabel('As the API returns it').inputValue()).toContain(
      '"alias": "hello-flotilla"',
    );

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('tab', { name: 'JSON' }).click();
    const editor = page.getByLabel('Task definition (JSON)');
    const json = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    // A JSON syntax error is shown as it is typed, and blocks nothing else.
    await editor.fill('{ "alias": ');
    await page.getByText(/Not valid JSON/).waitFor();
    await editor.fill(JSON.stringify({ ...json, memory: 256, command: 'echo "hi ${USERNAME}"' }, null, 2));
    await screenshot(page, 'task-json-editor');
    // Back to the form: it carries the JSON's values.
    await page.getByRole('tab', { name: 'Form' }).click();
    expect(await page.getByLabel('Memory (MB)').inputValue()).toBe('256');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/\/tasks\/hello-flotilla$/);
    await page.getByText('256 MB').waitFor();
    const saved = await api<DefinitionJson>(galley.url, 'GET', '/task/alias/hello-flotilla');
    expect(saved.memory).toBe(256);
  }, 120_000);

  it('searches tasks by alias, group and tag', async () => {
    await api(galley.url, 'POST', '/task', {
      alias: 'nightly-report',
      group_name: 'reports',
      command: 'true',
      tags: ['cron'],
    });
    await api(galley.url, 'POST', '/task', { alias: 'hello-again', group_name: 'reports', command: 'true' });
    await page.goto(`${galley.url}/tasks`);
    const rows = page.getByRole('table', { name: 'Tasks' }).locator('tbody tr');
    await expect.poll(() => rows.count(), POLL).toBe(3);
    await screenshot(page, 'tasks');

    await page.getByLabel(/Search by alias/).fill('HELLO');
    await expect
      .poll(() => rows.locator('td:first-child').allTextContents(), POLL)
      .toEqual(['hello-again', 'hello-flotilla']);
    await page.getByLabel('Group').selectOption('reports');
    await expect.poll(() => rows.locator('td:first-child').allTextContents(), POLL).toEqual(['hello-again']);
    await page.getByLabel(/Search by alias/).fill('');
    await page.getByLabel('Tag').selectOption('cron');
    await expect
      .poll(() => rows.locator('td:first-child').allTextContents(), POLL)
      .toEqual(['nightly-report']);

    // The search is in the URL: a deep link shows the same list.
    await page.goto(`${galley.url}/tasks?q=flot`);
    await expect
      .poll(() => rows.locator('td:first-child').allTextContents(), POLL)
      .toEqual(['hello-flotilla']);
    await page.goto(`${galley.url}/tasks?q=nothing-like-this`);
    await page.getByText('No task matches').waitFor();
  }, 120_000);

  it('deletes a task only after the confirmation', async () => {
    await page.goto(`${galley.url}/tasks/hello-again`);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete hello-again?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await api(galley.url, 'GET', '/task/alias/hello-again');

    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete task' }).click();
    await page.waitForURL(/\/tasks$/);
    await expect(api(galley.url, 'GET', '/task/alias/hello-again')).rejects.toThrow(/404/);
    await page.goto(`${galley.url}/tasks/hello-again`);
    await page.getByText('There is no task "hello-again"').waitFor();
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);
});

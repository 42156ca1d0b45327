import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  browserGate,
  type GalleyProcess,
  pageErrors,
  screenshot,
  useGalleyAndBrowser,
  PATIENCE_MS,
} from './harness.js';

// The pipeline page's process logs (issue 11 item 3) and its failing status with the reason
// (issue 12 item 3), against the built server on the local backend.

const gate = browserGate();

describe.runIf(gate.available)(
  'web UI: pipeline process logs and failing status (real server)',
  { timeout: 180_000 },
  () => {
    let galley: GalleyProcess;
    let page: Page;
    let gateDir: string;

    useGalleyAndBrowser(gate, ['--local-cpus', '2'], (suite) => {
      ({ galley, page } = suite);
    });
    beforeAll(() => {
      gateDir = mkdtempSync(join(tmpdir(), 'galley-web-plogs-'));
      // Jobs run as nobody when the tests run as root (--run-as): they must see the gate file.
      chmodSync(gateDir, 0o755);
    });
    afterAll(() => {
      if (gateDir) rmSync(gateDir, { recursive: true, force: true });
    });

    it("shows the chosen instance's process output as it comes, and another process's on choosing it", async () => {
      // Each instance prints a first line, waits for the test to open a gate, then prints more.
      const gateFile = join(gateDir, 'gate');
      await api(galley.url, 'POST', '/pipelines', {
        id: 'chatty',
        processes: {
          worker: {
            id: 'worker',
            shell: true,
            command: `echo "worker $GALLEY_INSTANCE_ID starting"; while [ ! -e ${gateFile} ]; do sleep 0.05; done; echo "worker $GALLEY_INSTANCE_ID past the gate"; echo "worker warns" >&2; exec sleep 1000`,
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1,
          },
          helper: {
            id: 'helper',
            shell: true,
            command: 'echo "helper of $GALLEY_INSTANCE_ID"; exec sleep 1000',
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1,
          },
        },
        instances: 2,
      });
      await page.goto(`${galley.url}/pipelines/chatty`);
      const logs = page.getByTestId('process-logs');
      const output = logs.getByRole('region', { name: 'Log output' });
      // The first instance is shown; choose its worker.
      await logs.getByLabel('Process', { exact: true }).selectOption('worker');
      await output.getByText('worker chatty.1 starting', { exact: true }).waitFor({ timeout: PATIENCE_MS });

      // Live: the rest arrives without a reload (stdout, then stderr).
      writeFileSync(gateFile, '');
      await output
        .getByText('worker chatty.1 past the gate', { exact: true })
        .waitFor({ timeout: PATIENCE_MS });
      await output.getByText('worker warns', { exact: true }).waitFor();
      await screenshot(page, 'pipeline-logs');

      // Another instance, another process.
      await logs.getByLabel('Logs of instance').selectOption('chatty.2');
      await output
        .getByText('worker chatty.2 past the gate', { exact: true })
        .waitFor({ timeout: PATIENCE_MS });
      expect(await output.getByText('worker chatty.1 starting').count()).toBe(0);
      await logs.getByLabel('Process', { exact: true }).selectOption('helper');
      await output.getByText('helper of chatty.2', { exact: true }).waitFor({ timeout: PATIENCE_MS });

      // The raw link reads the same process's output.
      const href = await logs.getByRole('link', { name: 'Raw' }).getAttribute('href');
      expect(href).toBe(
        '/api/v1/pipelines/chatty/instances/chatty.2/processes/helper/logs?raw_text=true&max_bytes=4194304',
      );
      const raw = await fetch(`${galley.url}${href}`);
      expect(await raw.text()).toBe('helper of chatty.2\n');

      // The search of the run page's viewer works here too.
      await logs.getByLabel('Logs of instance').selectOption('chatty.1');
      await logs.getByLabel('Process', { exact: true }).selectOption('worker');
      await output.getByText('worker warns', { exact: true }).waitFor({ timeout: PATIENCE_MS });
      await logs.getByRole('searchbox', { name: 'Search the log' }).fill('gate');
      await logs.getByText('1 of 1').waitFor();
      expect(pageErrors(page)).toEqual([]);
    });

    it('reads failing with the reason while an instance crash-loops', async () => {
      await api(galley.url, 'POST', '/pipelines', {
        id: 'crashy',
        processes: {
          main: {
            id: 'main',
            shell: true,
            command: 'echo "cannot reach the broker" >&2; exit 3',
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1,
          },
        },
        instances: 1,
      });
      await page.goto(`${galley.url}/pipelines/crashy`);
      const banner = page.getByTestId('pipeline-status-reason');
      await banner
        .getByText(/instance crashy\.1 is crash-looping: process main exited with code 3/)
        .waitFor({ timeout: PATIENCE_MS });
      expect(await banner.textContent()).toMatch(/^Failing: /);
      expect(pageErrors(page)).toEqual([]);
    });
  },
);

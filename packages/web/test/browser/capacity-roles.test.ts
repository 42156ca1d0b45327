import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserGate, type GalleyProcess, pageErrors, screenshot, useGalleyAndBrowser } from './harness.js';

const gate = browserGate();

describe.runIf(gate.available)(
  'web UI: cluster capacity per Mesos role (real server, fake master, dry run)',
  { timeout: 120_000 },
  () => {
    let mesos: FakeMesos;
    let galley: GalleyProcess;
    let page: Page;
    let dir: string;
    let file: string;

    beforeAll(async () => {
      if (!gate.available) return;
      mesos = await startFakeMesos({
        agents: [{ hostname: 'i-0b00000000000001' }],
        allocationIntervalMs: 100,
      });
      dir = await mkdtemp(join(tmpdir(), 'galley-capacity-ui-'));
      file = join(dir, 'capacity.json');
      await writeFile(
        file,
        JSON.stringify({
          interval_seconds: 0.2,
          roles: {
            batch: {
              provider: 'dry-run',
              group: 'asg-batch',
              min: 0,
              max: 3,
              node: { cpus: 2, mem: 4096 },
              cooldown_seconds: 3600,
            },
          },
        }),
      );
    }, 120_000);
    useGalleyAndBrowser(
      gate,
      () => [
        '--backend',
        'mesos',
        '--mesos-master',
        mesos.leaderUrl.replace(/^http:\/\//, ''),
        '--mesos-roles',
        'batch',
        '--capacity-config',
        file,
      ],
      (suite) => {
        ({ galley, page } = suite);
      },
    );

    afterAll(async () => {
      await mesos?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('shows each role’s group, nodes now and wanted, agents and the last decisions with their reasons', async () => {
      await page.goto(`${galley.url}/capacity`);
      const card = page.getByRole('region', { name: 'Cluster mesos' });
      const role = card.locator('[data-role="batch"]');
      await role.getByText('dry-run asg-batch').waitFor();
      // One idle agent, no demand: the dry run would drain it (and says so), and calls nothing, so
      // the group stays at 1 node.
      await role.getByText(/nodes 1 → 1 \(needed 0, within \[0, 3\]\)/).waitFor();
      await role.getByText('1 agents (0 busy)').waitFor();
      const decisions = role.getByRole('list', { name: 'Last decisions of batch' });
      const drain = decisions
        .getByRole('listitem')
        .filter({ hasText: 'dry run: would schedule maintenance for i-0b00000000000001' });
      await drain.waitFor();
      expect(await drain.textContent()).toMatch(/down 1 → 0: demand 0 cpus/);
      // The agent as Galley runs work there: no galley-images attribute → no images (auto); runs
      // without an image under the shared galley-executor (the default), nothing failed yet.
      const agent = card
        .getByRole('table', { name: 'Agents' })
        .locator('tr', { hasText: 'i-0b00000000000001' });
      await agent.waitFor();
      expect(await agent.locator('[data-field="images"]').textContent()).toBe('none');
      expect(await agent.locator('[data-field="executor"]').textContent()).toBe('galley');
      expect(await agent.locator('[data-field="failures"]').textContent()).toBe('—');
      await screenshot(page, 'capacity-roles');
      expect(mesos.calls({ api: 'operator' })).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
    });
  },
);

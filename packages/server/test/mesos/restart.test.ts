import { AcceptPlan, createScheduler, type Offer } from '@galley/mesos';
import { afterEach, describe, expect, it } from 'vitest';
import {
  api,
  define,
  execute,
  fakeOf,
  getRun,
  mesosFlags,
  needsFake,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from './harness.js';

// A server killed with SIGKILL and started again: no accepted run is lost, none is launched
// twice, and tasks of the framework that Galley does not know are killed.

describe.runIf(needsFake('restart after SIGKILL (needs the fake master to time the kill and inspect tasks)'))(
  'Mesos backend across a server SIGKILL (fake master)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 120_000 },
  () => {
    let master: TestMaster | undefined;
    let galley: Galley | undefined;
    let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
    afterEach(async () => {
      await galley?.stop();
      await master?.stop();
      await dir?.remove();
    });

    it('launches exactly one task per run attempt when SIGKILLed between ACCEPT and the first update, then restarted (fake master)', async () => {
      // Tasks start 10 s after their ACCEPT, so the server dies with every launch accepted and no
      // update seen (10 s leave room for the 12 executes on a loaded machine; checked below).
      master = await startMaster({
        agents: 2,
        execution: 'simulate',
        simulation: { launchDelayMs: 10_000 },
      });
      const fake = fakeOf(master);
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
      await define(galley.url, 'brief', { command: 'sleep 0.2' });
      const runIds: string[] = [];
      for (let i = 0; i < 12; i++) runIds.push(await execute(galley.url, 'brief'));
      await fake.waitFor((s) => s.tasks.length === runIds.length, {
        what: 'every run to be accepted',
        timeoutMs: 60_000,
      });
      await galley.kill();
      expect(fake.state().tasks.every((t) => t.states.length === 0)).toBe(true);
      const acceptsBefore = fake.calls({ type: 'ACCEPT' }).length;

      galley = await startGalley(dir.path, mesosFlags(master.master));
      for (const runId of runIds) {
        const run = await runReaches(galley.url, runId, 'STOPPED');
        expect([run.exit_code, run.attempt_count]).toEqual([0, 1]);
      }
      const taskIds = fake
        .state()
        .tasks.map((t) => t.taskId)
        .sort();
      expect(taskIds).toEqual(runIds.map((id) => `${id}.1`).sort());
      const launched = fake
        .calls({ type: 'ACCEPT' })
        .flatMap(
          (c) => (c.body?.['accept'] as { operations: { launch?: { task_infos: unknown[] } }[] }).operations,
        )
        .flatMap((op) => op.launch?.task_infos ?? []);
      expect(launched).toHaveLength(runIds.length);
      expect(fake.calls({ type: 'ACCEPT' }).length).toBe(acceptsBefore);
      // It re-subscribed as the same framework (its id was in the database).
      expect(fake.state().frameworks).toHaveLength(1);
    });

    it('adopts its running tasks and kills the framework tasks it does not know after a restart (fake master)', async () => {
      master = await startMaster({ agents: 2 });
      const fake = fakeOf(master);
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
      await define(galley.url, 'long', { command: 'sleep 60' });
      const runId = await execute(galley.url, 'long');
      await runReaches(galley.url, runId, 'RUNNING');
      const framework = fake.state().frameworks[0]!;
      await galley.kill();

      // Another scheduler, using the same framework, launches a task Galley never heard of.
      const rogue = createScheduler({
        master: master.master,
        framework: {
          id: { value: framework.id },
          user: 'root',
          name: 'galley',
          roles: ['*'],
          capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
        },
        handlers: {
          OFFERS: async (event, { scheduler }) => {
            const offer = (event.offers.offers ?? [])[0] as Offer | undefined;
            if (!offer || fake.state().tasks.some((t) => t.taskId === 'rogue-task')) return;
            const plan = new AcceptPlan([offer]);
            const fit = plan.fit({ cpus: 0.1, mem: 16 });
            if (!fit.ok) return;
            plan.launch([
              {
                name: 'rogue',
                task_id: { value: 'rogue-task' },
                agent_id: offer.agent_id,
                resources: fit.resources,
                command: { value: 'sleep 60' },
              },
            ]);
            const a = plan.toAccept(0);
            await scheduler.accept(a.offer_ids, a.operations, a.filters);
          },
        },
      });
      rogue.start();
      await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 'rogue-task')?.state === 'TASK_RUNNING', {
        what: 'the rogue task to run',
        timeoutMs: 60_000,
      });
      await rogue.stop();

      galley = await startGalley(dir.path, mesosFlags(master.master));
      await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 'rogue-task')?.state === 'TASK_KILLED', {
        timeoutMs: 60_000,
        what: 'the unknown task to be killed',
      });
      // Galley's own task was adopted, not killed: it still runs, and a stop reaches it.
      expect(fake.state().tasks.find((t) => t.taskId === `${runId}.1`)?.state).toBe('TASK_RUNNING');
      expect((await getRun(galley.url, runId)).status).toBe('RUNNING');
      expect((await api(galley.url, 'POST', `/history/${runId}/stop`)).body).toMatchObject({
        action: 'kill-sent',
      });
      const stopped = await runReaches(galley.url, runId, 'STOPPED');
      expect(stopped.exit_reason).toMatch(/^stopped by request \(killed/);
      expect(stopped.attempt_count).toBe(1);
      expect(fake.state().frameworks.map((f) => f.id)).toEqual([framework.id]);
    });
  },
);

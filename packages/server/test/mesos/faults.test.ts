import { createMemoryFrameworkIdStore, createScheduler, type MesosScheduler } from '@galley/mesos';
import { afterEach, describe, expect, it } from 'vitest';
import {
  api,
  define,
  eventually,
  execute,
  fakeOf,
  mesosFlags,
  needsFake,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from './harness.js';

// Faults of the cluster under a running server: an agent lost mid-run, and the leading master
// failing over. Both need the fake master's fault injection.

describe.runIf(needsFake('agent loss and master failover (fault injection)'))(
  'Mesos backend under cluster faults (fake master)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 120_000 },
  () => {
    let master: TestMaster | undefined;
    let galley: Galley | undefined;
    let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
    let intruder: MesosScheduler | undefined;
    afterEach(async () => {
      await intruder?.stop();
      await galley?.stop();
      await master?.stop();
      await dir?.remove();
    });

    it('retries a run on another agent when its agent is lost mid-run, and kills the original when the agent comes back (fake master)', async () => {
      master = await startMaster({ agents: 2 });
      const fake = fakeOf(master);
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
      const url = galley.url;
      // The first attempt (task id `<run>.1`: MESOS_TASK_ID under the shared galley-executor,
      // MESOS_EXECUTOR_ID under a command executor) would run long; the retry finishes at once.
      await define(url, 'survivor', {
        command: 'case "${MESOS_TASK_ID:-$MESOS_EXECUTOR_ID}" in *.1) sleep 60;; esac; echo finished',
      });
      const runId = await execute(url, 'survivor');
      const first = await runReaches(url, runId, 'RUNNING');
      const lost = first.instance.instance_id;
      expect(fake.agentIds).toContain(lost);

      fake.loseAgent(lost, { unreachableAfterMs: 200 });
      const run = await runReaches(url, runId, 'STOPPED');
      expect(run.exit_code).toBe(0);
      expect(run.attempt_count).toBe(2);
      expect(run.instance.instance_id).not.toBe(lost);
      const timeline = (await api(url, 'GET', `/${runId}/events`)).body;
      const failure = timeline.events.find((e: { type: string }) => e.type === 'ended');
      expect(failure.status).toBe('NEEDS_RETRY');
      expect(failure.reason).toMatch(
        /^host failure: agent unreachable \(.* unreachable for [\d.]+ s\); retrying/,
      );
      const tasks = fake.state().tasks.filter((t) => t.taskId.startsWith(runId));
      expect(tasks.map((t) => [t.taskId, t.agentId]).sort()).toEqual(
        [
          [`${runId}.1`, lost],
          [`${runId}.2`, run.instance.instance_id],
        ].sort(),
      );

      // The agent comes back with the first attempt still running: Galley gave it up, so it is killed.
      fake.reregisterAgent(lost);
      await fake.waitFor(
        (s) => s.tasks.find((t) => t.taskId === `${runId}.1`)?.states.includes('TASK_KILLED'),
        { timeoutMs: 60_000, what: 'the given-up attempt to be killed' },
      );
      expect((await runReaches(url, runId, 'STOPPED')).attempt_count).toBe(2);
    });

    it('re-subscribes with the same framework id when the leading master fails over, and its runs finish (fake master, 3 masters)', async () => {
      master = await startMaster({ masters: 3, agents: 2 });
      const fake = fakeOf(master);
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
      const url = galley.url;
      await define(url, 'steady', { command: 'sleep 1.5; echo steady' });
      const before = await execute(url, 'steady');
      await runReaches(url, before, 'RUNNING');
      const frameworkId = fake.state().frameworks[0]!.id;
      const subscribes = fake.calls({ type: 'SUBSCRIBE' }).length;

      await fake.failover();
      const after = await execute(url, 'steady');
      const [a, b] = await Promise.all([
        runReaches(url, before, 'STOPPED'),
        runReaches(url, after, 'STOPPED'),
      ]);
      expect([a.exit_code, a.attempt_count]).toEqual([0, 1]);
      expect([b.exit_code, b.attempt_count]).toEqual([0, 1]);

      const resubscribe = fake.calls({ type: 'SUBSCRIBE', status: 200 }).slice(-1)[0]!;
      expect(fake.calls({ type: 'SUBSCRIBE' }).length).toBeGreaterThan(subscribes);
      expect(resubscribe.frameworkId).toBe(frameworkId);
      expect(fake.state().frameworks.map((f) => f.id)).toEqual([frameworkId]);
      const clusters = await eventually('the cluster to be subscribed again', async () => {
        const d = (await api(url, 'GET', '/clusters')).body.details.find(
          (x: { name: string }) => x.name === 'mesos',
        );
        return d.mesos.connection === 'subscribed' ? d : undefined;
      });
      expect(clusters.mesos.framework_id).toBe(frameworkId);
      expect(clusters.mesos.master).toBe(`${fake.leaderUrl}/`);
      // Each run ran once: one task per attempt.
      expect(
        fake
          .state()
          .tasks.map((t) => t.taskId)
          .sort(),
      ).toEqual([`${before}.1`, `${after}.1`].sort());
    });
    it('takes its framework back when another instance subscribes with its id while it leads, and runs go on (fake master)', async () => {
      master = await startMaster({ agents: 1 });
      const fake = fakeOf(master);
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
      const url = galley.url;
      const clusterState = async () =>
        (await api(url, 'GET', '/clusters')).body.details.find((x: { name: string }) => x.name === 'mesos');
      await eventually('subscribed', async () =>
        (await clusterState()).mesos.connection === 'subscribed' ? true : undefined,
      );
      const frameworkId = fake.state().frameworks[0]!.id;

      // What a deposed replica that subscribes again before it learns it lost the lease does.
      const stopped: string[] = [];
      intruder = createScheduler({
        master: master.master.split(',')[0]!,
        framework: { user: 'root', name: 'galley', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
        frameworkIdStore: createMemoryFrameworkIdStore(frameworkId),
        reconciliation: { tasks: () => [], periodMs: 0 },
      });
      intruder.on('stopped', (e) => stopped.push(e.reason));
      intruder.start();
      await intruder.subscribed();

      // Galley, still the leader, subscribes again; the master fails the intruder over.
      await eventually('the intruder failed over', async () => (stopped.length > 0 ? true : undefined));
      expect(stopped).toEqual(['failed-over']);
      const after = await eventually('Galley subscribed again', async () => {
        const d = await clusterState();
        return d.mesos.connection === 'subscribed' ? d : undefined;
      });
      expect(after.mesos.framework_id).toBe(frameworkId);
      expect(fake.calls({ type: 'SUBSCRIBE', status: 200 }).map((c) => c.frameworkId)).toEqual([
        undefined,
        frameworkId,
        frameworkId,
      ]);
      await define(url, 'after-takeback', { command: 'echo back' });
      const run = await runReaches(url, await execute(url, 'after-takeback'), 'STOPPED');
      expect(run.exit_code).toBe(0);
    });
  },
);

import { describe, expect, it, vi } from 'vitest';
import { fakeOf, needsFake } from '../mesos/harness.js';
import {
  allReady,
  getPipeline,
  httpStatus,
  mainPidInDir,
  PATIENCE_MS,
  pidsInDir,
  processAlive,
  request,
  seedPipeline,
  unchecked,
  waitFor,
  waitGone,
  watchUntilGone,
} from './harness.js';
import { useMesosPipelineServer } from './mesos-server.js';

// Pipelines on the Mesos backend, end to end: the BUILT server against the fake master running
// every task as a real process (processes mode): one LAUNCH_GROUP on the default executor per
// instance, scaling, delete with grace, a server SIGKILLed and restarted, an agent lost.

interface AcceptBody {
  accept: {
    operations: {
      type: string;
      launch_group?: {
        executor: Record<string, unknown> & {
          executor_id: { value: string };
          resources: { name: string; scalar?: { value: number } }[];
        };
        task_group: { tasks: (Record<string, unknown> & { task_id: { value: string } })[] };
      };
    }[];
  };
}

describe.runIf(needsFake('pipelines on Mesos (needs the fake master to inspect tasks and lose agents)'))(
  'pipelines on the Mesos backend (fake master, real processes)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 120_000 },
  () => {
    const server = useMesosPipelineServer([
      // Distinct port ranges: both agents are this host, and their tasks bind real ports.
      { resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-31499]' },
      { resources: 'cpus:2;mem:4096;disk:10000;ports:[31500-31999]' },
    ]);
    const url = server.url;
    const launchGroups = () =>
      fakeOf(server.master())
        .calls({ type: 'ACCEPT' })
        .flatMap((c) => (c.body as unknown as AcceptBody).accept.operations)
        .filter((op) => op.type === 'LAUNCH_GROUP')
        .map((op) => op.launch_group!);
    const taskOf = server.fakeTask;

    it("launches each instance of the seed's example as one LAUNCH_GROUP on the default executor: one task per process, executor resources, environment, ports, kill policy and labels (fake master)", async () => {
      const spec = unchecked(seedPipeline('seed', { instances: 3, labels: { team: 'data' } }));
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const p = await waitFor(url(), 'seed', '3 ready instances', allReady(3));
      const groups = launchGroups();
      expect(groups).toHaveLength(3);
      for (const [i, t] of p.tasks.entries()) {
        const group = groups.find((g) => g.executor.executor_id.value === t.processor_id)!;
        expect(group.executor).toMatchObject({
          type: 'DEFAULT',
          labels: { labels: expect.arrayContaining([{ key: 'team', value: 'data' }]) },
        });
        const scalars = Object.fromEntries(group.executor.resources.map((r) => [r.name, r.scalar?.value]));
        expect(scalars).toMatchObject({ cpus: 0.01, mem: 32, disk: 1 });
        const ids = group.task_group.tasks.map((x) => x.task_id.value).sort();
        expect(ids).toEqual([`${t.processor_id}:parse`, `${t.processor_id}:sidecar`]);
        expect(t.processor_id).toMatch(new RegExp(`^seed\\$${i + 1}\\.1\\.[a-z0-9]+$`));
        const parse = group.task_group.tasks.find((x) => x.task_id.value.endsWith(':parse'))!;
        const port = t.processes['parse']!.ports[0]!;
        expect(parse).toMatchObject({
          kill_policy: { grace_period: { nanoseconds: 1_000_000_000 } },
          command: {
            shell: true,
            environment: {
              variables: expect.arrayContaining([
                { name: 'APP_ENV', value: 'test' },
                { name: 'PROC_ENV', value: 'parse-only' },
                { name: 'PORT0', value: String(port) },
                { name: 'PORT_6066', value: String(port) },
              ]),
            },
          },
        });
        expect(taskOf(`${t.processor_id}:parse`)?.state).toBe('TASK_RUNNING');
        expect(t.processes['parse']!.agent_id).toBe(taskOf(`${t.processor_id}:parse`)?.agentId);
        // The real process serves on its host port (once it has started listening).
        expect(await httpStatus(`http://127.0.0.1:${port}/health`)).toBe(200);
      }
      // /clusters counts what the launches hold: 3 executors and their 6 tasks.
      const clusters = await request<{ details: { backend: string; running: number }[] }>(
        url(),
        'GET',
        '/api/v1/clusters',
      );
      expect(clusters.body.details.find((d) => d.backend === 'mesos')?.running).toBe(3);
      // A process's health check goes into its TaskInfo (the agent runs it; on HOST, the host port).
      const checked = seedPipeline('checked', { instances: 1 });
      expect((await request(url(), 'POST', '/pipelines', checked)).status).toBe(204);
      const task = await vi.waitFor(
        () => {
          const g = launchGroups().find((x) => x.executor.executor_id.value.startsWith('checked$'));
          if (!g) throw new Error('no LAUNCH_GROUP for "checked" yet');
          return g.task_group.tasks.find((x) => x.task_id.value.endsWith(':parse'))!;
        },
        { timeout: PATIENCE_MS, interval: 50 },
      );
      // The instance's ports are stored from the launch's `placed` event, a moment after the ACCEPT.
      const checkedPipeline = await vi.waitFor(
        async () => {
          const p = await getPipeline(url(), 'checked');
          if (p.tasks[0]?.processes['parse']?.ports[0] === undefined)
            throw new Error('"checked" is not placed yet');
          return p;
        },
        { timeout: PATIENCE_MS, interval: 50 },
      );
      expect(task['health_check']).toMatchObject({
        type: 'HTTP',
        http: { port: checkedPipeline.tasks[0]!.processes['parse']!.ports[0], path: '/health' },
        interval_seconds: 0.2,
        consecutive_failures: 3,
      });
      expect((await request(url(), 'DELETE', '/pipelines/checked')).status).toBe(204);
      await waitGone(url(), 'checked');
    });

    it('scales up and down: the youngest instances go, the others keep their tasks (fake master)', async () => {
      const before = await getPipeline(url(), 'seed');
      expect((await request(url(), 'PATCH', '/pipelines/seed', { instances: 5 })).status).toBe(204);
      const up = await waitFor(url(), 'seed', '5 ready', allReady(5));
      expect(up.tasks.slice(0, 3).map((t) => t.processor_id)).toEqual(
        before.tasks.map((t) => t.processor_id),
      );
      expect((await request(url(), 'PATCH', '/api/v1/pipelines/seed', { instances: 2 })).status).toBe(204);
      const down = await waitFor(url(), 'seed', '2 instances', (p) => p.tasks.length === 2 && allReady(2)(p));
      expect(down.tasks.map((t) => t.id)).toEqual(['seed.1', 'seed.2']);
      for (const t of up.tasks.slice(2)) {
        for (const name of ['parse', 'sidecar'])
          expect(taskOf(`${t.processor_id}:${name}`)?.state).toBe('TASK_KILLED');
      }
    });

    it('keeps the same instances across a server SIGKILL and restart: the same Mesos tasks and processes, nothing launched again (fake master)', async () => {
      const before = await waitFor(url(), 'seed', '2 ready', allReady(2));
      const sandboxes = before.tasks.flatMap((t) =>
        ['parse', 'sidecar'].map((n) => taskOf(`${t.processor_id}:${n}`)!.sandbox),
      );
      const pids = sandboxes.map((s) => mainPidInDir(s));
      expect(pids.every((pid) => pid !== null)).toBe(true);
      const groupsBefore = launchGroups().length;
      await server.restartAfterKill();
      const after = await waitFor(url(), 'seed', '2 ready again', allReady(2));
      expect(after.tasks.map((t) => [t.id, t.processor_id, t.failures])).toEqual(
        before.tasks.map((t) => [t.id, t.processor_id, 0]),
      );
      expect(launchGroups()).toHaveLength(groupsBefore);
      expect(sandboxes.map((s) => mainPidInDir(s))).toEqual(pids);
      expect(fakeOf(server.master()).state().frameworks).toHaveLength(1);
    });

    it('deletes a pipeline: every task is killed within its grace period (one that ignores SIGTERM after it), then it is gone (fake master)', async () => {
      const stubborn = seedPipeline('stubborn', {
        instances: 2,
        processes: {
          worker: {
            id: 'worker',
            shell: true,
            command: "trap '' TERM; while true; do sleep 0.1; done",
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1.5,
          },
          polite: {
            id: 'polite',
            shell: true,
            command: 'exec sleep 600',
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 10,
          },
        },
      });
      expect((await request(url(), 'POST', '/pipelines', stubborn)).status).toBe(204);
      const p = await waitFor(url(), 'stubborn', '2 ready', allReady(2));
      const watched = p.tasks.flatMap((t) =>
        ['worker', 'polite'].map((n) => ({
          name: n,
          pids: pidsInDir(taskOf(`${t.processor_id}:${n}`)!.sandbox),
        })),
      );
      expect(watched.every((w) => w.pids.length > 0)).toBe(true);
      const asked = Date.now();
      expect((await request(url(), 'DELETE', '/pipelines/stubborn')).status).toBe(204);
      const gone = await watchUntilGone(watched, (w) => w.pids.some(processAlive), asked);
      // The polite ones were not kept for their 10 s of grace: they were gone before any worker,
      // which is SIGKILLed when its 1.5 s are over.
      const politeCount = watched.filter((w) => w.name === 'polite').length;
      expect(gone.slice(0, politeCount).map((g) => g.item.name)).toEqual(Array(politeCount).fill('polite'));
      // The workers got their grace before the SIGKILL: a lower bound (from before the delete was
      // asked), which a loaded machine can only lengthen.
      for (const g of gone.filter((x) => x.item.name === 'worker'))
        expect(g.afterMs).toBeGreaterThanOrEqual(1_300);
      await waitGone(url(), 'stubborn');
      for (const t of p.tasks) expect(taskOf(`${t.processor_id}:worker`)?.state).toBe('TASK_KILLED');
    });

    it('replaces the instances of a lost agent on another agent (fake master)', async () => {
      const fake = fakeOf(server.master());
      const before = await waitFor(url(), 'seed', '2 ready', allReady(2));
      const agent = before.tasks[0]!.processes['parse']!.agent_id!;
      const lost = before.tasks.filter((t) => t.processes['parse']!.agent_id === agent).map((t) => t.id);
      await fake.loseAgent(agent, { unreachableAfterMs: 100 });
      const after = await waitFor(
        url(),
        'seed',
        'instances back on the other agent',
        (p) => allReady(2)(p) && p.tasks.every((t) => t.processes['parse']!.agent_id !== agent),
      );
      expect(after.tasks.map((t) => t.id)).toEqual(before.tasks.map((t) => t.id));
      for (const t of after.tasks.filter((x) => lost.includes(x.id))) {
        expect(t.processor_id).not.toBe(before.tasks.find((b) => b.id === t.id)!.processor_id);
        expect(t.failures).toBe(1);
        expect(t.last_exit?.message).toMatch(/unreachable/);
      }
    });
  },
);

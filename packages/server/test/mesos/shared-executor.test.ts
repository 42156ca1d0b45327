import type { Offer, OfferOperation, TaskInfo, TaskStatus } from '@galley/mesos';
import { describe, expect, it } from 'vitest';
import type { LaunchSpec } from '../../src/backends/backend.js';
import { planLaunches } from '../../src/backends/mesos/launch-plan.js';
import { sandboxPath } from '../../src/backends/mesos/sandbox-logs.js';
import { SharedExecutors, withExecutorRoom } from '../../src/backends/mesos/shared-executor.js';
import { executorStartFailureOf } from '../../src/backends/mesos/executor-failures.js';
import type { TaskShape } from '../../src/backends/mesos/task-info.js';

/** The TaskInfos of a LAUNCH operation (fails the test for any other operation). */
function launchedTasks(op: OfferOperation): TaskInfo[] {
  if (op.type !== 'LAUNCH') throw new Error(`expected a LAUNCH operation, got ${op.type}`);
  return op.launch.task_infos ?? [];
}

// `--mesos-executor galley`: runs without an image share one long-lived galley-executor per agent
// and role, started (and its resources accounted) once; the pure parts.

function offer(id: string, executorIds: string[] = []): Offer {
  const meta = { role: '*', allocation_info: { role: '*' } };
  return {
    id: { value: id },
    framework_id: { value: 'fw' },
    agent_id: { value: 'S0' },
    hostname: 'a1',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, ...meta },
      { name: 'mem', type: 'SCALAR', scalar: { value: 1024 }, ...meta },
    ],
    ...(executorIds.length > 0 ? { executor_ids: executorIds.map((value) => ({ value })) } : {}),
    allocation_info: { role: '*' },
  } as Offer;
}

const spec = (attemptId: string, image = 'none'): LaunchSpec => ({
  attemptId,
  runId: attemptId.split('.')[0]!,
  seq: 1,
  nodeId: 'S0 *',
  image,
  command: `echo ${attemptId}`,
  env: [{ name: 'GALLEY_RUN_ID', value: attemptId }],
  cpus: 0.25,
  memMb: 64,
  gpus: 0,
});
const shape = (containerizer: TaskShape['containerizer'] = 'none'): TaskShape => ({
  containerizer,
  network: 'HOST',
  cniNetwork: 'mesos-bridge',
  killGraceMs: 1000,
});

const scalar = (resources: { name: string; scalar?: { value: number } }[] | undefined, name: string) =>
  (resources ?? []).filter((r) => r.name === name).reduce((sum, r) => sum + (r.scalar?.value ?? 0), 0);

describe('shared galley-executors', () => {
  it('launches the runs of an agent under one executor, its resources cut once, the command in data', () => {
    let n = 0;
    const shared = new SharedExecutors('galley-executor', () => `exec-${++n}`);
    const offers = [offer('o1')];
    const { plan, tracked } = planLaunches(
      offers,
      'S0',
      [spec('a.1'), spec('b.1')],
      shape(),
      0,
      () => 0.5,
      shared.executorFor('S0', '*', offers),
    );
    const tasks = launchedTasks(plan.toAccept(0).operations[0]!);
    expect(tasks.map((t) => t.executor?.executor_id.value)).toEqual(['exec-1', 'exec-1']);
    expect(tasks[0]!.executor).toBe(tasks[1]!.executor);
    expect(tasks[0]!.executor).toMatchObject({
      type: 'CUSTOM',
      name: 'galley-executor',
      command: {
        value: 'galley-executor',
        environment: {
          variables: [
            { name: 'GALLEY_EXECUTOR_SHARED', value: '1' },
            { name: 'GALLEY_EXECUTOR_IDLE_TIMEOUT', value: '10mins' },
          ],
        },
      },
    });
    expect(scalar(tasks[0]!.executor!.resources, 'cpus')).toBe(0.1);
    expect(scalar(tasks[0]!.executor!.resources, 'mem')).toBe(32);
    // Two tasks and one executor out of the offer.
    expect(plan.pool.available('cpus')).toBeCloseTo(2 - 0.5 - 0.1);
    for (const t of tasks) {
      expect(t.command).toBeUndefined();
      const command = JSON.parse(Buffer.from(t.data!, 'base64').toString('utf8'));
      expect(command).toMatchObject({ shell: true, value: `echo ${t.task_id.value}` });
      expect(command.environment.variables).toContainEqual({ name: 'GALLEY_RUN_ID', value: t.task_id.value });
    }
    expect(tracked.map((t) => t.executorId)).toEqual(['exec-1', 'exec-1']);
  });

  it('reuses the running executor verbatim while offers list it, and starts a new one when they do not or it ended', () => {
    let n = 0;
    const shared = new SharedExecutors('galley-executor', () => `exec-${++n}`);
    const first = planLaunches(
      [offer('o1')],
      'S0',
      [spec('a.1')],
      shape(),
      0,
      undefined,
      shared.executorFor('S0', '*', [offer('o1')]),
    );
    const info = launchedTasks(first.plan.toAccept(0).operations[0]!)[0]!.executor;
    // The executor runs: the next offer lists it; the same ExecutorInfo (resources and all), none cut.
    const listing = [offer('o2', ['exec-1'])];
    const second = planLaunches(
      listing,
      'S0',
      [spec('b.1')],
      shape(),
      0,
      undefined,
      shared.executorFor('S0', '*', listing),
    );
    expect(launchedTasks(second.plan.toAccept(0).operations[0]!)[0]!.executor).toEqual(info);
    expect(second.plan.pool.available('cpus')).toBeCloseTo(2 - 0.25);
    // It stopped (FAILURE): a new id, with its own resources.
    shared.ended('S0', 'exec-1');
    const third = planLaunches(
      listing,
      'S0',
      [spec('c.1')],
      shape(),
      0,
      undefined,
      shared.executorFor('S0', '*', listing),
    );
    expect(launchedTasks(third.plan.toAccept(0).operations[0]!)[0]!.executor?.executor_id.value).toBe(
      'exec-2',
    );
    // Offers that do not list the kept executor: it is gone; a new one.
    const notListing = [offer('o3')];
    expect(shared.executorFor('S0', '*', notListing)?.executorId).toBe('exec-3');
  });

  it('keeps a run with an image on its own command executor (the container is the executor’s)', () => {
    const shared = new SharedExecutors('galley-executor', () => 'exec-1');
    const offers = [offer('o1')];
    const { plan, tracked } = planLaunches(
      offers,
      'S0',
      [spec('img.1', 'ubuntu:24.04')],
      shape('mesos'),
      0,
      undefined,
      shared.executorFor('S0', '*', offers),
    );
    const task = launchedTasks(plan.toAccept(0).operations[0]!)[0]!;
    expect(task.executor).toBeUndefined();
    expect(task.command?.value).toBe('echo img.1');
    expect(task.container?.type).toBe('MESOS');
    expect(tracked[0]!.executorId).toBeNull();
  });

  it("reads a shared executor's run from its own directory of the executor's sandbox", () => {
    expect(
      sandboxPath(
        { agentUrl: 'http://a1:5051', frameworkId: 'fw', executorId: 'exec-1', taskDir: 'tasks/a.1' },
        'stderr',
      ),
    ).toBe('/frameworks/fw/executors/exec-1/runs/latest/tasks/a.1/stderr');
    expect(sandboxPath({ agentUrl: 'http://a1:5051', frameworkId: 'fw', executorId: 'a.1' }, 'stdout')).toBe(
      '/frameworks/fw/executors/a.1/runs/latest/stdout',
    );
  });

  it('tells an executor that could not start from one that died: only tasks it never reported on, and it never spoke', () => {
    const status = (over: Partial<TaskStatus> = {}): TaskStatus => ({
      task_id: { value: 'a.1' },
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: 'Executor terminated',
      source: 'SOURCE_AGENT',
      ...over,
    });
    const task = {
      executorId: 'exec-1',
      started: false,
      executorHeardFrom: false,
      agentId: 'S0',
      hostname: 'a1',
    };
    const failure = executorStartFailureOf(status(), task);
    expect(failure?.outcome).toMatchObject({ kind: 'host-failure', reason: 'executor failed to start' });
    expect(failure?.why).toBe('TASK_FAILED REASON_EXECUTOR_TERMINATED: Executor terminated');
    expect(
      executorStartFailureOf(status({ reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT' }), task),
    ).not.toBeNull();
    // Not a failed start: a command-executor task, a task that ran, an executor heard from, the
    // executor's own update, a re-registration timeout (it had started), or another reason.
    expect(executorStartFailureOf(status(), { ...task, executorId: null })).toBeNull();
    expect(executorStartFailureOf(status(), { ...task, started: true })).toBeNull();
    expect(executorStartFailureOf(status(), { ...task, executorHeardFrom: true })).toBeNull();
    expect(executorStartFailureOf(status({ source: 'SOURCE_EXECUTOR' }), task)).toBeNull();
    expect(
      executorStartFailureOf(status({ reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT' }), task),
    ).toBeNull();
    expect(
      executorStartFailureOf(status({ reason: 'REASON_AGENT_RESTARTED', state: 'TASK_DROPPED' }), task),
    ).toBeNull();
    // Its container could not be set up (the fetcher failed on --mesos-executor-uri): it did not start.
    expect(executorStartFailureOf(status({ reason: 'REASON_CONTAINER_LAUNCH_FAILED' }), task)).not.toBeNull();
  });

  it('sends no more runs to the shared executor of an agent that fell back, and says why', () => {
    let n = 0;
    const shared = new SharedExecutors('galley-executor', () => `exec-${++n}`);
    const offers = [offer('o1')];
    expect(shared.executorFor('S0', '*', offers)?.executorId).toBe('exec-1');
    shared.fallBack('S0', 'a1', 'TASK_FAILED REASON_EXECUTOR_TERMINATED: Executor terminated', 5);
    expect(shared.executorFor('S0', '*', offers)).toBeUndefined();
    expect(shared.fallbackOf('S0')).toEqual({
      hostname: 'a1',
      why: 'TASK_FAILED REASON_EXECUTOR_TERMINATED: Executor terminated',
      at: 5,
    });
    expect(shared.fallbackAgents()).toEqual(['S0']);
    // Another agent keeps its shared executor.
    expect(shared.executorFor('S1', '*', [{ ...offer('o2'), agent_id: { value: 'S1' } }])?.executorId).toBe(
      'exec-2',
    );
  });

  it('launches a run under its own command executor where the shared executor would not fit beside it', () => {
    const shared = new SharedExecutors('galley-executor', () => 'exec-1');
    // Room for one run (0.25 cpus) and not for the executor's 0.1 cpus besides.
    const full = {
      ...offer('o1'),
      resources: (offer('o1').resources ?? []).map((r) =>
        r.name === 'cpus' ? { ...r, scalar: { value: 0.3 } } : r,
      ),
    };
    const { plan, tracked, failed } = planLaunches(
      [full],
      'S0',
      [spec('a.1')],
      shape(),
      0,
      undefined,
      shared.executorFor('S0', '*', [full]),
    );
    expect(failed).toEqual([]);
    const task = launchedTasks(plan.toAccept(0).operations[0]!)[0]!;
    expect(task.executor).toBeUndefined();
    expect(task.command?.value).toBe('echo a.1');
    expect(tracked[0]!.executorId).toBeNull();
  });

  it("keeps a new shared executor's room free in placement until it runs on the agent", () => {
    const shared = new SharedExecutors('galley-executor', () => 'exec-1');
    const node = { id: 'S0 *', free: { cpus: 2, memMb: 1024 } };
    const starts = (offers: Offer[]) => (id: string) => shared.startsOn(id.split(' ')[0]!, '*', offers);
    // None runs there yet: its 0.1 cpus and 32 MB are not for runs.
    expect(withExecutorRoom([node], starts([offer('o1')]))[0]!.free).toEqual({ cpus: 1.9, memMb: 992 });
    shared.executorFor('S0', '*', [offer('o1')])!.infoFor([]);
    // It runs (the offers list it): nothing more is kept.
    expect(withExecutorRoom([node], starts([offer('o2', ['exec-1'])]))[0]!.free).toEqual(node.free);
    // An agent that fell back starts none.
    shared.fallBack('S0', 'a1', 'why', 0);
    expect(withExecutorRoom([node], starts([offer('o3')]))[0]!.free).toEqual(node.free);
  });
});

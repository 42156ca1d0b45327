import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryFrameworkIdStore } from '@galley/mesos';
import {
  createTaskManager,
  TaskManagerError,
  type TaskManager,
  type TaskManagerEvent,
  type TaskManagerOptions,
  type TaskSpec,
} from '@galley/mesos/extras';
import type { FakeMesos, FakeMesosOptions } from '@galley/mesos/testing';
import {
  faultInjection,
  fakeOf,
  masterLabel,
  startTestCluster,
  type TestCluster,
} from '../support/master.js';

/** How long a wait may take: generous, so a loaded machine passes; a real failure still ends it. */
const PATIENCE_MS = 60_000;

/** Waits (vi.waitFor) until `probe` answers something truthy; answers it. */
function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false,
  timeoutMs = PATIENCE_MS,
): Promise<T> {
  return vi.waitFor(
    () => {
      const value = probe();
      if (!value) throw new Error(`still waiting for ${typeof what === 'function' ? what() : what}`);
      return value;
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

const sleeper: TaskSpec = { command: { value: 'sleep 600' }, resources: { cpus: 0.1, mem: 32, ports: 1 } };

let current: TestCluster | undefined;
const managers: TaskManager[] = [];

afterEach(async () => {
  for (const m of managers.splice(0).reverse()) {
    // Tear the framework down so a real cluster is left clean (the fake is stopped anyway).
    if (m.scheduler.state.phase === 'SUBSCRIBED') await m.scheduler.teardown().catch(() => undefined);
    await m.stop();
  }
  await current?.stop();
  current = undefined;
});

/** The fake master (fast timings) or the real MESOS_MASTER. */
async function cluster(options: FakeMesosOptions = {}): Promise<TestCluster> {
  current = await startTestCluster({ allocationIntervalMs: 20, heartbeatIntervalSeconds: 1, ...options });
  return current;
}

/** Starts a manager and records every event it emits, with the time it was seen. */
function manage(c: TestCluster, options: Partial<TaskManagerOptions> & Pick<TaskManagerOptions, 'tasks'>) {
  const events: (TaskManagerEvent & { at: number })[] = [];
  const manager = createTaskManager({
    master: c.master,
    framework: {
      user: c.user,
      name: 'galley-task-manager-test',
      ...(c.role === '*' ? {} : { role: c.role }),
    },
    credentials: c.credentials,
    reviveIntervalMs: 50,
    backoff: { minMs: 20, maxMs: 200 },
    reconciliation: { initialDelayMs: 100 },
    adoptionGraceMs: 200,
    ...options,
  });
  const names = [
    'task_launched',
    'task_updated',
    'task_removed',
    'task_unhealthy',
    'task_restarting',
    'offers_accepted',
    'task_unknown',
    'error',
  ] as const;
  for (const name of names) manager.on(name, (e) => events.push({ ...e, at: Date.now() }));
  managers.push(manager as TaskManager);
  manager.start();
  const of = <K extends TaskManagerEvent['type']>(type: K) =>
    events.filter((e): e is Extract<TaskManagerEvent, { type: K }> & { at: number } => e.type === type);
  return { manager, events, of };
}

const runningIds = (manager: TaskManager, spec: string) =>
  manager
    .tasks()
    .filter((t) => t.spec === spec && t.state === 'TASK_RUNNING')
    .map((t) => t.taskId);

interface LaunchedInfo {
  name: string;
  command: { environment: { variables: { name: string; value: string }[] } };
  resources: { name: string; ranges?: { range: { begin: number }[] } }[];
}

/** Checks, in what the fake master received, that each TaskInfo carries PORT0, HOST and its serial. */
function expectInjectedEnvironment(fake: FakeMesos): void {
  for (const task of fake.state().tasks) {
    const info = task.info as unknown as LaunchedInfo;
    const env = Object.fromEntries(info.command.environment.variables.map((v) => [v.name, v.value]));
    const port = info.resources.find((r) => r.name === 'ports')?.ranges?.range[0]?.begin;
    const spec = info.name.replace(/-\d+$/, '');
    expect(env.PORT0).toBe(String(port));
    expect(env.HOST).toBe('127.0.0.1');
    expect(env[`TASK_${spec.toUpperCase()}_SERIAL_NUMBER`]).toBe(info.name.split('-').at(-1));
  }
}

// Generous timeouts: a loaded machine starts processes slowly; a failure still ends the test.
describe(`task manager against ${masterLabel}`, { timeout: 120_000 }, () => {
  it(`keeps instances RUNNING on ${masterLabel}, several per ACCEPT, with PORTn/HOST/serial in each TaskInfo`, async () => {
    const c = await cluster({ agents: 2 });
    const { of } = manage(c, {
      tasks: { web: { ...sleeper, instances: 6 }, db: { ...sleeper, instances: 1, priority: -1 } },
    });
    await waitFor('7 tasks launched', () => of('task_launched').length === 7);
    const accepts = of('offers_accepted');
    expect(Math.max(...accepts.map((a) => a.taskIds.length))).toBeGreaterThan(1);
    expect(accepts[0]?.taskIds[0]).toMatch(/^db-1\./);
    expect(new Set(accepts.flatMap((a) => a.taskIds)).size).toBe(7);
    if (c.fake === undefined) return;
    expect(new Set(accepts.map((a) => a.agentId)).size).toBe(accepts.length);
    expect(c.fake.calls({ type: 'ACCEPT' })).toHaveLength(accepts.length);
    expect(c.fake.state().tasks).toHaveLength(7);
    expectInjectedEnvironment(c.fake);
    await waitFor('SUPPRESS once nothing waits', () => c.fake?.calls({ type: 'SUPPRESS' }).length);
    expect(c.fake.state().frameworks[0]?.suppressedRoles.length).toBeGreaterThan(0);
  });

  it(`scales up and down on ${masterLabel}, killing the highest serials`, async () => {
    const c = await cluster({ agents: 1 });
    const { manager, of } = manage(c, {
      tasks: { web: { ...sleeper, instances: 2, allowScaling: true }, fixed: sleeper },
    });
    await waitFor('3 running', () => of('task_launched').length === 3);
    await manager.scale('web', 4);
    await waitFor('4 web running', () => runningIds(manager, 'web').length === 4);
    if (c.fake !== undefined) expect(c.fake.calls({ type: 'REVIVE' }).length).toBeGreaterThan(0);
    await manager.scale('web', 1);
    await waitFor('3 removed', () => of('task_removed').length === 3);
    const removed = of('task_removed').map((e) => [e.task.serial, e.reason, e.state]);
    expect(removed.sort((a, b) => (b[0] as number) - (a[0] as number))).toEqual([
      [4, 'scaled_down', 'TASK_KILLED'],
      [3, 'scaled_down', 'TASK_KILLED'],
      [2, 'scaled_down', 'TASK_KILLED'],
    ]);
    expect(runningIds(manager, 'web').map((id) => id.split('.')[0])).toEqual(['web-1']);
    await expect(manager.scale('fixed', 3)).rejects.toMatchObject({ code: 'SCALING_NOT_ALLOWED' });
    await expect(manager.scale('nope', 3)).rejects.toBeInstanceOf(TaskManagerError);
  });

  it(`restarts a failing task on ${masterLabel} with exponential backoff and a fresh id each time`, async () => {
    const c = await cluster({ agents: 1 });
    const { of } = manage(c, {
      tasks: {
        crash: {
          command: { value: 'exit 3' },
          resources: { cpus: 0.1, mem: 32 },
          restartBackoff: { min: 150, factor: 2, max: 10_000, jitter: 0 },
        },
      },
    });
    await waitFor('fourth launch', () => of('offers_accepted').length >= 4);
    expect(
      of('task_restarting')
        .slice(0, 3)
        .map((r) => [r.state, r.delayMs]),
    ).toEqual([
      ['TASK_FAILED', 150],
      ['TASK_FAILED', 300],
      ['TASK_FAILED', 600],
    ]);
    // Lower bounds (each launch is seen after the previous one), which load can only lengthen.
    const at = of('offers_accepted').map((e) => e.at);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(150);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(300);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(600);
    const ids = of('offers_accepted').flatMap((e) => e.taskIds);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith('crash-1.'))).toBe(true);
  });

  it(`kills unknown tasks found by implicit reconciliation on ${masterLabel}, and adopts its own`, async () => {
    const c = await cluster({ agents: 1 });
    const store = createMemoryFrameworkIdStore();
    // No refuse filters, so the restarted manager is offered resources at once and must hold
    // them until reconciliation has told it which of its tasks still run.
    const first = manage(c, {
      frameworkIdStore: store,
      refuseSeconds: 0,
      tasks: { legacy: { ...sleeper, instances: 2 }, web: sleeper },
    });
    await waitFor('3 running', () => first.of('task_launched').length === 3);
    await first.manager.stop();
    const launchedIds = (spec: string) =>
      first
        .of('task_launched')
        .filter((e) => e.task.spec === spec)
        .map((e) => e.task.taskId)
        .sort();

    const second = manage(c, { frameworkIdStore: store, tasks: { web: sleeper } });
    // A task may be reported more than once (reconciliation answers again, a repeated KILL of a
    // task already killed is answered with its terminal state, TASK_KILLED or later TASK_LOST):
    // each decision counts once, and the kills are seen by their TASK_KILLED.
    const decisions = (action: string) =>
      [
        ...new Set(
          second
            .of('task_unknown')
            .filter((e) => e.action === action && (action !== 'ignored' || e.state === 'TASK_KILLED'))
            .map((e) => `${e.taskId} ${e.state}`),
        ),
      ].sort();
    await waitFor(
      () => `kills reported back; so far: ${JSON.stringify(second.of('task_unknown'))}`,
      () =>
        decisions('killed').length === 2 &&
        decisions('ignored').length === 2 &&
        decisions('adopted').length === 1,
    );
    expect(decisions('killed')).toEqual(launchedIds('legacy').map((id) => `${id} TASK_RUNNING`));
    expect(decisions('ignored')).toEqual(launchedIds('legacy').map((id) => `${id} TASK_KILLED`));
    expect(decisions('adopted')).toEqual(launchedIds('web').map((id) => `${id} TASK_RUNNING`));
    expect(second.manager.tasks().map((t) => t.taskId)).toEqual(launchedIds('web'));
    expect(second.of('offers_accepted')).toEqual([]);
    if (c.fake === undefined) return;
    const killed = c.fake
      .calls({ type: 'KILL' })
      .map((call) => (call.body?.kill as { task_id: { value: string } }).task_id.value);
    expect([...new Set(killed)].sort()).toEqual(launchedIds('legacy'));
  });

  it(`leaves unknown tasks alone on ${masterLabel} when killUnknownTasks is false`, async () => {
    const c = await cluster({ agents: 1 });
    const store = createMemoryFrameworkIdStore();
    const first = manage(c, { frameworkIdStore: store, tasks: { legacy: sleeper } });
    await waitFor('running', () => first.of('task_launched').length === 1);
    await first.manager.stop();
    const second = manage(c, { frameworkIdStore: store, killUnknownTasks: false, tasks: {} });
    const seen = await waitFor('legacy reported by reconciliation', () => second.of('task_unknown')[0]);
    expect(seen).toMatchObject({ taskId: first.of('task_launched')[0]?.task.taskId, action: 'ignored' });
    if (c.fake === undefined) return;
    expect(c.fake.calls({ type: 'KILL' })).toEqual([]);
    expect(c.fake.state().tasks.filter((t) => t.state === 'TASK_RUNNING')).toHaveLength(1);
  });
});

describe.runIf(
  faultInjection('task manager tests with real processes (they read the fake master sandboxes)'),
)('task manager with real processes on the fake master', { timeout: 120_000 }, () => {
  /** An HTTP server on $PORT0 answering `code`; with `log`, it prints a line per answer. */
  const server = (code: number, log = false) =>
    `exec node -e "require('http').createServer((q,s)=>{s.writeHead(${code});s.end('x');${log ? "console.log('answered')" : ''}}).listen(+process.env.PORT0,'127.0.0.1')"`;

  it('puts PORTn, HOST and the serial into the real process environment (read from the fake master sandbox)', async () => {
    const f = fakeOf(await cluster({ agents: 1, execution: 'processes' }));
    const { of } = manage(current as TestCluster, {
      tasks: { envy: { command: { value: 'env; sleep 30' }, resources: { cpus: 0.1, mem: 32, ports: 2 } } },
    });
    const launched = await waitFor('launched', () => of('task_launched')[0]);
    const task = f.state().tasks[0]!;
    const path = encodeURIComponent(`${task.sandbox}/stdout`);
    const url = `${f.agentUrl(task.agentId)}/files/read?path=${path}&offset=0`;
    const text = await vi.waitFor(
      async () => {
        const data = ((await (await fetch(url)).json()) as { data: string }).data;
        if (!data.includes('HOST=')) throw new Error(`no environment in stdout yet: ${data}`);
        return data;
      },
      { timeout: PATIENCE_MS, interval: 20 },
    );
    const env = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env.PORT0).toBe(String(launched.task.ports[0]));
    expect(env.PORT1).toBe(String(launched.task.ports[1]));
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.TASK_ENVY_SERIAL_NUMBER).toBe('1');
  });

  it('marks a real HTTP task unhealthy after the grace count of failed polls, and restarts it, on the fake master', async () => {
    const f = fakeOf(await cluster({ agents: 1, execution: 'processes' }));
    const poll = { interval: 50, timeout: 500, graceCount: 3, path: '/', statusCodes: [200] };
    const { manager, of } = manage(current as TestCluster, {
      tasks: {
        good: {
          command: { value: server(200, true) },
          resources: { cpus: 0.1, mem: 32, ports: 1 },
          // The good server may start, and answer, slowly on a loaded machine: not what this test
          // is about, so it has room (200 failed polls in a row, 10 s per answer).
          healthPoller: { ...poll, timeout: 10_000, graceCount: 200 },
        },
        bad: {
          command: { value: server(503) },
          resources: { cpus: 0.1, mem: 32, ports: 1 },
          healthPoller: { ...poll, restart: true },
          restartBackoff: { min: 10_000 },
        },
      },
    });
    await waitFor('bad is unhealthy', () => of('task_unhealthy').length > 0);
    await waitFor('bad is killed for a restart', () => of('task_restarting').length > 0);
    expect(of('task_restarting')[0]).toMatchObject({ task: { spec: 'bad' }, state: 'TASK_KILLED' });
    // Good was polled meanwhile and passed (its server prints each answer): only bad was marked.
    const good = await waitFor('good launched', () =>
      f.state().tasks.find((t) => t.taskId.startsWith('good-')),
    );
    await vi.waitFor(
      async () => {
        const stdout = await readFile(`${good.sandbox}/stdout`, 'utf8').catch(() => '');
        expect(stdout.split('answered').length - 1).toBeGreaterThanOrEqual(3);
      },
      { timeout: PATIENCE_MS, interval: 50 },
    );
    expect(of('task_unhealthy').map((e) => [e.task.spec, e.source])).toEqual([['bad', 'poller']]);
    expect(runningIds(manager, 'good')).toHaveLength(1);
  });
});

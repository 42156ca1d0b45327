import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  define,
  eventually,
  execute,
  fakeOf,
  mesosFlags,
  needsFake,
  readLog,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from './harness.js';

// The shared galley-executor (the default) when things go wrong on the agent, as a stock Mesos
// agent reports them: an executor that cannot start there, one that dies with tasks in it, an
// agent restart it must re-subscribe through, and one that misses re-registration. Every run the
// API accepted ends exactly once; no attempt runs twice.

interface Timeline {
  events: { type: string; status?: string; reason?: string }[];
}
interface AgentSupport {
  agent_id: string;
  images: string;
  executor: string;
  executor_failure: string | null;
}

async function agentSupport(url: string): Promise<AgentSupport[]> {
  const clusters = (await api(url, 'GET', '/clusters')).body.details as {
    name: string;
    mesos?: { agent_support: AgentSupport[] };
  }[];
  return clusters.find((c) => c.name === 'mesos')?.mesos?.agent_support ?? [];
}

/** A fake master and a server on it, stopped after the block's tests. */
function onFake(
  masterOptions: Parameters<typeof startMaster>[0],
  flags: string[] = [],
): { master: () => TestMaster; galley: () => Galley; dir: () => string } {
  let master: TestMaster | undefined;
  let galley: Galley | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeAll(async () => {
    master = await startMaster(masterOptions);
    dir = await tempDir();
    // The runs' gate files are written here; a task may run as another user.
    await chmod(dir.path, 0o777);
    galley = await startGalley(dir.path, [...mesosFlags(master.master), ...flags]);
  }, 120_000);
  afterAll(async () => {
    await galley?.stop();
    await master?.stop();
    await dir?.remove();
  });
  return { master: () => master!, galley: () => galley!, dir: () => dir!.path };
}

/** The reason of a run's first ended attempt. */
async function firstEnd(url: string, runId: string) {
  const timeline = (await api<Timeline>(url, 'GET', `/${runId}/events`)).body;
  return timeline.events.find((e) => e.type === 'ended');
}

describe.runIf(needsFake('galley-executor faults (fault injection)'))(
  'shared galley-executor faults on the fake master',
  { timeout: 120_000 },
  () => {
    describe('an agent that cannot start the executor', () => {
      const env = onFake({ agents: 1 }, ['--mesos-executor-command', 'galley-executor-not-installed-here']);

      it('retries the run under the command executor, learns the agent falls back, and says so in /clusters (fake master)', async () => {
        const fake = fakeOf(env.master());
        await define(env.galley().url, 'fallback', { command: 'echo "ran $GALLEY_RUN_ID"' });
        const runId = await execute(env.galley().url, 'fallback');
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect(run.exit_code).toBe(0);
        expect(run.attempt_count).toBe(2);
        expect(await readLog(env.galley().url, runId)).toBe(`ran ${runId}\n`);
        // The agent ended the task itself (`sh: …: not found` ended the executor before it subscribed).
        const first = fake.state().tasks.find((t) => t.taskId === `${runId}.1`);
        expect(first?.executorKind).toBe('custom');
        expect(first?.states.at(-1)).toBe('TASK_FAILED');
        expect((await firstEnd(env.galley().url, runId))?.reason).toMatch(
          /^host failure: executor failed to start \(galley-executor could not start on agent .*TASK_FAILED REASON_EXECUTOR_TERMINATED: Executor terminated.*--mesos-executor-command.*\); retrying/,
        );
        expect(fake.state().tasks.find((t) => t.taskId === `${runId}.2`)?.executorKind).toBe('command');
        const [agent] = await agentSupport(env.galley().url);
        expect(agent).toMatchObject({ agent_id: fake.agentIds[0], images: 'none', executor: 'command' });
        expect(agent?.executor_failure).toBe('TASK_FAILED REASON_EXECUTOR_TERMINATED: Executor terminated');

        // Learned: the next run there goes straight to the command executor.
        const next = await execute(env.galley().url, 'fallback');
        expect((await runReaches(env.galley().url, next, 'STOPPED')).attempt_count).toBe(1);
        expect(fake.state().tasks.find((t) => t.taskId === `${next}.1`)?.executorKind).toBe('command');
      });
    });

    describe('an executor the agent fetches (--mesos-executor-uri)', () => {
      // What an operator without Galley on the agents ships: @galley/mesos with its dependency.
      const root = fileURLToPath(new URL('../../../../', import.meta.url));
      const shipped = mkdtempSync(join(tmpdir(), 'galley-executor-uri-'));
      const tarball = join(shipped, 'galley-executor.tgz');
      beforeAll(() => {
        execFileSync('tar', [
          '-czhf',
          tarball,
          '-C',
          root,
          'node_modules/@galley/mesos/package.json',
          'node_modules/@galley/mesos/dist/executor',
          'node_modules/@galley/mesos/dist/http',
          'node_modules/@galley/mesos/dist/json',
          'node_modules/@galley/mesos/dist/recordio',
          'node_modules/@galley/mesos/dist/scheduler',
          'node_modules/@galley/mesos/dist/types',
          'node_modules/undici',
        ]);
      });
      afterAll(() => rmSync(shipped, { recursive: true, force: true }));
      const env = onFake({ agents: 1 }, [
        '--mesos-executor-uri',
        `file://${tarball}`,
        '--mesos-executor-command',
        'node node_modules/@galley/mesos/dist/executor/main.js',
      ]);

      it('runs the executor the agent fetched and extracted into its sandbox (fake master)', async () => {
        const fake = fakeOf(env.master());
        await define(env.galley().url, 'fetched', { command: 'echo "fetched $MESOS_TASK_ID"' });
        const runId = await execute(env.galley().url, 'fetched');
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect([run.exit_code, run.attempt_count]).toEqual([0, 1]);
        expect(await readLog(env.galley().url, runId)).toBe(`fetched ${runId}.1\n`);
        const task = fake.state().tasks.find((t) => t.taskId === `${runId}.1`);
        expect(task?.executorKind).toBe('custom');
        expect(task?.info['executor']).toMatchObject({
          command: { uris: [{ value: `file://${tarball}`, extract: true }] },
        });
        expect((await agentSupport(env.galley().url))[0]).toMatchObject({ executor: 'galley' });
      });
    });

    describe('an executor URI the agent cannot fetch', () => {
      const env = onFake({ agents: 1 }, ['--mesos-executor-uri', 'file:///nonexistent/galley-executor.tgz']);

      it('falls back to the command executor on the container launch failure, the run retried once (fake master)', async () => {
        await define(env.galley().url, 'unfetched', { command: 'echo ran' });
        const runId = await execute(env.galley().url, 'unfetched');
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect([run.exit_code, run.attempt_count]).toEqual([0, 2]);
        const [agent] = await agentSupport(env.galley().url);
        expect(agent?.executor).toBe('command');
        expect(agent?.executor_failure).toMatch(
          /^TASK_FAILED REASON_CONTAINER_LAUNCH_FAILED: Failed to launch container: Failed to fetch all URIs for container '.+': exit status 256$/,
        );
      });
    });

    describe('a running executor', () => {
      const env = onFake({ agents: 1, executorReregistrationTimeoutMs: 1_000 });

      /** A run whose first attempt waits for `gate`; a retry (attempt 2) does not wait. */
      async function gatedRun(alias: string, gate: string): Promise<{ runId: string; executorId: string }> {
        await define(env.galley().url, alias, {
          command: `echo ready; case "$MESOS_TASK_ID" in *.1) while [ ! -e ${gate} ]; do sleep 0.05; done;; esac; echo done`,
        });
        const runId = await execute(env.galley().url, alias);
        await runReaches(env.galley().url, runId, 'RUNNING');
        await eventually('its first line', async () =>
          (await readLog(env.galley().url, runId)) === 'ready\n' ? true : undefined,
        );
        const task = fakeOf(env.master())
          .state()
          .tasks.find((t) => t.taskId === `${runId}.1`);
        expect(task?.executorKind).toBe('custom');
        return { runId, executorId: task!.executorId };
      }

      it('turns the tasks of a dead executor into host failures retried once, under a new executor (fake master)', async () => {
        const fake = fakeOf(env.master());
        const { runId, executorId } = await gatedRun('dies', join(env.dir(), 'never'));
        expect(fake.signalExecutor(fake.agentIds[0]!, executorId, 'SIGKILL')).toBe(true);
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect(run.exit_code).toBe(0);
        expect(run.attempt_count).toBe(2);
        // The log holds each attempt's output in turn: the first one's line, then the retry's.
        expect(await readLog(env.galley().url, runId)).toBe('ready\nready\ndone\n');
        expect((await firstEnd(env.galley().url, runId))?.reason).toMatch(
          /^host failure: executor failure \(REASON_EXECUTOR_TERMINATED.*; retrying/,
        );
        const tasks = fake.state().tasks.filter((t) => t.taskId.startsWith(`${runId}.`));
        expect(tasks.map((t) => t.taskId).sort()).toEqual([`${runId}.1`, `${runId}.2`]);
        expect(tasks.find((t) => t.taskId === `${runId}.1`)?.states.at(-1)).toBe('TASK_FAILED');
        const second = tasks.find((t) => t.taskId === `${runId}.2`);
        expect(second?.executorKind).toBe('custom');
        expect(second?.executorId).not.toBe(executorId);
        // A dead executor is not one that cannot start: the agent keeps the shared executor.
        expect((await agentSupport(env.galley().url))[0]).toMatchObject({
          executor: 'galley',
          executor_failure: null,
        });
      });

      it('carries a run on through an agent restart: the executor re-subscribes and the task goes on, once (fake master)', async () => {
        const fake = fakeOf(env.master());
        const gate = join(env.dir(), 'restart-gate');
        const { runId, executorId } = await gatedRun('survives', gate);
        const subscribes = () =>
          fake
            .calls({ api: 'executor', type: 'SUBSCRIBE', status: 200 })
            .filter((c) => (c.body?.['executor_id'] as { value?: string } | undefined)?.value === executorId)
            .length;
        expect(subscribes()).toBe(1);
        await fake.restartAgent(fake.agentIds[0]!, { downMs: 300 });
        await fake.waitFor(() => subscribes() === 2, {
          timeoutMs: 30_000,
          what: 'the executor to re-subscribe',
        });
        await writeFile(gate, '');
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect(run.exit_code).toBe(0);
        expect(run.attempt_count).toBe(1);
        expect(await readLog(env.galley().url, runId)).toBe('ready\ndone\n');
        expect(fake.state().tasks.filter((t) => t.taskId.startsWith(`${runId}.`))).toHaveLength(1);
        // The recovered executor takes the next run: no new executor started.
        const next = await execute(env.galley().url, 'survives');
        expect((await runReaches(env.galley().url, next, 'STOPPED')).exit_code).toBe(0);
        expect(fake.state().tasks.find((t) => t.taskId === `${next}.1`)?.executorId).toBe(executorId);
      });

      it('loses the tasks of an executor that misses re-registration after an agent restart, and retries them (fake master)', async () => {
        const fake = fakeOf(env.master());
        const { runId, executorId } = await gatedRun('hangs', join(env.dir(), 'never-either'));
        // A hung executor: stopped, it cannot re-subscribe within the agent's timeout (1 s here).
        expect(fake.signalExecutor(fake.agentIds[0]!, executorId, 'SIGSTOP')).toBe(true);
        await fake.restartAgent(fake.agentIds[0]!, { downMs: 100 });
        const run = await runReaches(env.galley().url, runId, 'STOPPED');
        expect(run.exit_code).toBe(0);
        expect(run.attempt_count).toBe(2);
        expect((await firstEnd(env.galley().url, runId))?.reason).toMatch(
          /^host failure: executor failure \(REASON_EXECUTOR_REREGISTRATION_TIMEOUT.*; retrying/,
        );
        const tasks = fake.state().tasks.filter((t) => t.taskId.startsWith(`${runId}.`));
        expect(tasks).toHaveLength(2);
        expect(tasks.find((t) => t.taskId === `${runId}.2`)?.executorId).not.toBe(executorId);
      });
    });
  },
);

import { existsSync } from 'node:fs';
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

// `--mesos-executor galley`: runs share one long-lived galley-executor per agent (started once,
// its resources accounted once), each run's output in its own directory of that executor's
// sandbox. The built executor of @galley/mesos runs under the fake agent as a real process.

const EXECUTOR = fileURLToPath(new URL('../../../mesos/dist/executor/main.js', import.meta.url));

describe.runIf(
  needsFake('the shared galley-executor (the fake agent runs the built executor)') && existsSync(EXECUTOR),
)('Mesos backend with a shared galley-executor (fake master)', { timeout: 120_000 }, () => {
  let master: TestMaster;
  let galley: Galley;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    master = await startMaster({ agents: [{ resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-31100]' }] });
    dir = await tempDir();
    // The defaults: `--mesos-executor galley`, and the executor of this installation as its command.
    galley = await startGalley(dir.path, mesosFlags(master.master));
  }, 120_000);
  afterAll(async () => {
    await galley?.stop();
    await master?.stop();
    await dir?.remove();
  });

  it('runs every run of the agent under one executor, each with its own exact log and exit code', async () => {
    const fake = fakeOf(master);
    await define(galley.url, 'shared-ok', { command: 'echo "out $GALLEY_RUN_ID"; echo err >&2' });
    await define(galley.url, 'shared-fails', { command: 'echo failing; exit 3' });
    const ok = [await execute(galley.url, 'shared-ok'), await execute(galley.url, 'shared-ok')];
    const failing = await execute(galley.url, 'shared-fails');
    for (const runId of ok) {
      const run = await runReaches(galley.url, runId, 'STOPPED');
      expect(run.exit_code).toBe(0);
      expect(await readLog(galley.url, runId)).toBe(`out ${runId}\nerr\n`);
    }
    const failed = await runReaches(galley.url, failing, 'STOPPED');
    expect(failed.exit_code).toBe(3);
    expect(failed.attempt_count).toBe(1);
    expect(await readLog(galley.url, failing)).toBe('failing\n');
    const tasks = fake
      .state()
      .tasks.filter((t) => [...ok, failing].some((id) => t.taskId.startsWith(`${id}.`)));
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t) => t.executorId)).size).toBe(1);
    expect(tasks[0]?.executorId).toMatch(/^galley-executor-[0-9a-f]{8}$/);
    expect(tasks[0]?.executorKind).toBe('custom');
    const note = (await api(galley.url, 'GET', '/clusters')).body.details.find(
      (d: { name: string }) => d.name === 'mesos',
    ).note as string;
    expect(note).toContain('under one shared galley-executor per agent');
  });

  it('fills max_memory_used of a run under the shared executor from what the executor measured of its task', async () => {
    // dd holds its 64 MiB buffer while the pipe to sleep stays full; the agent reports only the
    // executor as a whole, so the figure can only come from galley-executor's terminal update.
    await define(galley.url, 'shared-hold', {
      memory: 256,
      command: 'dd if=/dev/zero bs=64M count=1 2>/dev/null | sleep 3',
    });
    const runId = await execute(galley.url, 'shared-hold');
    const run = await runReaches(galley.url, runId, 'STOPPED');
    expect(run.exit_code).toBe(0);
    expect(run.max_memory_used).toBeGreaterThanOrEqual(64 * 0.8);
    expect(run.max_memory_used).toBeLessThanOrEqual(64 * 1.2 + 8);
    expect(run.max_cpu_used).toEqual(expect.any(Number));
  });

  it('stops a run under the shared executor with grace, and the executor goes on with the next run', async () => {
    const fake = fakeOf(master);
    await define(galley.url, 'shared-long', { command: 'echo ready; exec sleep 300' });
    const runId = await execute(galley.url, 'shared-long');
    await runReaches(galley.url, runId, 'RUNNING');
    await eventually('its output', async () =>
      (await readLog(galley.url, runId)) === 'ready\n' ? true : undefined,
    );
    expect((await api(galley.url, 'POST', `/history/${runId}/stop`)).status).toBe(200);
    const stopped = await runReaches(galley.url, runId, 'STOPPED');
    expect(stopped.exit_reason).toMatch(/^stopped by request/);
    const after = await runReaches(galley.url, await execute(galley.url, 'shared-ok'), 'STOPPED');
    expect(after.exit_code).toBe(0);
    expect(new Set(fake.state().tasks.map((t) => t.executorId)).size).toBe(1);
  });
});

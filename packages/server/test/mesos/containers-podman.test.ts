import { findPodman, TEST_IMAGE, TEST_IMAGE_MARK } from '@galley/testkit';
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
  type RunJson,
  type TestMaster,
} from './harness.js';

// Images on Mesos for real: the fake master's agents declare `galley-images:mesos`, have the
// docker image provider, and run image tasks through Podman (the fake's `containerRuntime`), so
// Galley's MESOS containers with a Docker image start real containers of the test image. OOM and
// usage come as on a real cluster: the agent's status update and its /monitor/statistics.

const runnable = needsFake('Mesos runs in real containers (the fake master with Podman)');
const podman = runnable
  ? await findPodman('Mesos runs in real containers (fake Mesos master, Podman)')
  : null;

interface UsageRun extends RunJson {
  max_memory_used: number | null;
  max_cpu_used: number | null;
  run_exceptions: string[] | null;
}

/** The host's cgroup manager is cgroupfs (a container's parent cgroup may be chosen then). */
async function cgroupfs(run: (args: string[]) => Promise<{ stdout: string }>): Promise<boolean> {
  return (await run(['info', '--format', '{{.Host.CgroupManager}}'])).stdout.trim() === 'cgroupfs';
}

describe.runIf(runnable && podman?.available)(
  'fake Mesos master: image runs in Podman containers',
  { timeout: 120_000 },
  () => {
    const p = podman?.available ? podman.service : null!;
    let master: TestMaster;
    let galley: Galley;
    let dir: Awaited<ReturnType<typeof tempDir>>;

    beforeAll(async () => {
      master = await startMaster({
        agents: [
          {
            resources: 'cpus:4;mem:4096;disk:10000;ports:[31000-31100]',
            attributes: 'galley-images:mesos',
            imageProviders: 'docker',
          },
        ],
        containerRuntime: {
          command: p.cli,
          env: p.env,
          ...((await cgroupfs(p.run)) ? { cgroupParent: '/galley-fake-mesos' } : {}),
        },
      });
      dir = await tempDir();
      galley = await startGalley(dir.path, mesosFlags(master.master));
    }, 120_000);
    afterAll(async () => {
      await galley?.stop();
      await master?.stop();
      await dir?.remove();
    });

    const run = async (id: string) => (await api<UsageRun>(galley.url, 'GET', `/history/${id}`)).body;
    const stopped = async (id: string) => {
      await runReaches(galley.url, id, 'STOPPED');
      return run(id);
    };

    it("runs Flotilla's hello world in its image through Podman: the image's /etc and busybox, the task's env", async () => {
      await define(galley.url, 'hello-podman', {
        image: TEST_IMAGE,
        env: [{ name: 'USERNAME', value: 'yourusername' }],
        command:
          'echo "hello ${USERNAME}"; cat /etc/galley-test-image; readlink /bin/sh; test -e /etc/os-release || echo "no os-release"; echo "sandbox=$MESOS_SANDBOX"',
      });
      const id = await execute(galley.url, 'hello-podman');
      const done = await stopped(id);
      expect(done).toMatchObject({ exit_code: 0, attempt_count: 1 });
      const log = await readLog(galley.url, id);
      expect(log).toContain('hello yourusername');
      expect(log).toContain(TEST_IMAGE_MARK); // only the image has it
      expect(log).toContain('busybox'); // the image's /bin/sh; the host's is not busybox
      expect(log).toContain('no os-release'); // the host has one
      expect(log).toContain('sandbox=/mnt/mesos/sandbox');
      const task = fakeOf(master)
        .state()
        .tasks.find((t) => t.taskId === `${id}.1`);
      expect(task?.info['container']).toEqual({
        type: 'MESOS',
        mesos: { image: { type: 'DOCKER', docker: { name: TEST_IMAGE } } },
      });
      // The container is removed once it ended.
      const left = await p.run(['ps', '-a', '--filter', 'name=^mesos-', '--format', '{{.Names}}']);
      expect(left.stdout.trim()).toBe('');
    });

    it('reads the peak memory of a job that holds ~100 MB within 20% from the agent’s /monitor/statistics', async () => {
      await define(galley.url, 'alloc-podman', {
        image: TEST_IMAGE,
        memory: 256,
        // dd's block is one 100 MiB buffer, every page written by the read from /dev/zero; it is
        // held while dd waits to write into a pipe nobody reads, until sleep ends.
        command: 'dd if=/dev/zero bs=100M count=1 | sleep 6',
      });
      const done = await stopped(await execute(galley.url, 'alloc-podman'));
      expect(done.exit_code).toBe(0);
      expect(done.max_memory_used).toBeGreaterThanOrEqual(80);
      expect(done.max_memory_used).toBeLessThanOrEqual(120);
      expect(done.max_cpu_used).not.toBeNull();
      expect(done.run_exceptions).toBeNull();
    });

    it('ends a job that exceeds its memory limit as out of memory, from the agent’s REASON_CONTAINER_LIMITATION_MEMORY', async () => {
      await define(galley.url, 'hog-podman', {
        image: TEST_IMAGE,
        memory: 64,
        command: 'echo start; dd if=/dev/zero of=/dev/null bs=512M count=1',
      });
      const id = await execute(galley.url, 'hog-podman');
      const done = await stopped(id);
      expect(done.exit_code).toBeNull();
      expect(done.exit_reason).toContain('out of memory (limit 64 MB)');
      expect(done.attempt_count).toBe(1);
      expect(done.run_exceptions).toHaveLength(1);
      expect(done.run_exceptions![0]).toMatch(
        /^out of memory: the kernel killed it at its memory limit of 64 MB.*; the agent said: Memory limit exceeded: Requested: 96MB/,
      );
      // The agent failed the task (the reason is what made Galley say "out of memory").
      const task = fakeOf(master)
        .state()
        .tasks.find((t) => t.taskId === `${id}.1`);
      expect(task?.states.at(-1)).toBe('TASK_FAILED');
      expect(await readLog(galley.url, id)).toContain('start');
    });

    it('stops a container with grace: SIGTERM reaches the command in the image, SIGKILL after the grace period', async () => {
      await define(galley.url, 'stubborn-podman', {
        image: TEST_IMAGE,
        command: "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.05; done",
      });
      const id = await execute(galley.url, 'stubborn-podman');
      await runReaches(galley.url, id, 'RUNNING');
      await eventually('the trap to be set', async () =>
        (await readLog(galley.url, id)).includes('ready') ? true : undefined,
      );
      expect((await api(galley.url, 'POST', `/history/${id}/stop`)).status).toBe(200);
      const done = await stopped(id);
      expect(done.exit_code).toBeNull();
      expect(done.exit_reason).toMatch(/^stopped by request \(killed.*signal Killed/);
      expect(await readLog(galley.url, id)).toMatch(/^ready\ngot TERM\n/);
      const left = await p.run(['ps', '-a', '--filter', 'name=^mesos-', '--format', '{{.Names}}']);
      expect(left.stdout.trim()).toBe('');
    });

    it('fails a run whose image is not there with the launch error, and tries no other attempt', async () => {
      await define(galley.url, 'missing-image', {
        image: 'localhost/galley-no-such-image:1',
        command: 'true',
      });
      const done = await stopped(await execute(galley.url, 'missing-image'));
      expect(done.attempt_count).toBe(1);
      expect(done.exit_code).toBeNull();
      expect(done.exit_reason).toContain(
        "Failed to launch container: Unexpected HTTP response '404 Not Found' when trying to get the manifest",
      );
    });
  },
);

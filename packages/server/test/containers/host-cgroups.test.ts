import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unavailable } from '@galley/testkit';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parsePipelineSpec } from '@galley/core';
import type { AttemptUsage, BackendEvent, LaunchSpec } from '../../src/backends/backend.js';
import type { GroupEvent, GroupLaunch } from '../../src/backends/group-runner.js';
import { attemptDir } from '../../src/backends/local/attempt-files.js';
import { processDir } from '../../src/backends/local/group-process.js';
import { HostCgroups, type HostCgroupRoots, probeHostCgroups } from '../../src/backends/local/host-cgroup.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';
import type { AttemptRecord } from '../../src/model/records.js';

// Host mode (no container runtime) with the server allowed to make cgroups (root, a writable
// cgroupfs): each attempt runs in its own memory cgroup with its definition's limit — an
// allocation past it is OOM-killed and the run says so, the peak is the kernel's, the cgroup is
// gone after, and a server restarted in between finds it again by the attempt's id. Jobs run as
// `nobody` here, as the server runs them under root.

const PATIENCE_MS = 60_000;
const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };

const gate = await (async () => {
  if (process.getuid?.() !== 0) return unavailable('host cgroups', 'the tests do not run as root');
  const probe = await probeHostCgroups(await mkdtemp(join(tmpdir(), 'galley-cgprobe-')));
  if (!probe.cgroups) return unavailable('host cgroups', probe.limits.memory.how);
  return { available: true as const, service: probe.cgroups.roots as HostCgroupRoots };
})();

const dirs: string[] = [];
const backends: LocalBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A local backend in host mode on `dataDir` (a new one when absent); `start: false` leaves it unstarted, as a restart's reconcile finds it. */
async function makeBackend(dataDir?: string, start = true) {
  const data = dataDir ?? (await mkdtemp(join(tmpdir(), 'galley-hostcg-')));
  if (!dataDir) {
    dirs.push(data);
    await chmod(data, 0o755);
  }
  const backend = new LocalBackend({
    cluster: 'local',
    dataDir: data,
    cpus: 2,
    memoryMb: 4096,
    adoptCheckMs: 50,
    usageSampleMs: 200,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    runAs: NOBODY,
  });
  backends.push(backend);
  const events: BackendEvent[] = [];
  backend.onEvents((batch) => void events.push(...batch));
  if (start) await backend.start();
  const ended = (attemptId: string) =>
    vi.waitFor(
      () => {
        const hit = events.find((e) => e.type === 'ended' && e.attemptId === attemptId);
        if (!hit || hit.type !== 'ended') throw new Error(`not ended yet: ${JSON.stringify(events)}`);
        return hit;
      },
      { timeout: PATIENCE_MS, interval: 20 },
    );
  return { backend, data, events, ended };
}

let counter = 0;
function spec(command: string, memMb: number): LaunchSpec {
  const runId = `cg-${process.pid}-${counter++}`;
  return {
    attemptId: `${runId}.1`,
    runId,
    seq: 1,
    nodeId: 'local',
    image: '',
    command,
    env: [],
    cpus: 0.5,
    memMb,
    gpus: 0,
  };
}

/** The attempt's cgroup directory in the memory hierarchy. */
function cgroupDir(data: string, attemptId: string): string {
  const roots = (gate.available ? gate.service : null!) as HostCgroupRoots;
  const cgroups = new HostCgroups(roots, data);
  return join(roots.version === 2 ? roots.root : roots.memory, cgroups.pathOf(attemptId));
}

const OOM = 'out of memory (limit 32 MB)';

describe.runIf(gate.available)(
  'host mode enforces memory through a cgroup per attempt',
  { timeout: 90_000 },
  () => {
    it('says in /clusters that memory and CPU limits hold, and how', async () => {
      const { backend } = await makeBackend();
      const d = backend.describe();
      expect(d.runsOnHost).toBe(true);
      expect(d.limits?.memory).toMatchObject({ enforced: true });
      expect(d.limits?.memory.how).toMatch(
        /memory cgroup per run attempt and per pipeline process \(cgroup v[12] memory\.(limit_in_bytes|max)\)/,
      );
      expect(d.limits?.cpu.enforced).toBe(true);
      expect(d.note).toContain('memory limits hold');
    });

    it('kills a job that allocates past its limit and says so; the peak of one within it is the kernel’s; the cgroups go', async () => {
      const { backend, data, ended } = await makeBackend();
      // dd's one 100 MiB buffer, every page written by the read from /dev/zero.
      const big = spec('echo starting; dd if=/dev/zero of=/dev/null bs=100M count=2', 32);
      const fits = spec('dd if=/dev/zero of=/dev/null bs=60M count=2', 256);
      await backend.launch({ runs: [big, fits], groups: [] });
      const [over, within] = await Promise.all([ended(big.attemptId), ended(fits.attemptId)]);
      expect(over.outcome).toEqual({ kind: 'killed', message: OOM });
      expect(over.usage?.exceptions?.[0]).toContain('the kernel killed it at its memory limit of 32 MB');
      expect(over.usage?.maxMemoryMb).toBeGreaterThanOrEqual(28);
      expect(within.outcome).toEqual({ kind: 'exited', exitCode: 0 });
      expect(within.usage?.maxMemoryMb).toBeGreaterThanOrEqual(60 * 0.8);
      expect(within.usage?.maxMemoryMb).toBeLessThanOrEqual(60 * 1.2);
      expect((within.usage as AttemptUsage).exceptions).toBeUndefined();
      await vi.waitFor(() => expect(existsSync(cgroupDir(data, big.attemptId))).toBe(false), {
        timeout: PATIENCE_MS,
      });
      await vi.waitFor(() => expect(existsSync(cgroupDir(data, fits.attemptId))).toBe(false), {
        timeout: PATIENCE_MS,
      });
    });

    it('finds attempts’ cgroups again after a restart: one that ended while the server was down, one still running and still held', async () => {
      const first = await makeBackend();
      const gated = (name: string) =>
        spec(
          `while [ ! -e ${join(first.data, name)} ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=100M count=2`,
          32,
        );
      const whileDown = gated('go-now');
      const later = gated('go-later');
      await first.backend.launch({ runs: [whileDown, later], groups: [] });
      const handleOf = (attemptId: string) =>
        vi.waitFor(
          () => {
            const e = first.events.find((x) => x.type === 'running' && x.attemptId === attemptId);
            if (!e || e.type !== 'running') throw new Error('not running yet');
            return e.handle;
          },
          { timeout: PATIENCE_MS },
        );
      const handles = [await handleOf(whileDown.attemptId), await handleOf(later.attemptId)];
      expect(existsSync(cgroupDir(first.data, later.attemptId))).toBe(true);
      await first.backend.close();
      backends.splice(backends.indexOf(first.backend), 1);

      // Down: the first one runs into its limit and the kernel kills it.
      await writeFile(join(first.data, 'go-now'), '');
      const exitFile = join(attemptDir(first.data, whileDown.runId, 1), 'exit');
      await vi.waitFor(() => expect(existsSync(exitFile)).toBe(true), { timeout: PATIENCE_MS });

      // The restart: reconcile before start, as the run controller does.
      const second = await makeBackend(first.data, false);
      const record = (s: LaunchSpec, handle: Record<string, unknown>) =>
        ({
          attemptId: s.attemptId,
          runId: s.runId,
          seq: 1,
          state: 'running',
          handle,
        }) as unknown as AttemptRecord;
      const [readAgain, adopted] = await second.backend.reconcile([
        { attempt: record(whileDown, handles[0]!), cpus: 0.5, memMb: 32 },
        { attempt: record(later, handles[1]!), cpus: 0.5, memMb: 32 },
      ]);
      expect(readAgain).toMatchObject({ state: 'ended', outcome: { kind: 'killed', message: OOM } });
      expect(adopted).toMatchObject({ state: 'running' });
      await second.backend.start();
      await writeFile(join(first.data, 'go-later'), '');
      const end = await second.ended(later.attemptId);
      expect(end.outcome).toEqual({ kind: 'killed', message: OOM });
      for (const s of [whileDown, later])
        await vi.waitFor(() => expect(existsSync(cgroupDir(first.data, s.attemptId))).toBe(false), {
          timeout: PATIENCE_MS,
        });
    });

    it('finds a pipeline process’s cgroup again after a restart: killed at its limit while the server was down, it ended out of memory; its cgroup goes', async () => {
      const first = await makeBackend();
      const parsed = parsePipelineSpec({
        id: 'held',
        processes: {
          eater: {
            command: `while [ ! -e ${join(first.data, 'go')} ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=100M count=2`,
            shell: true,
            resources: { cpu: 0.5, mem: 32 },
          },
        },
      });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      const launch: GroupLaunch = {
        launchId: `held$1.1.${process.pid}`,
        pipelineId: 'held',
        instanceId: 'held.1',
        spec: parsed.spec,
        queuedAt: 0,
      };
      const before: GroupEvent[] = [];
      first.backend.groups.onEvents(async (batch) => void before.push(...batch));
      await first.backend.launch({ runs: [], groups: [{ launch, nodeId: 'local', ports: {} }] });
      const handle = await vi.waitFor(
        () => {
          const e = before.find((x) => x.type === 'process-state' && x.state === 'TASK_RUNNING');
          if (!e || e.type !== 'process-state' || !e.handle) throw new Error('not running yet');
          return e.handle;
        },
        { timeout: PATIENCE_MS },
      );
      const taskId = `${launch.launchId}:eater`;
      expect(existsSync(cgroupDir(first.data, taskId))).toBe(true);
      await first.backend.close();
      backends.splice(backends.indexOf(first.backend), 1);

      // Down: it runs into its limit and the kernel kills it.
      await writeFile(join(first.data, 'go'), '');
      const exitFile = join(processDir(first.data, launch.launchId, 'eater'), 'exit');
      await vi.waitFor(() => expect(existsSync(exitFile)).toBe(true), { timeout: PATIENCE_MS });

      const second = await makeBackend(first.data, false);
      const after: GroupEvent[] = [];
      second.backend.groups.onEvents(async (batch) => void after.push(...batch));
      await second.backend.groups.reconcile([
        {
          launch,
          processes: { eater: { handle, ports: [], ended: false } },
          placed: true,
          killRequested: false,
        },
      ]);
      const ended = await vi.waitFor(
        () => {
          const e = after.find((x) => x.type === 'process-ended');
          if (!e || e.type !== 'process-ended') throw new Error(`not ended yet: ${JSON.stringify(after)}`);
          return e;
        },
        { timeout: PATIENCE_MS },
      );
      expect(ended.end).toMatchObject({ state: 'TASK_FAILED', message: OOM });
      await vi.waitFor(() => expect(existsSync(cgroupDir(first.data, taskId))).toBe(false), {
        timeout: PATIENCE_MS,
      });
    });
  },
);

describe.runIf(gate.available)('host mode without cgroups it may make', () => {
  it('says memory is accounted, not enforced, and why', async () => {
    // Where even root may not make a directory (sysfs), as on a read-only cgroupfs.
    const data = await mkdtemp(join(tmpdir(), 'galley-rocg-'));
    dirs.push(data);
    const probe = await probeHostCgroups(data, { version: 1, memory: '/sys', cpu: null, cpuacct: null });
    expect(probe.cgroups).toBeNull();
    expect(probe.limits.memory).toMatchObject({ enforced: false });
    expect(probe.limits.memory.how).toMatch(
      /^accounted, not enforced: the server may not create cgroups there \(\/sys\/galley/,
    );
    expect(probe.limits.cpu.enforced).toBe(false);
  });
});

describe('host cgroups on cgroup v2 (a fake cgroupfs: a directory with its interface files)', () => {
  it('enables the controllers down the path, writes memory.max, memory.swap.max and cpu.max, and reads OOM kills and the peak', async () => {
    const root = await mkdtemp(join(tmpdir(), 'galley-cgv2-'));
    dirs.push(root);
    const cgroups = new HostCgroups({ version: 2, root, cpu: true }, '/data');
    const { record, procs } = await cgroups.create('run-1.1', 32, 0.25);
    expect(record).toEqual({ path: cgroups.pathOf('run-1.1'), memMb: 32 });
    const dir = join(root, record.path);
    expect(procs).toEqual([join(dir, 'cgroup.procs')]);
    expect(await readFile(join(dir, 'memory.max'), 'utf8')).toBe(String(32 * 1024 * 1024));
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('25000 100000');
    for (const level of ['', 'galley', 'galley/host', cgroups.base.slice(1)])
      expect(await readFile(join(root, level, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu');
    // What the kernel would have kept after an OOM kill.
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n');
    await writeFile(join(dir, 'memory.peak'), String(33_000_000));
    expect(await cgroups.read(record.path)).toEqual({ oomKills: 1, limitHits: 12, peakBytes: 33_000_000 });
  });
});

import { describe, expect, it, vi } from 'vitest';
import { fakeOf, needsFake } from '../mesos/harness.js';
import {
  allReady,
  getPipeline,
  PATIENCE_MS,
  request,
  sampleUntil,
  seedPipeline,
  unchecked,
  waitFor,
} from './harness.js';
import { useMesosPipelineServer } from './mesos-server.js';

// Rolling updates, crash loops and rollbacks on the Mesos backend, end to end: the BUILT server
// against the fake master running real processes, the API sampled every 25 ms. (The fake does not
// run Mesos health checks, so readiness here is "running for min_healthy_seconds".)

describe.runIf(needsFake('pipeline rollouts on Mesos (the fake master runs the tasks as real processes)'))(
  'pipeline rollouts on the Mesos backend (fake master, real processes)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 180_000 },
  () => {
    const server = useMesosPipelineServer([{ resources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31999]' }]);
    const url = server.url;

    it('rolls an update out with the default strategy (25% surge, none unavailable): never fewer than 4 ready, never more than 5 (fake master)', async () => {
      const spec = unchecked(seedPipeline('roll', { instances: 4 }));
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const v1 = await waitFor(url(), 'roll', '4 ready', allReady(4, 1));
      expect(
        (await request(url(), 'PATCH', '/pipelines/roll', { environment: { APP_ENV: 'v2' } })).status,
      ).toBe(204);
      const { samples, last } = await sampleUntil(
        url(),
        'roll',
        (p) => p.update?.phase === 'succeeded' && p.tasks.length === 4 && allReady(4, 2)(p),
      );
      expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(4);
      expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(5);
      expect(samples.some((s) => s.versions.includes(1) && s.versions.includes(2))).toBe(true);
      expect(last.update).toMatchObject({ phase: 'succeeded', from_version: 1, to_version: 2 });
      expect(last.update!.batches).toBe(4);
      expect(last.tasks.every((t) => !v1.tasks.some((old) => old.id === t.id))).toBe(true);
      // Every old task was killed by Mesos, none is left running.
      const fake = fakeOf(server.master());
      for (const t of v1.tasks)
        expect(fake.state().tasks.find((x) => x.taskId === `${t.processor_id}:parse`)?.state).toBe(
          'TASK_KILLED',
        );
    });

    it('restarts a crashing task group with growing delays and shows the crash loop with its exit code (fake master)', async () => {
      const spec = seedPipeline('crashy', {
        instances: 1,
        processes: {
          flaky: {
            id: 'flaky',
            shell: true,
            command: 'sleep 0.2; exit 3',
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1,
          },
          steady: {
            id: 'steady',
            shell: true,
            command: 'exec sleep 600',
            resources: { cpu: 0.05, mem: 16 },
            kill_grace_period: 1,
          },
        },
      });
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const exits = new Map<string, number>();
      const launches = new Set<string>();
      // Restart delays are read from the server's own timestamps (exit → restart_at), not measured.
      const looping = await vi.waitFor(
        async () => {
          const p = await getPipeline(url(), 'crashy');
          const t = p.tasks[0];
          if (t?.processor_id) launches.add(t.processor_id);
          if (t?.last_exit && t.restart_at)
            exits.set(t.last_exit.at, Date.parse(t.restart_at) - Date.parse(t.last_exit.at));
          if (!(t?.crash_looping && exits.size >= 3))
            throw new Error(`not crash-looping with 3 exits yet: ${JSON.stringify(t)}`);
          return p;
        },
        { timeout: 2 * PATIENCE_MS, interval: 25 },
      );
      const delays = [...exits.entries()]
        .sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]))
        .map(([, d]) => d);
      expect(delays.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
      expect(looping.tasks[0]).toMatchObject({ status: 'crash-looping', crash_looping: true, ok: false });
      expect(looping.tasks[0]!.last_exit).toMatchObject({
        process: 'flaky',
        exit_code: 3,
        message: 'exited with code 3',
      });
      // Each restart is a new task group: the failed one's other task (steady) was killed first.
      const fake = fakeOf(server.master());
      expect(launches.size).toBeGreaterThanOrEqual(3);
      for (const launch of [...launches].slice(0, 2))
        expect(fake.state().tasks.find((x) => x.taskId === `${launch}:steady`)?.state).toBe('TASK_KILLED');
    });

    it('rolls back an update whose new version crash-loops, keeping every old instance ready meanwhile (fake master)', async () => {
      const spec = unchecked(seedPipeline('broken', { instances: 3 }));
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const v1 = await waitFor(url(), 'broken', '3 ready', allReady(3, 1));
      const processes = structuredClone(spec['processes']) as Record<string, Record<string, unknown>>;
      processes['parse']!['command'] = 'echo "bad config"; sleep 0.2; exit 1';
      expect((await request(url(), 'PATCH', '/pipelines/broken', { processes })).status).toBe(204);
      const { samples, last } = await sampleUntil(
        url(),
        'broken',
        (p) => p.update?.phase === 'rolled-back' && p.tasks.length === 3 && allReady(3, 1)(p),
      );
      expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
      expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
      expect(last.version).toBe(1);
      expect(last.tasks.map((t) => t.processor_id)).toEqual(v1.tasks.map((t) => t.processor_id));
      expect(last.update).toMatchObject({ phase: 'rolled-back', failed_version: 2, to_version: 1 });
      expect(last.update!.reason).toMatch(
        /^rolled back to version 1: instance broken\.4 of version 2 is crash-looping: process parse exited with code 1/,
      );
      expect(last.updates.map((u) => u.phase)).toEqual(['rolled-back']);
    });
  },
);

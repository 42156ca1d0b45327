import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtGalley } from '@galley/testkit';
import { describe, expect, it, vi } from 'vitest';
import { galley, PATIENT } from '../e2e/harness.js';
import {
  allReady,
  getPipeline,
  PATIENCE_MS,
  request,
  sampleUntil,
  seedPipeline,
  waitFor,
} from './harness.js';
import { useLocalPipelineServer } from './local-server.js';

// Rolling updates, rollbacks and crash loops on the local backend, end to end: the BUILT server,
// real processes with real HTTP health checks, the API sampled every 25 ms while it happens.

const built = builtGalley('pipelines rollout e2e (local)').available;

const suite = describe.runIf(built);

suite('pipeline rollouts on the local backend (built server, real processes)', PATIENT, () => {
  const server = useLocalPipelineServer('galley-rollout-');
  const url = server.url;

  it('rolls an update out in batches: never fewer than instances − max_unavailable ready, never more than instances + max_surge, progress and history in the API', async () => {
    const spec = seedPipeline('roll', {
      instances: 4,
      update_strategy: {
        max_surge: 1,
        max_unavailable: 1,
        min_healthy_seconds: 1,
        progress_deadline_seconds: 30,
      },
    });
    expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
    const v1 = await waitFor(url(), 'roll', '4 ready instances', allReady(4, 1));

    const file = join(server.dir(), 'v2.json');
    await writeFile(file, JSON.stringify({ environment: { APP_ENV: 'v2' } }));
    expect((await galley(url(), ['pipeline', 'update', 'roll', '-f', file])).code).toBe(0);
    const { samples, last } = await sampleUntil(
      url(),
      'roll',
      (p) => p.update?.phase === 'succeeded' && allReady(4, 2)(p) && p.tasks.length === 4,
    );
    expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(5);
    // It was rolling: both versions ran side by side at some sampled moment.
    expect(samples.some((s) => s.versions.includes(1) && s.versions.includes(2))).toBe(true);

    expect(last.version).toBe(2);
    expect(last.tasks.every((t) => !v1.tasks.some((old) => old.id === t.id))).toBe(true);
    expect(last.update).toMatchObject({
      phase: 'succeeded',
      from_version: 1,
      to_version: 2,
      available_new: 4,
    });
    expect(last.update!.batches).toBeGreaterThanOrEqual(2);
    expect(last.updates).toHaveLength(1);
    const launch = last.tasks[0]!.processor_id!.split('$')[1]!;
    const stdout = await readFile(
      join(server.data(), 'pipelines', 'roll', launch, 'parse', 'stdout'),
      'utf8',
    );
    expect(stdout).toContain('app=v2');

    // Scaling afterwards changes only the count: no new version, no update.
    expect((await request(url(), 'PATCH', '/pipelines/roll', { instances: 2 })).status).toBe(204);
    const scaled = await waitFor(
      url(),
      'roll',
      '2 instances',
      (p) => p.tasks.length === 2 && allReady(2, 2)(p),
    );
    expect(scaled.version).toBe(2);
    expect(scaled.updates).toHaveLength(1);
  });

  it('rolls back an update that never becomes healthy, keeping every old instance ready meanwhile', async () => {
    const spec = seedPipeline('broken', {
      instances: 3,
      update_strategy: { min_healthy_seconds: 1, progress_deadline_seconds: 4 },
    });
    expect((await request(url(), 'POST', '/api/v1/pipelines', spec)).status).toBe(204);
    const v1 = await waitFor(url(), 'broken', '3 ready instances', allReady(3, 1));

    // Version 2 checks a path its server answers 404: it never becomes healthy.
    const processes = structuredClone(spec['processes']) as Record<string, Record<string, unknown>>;
    (processes['parse']!['health_check'] as Record<string, unknown>)['path'] = '/broken';
    expect((await request(url(), 'PATCH', '/pipelines/broken', { processes })).status).toBe(204);
    const { samples, last } = await sampleUntil(
      url(),
      'broken',
      (p) => p.update?.phase === 'rolled-back' && allReady(3, 1)(p) && p.tasks.length === 3,
    );
    // max_unavailable is 0: the three old instances stayed ready the whole time.
    expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
    expect(samples.some((s) => s.versions.includes(2))).toBe(true);
    expect(last.version).toBe(1);
    expect(last.tasks.map((t) => t.id)).toEqual(v1.tasks.map((t) => t.id));
    expect(last.update).toMatchObject({
      phase: 'rolled-back',
      from_version: 1,
      to_version: 1,
      failed_version: 2,
    });
    expect(last.update!.reason).toMatch(
      /^rolled back to version 1: no progress for 4 s: 0 of 3 instances of version 2 available/,
    );
    const shown = await galley(url(), ['pipeline', 'show', 'broken']);
    expect(shown.stdout).toContain('update: rolled back to version 1');
  });

  it('restarts a crashing process with growing delays and shows the crash loop with its exit code and message', async () => {
    const spec = seedPipeline('crashy', {
      instances: 1,
      processes: {
        flaky: {
          id: 'flaky',
          shell: true,
          command: 'echo starting; sleep 0.2; echo "cannot reach the broker" >&2; exit 3',
          resources: { cpu: 0.05, mem: 16 },
          kill_grace_period: 1,
        },
      },
    });
    expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
    const exits = new Map<string, number>(); // failure time → restart delay (ms)
    // The delays are the server's own timestamps (exit → restart_at), not measured here.
    const looping = await vi.waitFor(
      async () => {
        const p = await getPipeline(url(), 'crashy');
        const t = p.tasks[0];
        if (t?.last_exit && t.restart_at)
          exits.set(t.last_exit.at, Date.parse(t.restart_at) - Date.parse(t.last_exit.at));
        if (!(t?.crash_looping && exits.size >= 3))
          throw new Error(`not crash-looping with 3 exits yet: ${JSON.stringify(t)}`);
        return p;
      },
      { timeout: 2 * PATIENCE_MS, interval: 25 },
    );
    const delays = [...exits.entries()].sort((a, b) => Date.parse(a[0]) - Date.parse(b[0])).map(([, d]) => d);
    // 1 s, then 2 s, then 4 s (core's default backoff: doubling).
    expect(delays.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
    const task = looping.tasks[0]!;
    expect(task).toMatchObject({
      id: 'crashy.1',
      status: 'crash-looping',
      failing: true,
      ok: false,
      crash_looping: true,
    });
    expect(task.failures).toBeGreaterThanOrEqual(2);
    expect(task.last_exit).toMatchObject({
      process: 'flaky',
      exit_code: 3,
      message: 'exited with code 3: cannot reach the broker',
    });
    expect(task.message).toContain('process flaky exited with code 3');
  });
});

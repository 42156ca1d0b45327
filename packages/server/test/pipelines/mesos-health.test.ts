import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsFake } from '../mesos/harness.js';
import { allReady, request, sampleUntil, seedPipeline, waitFor, type PipelineJson } from './harness.js';
import { useMesosPipelineServer } from './mesos-server.js';

// Health checks of pipelines on the Mesos backend, end to end: the BUILT server against the fake
// master, which runs each process as a real process and its Mesos health check (HTTP on the
// process's host port) as the agent's executor does, so readiness is the agent's `healthy`
// verdict: a rolling update gated by it, an update that never becomes healthy rolled back, an
// instance the agent finds unhealthy (and kills) replaced by a new one.

/** A server on $PORT0 that answers /health with 503 for its first 1.5 s, then 200. */
const SLOW_STARTER =
  "exec node -e \"const t=Date.now();require('http').createServer((q,s)=>{s.statusCode=q.url!=='/health'?404:Date.now()-t<1500?503:200;s.end()}).listen(+process.env.PORT0,'127.0.0.1')\"";

/** A server on $PORT0 that answers /health with 200, or 500 once $SICK_DIR/$GALLEY_INSTANCE_ID exists. */
const SICKENING =
  "exec node -e \"const f=process.env.SICK_DIR+'/'+process.env.GALLEY_INSTANCE_ID;require('http').createServer((q,s)=>{s.statusCode=require('fs').existsSync(f)?500:200;s.end()}).listen(+process.env.PORT0,'127.0.0.1')\"";

/** The spec's processes with `parse` changed. */
function withParse(spec: Record<string, unknown>, change: Record<string, unknown>): Record<string, unknown> {
  const processes = structuredClone(spec['processes']) as Record<string, Record<string, unknown>>;
  const parse = processes['parse']!;
  for (const [key, value] of Object.entries(change)) {
    if (key === 'health_check') parse[key] = { ...(parse[key] as object), ...(value as object) };
    else parse[key] = value;
  }
  return processes;
}

describe.runIf(needsFake('pipeline health checks on Mesos (the fake master runs the agent’s health checks)'))(
  'pipeline health checks on the Mesos backend (fake master, real processes and health checks)',
  // Generous: a loaded machine starts processes slowly; a failure still ends the test.
  { timeout: 180_000 },
  () => {
    const server = useMesosPipelineServer([{ resources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31999]' }]);
    let sickDir: string;
    const url = server.url;
    const fakeTask = server.fakeTask;

    beforeAll(async () => {
      sickDir = await mkdtemp(join(tmpdir(), 'galley-sick-'));
    });
    afterAll(async () => {
      if (sickDir) await rm(sickDir, { recursive: true, force: true });
    });

    it('rolls an update out gated by the agent’s health verdicts: a new instance counts only once healthy, never fewer than instances − max_unavailable healthy (fake master)', async () => {
      const spec = seedPipeline('gated', {
        instances: 4,
        update_strategy: {
          max_surge: 1,
          max_unavailable: 1,
          min_healthy_seconds: 0.5,
          progress_deadline_seconds: 40,
        },
      });
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const v1 = await waitFor(url(), 'gated', '4 healthy instances', allReady(4, 1));
      // Healthy means the agent said so: every parse task's last verdict is healthy=true.
      for (const t of v1.tasks) {
        expect(t.processes['parse']!.health).toBe('healthy');
        expect(fakeTask(`${t.processor_id}:parse`)?.healthy).toBe(true);
        expect(fakeTask(`${t.processor_id}:sidecar`)?.healthy).toBeUndefined();
      }

      // Version 2 answers 503 for 1.5 s after it starts: running, but not yet healthy.
      const processes = withParse(spec, { command: SLOW_STARTER });
      expect((await request(url(), 'PATCH', '/pipelines/gated', { processes })).status).toBe(204);
      let runningUnhealthy = 0;
      const { samples, last } = await sampleUntil(url(), 'gated', (p) => {
        runningUnhealthy += p.tasks.filter(
          (t) => t.version === 2 && !t.killing && t.status === 'running' && !t.ok,
        ).length;
        return p.update?.phase === 'succeeded' && p.tasks.length === 4 && allReady(4, 2)(p);
      });
      expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
      expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(5);
      expect(samples.some((s) => s.versions.includes(1) && s.versions.includes(2))).toBe(true);
      // The gate was needed: new instances ran a while before the agent found them healthy.
      expect(runningUnhealthy).toBeGreaterThan(0);
      expect(last.update).toMatchObject({
        phase: 'succeeded',
        from_version: 1,
        to_version: 2,
        available_new: 4,
      });
      for (const t of last.tasks) expect(fakeTask(`${t.processor_id}:parse`)?.healthy).toBe(true);
      for (const t of v1.tasks) expect(fakeTask(`${t.processor_id}:parse`)?.state).toBe('TASK_KILLED');
    });

    it('rolls back an update whose new version never becomes healthy: the agent kills it, Galley replaces it, then gives the update up — every old instance healthy meanwhile (fake master)', async () => {
      const spec = seedPipeline('broken', {
        instances: 3,
        // The deadline leaves room for the agent's kill (3 s grace + 3 failed checks) and the
        // replacement on a loaded machine.
        update_strategy: { min_healthy_seconds: 0.5, progress_deadline_seconds: 12 },
      });
      expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);
      const v1 = await waitFor(url(), 'broken', '3 healthy instances', allReady(3, 1));

      // Version 2 checks a path its server answers with 404: it never becomes healthy.
      const processes = withParse(spec, { health_check: { path: '/broken' } });
      expect((await request(url(), 'PATCH', '/pipelines/broken', { processes })).status).toBe(204);
      const v2Launches = new Set<string>();
      const { samples, last } = await sampleUntil(url(), 'broken', (p) => {
        for (const t of p.tasks) if (t.version === 2 && t.processor_id) v2Launches.add(t.processor_id);
        return p.update?.phase === 'rolled-back' && p.tasks.length === 3 && allReady(3, 1)(p);
      });
      expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
      expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
      expect(last.version).toBe(1);
      expect(last.tasks.map((t) => t.processor_id)).toEqual(v1.tasks.map((t) => t.processor_id));
      expect(last.update).toMatchObject({ phase: 'rolled-back', failed_version: 2, to_version: 1 });
      expect(last.update!.reason).toMatch(
        /^rolled back to version 1: no progress for 12 s: 0 of 3 instances of version 2 available/,
      );
      // The agent killed the first new instance after its grace period and 3 failed checks, and
      // Galley replaced it with another instance before the deadline.
      const launches = [...v2Launches];
      expect(launches.length).toBeGreaterThanOrEqual(2);
      expect(fakeTask(`${launches[0]}:parse`)).toMatchObject({ state: 'TASK_KILLED', healthy: false });
      expect(fakeTask(`${launches[0]}:sidecar`)?.state).toBe('TASK_KILLED');
      for (const launch of launches) expect(fakeTask(`${launch}:parse`)?.state).toBe('TASK_KILLED');
    });

    it('replaces an instance the agent finds unhealthy (and kills) with a new launch in its place; the others keep running (fake master)', async () => {
      const spec = seedPipeline('sick', {
        instances: 2,
        environment: { APP_ENV: 'test', SICK_DIR: sickDir },
      });
      const processes = withParse(spec, { command: SICKENING });
      expect((await request(url(), 'POST', '/pipelines', { ...spec, processes })).status).toBe(204);
      const before = await waitFor(url(), 'sick', '2 healthy instances', allReady(2));
      expect(before.tasks.map((t) => t.id)).toEqual(['sick.1', 'sick.2']);
      const [first, second] = before.tasks as [PipelineJson['tasks'][number], PipelineJson['tasks'][number]];

      // sick.1's server starts failing its checks; once the agent has killed it, it is well again.
      const marker = join(sickDir, 'sick.1');
      await writeFile(marker, '');
      await waitFor(
        url(),
        'sick',
        'the agent to kill the unhealthy sick.1',
        () => fakeTask(`${first.processor_id}:parse`)?.state === 'TASK_KILLED',
      );
      await rm(marker);
      const after = await waitFor(
        url(),
        'sick',
        'sick.1 launched again and healthy',
        (p) => p.tasks.find((t) => t.id === 'sick.1')?.processor_id !== first.processor_id && allReady(2)(p),
      );
      expect(after.tasks.map((t) => t.id)).toEqual(['sick.1', 'sick.2']);
      const kept = after.tasks.find((t) => t.id === 'sick.2')!;
      expect(kept.processor_id).toBe(second.processor_id);
      expect(kept.failures).toBe(0);
      // Mesos killed the unhealthy task (healthy=false on its TASK_KILLED) and the rest of its group.
      expect(fakeTask(`${first.processor_id}:parse`)).toMatchObject({ state: 'TASK_KILLED', healthy: false });
      expect(fakeTask(`${first.processor_id}:sidecar`)?.state).toBe('TASK_KILLED');
      const replacement = after.tasks.find((t) => t.id === 'sick.1')!;
      expect(replacement.failures).toBeGreaterThanOrEqual(1);
      // Why it was replaced: its parse process failed its health check (not the sidecar the
      // agent killed with it, whose end may have been reported first).
      expect(replacement.last_exit).toMatchObject({
        process: 'parse',
        exit_code: null,
        message: 'killed after failing its health check',
      });
      expect(fakeTask(`${replacement.processor_id}:parse`)).toMatchObject({
        state: 'TASK_RUNNING',
        healthy: true,
      });
      expect(fakeTask(`${second.processor_id}:parse`)?.state).toBe('TASK_RUNNING');
    });
  },
);

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  newInstanceState,
  parsePipelineSpec,
  PIPELINE_SERVING_LIMITS,
  type PipelineSpec,
} from '@galley/core';
import { builtGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PIPELINE_LIMITS } from '../../src/api/schemas/pipeline-spec.js';
import type { PipelineRecord } from '../../src/model/pipeline-records.js';
import { newLaunch } from '../../src/pipelines/sync.js';
import { openStore } from '../../src/store/open.js';
import { PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { getPipeline, type PipelineJson, request, seedPipeline, waitFor, waitGone } from './harness.js';

// Issue 12 item 3, end to end on the BUILT server (local backend, PGlite): a pipeline whose
// launches fail backs off as a crash loop does and reads `failing` with the reason; a pipeline
// stored before the bounds existed (a billion instances, a 5,000-character id, a 1e308 s health
// interval) is `failed` at start-up, launches nothing, never takes the server down, and can be
// deleted.

const built = builtGalley('pipeline failures e2e (local)').available;

type Failing = PipelineJson & { status_reason: string | null };

/** A complete spec from the seed pipeline (defaults filled), as the server would have stored it. */
function specOf(id: string, over: Record<string, unknown> = {}): PipelineSpec {
  const parsed = parsePipelineSpec(seedPipeline('seed', over));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { ...parsed.spec, id };
}

function record(spec: PipelineSpec, over: Partial<PipelineRecord> = {}): PipelineRecord {
  const now = Date.now();
  return {
    pipelineId: spec.id,
    uid: 'old01',
    cluster: 'local',
    spec,
    version: 1,
    instanceSeq: 0,
    update: null,
    updateSeq: 0,
    deletingAt: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

describe('core and the schema agree on what can be served', () => {
  it('every serving limit is the schema’s bound (so every spec the API accepts can be served)', () => {
    for (const [key, value] of Object.entries(PIPELINE_SERVING_LIMITS))
      expect([key, PIPELINE_LIMITS[key as keyof typeof PIPELINE_LIMITS]]).toEqual([key, value]);
  });
});

describe.runIf(built)('pipelines stored before the bounds existed (built server, PGlite)', PATIENT, () => {
  let dir: string;
  let data: string;
  let server: ServerProcess | undefined;
  const longId = 'x'.repeat(5000);
  const url = () => server!.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-unservable-'));
    data = join(dir, 'data');
    const store = await openStore({ dataDir: data });
    try {
      // What POST accepted before the bounds: a billion instances…
      await store.createPipeline(record({ ...specOf('huge'), instances: 1e9 }));
      // …an id no route, launch id or file name can hold…
      await store.createPipeline(record({ ...specOf(longId), instances: 2 }));
      // …and a health check Node's timers cannot wait for, with an instance whose launch was
      // recorded (write-ahead) when the old server stopped.
      const slow = specOf('slowcheck', { instances: 1 });
      slow.processes['parse']!.health_check = {
        ...slow.processes['parse']!.health_check!,
        interval_seconds: 1e308,
      };
      const p = record(slow, { instanceSeq: 1 });
      await store.createPipeline(p);
      const state = newInstanceState({ instanceId: 'slowcheck.1', number: 1, version: 1 }, p.createdAt, true);
      await store.savePipeline({
        pipeline: p,
        instances: [
          {
            pipelineId: 'slowcheck',
            state,
            launch: newLaunch(p, state, slow, 1, 1, p.createdAt),
            updatedAt: p.createdAt,
          },
        ],
      });
      // A pipeline within the bounds beside them keeps running.
      await store.createPipeline(record(specOf('fine', { instances: 1 })));
    } finally {
      await store.close();
    }
    server = await startServer(data, ['--local-cpus', '4', '--local-memory-mb', '4096']);
  }, 120_000);

  afterAll(async () => {
    if (server) {
      // Its processes outlive the server by design: the test's must not outlive the test.
      await request(url(), 'DELETE', '/pipelines/fine').catch(() => undefined);
      await waitGone(url(), 'fine').catch(() => undefined);
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('starts, shows each as failed with the reason, launches nothing of them and serves the others', async () => {
    const fine = await waitFor(url(), 'fine', 'the pipeline within the bounds ready', (p) =>
      p.tasks.some((t) => t.ok),
    );
    expect(fine.status).toBe('steady');

    const huge = (await getPipeline(url(), 'huge')) as Failing;
    expect(huge.status).toBe('failed');
    expect(huge.status_reason).toBe(
      'its stored spec cannot be served (stored before these bounds existed): instances: 1000000000 is beyond what the server can serve: a whole number from 0 to 1000',
    );
    expect(huge.tasks).toEqual([]);

    const all = await request<Record<string, Failing>>(url(), 'GET', '/api/v1/pipelines');
    expect(all.status).toBe(200);
    expect(all.body[longId]?.status).toBe('failed');
    expect(all.body[longId]?.status_reason).toMatch(
      /^its stored spec cannot be served \(stored before these bounds existed\): id: an id of 5000 characters is not a pipeline id the server can serve/,
    );
    expect(all.body[longId]?.tasks).toEqual([]);

    // The instance recorded in flight is stopped (it never started, so it is simply gone).
    const slow = (await waitFor(
      url(),
      'slowcheck',
      'its instance gone',
      (p) => p.tasks.length === 0,
    )) as Failing;
    expect(slow.status).toBe('failed');
    expect(slow.status_reason).toMatch(
      /processes\.parse\.health_check\.interval_seconds: 1e\+308 is beyond what the server can serve/,
    );
    for (const id of ['huge', 'slowcheck']) expect(existsSync(join(data, 'pipelines', id))).toBe(false);

    // A change that keeps a field beyond what can be served is refused, naming it.
    const patched = await request<{ fields?: Record<string, string> }>(url(), 'PATCH', '/pipelines/huge', {
      environment: { A: 'b' },
    });
    expect(patched.status).toBe(422);
    expect(Object.keys(patched.body.fields ?? {})).toEqual(['body.instances']);
    const ping = await request<{ ok: boolean }>(url(), 'GET', '/ping');
    expect(ping.body.ok).toBe(true);
  });

  it('each can be deleted: by its path, or by ?id= when no path can hold the id', async () => {
    expect((await request(url(), 'DELETE', '/pipelines/huge')).status).toBe(204);
    expect((await request(url(), 'DELETE', '/api/v1/pipelines/slowcheck')).status).toBe(204);
    const byQuery = await request(url(), 'DELETE', `/api/v1/pipelines?id=${encodeURIComponent(longId)}`);
    expect(byQuery.status).toBe(204);
    await waitGone(url(), 'huge');
    await waitGone(url(), 'slowcheck');
    await vi.waitFor(
      async () => {
        const all = await request<Record<string, unknown>>(url(), 'GET', '/api/v1/pipelines');
        if (longId in all.body) throw new Error('the pipeline with the long id is still listed');
      },
      { timeout: 60_000, interval: 50 },
    );
    expect((await request(url(), 'DELETE', '/pipelines?id=nothing-here')).status).toBe(404);
    expect((await getPipeline(url(), 'fine')).status).toBe('steady');
  });
});

describe.runIf(built)('a pipeline whose launches fail (built server)', PATIENT, () => {
  let dir: string;
  let data: string;
  let server: ServerProcess | undefined;
  const url = () => server!.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-launchfail-'));
    data = join(dir, 'data');
    server = await startServer(data, ['--local-cpus', '4', '--local-memory-mb', '4096']);
  }, 120_000);

  afterAll(async () => {
    if (server) {
      await request(url(), 'DELETE', '/pipelines/blocked').catch(() => undefined);
      await waitGone(url(), 'blocked').catch(() => undefined);
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('backs off as a crash loop does, reads failing with the reason, and recovers once a launch runs', async () => {
    // The pipeline's directory is a file: no launch of it can make its process directories.
    await mkdir(join(data, 'pipelines'), { recursive: true });
    await writeFile(join(data, 'pipelines', 'blocked'), 'not a directory');
    const spec = seedPipeline('blocked', { instances: 1 });
    expect((await request(url(), 'POST', '/pipelines', spec)).status).toBe(204);

    const failing = (await waitFor(
      url(),
      'blocked',
      'its second restart to back off',
      (p) => p.tasks[0]?.status !== undefined && p.tasks[0].failures >= 2 && p.tasks[0].restart_at !== null,
    )) as Failing;
    expect(failing.status).toBe('failing');
    expect(failing.status_reason).toMatch(
      /^instance blocked\.1 cannot be launched: its launch failed \(process \w+\): /,
    );
    // No host path in the answer.
    expect(JSON.stringify(failing)).not.toContain(data);
    const task = failing.tasks[0]!;
    expect(['backing-off', 'crash-looping']).toContain(task.status);
    expect(task.last_exit?.message).toMatch(/^ENOTDIR: not a directory, mkdir '…\/(parse|sidecar)'$/);
    // Restart 1 came 1 s after the first failure, restart 2 2 s after the second: the third waits 4 s.
    const delay = Date.parse(task.restart_at!) - Date.parse(task.last_exit!.at);
    expect(delay).toBeGreaterThanOrEqual(2000);

    // Once launches can run again, the next restart runs and the pipeline is steady.
    await rm(join(data, 'pipelines', 'blocked'));
    const ok = (await waitFor(
      url(),
      'blocked',
      'the instance ready',
      (p) => p.tasks[0]?.ok === true,
    )) as Failing;
    expect(ok.status).toBe('steady');
    expect(ok.status_reason).toBeNull();
  });
});

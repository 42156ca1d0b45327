import { readFile, readdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { galley, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import {
  allReady,
  childrenOf,
  getPipeline,
  groupAlive,
  type PipelineJson,
  request,
  seedPipeline,
  waitFor,
  deleteAllPipelines,
  waitGone,
  watchUntilGone,
} from './harness.js';

// Pipelines end to end on the local backend: the BUILT server as a process, Faustian's HTTP API
// and the real CLI, real child processes (checked in /proc), a server SIGKILLed and restarted.

const built = builtGalley('pipelines e2e (local)').available;

const pidsOf = (p: PipelineJson): number[] =>
  p.tasks
    .flatMap((t) => Object.values(t.processes).map((pr) => pr.pid))
    .filter((x): x is number => x !== null);

describe.runIf(built)('pipelines on the local backend (built server, real processes)', PATIENT, () => {
  let dir: string;
  let data: string;
  let server: ServerProcess;
  const flags = ['--local-cpus', '4', '--local-memory-mb', '4096', '--adopt-check-ms', '50'];
  const url = () => server.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-pipelines-'));
    data = join(dir, 'data');
    server = await startServer(data, flags);
  }, 120_000);
  afterAll(async () => {
    // Pipelines outlive a server by design: delete them so no process outlives the test.
    if (server) {
      await deleteAllPipelines(url());
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("creates the seed's example pipeline: every instance runs its processes with the pipeline's and the process's environment, arguments and a host port", async () => {
    const created = await request(url(), 'POST', '/pipelines', seedPipeline('seed', { instances: 3 }));
    expect(created.status).toBe(204);
    expect((await request(url(), 'POST', '/pipelines', seedPipeline('seed'))).status).toBe(409);

    const p = await waitFor(url(), 'seed', '3 ready instances', allReady(3));
    expect(p.tasks.map((t) => t.id)).toEqual(['seed.1', 'seed.2', 'seed.3']);
    const ports = p.tasks.map((t) => t.processes['parse']!.ports[0]!);
    expect(new Set(ports).size).toBe(3);
    for (const t of p.tasks) {
      expect(t.processes['parse']).toMatchObject({ status: 'TASK_RUNNING', health: 'healthy' });
      expect(t.processes['sidecar']).toMatchObject({ status: 'TASK_RUNNING', health: null });
      const port = t.processes['parse']!.ports[0]!;
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const launch = t.processor_id!.split('$')[1]!;
      const stdout = await readFile(join(data, 'pipelines', 'seed', launch, 'parse', 'stdout'), 'utf8');
      expect(stdout).toContain(
        `args=worker -l info app=test proc=parse-only port=${port} port6066=${port} instance=${t.id}`,
      );
      const sidecar = await readFile(join(data, 'pipelines', 'seed', launch, 'sidecar', 'stdout'), 'utf8');
      expect(sidecar).toBe('');
    }
    for (const pid of pidsOf(p)) expect(groupAlive(pid)).toBe(true);

    // Faustian's list (a map by id) at its own path and under /api/v1; /ping counts instances.
    const list = await request<Record<string, PipelineJson>>(url(), 'GET', '/pipelines');
    expect(list.body['seed']?.tasks).toHaveLength(3);
    const ping = await request<Record<string, unknown>>(url(), 'GET', '/ping');
    expect(ping.body).toMatchObject({ ok: true, leader: true, pipelines: 1, tasks: 3 });
    // A browser at /pipelines gets the UI's page, not JSON.
    const page = await fetch(`${url()}/pipelines`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');

    // Documented once, under /api/v1 (Faustian's own paths are the same routes, not listed again).
    const openapi = await request<{ paths: Record<string, unknown> }>(url(), 'GET', '/api/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/pipelines', '/api/v1/pipelines/{pipeline_id}', '/api/v1/ping']),
    );
    expect(Object.keys(openapi.body.paths)).not.toContain('/pipelines');

    const cli = await galley(url(), ['pipeline', 'list']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/seed\s+3\/3\s+1\s+steady/);
  });

  it('scales up and down through the CLI: only instances are added or removed (the youngest first), nothing else restarts', async () => {
    const before = await getPipeline(url(), 'seed');
    expect((await galley(url(), ['pipeline', 'scale', 'seed', '5'])).code).toBe(0);
    const up = await waitFor(url(), 'seed', '5 ready instances', allReady(5));
    expect(up.tasks.map((t) => t.id)).toEqual(['seed.1', 'seed.2', 'seed.3', 'seed.4', 'seed.5']);
    expect(up.version).toBe(1);
    // The first three kept their processes.
    expect(pidsOf(up).slice(0, 6)).toEqual(pidsOf(before));

    const scaled = await galley(url(), ['pipeline', 'scale', 'seed', '2']);
    expect(scaled.stdout).toContain('scaling seed to 2 instances');
    const down = await waitFor(url(), 'seed', '2 instances', (p) => p.tasks.length === 2 && allReady(2)(p));
    expect(down.tasks.map((t) => t.id)).toEqual(['seed.1', 'seed.2']);
    expect(pidsOf(down)).toEqual(pidsOf(before).slice(0, 4));
    const removed = pidsOf(up).slice(4);
    expect(removed.every((pid) => !groupAlive(pid))).toBe(true);

    const shown = await galley(url(), ['pipeline', 'show', 'seed']);
    expect(shown.stdout).toMatch(/seed\.1\s+healthy\s+1\s+0\s+parse:running sidecar:running/);
  });

  it('deletes a pipeline: every process is stopped within its grace period (one that ignores SIGTERM is killed after it), then it is gone', async () => {
    const stubborn = seedPipeline('stubborn', {
      instances: 2,
      processes: {
        worker: {
          id: 'worker',
          shell: true,
          command: "trap '' TERM; while true; do sleep 0.1; done",
          resources: { cpu: 0.05, mem: 16 },
          kill_grace_period: 1.5,
        },
        polite: {
          id: 'polite',
          shell: true,
          command: 'exec sleep 600',
          resources: { cpu: 0.05, mem: 16 },
          kill_grace_period: 10,
        },
      },
    });
    expect((await request(url(), 'POST', '/api/v1/pipelines', stubborn)).status).toBe(204);
    const p = await waitFor(url(), 'stubborn', '2 ready instances', allReady(2));
    const workers = p.tasks.map((t) => t.processes['worker']!.pid!);
    const polite = p.tasks.map((t) => t.processes['polite']!.pid!);

    const asked = Date.now();
    expect((await galley(url(), ['pipeline', 'delete', 'stubborn'])).code).toBe(0);
    const deleting = await getPipeline(url(), 'stubborn');
    expect(deleting.status).toBe('deleting');
    // SIGTERM ends `sleep` at once; the TERM-ignoring loop lives until its 1.5 s grace is over.
    const gone = await watchUntilGone([...workers, ...polite], groupAlive, asked);
    // The polite ones were not kept for their 10 s of grace: they were gone before any worker,
    // which is SIGKILLed when its 1.5 s are over. (Order, not speed: a loaded machine keeps it.)
    expect(
      gone
        .slice(0, polite.length)
        .map((g) => g.item)
        .sort(),
    ).toEqual([...polite].sort());
    // The workers got their grace before the SIGKILL: a lower bound (from before the delete was
    // asked), which a loaded machine can only lengthen.
    for (const g of gone.filter((x) => workers.includes(x.item)))
      expect(g.afterMs).toBeGreaterThanOrEqual(1_300);
    await waitGone(url(), 'stubborn');
  });

  it('answers bad pipeline JSON with a 4xx naming the field', async () => {
    const good = seedPipeline('checked');
    const cases: {
      what: string;
      method: string;
      path: string;
      body: unknown;
      status: number;
      field?: string;
      code?: string;
    }[] = [
      {
        what: 'not JSON',
        method: 'POST',
        path: '/pipelines',
        body: '{"id": ',
        status: 400,
        code: 'BAD_JSON',
      },
      { what: 'a list', method: 'POST', path: '/pipelines', body: [good], status: 400 },
      {
        what: 'a bad id',
        method: 'POST',
        path: '/pipelines',
        body: { ...good, id: 'no spaces!' },
        status: 400,
        field: 'body.id',
      },
      {
        what: 'no processes',
        method: 'POST',
        path: '/pipelines',
        body: { ...good, processes: {} },
        status: 400,
        field: 'body.processes',
      },
      {
        what: 'a negative cpu',
        method: 'POST',
        path: '/pipelines',
        body: seedPipeline('checked', {
          processes: { parse: { command: 'true', resources: { cpu: -1, mem: 10 } } },
        }),
        status: 400,
        field: 'body.processes.parse.resources.cpu',
      },
      {
        what: 'no command on the local backend',
        method: 'POST',
        path: '/pipelines',
        body: seedPipeline('checked', {
          processes: { parse: { arguments: ['worker'], resources: { cpu: 1, mem: 10 } } },
        }),
        status: 422,
        field: 'body.processes.parse.command',
      },
      {
        what: 'a health check on a port the process lacks',
        method: 'POST',
        path: '/pipelines',
        body: seedPipeline('checked', {
          processes: {
            parse: { command: 'true', resources: { cpu: 1, mem: 10 }, health_check: { protocol: 'TCP' } },
          },
        }),
        status: 422,
        field: 'body.processes.parse.health_check.port_index',
      },
      {
        what: 'instances below 0',
        method: 'POST',
        path: '/pipelines',
        body: { ...good, instances: -1 },
        status: 400,
        field: 'body.instances',
      },
      {
        what: 'a bad max_surge',
        method: 'POST',
        path: '/pipelines',
        body: { ...good, update_strategy: { max_surge: 'lots' } },
        status: 400,
        field: 'body.update_strategy.max_surge',
      },
      {
        what: 'an unknown pipeline',
        method: 'PATCH',
        path: '/pipelines/nope',
        body: { instances: 2 },
        status: 404,
        code: 'NOT_FOUND',
      },
      {
        what: 'another id in a change',
        method: 'PATCH',
        path: '/pipelines/seed',
        body: { id: 'other' },
        status: 422,
        field: 'body.id',
      },
      {
        what: 'a bad count in a change',
        method: 'PATCH',
        path: '/api/v1/pipelines/seed',
        body: { instances: 1.5 },
        status: 400,
        field: 'body.instances',
      },
      {
        what: 'deleting an unknown pipeline',
        method: 'DELETE',
        path: '/pipelines/nope',
        body: undefined,
        status: 404,
      },
    ];
    for (const c of cases) {
      const res = await request<{ code: string; message: string; fields?: Record<string, string> }>(
        url(),
        c.method,
        c.path,
        c.body,
      );
      expect({ what: c.what, status: res.status }).toEqual({ what: c.what, status: c.status });
      expect(typeof res.body.message).toBe('string');
      if (c.field) expect(Object.keys(res.body.fields ?? {}), c.what).toContain(c.field);
      if (c.code) expect(res.body.code, c.what).toBe(c.code);
    }
    // The CLI prints the field and exits 1.
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ...good, instances: 'many' }));
    const cli = await galley(url(), ['pipeline', 'create', '-f', file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('body.instances: must be a whole number ≥ 0');
  });

  it('keeps an instance that does not fit the machine waiting, with placement’s reason, until it is deleted', async () => {
    const big = seedPipeline('big', {
      instances: 1,
      processes: {
        huge: { id: 'huge', shell: true, command: 'exec sleep 600', resources: { cpu: 64, mem: 16 } },
      },
    });
    expect((await request(url(), 'POST', '/pipelines', big)).status).toBe(204);
    const p = await waitFor(url(), 'big', 'a waiting reason', (x) => x.tasks[0]?.waiting_reason != null);
    expect(p.tasks[0]).toMatchObject({ status: 'starting', ok: false });
    expect(p.tasks[0]!.waiting_reason).toMatch(/^needs 64 cpus; the largest free on any node is [\d.]+/);
    expect(p.tasks[0]!.message).toContain('waiting for capacity: needs 64 cpus');
    expect(p.tasks[0]!.processes['huge']).toMatchObject({ status: 'TASK_STAGING', pid: null });
    expect((await request(url(), 'DELETE', '/pipelines/big')).status).toBe(204);
    await waitGone(url(), 'big');
  });

  it('a server SIGKILLed and started again has the same instances: same ids, same processes, none launched twice', async () => {
    const before = await waitFor(url(), 'seed', '2 ready instances', allReady(2));
    const launches = before.tasks.map((t) => t.processor_id);
    await server.kill();
    server = await startServer(data, flags);
    const after = await waitFor(url(), 'seed', '2 ready instances again', allReady(2));
    expect(after.tasks.map((t) => t.id)).toEqual(before.tasks.map((t) => t.id));
    expect(after.tasks.map((t) => t.processor_id)).toEqual(launches);
    expect(pidsOf(after)).toEqual(pidsOf(before));
    expect(after.tasks.every((t) => t.failures === 0)).toBe(true);
    // No duplicates: the only launch directories are the ones of the instances.
    const dirs = await readdir(join(data, 'pipelines', 'seed'));
    const live = dirs.filter((d) => launches.some((l) => l!.endsWith(d)));
    expect(live).toHaveLength(2);
    // Adopted processes are still watched: one that dies is restarted (its supervisor records 137).
    for (const child of await childrenOf(after.tasks[0]!.processes['sidecar']!.pid!))
      process.kill(child, 'SIGKILL');
    const restarted = await waitFor(url(), 'seed', 'seed.1 restarted', (p) => {
      const t = p.tasks.find((x) => x.id === 'seed.1');
      return !!t && t.failures === 1 && t.ok;
    });
    expect(restarted.tasks.map((t) => t.id)).toEqual(['seed.1', 'seed.2']);
    expect(restarted.tasks[0]!.last_exit).toMatchObject({ process: 'sidecar', exit_code: 137 });
  });
});

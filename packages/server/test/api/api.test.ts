import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleyServer } from '../../src/app.js';
import { eventually, HELLO_EXECUTE, HELLO_WORLD, startTestServer } from './harness.js';

let server: GalleyServer & { stop(): Promise<void> };
beforeAll(async () => {
  server = await startTestServer({ cpus: 1 });
});
afterAll(async () => server?.stop());

const api = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  headers?: Record<string, string>,
) =>
  server.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
    ...(headers ? { headers } : {}),
  });

let aliasCounter = 0;
async function define(over: Record<string, unknown> = {}) {
  const res = await api('POST', '/api/v1/task', {
    alias: `task-${aliasCounter++}`,
    command: 'true',
    cpu: 100,
    memory: 16,
    ...over,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { definition_id: string; alias: string };
}
async function execute(alias: string, body: Record<string, unknown> = {}) {
  const res = await api('PUT', `/api/v1/task/alias/${alias}/execute`, {
    run_tags: { owner_id: 'tester' },
    ...body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { run_id: string; status: string };
}
const runOf = async (id: string) => (await api('GET', `/api/v1/history/${id}`)).json();
const finished = (id: string) =>
  eventually(async () => {
    const r = await runOf(id);
    return r.status === 'STOPPED' ? r : undefined;
  });

describe('API (app.inject, PGlite, local backend)', () => {
  it('defines and runs the seed hello-world task: STOPPED, exit 0, "hello yourusername" in its logs', async () => {
    const created = await api('POST', '/api/v1/task', HELLO_WORLD);
    expect(created.statusCode, created.body).toBe(200);
    const def = created.json();
    expect(def).toMatchObject({
      alias: 'hello-flotilla',
      group_name: 'examples',
      image: 'ubuntu:latest',
      memory: 512,
      cpu: 250,
    });
    const list = (await api('GET', '/api/v1/task')).json();
    expect(list.definitions.map((d: { alias: string }) => d.alias)).toContain('hello-flotilla');

    const executed = await api('PUT', '/api/v1/task/alias/hello-flotilla/execute', HELLO_EXECUTE);
    expect(executed.statusCode, executed.body).toBe(200);
    const run = executed.json();
    expect(run).toMatchObject({
      alias: 'hello-flotilla',
      definition_id: def.definition_id,
      cluster: 'local',
      image: 'ubuntu:latest',
      runs_on_host: true,
    });
    expect(run.env).toEqual(
      expect.arrayContaining([
        { name: 'FLOTILLA_RUN_OWNER_ID', value: 'youruser' },
        { name: 'FLOTILLA_SERVER_MODE', value: 'dev' },
        { name: 'FLOTILLA_RUN_ID', value: run.run_id },
        { name: 'GALLEY_RUN_ID', value: run.run_id },
        { name: 'GALLEY_RUN_OWNER_ID', value: 'youruser' },
        { name: 'USERNAME', value: 'yourusername' },
      ]),
    );
    const done = await finished(run.run_id);
    expect(done).toMatchObject({ status: 'STOPPED', exit_code: 0, attempt_count: 1 });
    expect(done.instance.dns_name).not.toBe('');
    const logs = (await api('GET', `/api/v1/${run.run_id}/logs`)).json();
    expect(logs.log).toBe('hello yourusername\n');
    expect(typeof logs.last_seen).toBe('string');
  });

  it('reads, merges, renames and deletes definitions, by id and alias', async () => {
    const d = await define({ group_name: 'g1', env: [{ name: 'A', value: '1' }], tags: ['x'] });
    expect((await api('GET', `/api/v1/task/${d.definition_id}`)).json().alias).toBe(d.alias);
    expect((await api('GET', `/api/v1/task/alias/${d.alias}`)).json().definition_id).toBe(d.definition_id);
    // An empty string keeps the stored value, an empty list clears it, an absent field is kept.
    const updated = await api('PUT', `/api/v1/task/${d.definition_id}`, {
      group_name: '',
      memory: 32,
      env: [],
      command: 'echo new',
    });
    expect(updated.json()).toMatchObject({
      group_name: 'g1',
      memory: 32,
      command: 'echo new',
      env: [],
      tags: ['x'],
    });
    const renamed = await api('PUT', `/api/v1/task/${d.definition_id}`, { alias: `${d.alias}-renamed` });
    expect(renamed.json().alias).toBe(`${d.alias}-renamed`);
    const deleted = await api('DELETE', `/api/v1/task/${d.definition_id}`);
    expect(deleted.json()).toEqual({ deleted: true });
    expect((await api('GET', `/api/v1/task/${d.definition_id}`)).statusCode).toBe(404);
    expect((await api('DELETE', `/api/v1/task/${d.definition_id}`)).statusCode).toBe(404);
  });

  it('executes with overrides, returns the earlier run for a seen idempotence key, and mirrors every route under /api/v6', async () => {
    const d = await define({ command: 'echo base' });
    const a = await execute(d.alias, {
      command: 'echo "over $X"',
      env: [{ name: 'X', value: 'ridden' }],
      idempotence_key: `k-${d.alias}`,
      description: 'why',
    });
    const b = await execute(d.alias, { idempotence_key: `k-${d.alias}` });
    expect(b.run_id).toBe(a.run_id);
    const done = await finished(a.run_id);
    expect(done).toMatchObject({
      command: 'echo "over $X"',
      description: 'why',
      idempotence_key: `k-${d.alias}`,
    });
    expect((await api('GET', `/api/v1/${a.run_id}/logs`)).json().log).toBe('over ridden\n');
    const v6 = await api('PUT', `/api/v6/task/${d.definition_id}/execute`, { run_tags: { owner_id: 'v6' } });
    expect(v6.statusCode).toBe(200);
    expect((await api('GET', `/api/v6/history/${v6.json().run_id}`)).json().owner_id).toBe('v6');
    const history = (await api('GET', `/api/v1/task/${d.definition_id}/history`)).json();
    expect(history.total).toBe(2);
  });

  it('lists history with equality, status, env and time filters, sort and paging', async () => {
    const d = await define({ group_name: 'histgroup' });
    const r1 = await execute(d.alias, {
      env: [{ name: 'COLOR', value: 'red' }],
      run_tags: { owner_id: 'ann' },
    });
    const r2 = await execute(d.alias, {
      env: [{ name: 'COLOR', value: 'blue' }],
      run_tags: { owner_id: 'bob' },
      command: 'exit 2',
    });
    await finished(r1.run_id);
    await finished(r2.run_id);
    const q = (s: string) => api('GET', `/api/v1/history?group_name=histgroup&${s}`).then((r) => r.json());
    expect((await q('owner_id=bob')).history.map((r: { run_id: string }) => r.run_id)).toEqual([r2.run_id]);
    expect((await q('env=COLOR%7Cred')).history.map((r: { run_id: string }) => r.run_id)).toEqual([
      r1.run_id,
    ]);
    expect((await q('exit_code=2')).total).toBe(1);
    expect((await q('status=STOPPED&status=RUNNING')).total).toBe(2);
    expect((await q('status=QUEUED')).total).toBe(0);
    const page = await q('sort_by=queued_at&order=asc&limit=1&offset=1');
    expect(page).toMatchObject({ total: 2, limit: 1, offset: 1, sort_by: 'queued_at', order: 'asc' });
    expect(page.history[0].run_id).toBe(r2.run_id);
    expect((await q('queued_after=2999-01-01T00:00:00Z')).total).toBe(0);
    expect((await api('GET', '/api/v1/history?limit=999999')).json().limit).toBe(10000);
    expect((await api('GET', '/api/v1/history')).json()).toMatchObject({
      limit: 1024,
      offset: 0,
      sort_by: 'queued_at',
      order: 'desc',
    });
  });

  it('answers status with an ETag of status and exit code, and 304 when unchanged', async () => {
    const d = await define();
    const r = await execute(d.alias);
    await finished(r.run_id);
    const first = await api('GET', `/api/v1/${r.run_id}/status`);
    expect(first.json()).toMatchObject({ run_id: r.run_id, status: 'STOPPED', exit_code: 0 });
    expect(first.headers.etag).toBe('"STOPPED-0"');
    const again = await api('GET', `/api/v1/${r.run_id}/status`, undefined, {
      'if-none-match': '"STOPPED-0"',
    });
    expect(again.statusCode).toBe(304);
    const changed = await api('GET', `/api/v1/${r.run_id}/status`, undefined, {
      'if-none-match': '"RUNNING-none"',
    });
    expect(changed.statusCode).toBe(200);
  });

  it('stops truthfully: a queued run at once, a running one by SIGTERM, a finished one is a 409', async () => {
    const d = await define({ command: 'sleep 30', cpu: 1000 });
    const running = await execute(d.alias);
    await eventually(async () => ((await runOf(running.run_id)).status === 'RUNNING' ? true : undefined));
    const queued = await execute(d.alias); // capacity is 1 cpu: this one waits
    const waiting = await eventually(async () => {
      const r = await runOf(queued.run_id);
      return r.queued_reason ? r : undefined;
    });
    expect(waiting).toMatchObject({ status: 'QUEUED', queued_reason: expect.stringMatching(/cpu/) });
    const s1 = await api('POST', `/api/v1/history/${queued.run_id}/stop`);
    expect(s1.json()).toMatchObject({ stopped: true, action: 'stopped-while-queued', status: 'STOPPED' });
    const s2 = await api('DELETE', `/api/v1/task/${d.definition_id}/history/${running.run_id}`);
    expect(s2.statusCode).toBe(200);
    expect(s2.json()).toMatchObject({ stopped: false, action: 'kill-sent' });
    const done = await finished(running.run_id);
    expect(done.exit_reason).toMatch(/stopped by request/);
    const s3 = await api('POST', `/api/v1/history/${running.run_id}/stop`);
    expect(s3.statusCode).toBe(409);
    expect(s3.json().code).toBe('ALREADY_STOPPED');
    expect((await api('POST', '/api/v1/history/nope/stop')).statusCode).toBe(404);
    const timeline = (await api('GET', `/api/v1/${running.run_id}/events`)).json();
    expect(timeline.events.map((e: { type: string }) => e.type)).toEqual([
      'queued',
      'launching',
      'running',
      'stop-requested',
      'ended',
    ]);
    expect(timeline.attempts).toHaveLength(1);
  });

  it('pages logs with last_seen tokens, answers raw text, and follows a run until it stops', async () => {
    const d = await define({ command: 'for i in 1 2 3 4 5; do echo "line $i"; done; echo err >&2' });
    const r = await execute(d.alias);
    await finished(r.run_id);
    let token = '';
    let text = '';
    for (let i = 0; i < 20; i++) {
      const page = (
        await api('GET', `/api/v1/${r.run_id}/logs?max_bytes=7${token ? `&last_seen=${token}` : ''}`)
      ).json();
      text += page.log;
      if (page.log === '') break;
      token = page.last_seen;
    }
    expect(text).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nerr\n');
    const raw = await api('GET', `/api/v1/${r.run_id}/logs?raw_text=true&stream=stderr`);
    expect(raw.headers['content-type']).toMatch(/text\/plain/);
    expect(raw.body).toBe('err\n');
    expect(raw.headers['x-galley-last-seen']).toBeTruthy();
    const slow = await define({ command: 'echo first; sleep 0.5; echo second' });
    const s = await execute(slow.alias);
    const followed = await api('GET', `/api/v1/${s.run_id}/logs?follow=true&stream=stdout`);
    expect(followed.body).toBe('first\nsecond\n');
    expect((await runOf(s.run_id)).status).toBe('STOPPED');
  });

  it('answers real groups, tags and clusters, and health', async () => {
    await define({ group_name: 'meta-group', tags: ['meta-tag'] });
    expect((await api('GET', '/api/v1/groups')).json().groups).toContain('meta-group');
    expect((await api('GET', '/api/v1/tags')).json().tags).toContain('meta-tag');
    const clusters = (await api('GET', '/api/v1/clusters')).json();
    expect(clusters.clusters).toEqual(['local']);
    expect(clusters.details[0]).toMatchObject({
      name: 'local',
      backend: 'local',
      runs_on_host: true,
      default: true,
      capacity: { cpus: 1 },
    });
    expect((await api('GET', '/api/v1/health')).json()).toMatchObject({ status: 'ok', store: 'pglite' });
  });

  it('serves the OpenAPI document, its docs page, the UI fallback and metrics', async () => {
    const doc = (await api('GET', '/api/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/task',
        '/api/v1/task/alias/{alias}/execute',
        '/api/v1/{run_id}/logs',
        '/api/v1/stream',
      ]),
    );
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/v6'))).toBe(false);
    expect((await api('GET', '/api/docs/')).headers['content-type']).toMatch(/html/);
    const page = await api('GET', '/runs/some-run');
    expect(page.headers['content-type']).toMatch(/html/);
    expect(page.body).toMatch(/not built/);
    const metrics = (await api('GET', '/metrics')).body;
    expect(metrics).toMatch(/galley_runs\{status="STOPPED"\} [1-9]/);
    expect(metrics).toMatch(/galley_dispatch_latency_ms_count [1-9]/);
    expect(metrics).toMatch(
      /galley_http_requests_total\{method="PUT",route="\/api\/v1\/task\/alias\/:alias\/execute",status="200"\}/,
    );
    expect(metrics).toMatch(/galley_queue_depth \d/);
  });
});

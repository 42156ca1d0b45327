import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, type GalleyServer } from '../../src/app.js';
import { resolveConfig } from '../../src/config/config.js';
import { eventually, startTestServer } from '../api/harness.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function call(s: GalleyServer, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) {
  const res = await s.app.inject({ method, url: `/api/v1${url}`, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Json;
}

async function define(s: GalleyServer, alias: string, command: string, cpu = 1000): Promise<string> {
  const def = await call(s, 'POST', '/task', { alias, group_name: 'q', image: '', memory: 64, cpu, command });
  return def['definition_id'] as string;
}

const execute = (s: GalleyServer, def: string, owner: string, extra: Json = {}) =>
  call(s, 'PUT', `/task/${def}/execute`, { run_tags: { owner_id: owner }, ...extra });

const run = (s: GalleyServer, id: string) => call(s, 'GET', `/history/${id}`);
const ended = async (s: GalleyServer, id: string) => {
  const r = await run(s, id);
  return r['status'] === 'STOPPED' ? r : undefined;
};
/** Every change of a run's status, oldest first (the store's timeline). */
const events = async (s: GalleyServer, id: string) =>
  (await call(s, 'GET', `/${id}/events`))['events'] as {
    type: string;
    status: string;
    reason: string | null;
  }[];

// Real processes on a machine that may be loaded: generous limits (the tests wait for conditions).
describe('queues: fair share, arrays and dependencies on the local backend', { timeout: 180_000 }, () => {
  it("a flood of 50 runs by one owner does not hold back another owner's 5: they alternate", async () => {
    server = await startTestServer({ cpus: 2 });
    const blocker = await define(server, 'blocker', 'sleep 60', 2000);
    const job = await define(server, 'job', 'sleep 0.05', 1500);
    // Everything is queued while the cluster is full, then capacity frees one run at a time.
    const b = await execute(server, blocker, 'carol');
    await eventually(async () =>
      (await run(server!, b['run_id']))['status'] === 'RUNNING' ? true : undefined,
    );
    const alice = [];
    for (let i = 0; i < 50; i++) alice.push((await execute(server, job, 'alice'))['run_id'] as string);
    const bob = [];
    for (let i = 0; i < 5; i++) bob.push((await execute(server, job, 'bob'))['run_id'] as string);
    await call(server, 'POST', `/history/${b['run_id']}/stop`);
    // The first 6 dispatches after the blocker, in the order they started.
    const started = await eventually(async () => {
      const page = await call(
        server!,
        'GET',
        '/history?alias=job&status=RUNNING&status=STOPPED&status=PENDING&limit=100',
      );
      const list = (page['history'] as Json[]).filter((r) => r['started_at'] !== null);
      return list.length >= 6 ? list : undefined;
    });
    const order = started
      .sort((x, y) => Date.parse(x['started_at']) - Date.parse(y['started_at']))
      .slice(0, 6)
      .map((r) => r['owner_id']);
    expect(order.indexOf('bob')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('bob')).toBeLessThanOrEqual(1);
    expect(order.filter((o) => o === 'bob').length).toBeGreaterThanOrEqual(2);
    expect(alice.length + bob.length).toBe(55);
  });

  it('an array of 20 with parallelism 4 never runs more than 4 children, and its parent ends once with the counts', async () => {
    server = await startTestServer({ cpus: 8 });
    const def = await define(server, 'arr', 'test -n "$GALLEY_ARRAY_INDEX" && sleep 0.05', 500);
    const parent = await execute(server, def, 'alice', { array_size: 20, array_parallelism: 4 });
    expect(parent['array']).toMatchObject({ size: 20, parallelism: 4 });
    const done = await eventually(() => ended(server!, parent['run_id']));
    expect(done['exit_code']).toBe(0);
    expect(done['array']['counts']).toEqual({ queued: 0, running: 0, succeeded: 20, failed: 0 });
    expect((await events(server, parent['run_id'])).filter((e) => e.status === 'STOPPED')).toHaveLength(1);
    const children = await call(server, 'GET', `/history/${parent['run_id']}/children?limit=100`);
    expect(children['total']).toBe(20);
    expect((children['history'] as Json[]).map((c) => c['array_index'])).toEqual([...Array(20).keys()]);
    // Every launch and end of the children, in the order the store recorded them (one sequence).
    const { rows } = await (
      server.store as unknown as { sql: { query: (q: string, p: unknown[]) => Promise<{ rows: Json[] }> } }
    ).sql.query(
      `SELECT e.type, e.status FROM run_events e JOIN runs r ON r.run_id = e.run_id
        WHERE r.parent_id = $1 AND e.type IN ('launching', 'ended') ORDER BY e.id`,
      [parent['run_id']],
    );
    let running = 0;
    let most = 0;
    for (const e of rows) {
      running += e['type'] === 'launching' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(rows.filter((e) => e['type'] === 'launching')).toHaveLength(20);
    expect(most).toBe(4);
  });

  it('stopping an array parent stops its running and queued children', async () => {
    server = await startTestServer({ cpus: 2 });
    const def = await define(server, 'long', 'sleep 60');
    const parent = await execute(server, def, 'alice', { array_size: 3 });
    const kids = async () =>
      (await call(server!, 'GET', `/history/${parent['run_id']}/children`))['history'] as Json[];
    // Two run (2 CPUs), one waits.
    await eventually(async () =>
      (await kids()).filter((c) => c['status'] === 'RUNNING').length === 2 ? true : undefined,
    );
    const answer = await call(server, 'POST', `/history/${parent['run_id']}/stop`);
    expect(answer['status']).toBe('STOPPED');
    const children = await eventually(async () => {
      const list = await kids();
      return list.every((c) => c['status'] === 'STOPPED') ? list : undefined;
    });
    // Running ones say how their process ended too (`… (exited with code 143)`).
    for (const c of children)
      expect(c['exit_reason']).toMatch(new RegExp(`^array ${parent['run_id']} was stopped`));
    expect((await run(server, parent['run_id']))['exit_reason']).toBe('stopped by request');
  });

  it('runs a dependency chain of 3 in order, and a failed dependency fails its dependants with the reason', async () => {
    server = await startTestServer({ cpus: 4 });
    const ok = await define(server, 'ok', 'sleep 0.1');
    const bad = await define(server, 'bad', 'exit 1');
    const a = await execute(server, ok, 'alice');
    const b = await execute(server, ok, 'alice', { depends_on: [{ run_id: a['run_id'] }] });
    const c = await execute(server, ok, 'alice', {
      depends_on: [{ run_id: b['run_id'], condition: 'ended' }],
    });
    expect(c['depends_on']).toEqual([{ run_id: b['run_id'], condition: 'ended' }]);
    await eventually(async () =>
      (await run(server!, c['run_id']))['queued_reason'] === `waiting for run ${b['run_id']} to end`
        ? true
        : undefined,
    );
    const [ra, rb, rc] = [
      await eventually(() => ended(server!, a['run_id'])),
      await eventually(() => ended(server!, b['run_id'])),
      await eventually(() => ended(server!, c['run_id'])),
    ];
    for (const r of [ra, rb, rc]) expect(r['exit_code']).toBe(0);
    expect(Date.parse(rb['started_at'])).toBeGreaterThanOrEqual(Date.parse(ra['finished_at']));
    expect(Date.parse(rc['started_at'])).toBeGreaterThanOrEqual(Date.parse(rb['finished_at']));

    const x = await execute(server, bad, 'bob');
    const y = await execute(server, ok, 'bob', { depends_on: [{ run_id: x['run_id'] }] });
    const z = await execute(server, ok, 'bob', { depends_on: [{ run_id: y['run_id'] }] });
    const ry = await eventually(() => ended(server!, y['run_id']));
    expect(ry['exit_reason']).toBe(`dependency ${x['run_id']} failed (exit 1)`);
    expect(ry['started_at']).toBeNull();
    const rz = await eventually(() => ended(server!, z['run_id']));
    expect(rz['exit_reason']).toBe(`dependency ${y['run_id']} failed (${ry['exit_reason']})`);
    expect((await events(server, y['run_id'])).filter((e) => e.status === 'STOPPED')).toHaveLength(1);

    // A dependency stopped while it waited (no attempt ended) fails its dependant too.
    const long = await define(server, 'long', 'sleep 60');
    const l = await execute(server, long, 'carol');
    const w = await execute(server, ok, 'carol', { depends_on: [{ run_id: l['run_id'] }] });
    const v = await execute(server, ok, 'carol', { depends_on: [{ run_id: w['run_id'] }] });
    await call(server, 'POST', `/history/${w['run_id']}/stop`);
    const rv = await eventually(() => ended(server!, v['run_id']));
    expect(rv['exit_reason']).toBe(`dependency ${w['run_id']} failed (stopped by request)`);
    await call(server, 'POST', `/history/${l['run_id']}/stop`);

    const unknown = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/task/${ok}/execute`,
      payload: { run_tags: { owner_id: 'a' }, depends_on: [{ run_id: a['run_id'] }, { run_id: 'nope' }] },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      code: 'UNKNOWN_DEPENDENCY',
      fields: { 'body.depends_on[1].run_id': 'is not a run' },
    });
  });

  it('an array may depend on an array per index: child i starts after child i ended', async () => {
    server = await startTestServer({ cpus: 4 });
    const def = await define(server, 'idx', 'sleep 0.0$GALLEY_ARRAY_INDEX', 500);
    const first = await execute(server, def, 'alice', { array_size: 3 });
    const second = await execute(server, def, 'alice', {
      array_size: 3,
      depends_on: [{ run_id: first['run_id'], per_index: true }],
    });
    await eventually(() => ended(server!, second['run_id']));
    const kids = async (id: string) =>
      (await call(server!, 'GET', `/history/${id}/children`))['history'] as Json[];
    const [mine, theirs] = [await kids(second['run_id']), await kids(first['run_id'])];
    const filtered = await call(
      server,
      'GET',
      `/history?parent_id=${first['run_id']}&sort_by=run_id&order=asc`,
    );
    expect((filtered['history'] as Json[]).map((c) => c['run_id'])).toEqual(theirs.map((c) => c['run_id']));
    for (let i = 0; i < 3; i++) {
      expect(mine[i]!['depends_on']).toEqual([{ run_id: theirs[i]!['run_id'], condition: 'succeeded' }]);
      expect(Date.parse(mine[i]!['started_at'])).toBeGreaterThanOrEqual(
        Date.parse(theirs[i]!['finished_at']),
      );
    }
  });

  it('a restart in the middle: every accepted run reaches a terminal state exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'galley-queues-'));
    const build = () =>
      buildServer(
        resolveConfig({
          env: {},
          flags: {
            listen: '127.0.0.1:0',
            dataDir,
            localCpus: '2',
            localMemoryMb: '4096',
            stopGraceMs: '300',
            adoptCheckMs: '50',
            containerRuntime: 'none',
          },
        }),
        { logger: pino({ level: 'silent' }), webDist: null },
      );
    let s = await build();
    try {
      const def = await define(s, 'restart', 'sleep 0.2');
      const parent = await execute(s, def, 'alice', { array_size: 6, array_parallelism: 2 });
      const after = await execute(s, def, 'bob', { depends_on: [{ run_id: parent['run_id'] }] });
      await eventually(async () =>
        ((await call(s, 'GET', `/history/${parent['run_id']}/children`))['history'] as Json[]).some(
          (c) => c['status'] === 'STOPPED',
        )
          ? true
          : undefined,
      );
      await s.close();
      s = await build();
      const last = await eventually(() => ended(s, after['run_id']));
      expect(last['exit_code']).toBe(0);
      const children = (await call(s, 'GET', `/history/${parent['run_id']}/children`))['history'] as Json[];
      for (const id of [parent['run_id'], after['run_id'], ...children.map((c) => c['run_id'])]) {
        expect((await run(s, id))['status']).toBe('STOPPED');
        expect(
          (await events(s, id)).filter((e) => e.status === 'STOPPED'),
          id,
        ).toHaveLength(1);
      }
      expect((await run(s, parent['run_id']))['array']['counts']).toMatchObject({ succeeded: 6 });
    } finally {
      await s.close();
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
});

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RunningTotals, type RunStatus } from '@galley/core';
import type { RunRecord } from '../../src/model/records.js';
import { RunningUsage, workShapeOf, type ClusterRunning } from '../../src/queues/running-usage.js';
import { RunFeed } from '../../src/runs/feed.js';
import type { SqlQuerier } from '../../src/store/sql-client.js';
import { startTestServer } from '../api/harness.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A run as the feed publishes it: only what the usage reads is filled in. */
function run(runId: string, status: RunStatus, version: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    cluster: 'local',
    ownerId: 'alice',
    groupName: 'g',
    cpu: 500,
    memory: 64,
    version,
    state: { status },
    ...over,
  } as RunRecord;
}

/** The store side: the rows its reads answer, and which reads were made. */
function store(rows: { running: Json[]; arrays: Json[] }) {
  const reads: string[] = [];
  const db: SqlQuerier = {
    async query<R>(text: string) {
      const kind = text.includes("'PENDING', 'RUNNING'") ? 'running' : 'arrays';
      reads.push(kind);
      return { rows: rows[kind] as R[], rowCount: 0 };
    },
    exec: async () => undefined,
  };
  return { db, reads };
}

/** The sums a round reads, and the ones of these runs (recomputed): equal when exactly they hold capacity. */
const sums = (c: ClusterRunning) => c.totals.snapshot();
const sumsOf = (...runs: RunRecord[]) => RunningTotals.of(runs.map(workShapeOf)).snapshot();

describe('queue gate: runs holding capacity and open arrays kept from the feed', () => {
  it('reads the store once, then follows the feed: launched runs join, ended runs leave, late older records are ignored', async () => {
    const feed = new RunFeed();
    const s = store({
      running: [
        {
          run_id: 'r1',
          queue: 'default',
          owner_id: 'alice',
          group_name: 'g',
          parent_id: null,
          cpu: 500,
          memory: 64,
          version: 3,
        },
      ],
      arrays: [],
    });
    const usage = new RunningUsage(() => s.db, feed);
    expect(sums(await usage.running('local', 0, 1))).toEqual(sumsOf(run('r1', 'RUNNING', 3)));
    feed.publish([run('r2', 'PENDING', 2)]);
    feed.publish([run('r1', 'STOPPED', 4)]);
    // Late: an older record of each (a follower's read of a run the leader changed since).
    feed.publish([run('r1', 'RUNNING', 3), run('r2', 'QUEUED', 1)]);
    // Another cluster's run does not count here.
    feed.publish([run('m1', 'RUNNING', 2, { cluster: 'mesos' })]);
    expect(sums(await usage.running('local', 1_000, 1))).toEqual(sumsOf(run('r2', 'PENDING', 2)));
    // A retry of r1 launches it again, at a newer version.
    feed.publish([run('r1', 'PENDING', 6)]);
    const now = await usage.running('local', 2_000, 1);
    expect(now.totals.runs).toBe(2);
    expect(now.totals.owner('default\u0000alice')).toEqual({ runs: 2, cpus: 1, memMb: 128 });
    expect(s.reads).toEqual(['running']);
    // A new leadership epoch reads the store again.
    expect(sums(await usage.running('local', 3_000, 2))).toEqual(sumsOf(run('r1', 'RUNNING', 3)));
    expect(s.reads).toEqual(['running', 'running']);
  });

  it('keeps sums equal to the sums recomputed from the runs holding capacity, over any launches and ends', async () => {
    const statuses: RunStatus[] = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED'];
    const changeArb = fc.record({
      run: fc.integer({ min: 0, max: 7 }),
      status: fc.constantFrom(...statuses),
      owner: fc.constantFrom('alice', 'bob'),
      queue: fc.constantFrom('default', 'batch'),
      array: fc.constantFrom(undefined, 'p1', 'p2'),
      cpu: fc.constantFrom(100, 250, 1000),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(changeArb, { maxLength: 60 }), async (changes) => {
        const feed = new RunFeed();
        const usage = new RunningUsage(() => store({ running: [], arrays: [] }).db, feed);
        const kept = await usage.running('local', 0, 1);
        const latest = new Map<string, RunRecord>();
        for (const c of changes) {
          const runId = `r${c.run}`;
          const r = run(runId, c.status, (latest.get(runId)?.version ?? 0) + 1, {
            ownerId: c.owner,
            cpu: c.cpu,
            batch: { queue: c.queue, ...(c.array ? { parentId: c.array } : {}) },
          } as Partial<RunRecord>);
          latest.set(runId, r);
          feed.publish([r]);
          const holding = [...latest.values()].filter((x) => ['PENDING', 'RUNNING'].includes(x.state.status));
          expect(sums(kept)).toEqual(sumsOf(...holding));
          for (const p of ['p1', 'p2'])
            expect([...kept.childrenOf(p)].sort()).toEqual(
              holding
                .filter((x) => x.batch?.parentId === p)
                .map((x) => x.runId)
                .sort(),
            );
        }
      }),
    );
  });

  it('reads array parents while one may be open, and not each round once none is', async () => {
    const feed = new RunFeed();
    const s = store({ running: [], arrays: [] });
    const usage = new RunningUsage(() => s.db, feed);
    expect(await usage.openArrays('local', 0)).toEqual([]);
    expect(await usage.openArrays('local', 10)).toEqual([]);
    expect(s.reads).toEqual(['arrays']);
    feed.publish([run('p1', 'QUEUED', 1, { batch: { queue: 'default', kind: 'array', arraySize: 2 } })]);
    await usage.openArrays('local', 20);
    expect(s.reads).toEqual(['arrays', 'arrays']);
    await usage.openArrays('local', 30);
    expect(s.reads).toEqual(['arrays', 'arrays']);
  });
});

describe('queue limits on the local backend', { timeout: 180_000 }, () => {
  it("a queue's owner concurrency of 2 holds 10 runs of one owner to 2 at a time, and all of them end", async () => {
    server = await startTestServer({ cpus: 8 });
    const s = server;
    const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => {
      const res = await s.app.inject({ method, url: `/api/v1${url}`, ...(payload ? { payload } : {}) });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json() as Json;
    };
    await call('PUT', '/queues/capped', { owner_concurrency: 2 });
    const def = await call('POST', '/task', {
      alias: 'capped-job',
      group_name: 'q',
      image: '',
      memory: 64,
      cpu: 500,
      command: 'sleep 0.05',
    });
    const runIds: string[] = [];
    for (let i = 0; i < 10; i++)
      runIds.push(
        (
          await call('PUT', `/task/${def['definition_id']}/execute`, {
            run_tags: { owner_id: 'alice' },
            queue: 'capped',
          })
        )['run_id'] as string,
      );
    await expect
      .poll(async () => (await call('GET', '/history?alias=capped-job&status=STOPPED&limit=0'))['total'], {
        timeout: 120_000,
        interval: 100,
      })
      .toBe(10);
    // Every launch and end of the runs, in the order the store recorded them (one sequence).
    const { rows } = await (
      s.store as unknown as { sql: { query: (q: string, p: unknown[]) => Promise<{ rows: Json[] }> } }
    ).sql.query(
      `SELECT e.type, r.exit_code FROM run_events e JOIN runs r ON r.run_id = e.run_id
        WHERE r.run_id = ANY($1::text[]) AND e.type IN ('launching', 'ended') ORDER BY e.id`,
      [runIds],
    );
    let running = 0;
    let most = 0;
    for (const e of rows) {
      running += e['type'] === 'launching' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(rows.filter((e) => e['type'] === 'launching')).toHaveLength(10);
    expect(rows.every((e) => e['exit_code'] === 0)).toBe(true);
    expect(most).toBe(2);
  });
});

import { storeMatrix } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_COUNT_CAP } from '../../src/model/history-count.js';
import type { SqlBackedStore } from '../../src/store/sql-store.js';
import { startTestServer } from './harness.js';

// GET /history's `total` on a large history: at most HISTORY_COUNT_CAP runs past the page's offset
// are counted. Fewer match: the total is exact. More: the total is offset + the cap and the answer
// says `total_exact: false`, and paging on keeps working. `exact_total=true` counts them all.

const matrix = await storeMatrix({ tempPrefix: 'galley-history-total-' });
afterAll(() => matrix.stop());

/** More runs than the cap counts, so the first page's total is a bound. */
const RUNS = HISTORY_COUNT_CAP + 2_000;
/** Runs of the owner `few`: fewer than the cap, always counted exactly. */
const FEW = 30;

interface HistoryAnswer {
  total: number;
  total_exact: boolean;
  history: { run_id: string }[];
  limit: number;
  offset: number;
}

for (const backend of matrix.stores) {
  describe.runIf(backend.available)(`history total on ${backend.name}`, () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    const get = async (url: string) => {
      const res = await server.app.inject({ method: 'GET', url });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json() as HistoryAnswer;
    };

    beforeAll(async () => {
      const location = await backend.location();
      server = await startTestServer('databaseUrl' in location ? { databaseUrl: location.databaseUrl } : {});
      // Finished runs one second apart, newest first = run-1; the first FEW belong to `few`.
      await (server.store as SqlBackedStore).sql.query(
        `INSERT INTO runs (run_id, definition_id, alias, group_name, command, cluster, engine, owner_id,
           memory, cpu, status, exit_code, queued_at, started_at, finished_at, updated_at)
         SELECT 'run-' || i, 'def-big', 'big', 'big', 'true', 'local', 'local',
                CASE WHEN i <= $3 THEN 'few' ELSE 'many' END, 64, 10, 'STOPPED', 0,
                $2::bigint - i * 1000, $2::bigint - i * 1000, $2::bigint - i * 1000 + 1, $2::bigint
           FROM generate_series(1, $1::integer) AS i`,
        [RUNS, Date.now(), FEW],
      );
    }, 60_000);
    afterAll(async () => server?.stop());

    it('counts at most the cap past the offset, and says when the total is only a bound', async () => {
      // The newest page: more than the cap match.
      const first = await get('/api/v1/history?limit=50');
      expect(first).toMatchObject({ total: HISTORY_COUNT_CAP, total_exact: false, limit: 50, offset: 0 });
      expect(first.history.map((r) => r.run_id).slice(0, 2)).toEqual(['run-1', 'run-2']);

      // Within the cap of the end: exact. One row short of it: a bound again.
      const near = RUNS - HISTORY_COUNT_CAP;
      expect(await get(`/api/v1/history?limit=50&offset=${near}`)).toMatchObject({
        total: RUNS,
        total_exact: true,
      });
      expect(await get(`/api/v1/history?limit=50&offset=${near - 1}`)).toMatchObject({
        total: RUNS - 1,
        total_exact: false,
      });

      // Paging past the first answer's total keeps answering runs, in order.
      const beyond = await get(`/api/v1/history?limit=50&offset=${HISTORY_COUNT_CAP}`);
      expect(beyond).toMatchObject({ total: RUNS, total_exact: true });
      expect(beyond.history[0]!.run_id).toBe(`run-${HISTORY_COUNT_CAP + 1}`);
      expect(beyond.history).toHaveLength(50);

      // The last, short page and a page past the end tell the exact total.
      expect(await get(`/api/v1/history?limit=50&offset=${RUNS - 10}`)).toMatchObject({
        total: RUNS,
        total_exact: true,
      });
      const past = await get(`/api/v1/history?limit=50&offset=${RUNS + 500}`);
      expect(past).toMatchObject({ total: RUNS, total_exact: true, history: [] });

      // Fewer matching runs than the cap: exact, whether or not the page is full.
      expect(await get('/api/v1/history?owner_id=few&limit=10')).toMatchObject({
        total: FEW,
        total_exact: true,
      });
      expect(await get('/api/v1/history?owner_id=many&limit=10&offset=5')).toMatchObject({
        total: 5 + HISTORY_COUNT_CAP,
        total_exact: false,
      });
    });

    it('counts every matching run when asked (exact_total=true), on the v6 mirror too', async () => {
      for (const prefix of ['/api/v1', '/api/v6']) {
        const all = await get(`${prefix}/history?limit=50&exact_total=true`);
        expect(all).toMatchObject({ total: RUNS, total_exact: true });
        expect(all.history).toHaveLength(50);
        // flotilla's keys and types stay: `total` a number beside `history`.
        expect(typeof (await get(`${prefix}/history?limit=1`)).total).toBe('number');
      }
      expect(await get('/api/v1/task/def-big/history?limit=50&exact_total=true')).toMatchObject({
        total: RUNS,
        total_exact: true,
      });
      expect(await get('/api/v1/task/def-big/history?limit=50&exact_total=false')).toMatchObject({
        total: HISTORY_COUNT_CAP,
        total_exact: false,
      });
    });

    it('refuses an exact_total that is not a boolean, naming it', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/api/v1/history?exact_total=maybe' });
      expect(res.statusCode).toBe(400);
      const body = res.json() as { code: string; fields?: Record<string, string> };
      expect(Object.keys(body.fields ?? {})).toContain('query.exact_total');
    });
  });
}

import { startPostgres } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlBackedStore } from '../../src/store/sql-store.js';
import { openStore } from '../../src/store/open.js';
import { listRuns } from '../../src/store/runs-sql.js';
import type { SqlQuerier } from '../../src/store/sql-client.js';
import type { RunQuery } from '../../src/store/store.js';

// `GET /api/v1/history` stays fast with many runs: on a real PostgreSQL holding 50,000 runs (as
// ANALYZE sees them), the plan of each history query with the common filters and sorts reads runs
// through an index — never a sequential scan of the runs table.

const pgGate = await startPostgres();
const pg = pgGate.available ? pgGate.service : null;
const RUNS = 50_000;

/** The plans of the statements `listRuns` sends, each EXPLAINed instead of run. */
async function plansOf(db: SqlQuerier, query: RunQuery): Promise<string[]> {
  const plans: string[] = [];
  const explaining: SqlQuerier = {
    async query<R>(text: string, params?: readonly unknown[]) {
      const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
      plans.push(JSON.stringify(rows[0]!['QUERY PLAN']));
      // No rows: the page's rows are not read (a count of an empty page answers 0).
      return { rows: (text.includes('count(*) AS n') ? [{ n: 0 }] : []) as R[], rowCount: 0 };
    },
    exec: (script) => db.exec(script),
  };
  await listRuns(explaining, query);
  return plans;
}

describe.runIf(pgGate.available)('history queries on PostgreSQL (EXPLAIN)', () => {
  let store: SqlBackedStore;

  beforeAll(async () => {
    const url = await pg!.createDatabase('history_explain');
    store = await openStore({ databaseUrl: url });
    // 50,000 finished runs of 50 definitions, 20 owners and 10 groups, over 50,000 seconds.
    await store.sql.query(
      `INSERT INTO runs (run_id, definition_id, alias, group_name, command, cluster, engine, owner_id,
         memory, cpu, status, exit_code, queued_at, started_at, finished_at, updated_at)
       SELECT 'run-' || i, 'def-' || (i % 50), 'alias-' || (i % 50), 'group-' || (i % 10), 'true', 'local',
              'local', 'owner-' || (i % 20), 64, 10, CASE WHEN i % 100 = 0 THEN 'RUNNING' ELSE 'STOPPED' END,
              i % 3, 1e12::bigint + i * 1000, 1e12::bigint + i * 1000 + 10, 1e12::bigint + i * 1000 + 500,
              1e12::bigint + i * 1000 + 500
         FROM generate_series(1, $1::integer) AS i`,
      [RUNS],
    );
    await store.sql.query('ANALYZE runs');
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  const page = { limit: 50, offset: 0, statuses: [], env: [] };
  const cases: [string, RunQuery][] = [
    ['newest first', { ...page, equals: {}, sortBy: 'queued_at', order: 'desc' }],
    ['oldest first', { ...page, equals: {}, sortBy: 'queued_at', order: 'asc' }],
    ['of a definition', { ...page, equals: { definition_id: 'def-7' }, sortBy: 'queued_at', order: 'desc' }],
    ['by alias', { ...page, equals: { alias: 'alias-7' }, sortBy: 'queued_at', order: 'desc' }],
    ['of an owner', { ...page, equals: { owner_id: 'owner-3' }, sortBy: 'queued_at', order: 'desc' }],
    ['of a group', { ...page, equals: { group_name: 'group-3' }, sortBy: 'queued_at', order: 'desc' }],
    ['running ones', { ...page, equals: {}, statuses: ['RUNNING'], sortBy: 'queued_at', order: 'desc' }],
    ['one run', { ...page, equals: { run_id: 'run-77' }, sortBy: 'queued_at', order: 'desc' }],
    ['a later page', { ...page, offset: 1000, equals: {}, sortBy: 'queued_at', order: 'desc' }],
  ];

  it.each(cases)('%s: read through an index, no sequential scan of runs', async (_, query) => {
    // The page's statement (a count follows only when a page past the end comes back empty).
    const [plan] = await plansOf(store.sql, query);
    expect(plan).not.toMatch(/"Node Type":"Seq Scan"[^}]*"Relation Name":"runs"/);
    expect(plan).toMatch(/Index (Only )?Scan/);
  });

  // A filtered page newest first reads the filter's own index in the list's order (migration 014):
  // no sort of every matching run, no walk of all runs newest first filtering on the way.
  const filtered: [string, string][] = [
    ['of a definition', 'definition_id'],
    ['by alias', 'alias'],
    ['of an owner', 'owner_id'],
    ['of a group', 'group_name'],
  ];
  it.each(filtered)('%s: its page is read in order from an index on %s', async (name, column) => {
    const [plan] = await plansOf(store.sql, cases.find(([n]) => n === name)![1]);
    expect(plan).not.toMatch(/"Node Type":"Sort"/);
    expect(plan).toMatch(new RegExp(`"Index Cond":"\\(${column} = `));
  });

  // A task's runs by when they started (migration 015): read in that order, not sorted.
  it('by alias, latest started first: its page is read in order from an index', async () => {
    const query: RunQuery = { ...page, equals: { alias: 'alias-7' }, sortBy: 'started_at', order: 'desc' };
    const [plan] = await plansOf(store.sql, query);
    expect(plan).not.toMatch(/"Node Type":"Sort"/);
    expect(plan).toMatch(/"Index Name":"runs_alias_started_history"/);
  });

  // A group's finished runs (migration 015): not a walk of all runs newest first, which passes
  // every run in flight (the newest) before a finished one.
  it("of a group, finished ones: read in order from the group's status index", async () => {
    const query: RunQuery = {
      ...page,
      equals: { group_name: 'group-3' },
      statuses: ['STOPPED'],
      sortBy: 'queued_at',
      order: 'desc',
    };
    const [plan] = await plansOf(store.sql, query);
    expect(plan).not.toMatch(/"Node Type":"Sort"/);
    expect(plan).toMatch(/"Index Name":"runs_group_status_history"/);
  });
});

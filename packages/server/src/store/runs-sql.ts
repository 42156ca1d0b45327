import type { RunStatus } from '@galley/core';
import type { SqlQuerier } from './sql-client.js';
import type { AttemptRecord, NewRun, RunRecord } from '../model/records.js';
import { unnestValues } from './multi-row.js';
import {
  attemptFromRow,
  RUN_COLUMN_TYPES,
  RUN_COLUMNS,
  runEventFromRow,
  runFromRow,
  runValues,
} from './rows.js';
import type { InFlight, QueueCursor, RunPage, RunQuery } from './store.js';
import { HISTORY_COUNT_CAP } from '../model/history-count.js';
import { type NotifyContext, notifiedGate, runNoticeCte } from './notify.js';
import { insertAuditSql, type NewAuditEntry } from '../auth/audit-rows.js';

// The runs, attempts and timeline queries.

const RUN_INSERT = RUN_COLUMNS.map((name) => [name, RUN_COLUMN_TYPES[name]] as const);

/**
 * Insert of QUEUED runs with their first timeline entries, in one statement whose text does not
 * depend on the number of runs (one array parameter per column).
 */
function insertRunsSql(
  records: readonly RunRecord[],
  params: unknown[],
  notify?: NotifyContext,
  audits: readonly NewAuditEntry[] = [],
): string {
  const columns = RUN_COLUMNS.join(', ');
  const from = unnestValues('v', RUN_INSERT, records.map(runValues), params);
  const audit = audits.length > 0 ? `, au AS (${insertAuditSql(audits, params)})` : '';
  let notice = '';
  let gate = '';
  if (notify) {
    params.push(notify.origin);
    notice = `, ${runNoticeCte('n', 'r', `$${params.length}::text`)}`;
    gate = ` WHERE ${notifiedGate('n')}`;
  }
  return `
  WITH r AS (
    INSERT INTO runs (${columns}) SELECT ${RUN_COLUMNS.map((c) => `v.${c}`).join(', ')} FROM ${from} ORDER BY v.ord
    ON CONFLICT (idempotence_key) WHERE idempotence_key IS NOT NULL DO NOTHING
    RETURNING run_id, queued_at, status, version),
  e AS (
    INSERT INTO run_events (run_id, at, type, status) SELECT run_id, queued_at, 'queued', status FROM r)${audit}${notice}
  SELECT run_id FROM r${gate}`;
}

/** Most runs one insert statement carries, so one batch does not hold up the executes behind it. */
export const MAX_INSERT_BATCH = 500;

/**
 * Inserts QUEUED runs (at most MAX_INSERT_BATCH, with distinct idempotence keys) in one statement.
 * A run whose idempotence key was seen before is not inserted: the earlier run is answered with
 * `created: false`. Answers in the order of `runs`. `audits`: audit entries of the executes, stored
 * by the same statement.
 */
export async function insertRuns(
  db: SqlQuerier,
  runs: readonly NewRun[],
  notify?: NotifyContext,
  audits?: readonly NewAuditEntry[],
): Promise<{ run: RunRecord; created: boolean }[]> {
  const records: RunRecord[] = runs.map((run) => ({ ...run, version: 1, updatedAt: run.state.queuedAt }));
  const params: unknown[] = [];
  const { rows } = await db.query<{ run_id: string }>(insertRunsSql(records, params, notify, audits), params);
  const inserted = new Set(rows.map((r) => r.run_id));
  const keys = records.filter((r) => !inserted.has(r.runId)).map((r) => r.idempotenceKey);
  const earlier = new Map<string, RunRecord>();
  if (keys.length > 0) {
    const found = await db.query('SELECT * FROM runs WHERE idempotence_key = ANY($1::text[])', [keys]);
    for (const row of found.rows) {
      const run = runFromRow(row);
      earlier.set(run.idempotenceKey!, run);
    }
  }
  return records.map((record) => {
    if (inserted.has(record.runId)) return { run: record, created: true };
    const run = record.idempotenceKey === null ? undefined : earlier.get(record.idempotenceKey);
    if (!run) throw new Error(`run ${record.runId} was neither inserted nor found by its idempotence key`);
    return { run, created: false };
  });
}

export async function getRuns(db: SqlQuerier, ids: readonly string[]): Promise<RunRecord[]> {
  if (ids.length === 0) return [];
  if (ids.length === 1) {
    const { rows } = await db.query('SELECT * FROM runs WHERE run_id = $1', [ids[0]]);
    return rows.map(runFromRow);
  }
  const { rows } = await db.query('SELECT * FROM runs WHERE run_id = ANY($1::text[])', [ids]);
  return rows.map(runFromRow);
}

export async function listRuns(db: SqlQuerier, q: RunQuery): Promise<RunPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  for (const [column, value] of Object.entries(q.equals)) {
    if (value === undefined) continue;
    const numeric = column === 'exit_code' || column === 'attempt_count';
    add((p) => (numeric ? `${column} = ${p}::integer` : `${column} = ${p}`), value);
  }
  if (q.statuses.length === 1) add((p) => `status = ${p}`, q.statuses[0]);
  else if (q.statuses.length > 1) add((p) => `status = ANY(${p}::text[])`, q.statuses);
  for (const e of q.env) add((p) => `env @> ${p}::jsonb`, JSON.stringify([{ name: e.name, value: e.value }]));
  if (q.queuedFrom !== undefined) add((p) => `queued_at >= ${p}`, q.queuedFrom);
  if (q.queuedUntil !== undefined) add((p) => `queued_at <= ${p}`, q.queuedUntil);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const filterParams = [...params];
  params.push(q.limit, q.offset);
  // The page alone (it stops after limit + offset rows of an index); a window count here would
  // read every matching run before the first row (1.1 s for the newest 50 of 1,000,000 runs).
  // The page's run ids first, then their rows: the ids come from an index alone where one holds
  // the filters (a group's finished runs: its status index, not a walk of the newest-first index
  // past every run in flight that the planner, seeing the table in queued_at order, preferred for
  // a whole-row page — 31 ms → 0.1 ms with 65,000 in flight).
  const order = `${q.order} NULLS LAST`;
  const { rows } = await db.query(
    `SELECT r.* FROM (
       SELECT run_id, ${q.sortBy} AS k FROM runs ${clause}
        ORDER BY ${q.sortBy} ${order}, run_id ${q.order}
        LIMIT $${params.length - 1} OFFSET $${params.length}) AS p
     JOIN runs r ON r.run_id = p.run_id
     ORDER BY p.k ${order}, p.run_id ${q.order}`,
    params,
  );
  const items = rows.map(runFromRow);
  // A short page that is not past the end tells the total; otherwise it is counted.
  if (rows.length < q.limit && (rows.length > 0 || q.offset === 0))
    return { total: q.offset + rows.length, totalExact: true, items };
  if (q.exactTotal) {
    const c = await db.query(`SELECT count(*) AS n FROM runs ${clause}`, filterParams);
    return { total: Number(c.rows[0]!['n']), totalExact: true, items };
  }
  // At most `bound + 1` matching runs are counted: an exact count of a large history reads every
  // matching run (1,100,000 for the newest page at bench:scale: most of its p99 of 515 ms).
  const bound = q.offset + HISTORY_COUNT_CAP;
  filterParams.push(bound + 1);
  const c = await db.query(
    `SELECT count(*) AS n FROM (SELECT 1 FROM runs ${clause} LIMIT $${filterParams.length}) AS matching`,
    filterParams,
  );
  const counted = Number(c.rows[0]!['n']);
  return { total: Math.min(counted, bound), totalExact: counted <= bound, items };
}

export async function runEvents(db: SqlQuerier, runId: string) {
  const { rows } = await db.query('SELECT * FROM run_events WHERE run_id = $1 ORDER BY id', [runId]);
  return rows.map(runEventFromRow);
}

export async function attempts(db: SqlQuerier, runId: string): Promise<AttemptRecord[]> {
  const { rows } = await db.query('SELECT * FROM attempts WHERE run_id = $1 ORDER BY seq', [runId]);
  return rows.map(attemptFromRow);
}

export async function getAttempt(db: SqlQuerier, attemptId: string): Promise<AttemptRecord | null> {
  const { rows } = await db.query('SELECT * FROM attempts WHERE attempt_id = $1', [attemptId]);
  return rows[0] ? attemptFromRow(rows[0]) : null;
}

export async function countRunsByStatus(db: SqlQuerier): Promise<Record<RunStatus, number>> {
  const counts: Record<RunStatus, number> = { QUEUED: 0, PENDING: 0, RUNNING: 0, STOPPED: 0, NEEDS_RETRY: 0 };
  const { rows } = await db.query<{ status: RunStatus; n: unknown }>(
    'SELECT status, count(*) AS n FROM runs GROUP BY status',
  );
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

export async function queuedRuns(
  db: SqlQuerier,
  clusters: readonly string[],
  limit: number,
  after?: QueueCursor,
) {
  const { rows } = after
    ? await db.query(
        `SELECT * FROM runs WHERE status = 'QUEUED' AND cluster = ANY($1::text[]) AND (queued_at, run_id) > ($3, $4)
         ORDER BY queued_at, run_id LIMIT $2`,
        [clusters, limit, after.queuedAt, after.runId],
      )
    : await db.query(
        `SELECT * FROM runs WHERE status = 'QUEUED' AND cluster = ANY($1::text[]) ORDER BY queued_at, run_id LIMIT $2`,
        [clusters, limit],
      );
  return rows.map(runFromRow);
}

export async function dueRetries(db: SqlQuerier, clusters: readonly string[], now: number, limit: number) {
  const { rows } = await db.query(
    `SELECT * FROM runs WHERE status = 'NEEDS_RETRY' AND retry_at <= $1 AND cluster = ANY($3::text[])
     ORDER BY retry_at LIMIT $2`,
    [now, limit, clusters],
  );
  return rows.map(runFromRow);
}

export async function overdueRuns(db: SqlQuerier, clusters: readonly string[], now: number, limit: number) {
  const { rows } = await db.query(
    `SELECT * FROM runs WHERE status IN ('PENDING', 'RUNNING') AND active_deadline_seconds IS NOT NULL
       AND stop_requested_at IS NULL AND started_at + active_deadline_seconds * 1000 <= $1
       AND cluster = ANY($3::text[]) LIMIT $2`,
    [now, limit, clusters],
  );
  return rows.map(runFromRow);
}

export async function nextTimerAt(db: SqlQuerier, clusters: readonly string[]): Promise<number | null> {
  const { rows } = await db.query<{ at: unknown }>(
    `SELECT min(at) AS at FROM (
       SELECT min(retry_at) AS at FROM runs WHERE status = 'NEEDS_RETRY' AND cluster = ANY($1::text[])
       UNION ALL
       SELECT min(started_at + active_deadline_seconds * 1000) FROM runs
        WHERE status IN ('PENDING', 'RUNNING') AND active_deadline_seconds IS NOT NULL
          AND stop_requested_at IS NULL AND started_at IS NOT NULL AND cluster = ANY($1::text[])) t`,
    [clusters],
  );
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}

export async function inFlight(db: SqlQuerier, clusters: readonly string[]): Promise<InFlight[]> {
  const { rows } = await db.query(
    `SELECT a.attempt_id AS a_attempt_id, a.run_id AS a_run_id, a.seq AS a_seq, a.cluster AS a_cluster,
            a.node_id AS a_node_id, a.epoch AS a_epoch, a.state AS a_state, a.handle AS a_handle,
            a.outcome AS a_outcome, a.created_at AS a_created_at, a.launched_at AS a_launched_at,
            a.ended_at AS a_ended_at, r.*
       FROM attempts a JOIN runs r ON r.run_id = a.run_id
      WHERE a.state <> 'ended' AND a.cluster = ANY($1::text[]) ORDER BY a.created_at`,
    [clusters],
  );
  return rows.map((row) => {
    const attemptRow: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (k.startsWith('a_')) attemptRow[k.slice(2)] = v;
    return { run: runFromRow(row), attempt: attemptFromRow(attemptRow) };
  });
}

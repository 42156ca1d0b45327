import type { QueueSpec, WorkShape } from '@galley/core';
import type { NewRun, RunRecord } from '../model/records.js';
import { runFromRow } from '../store/rows.js';
import { insertRuns, MAX_INSERT_BATCH } from '../store/runs-sql.js';
import type { SqlClient, SqlQuerier } from '../store/sql-client.js';

// The queues table, and the reads of runs the dispatch round's queue gate needs (migration 008).

/** A queue row: the core spec and its description. */
export interface QueueRecord extends QueueSpec {
  description: string;
  updatedAt: number;
}

const intOrUndef = (v: unknown): number | undefined =>
  v === null || v === undefined ? undefined : Number(v);

function queueFromRow(r: Record<string, unknown>): QueueRecord {
  const cpu = intOrUndef(r['owner_cpu']);
  const q: QueueRecord = {
    name: String(r['name']),
    priority: Number(r['priority']),
    description: String(r['description'] ?? ''),
    updatedAt: Number(r['updated_at']),
  };
  const concurrency = intOrUndef(r['owner_concurrency']);
  const group = intOrUndef(r['group_concurrency']);
  const memory = intOrUndef(r['owner_memory']);
  if (concurrency !== undefined) q.ownerConcurrency = concurrency;
  if (group !== undefined) q.groupConcurrency = group;
  if (cpu !== undefined) q.ownerCpus = cpu / 1000;
  if (memory !== undefined) q.ownerMemMb = memory;
  return q;
}

export async function listQueues(db: SqlQuerier): Promise<QueueRecord[]> {
  const { rows } = await db.query('SELECT * FROM queues ORDER BY priority DESC, name');
  return rows.map(queueFromRow);
}

/** Creates or replaces a queue. */
export async function putQueue(db: SqlQuerier, q: QueueRecord): Promise<void> {
  await db.query(
    `INSERT INTO queues (name, priority, owner_concurrency, group_concurrency, owner_cpu, owner_memory, description, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (name) DO UPDATE SET priority = $2, owner_concurrency = $3, group_concurrency = $4,
       owner_cpu = $5, owner_memory = $6, description = $7, updated_at = $8`,
    [
      q.name,
      q.priority,
      q.ownerConcurrency ?? null,
      q.groupConcurrency ?? null,
      q.ownerCpus === undefined ? null : Math.round(q.ownerCpus * 1000),
      q.ownerMemMb ?? null,
      q.description,
      q.updatedAt,
    ],
  );
}

/** Removes a queue; false when there was none. */
export async function deleteQueue(db: SqlQuerier, name: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM queues WHERE name = $1 RETURNING name', [name]);
  return rows.length > 0;
}

/** A run holding capacity of a cluster, as the ordering sees it, with its id, array parent and version. */
export interface RunningShape extends WorkShape {
  runId: string;
  version: number;
}

/** The runs holding capacity on `cluster` (PENDING or RUNNING). */
export async function runningOn(db: SqlQuerier, cluster: string): Promise<RunningShape[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT run_id, queue, owner_id, group_name, parent_id, cpu, memory, version FROM runs
      WHERE status IN ('PENDING', 'RUNNING') AND cluster = $1`,
    [cluster],
  );
  return rows.map((r) => ({
    runId: String(r['run_id']),
    queue: String(r['queue']),
    owner: String(r['owner_id']),
    group: String(r['group_name']),
    array: r['parent_id'] === null ? undefined : String(r['parent_id']),
    cpus: Number(r['cpu']) / 1000,
    memMb: Number(r['memory']),
    version: Number(r['version']),
  }));
}

/** Array parents of `cluster` not ended yet. */
export async function openArrays(db: SqlQuerier, cluster: string): Promise<RunRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM runs WHERE status = 'QUEUED' AND (batch ->> 'kind') = 'array' AND cluster = $1 LIMIT 1000`,
    [cluster],
  );
  return rows.map(runFromRow);
}

/** How an array's children stand. */
export interface ChildCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** Counts of each parent's children: queued (incl. waiting for a retry), running, succeeded, failed. */
export async function childCounts(
  db: SqlQuerier,
  parentIds: readonly string[],
): Promise<Map<string, ChildCounts>> {
  const out = new Map<string, ChildCounts>(
    parentIds.map((id) => [id, { queued: 0, running: 0, succeeded: 0, failed: 0 }]),
  );
  if (parentIds.length === 0) return out;
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT parent_id,
            CASE WHEN status IN ('QUEUED', 'NEEDS_RETRY') THEN 'queued'
                 WHEN status IN ('PENDING', 'RUNNING') THEN 'running'
                 WHEN exit_code = 0 THEN 'succeeded' ELSE 'failed' END AS k,
            count(*) AS n
       FROM runs WHERE parent_id = ANY($1::text[]) GROUP BY 1, 2`,
    [parentIds],
  );
  for (const r of rows) {
    const c = out.get(String(r['parent_id']));
    if (c) c[String(r['k']) as keyof ChildCounts] = Number(r['n']);
  }
  return out;
}

/** An array's children, by index (a page). */
export async function childrenOf(
  db: SqlQuerier,
  parentId: string,
  limit: number,
  offset: number,
): Promise<{ total: number; items: RunRecord[] }> {
  const { rows } = await db.query(
    `SELECT *, count(*) OVER () AS total FROM runs WHERE parent_id = $1
      ORDER BY (batch ->> 'arrayIndex')::integer, run_id LIMIT $2 OFFSET $3`,
    [parentId, limit, offset],
  );
  let total = rows[0] ? Number(rows[0]['total']) : 0;
  if (rows.length === 0 && offset > 0) {
    const c = await db.query('SELECT count(*) AS n FROM runs WHERE parent_id = $1', [parentId]);
    total = Number(c.rows[0]!['n']);
  }
  return { total, items: rows.map(runFromRow) };
}

/**
 * Inserts runs that belong together (an array parent and its children) in one transaction, the
 * first run first: when it is a repeat of an earlier execute (its idempotence key was seen),
 * nothing is inserted and the earlier run is answered.
 */
export async function insertTogether(
  db: SqlClient,
  runs: readonly NewRun[],
): Promise<{ run: RunRecord; created: boolean }> {
  return db.transaction(async (tx) => {
    const [first] = await insertRuns(tx, runs.slice(0, 1));
    if (!first!.created) return first!;
    for (let i = 1; i < runs.length; i += MAX_INSERT_BATCH)
      await insertRuns(tx, runs.slice(i, i + MAX_INSERT_BATCH));
    return first!;
  });
}

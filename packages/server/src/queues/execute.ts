import { DEFAULT_QUEUE } from '@galley/core';
import { ApiError } from '../api/errors.js';
import type { NewAuditEntry } from '../auth/audit-rows.js';
import type { ExecuteBody } from '../api/schemas/runs.js';
import type { EnvVar, NewRun, RunBatch, RunDependency, RunRecord } from '../model/records.js';
import type { SqlClient, SqlQuerier } from '../store/sql-client.js';
import type { Store } from '../store/store.js';
import { childrenOf, insertTogether, listQueues } from './queues-sql.js';

/** What an execute with queue, array or dependency fields needs of the server. */
export interface BatchContext {
  db: SqlQuerier;
  getRuns: (ids: readonly string[]) => Promise<RunRecord[]>;
}

/** The variables an array child gets besides the injected ones; an execute cannot set them. */
const ARRAY_ENV = ['GALLEY_ARRAY_INDEX', 'GALLEY_ARRAY_SIZE', 'GALLEY_ARRAY_PARENT_ID'];

/** The id of an array's child `index`: its parent's id and the index (sorts in index order, no dot). */
export function childIdOf(parentId: string, index: number): string {
  return `${parentId}-i${String(index).padStart(5, '0')}`;
}

/** True when the execute uses none of the queue fields: the run is made as before. */
export function isPlainExecute(body: ExecuteBody): boolean {
  return (
    (body.queue === undefined || body.queue === DEFAULT_QUEUE) &&
    body.array_size === undefined &&
    body.array_parallelism === undefined &&
    (body.depends_on === undefined || body.depends_on.length === 0)
  );
}

/**
 * The runs an execute with queue, array or dependency fields makes: one run, or an array parent
 * (first) and its children. Throws ApiError 422 naming the field: an unknown queue, an unknown run
 * in `depends_on`, a per-index dependency on something that is not an array of the same size.
 */
export async function buildBatch(body: ExecuteBody, run: NewRun, ctx: BatchContext): Promise<NewRun[]> {
  const queue = body.queue ?? DEFAULT_QUEUE;
  if (queue !== DEFAULT_QUEUE) {
    const known = (await listQueues(ctx.db)).map((q) => q.name);
    if (!known.includes(queue))
      throw new ApiError(422, 'UNKNOWN_QUEUE', `queue "${queue}" does not exist`, {
        'body.queue': `is not a queue (${[DEFAULT_QUEUE, ...known].join(', ')})`,
      });
  }
  const size = body.array_size;
  if (body.array_parallelism !== undefined && size === undefined)
    throw new ApiError(422, 'NOT_AN_ARRAY', 'array_parallelism needs array_size', {
      'body.array_parallelism': 'is only for arrays: give array_size too',
    });
  const deps = body.depends_on ?? [];
  const found = new Map(
    (await ctx.getRuns([...new Set(deps.map((d) => d.run_id))])).map((r) => [r.runId, r]),
  );
  const whole: RunDependency[] = [];
  const perIndex: { dep: RunDependency; children: Map<number, string> }[] = [];
  for (const [i, d] of deps.entries()) {
    const field = `body.depends_on[${i}].run_id`;
    const target = found.get(d.run_id);
    if (!target)
      throw new ApiError(422, 'UNKNOWN_DEPENDENCY', `depends_on[${i}]: run "${d.run_id}" does not exist`, {
        [field]: 'is not a run',
      });
    const dep: RunDependency = { runId: d.run_id, condition: d.condition ?? 'succeeded' };
    if (!d.per_index) {
      whole.push(dep);
      continue;
    }
    const theirs = target.batch?.kind === 'array' ? target.batch.arraySize : undefined;
    if (size === undefined || theirs !== size)
      throw new ApiError(
        422,
        'PER_INDEX_MISMATCH',
        `depends_on[${i}]: per_index needs an array of the same size on both sides (this: ${size ?? 'not an array'}, run ${d.run_id}: ${theirs ?? 'not an array'})`,
        { [`body.depends_on[${i}].per_index`]: 'needs two arrays of the same size' },
      );
    const page = await childrenOf(ctx.db, d.run_id, size, 0);
    perIndex.push({ dep, children: new Map(page.items.map((c) => [c.batch?.arrayIndex ?? -1, c.runId])) });
  }
  const base: RunBatch = { queue };
  if (size === undefined) return [{ ...run, batch: whole.length > 0 ? { ...base, dependsOn: whole } : base }];

  const parallelism = body.array_parallelism;
  const parentBatch: RunBatch = {
    ...base,
    kind: 'array',
    arraySize: size,
    ...(parallelism !== undefined ? { arrayParallelism: parallelism } : {}),
    ...(deps.length > 0 ? { dependsOn: [...whole, ...perIndex.map((p) => p.dep)] } : {}),
  };
  const runs: NewRun[] = [{ ...run, batch: parentBatch }];
  for (let index = 0; index < size; index++) {
    const childId = childIdOf(run.runId, index);
    const dependsOn = [
      ...whole,
      ...perIndex.map((p) => ({ runId: p.children.get(index) ?? p.dep.runId, condition: p.dep.condition })),
    ];
    runs.push({
      ...run,
      runId: childId,
      idempotenceKey: null,
      env: childEnv(run.env, run.runId, childId, index, size),
      batch: {
        ...base,
        parentId: run.runId,
        arrayIndex: index,
        ...(parallelism !== undefined ? { arrayParallelism: parallelism } : {}),
        ...(dependsOn.length > 0 ? { dependsOn } : {}),
      },
    });
  }
  return runs;
}

/** A child's environment: the parent's, its own run id, and its place in the array. */
function childEnv(env: EnvVar[], parentId: string, childId: string, index: number, size: number): EnvVar[] {
  const own = env
    .filter((v) => !ARRAY_ENV.includes(v.name))
    .map((v) =>
      v.value === parentId && /^(GALLEY|FLOTILLA)_RUN_ID$/.test(v.name) ? { ...v, value: childId } : v,
    );
  return [
    { name: 'GALLEY_ARRAY_INDEX', value: String(index) },
    { name: 'GALLEY_ARRAY_SIZE', value: String(size) },
    { name: 'GALLEY_ARRAY_PARENT_ID', value: parentId },
    ...own,
  ];
}

/** A store that can be queried directly (the SQL store; the only one Galley has). */
type SqlStore = Pick<Store, 'insertRun' | 'getRuns'> & { sql?: SqlClient };

/**
 * Inserts what an execute makes: the run as before when it uses no queue field, else its batch
 * (an array's parent and children in one transaction). Answers the run the execute answers, and
 * whether `audit` (the request's audit entry) was stored with it: a single run's insert carries it.
 */
export async function insertExecuted(
  store: SqlStore,
  body: ExecuteBody,
  run: NewRun,
  audit?: NewAuditEntry,
): Promise<{ run: RunRecord; created: boolean; audited: boolean }> {
  if (isPlainExecute(body) || !store.sql)
    return { ...(await store.insertRun(run, audit)), audited: audit !== undefined };
  const db = store.sql;
  const batch = await buildBatch(body, run, { db, getRuns: (ids) => store.getRuns(ids) });
  const inserted =
    batch.length === 1 ? await store.insertRun(batch[0]!, audit) : await insertTogether(db, batch);
  return { ...inserted, audited: batch.length === 1 && audit !== undefined };
}

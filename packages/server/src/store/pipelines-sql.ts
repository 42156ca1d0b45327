import type { InstanceState, PipelineSpec, PipelineUpdate } from '@galley/core';
import type { SqlClient, SqlQuerier } from './sql-client.js';
import { SqlError, UNIQUE_VIOLATION } from './sql-client.js';
import type {
  InstanceRecord,
  LaunchRecord,
  PipelineChange,
  PipelineRecord,
  UpdateRecord,
} from '../model/pipeline-records.js';
import { type Fence, StoreError } from './store.js';
import { checkFence } from './leases-sql.js';
import { type NotifyContext, pipelineNotice } from './notify.js';

// The pipelines queries: one small function per statement.

/** A pipeline with this id exists already (perhaps still being deleted). */
export class DuplicatePipelineError extends StoreError {
  override readonly name = 'DuplicatePipelineError';
  constructor(
    readonly pipelineId: string,
    options?: { cause?: unknown },
  ) {
    super(`a pipeline with id "${pipelineId}" already exists`, 'DUPLICATE_PIPELINE', options);
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

function pipelineFromRow(row: Record<string, unknown>): PipelineRecord {
  return {
    pipelineId: String(row['pipeline_id']),
    uid: String(row['uid']),
    cluster: String(row['cluster']),
    spec: json<PipelineSpec>(row['spec']),
    version: num(row['version']),
    instanceSeq: num(row['instance_seq']),
    update: row['update_state'] === null ? null : json<PipelineUpdate>(row['update_state']),
    updateSeq: num(row['update_seq']),
    deletingAt: row['deleting_at'] === null ? null : num(row['deleting_at']),
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
  };
}

function instanceFromRow(row: Record<string, unknown>): InstanceRecord {
  return {
    pipelineId: String(row['pipeline_id']),
    state: json<InstanceState>(row['state']),
    launch: row['launch'] === null ? null : json<LaunchRecord>(row['launch']),
    updatedAt: num(row['updated_at']),
  };
}

/** Inserts a new pipeline and its first version; DuplicatePipelineError when the id is taken. */
export async function createPipeline(
  db: SqlClient,
  p: PipelineRecord,
  notify?: NotifyContext,
): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO pipelines (pipeline_id, uid, cluster, spec, version, instance_seq, update_state, update_seq,
           deleting_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8, $9, $10, $11)`,
        [
          p.pipelineId,
          p.uid,
          p.cluster,
          JSON.stringify(p.spec),
          p.version,
          p.instanceSeq,
          jsonOrNull(p.update),
          p.updateSeq,
          p.deletingAt,
          p.createdAt,
          p.updatedAt,
        ],
      );
      await insertVersion(tx, p.pipelineId, p.version, p.spec, p.createdAt);
      if (notify) await notifyPipeline(tx, notify, p.pipelineId);
    });
  } catch (err) {
    if (err instanceof SqlError && err.code === UNIQUE_VIOLATION)
      throw new DuplicatePipelineError(p.pipelineId, { cause: err });
    throw err;
  }
}

async function insertVersion(
  db: SqlQuerier,
  pipelineId: string,
  version: number,
  spec: PipelineSpec,
  at: number,
): Promise<void> {
  await db.query(
    `INSERT INTO pipeline_versions (pipeline_id, version, spec, created_at) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (pipeline_id, version) DO UPDATE SET spec = EXCLUDED.spec`,
    [pipelineId, version, JSON.stringify(spec), at],
  );
}

/** The pipeline; null when there is none. */
export async function getPipeline(db: SqlQuerier, pipelineId: string): Promise<PipelineRecord | null> {
  const { rows } = await db.query('SELECT * FROM pipelines WHERE pipeline_id = $1', [pipelineId]);
  return rows[0] ? pipelineFromRow(rows[0]) : null;
}

/** Every pipeline, id order. */
export async function listPipelines(db: SqlQuerier): Promise<PipelineRecord[]> {
  const { rows } = await db.query('SELECT * FROM pipelines ORDER BY pipeline_id');
  return rows.map(pipelineFromRow);
}

/** Every spec version of a pipeline, by version. */
export async function pipelineVersions(
  db: SqlQuerier,
  pipelineId: string,
): Promise<Map<number, PipelineSpec>> {
  const { rows } = await db.query('SELECT version, spec FROM pipeline_versions WHERE pipeline_id = $1', [
    pipelineId,
  ]);
  return new Map(rows.map((r) => [num(r['version']), json<PipelineSpec>(r['spec'])]));
}

/** The instances of one pipeline (or of every pipeline when `pipelineId` is undefined), id order. */
export async function pipelineInstances(db: SqlQuerier, pipelineId?: string): Promise<InstanceRecord[]> {
  const { rows } =
    pipelineId === undefined
      ? await db.query('SELECT * FROM pipeline_instances ORDER BY pipeline_id, instance_id')
      : await db.query('SELECT * FROM pipeline_instances WHERE pipeline_id = $1 ORDER BY instance_id', [
          pipelineId,
        ]);
  return rows.map(instanceFromRow).sort((a, b) => a.state.number - b.state.number);
}

/** The update history of a pipeline, oldest first. */
export async function pipelineUpdates(db: SqlQuerier, pipelineId: string): Promise<UpdateRecord[]> {
  const { rows } = await db.query(
    'SELECT seq, record FROM pipeline_updates WHERE pipeline_id = $1 ORDER BY seq',
    [pipelineId],
  );
  return rows.map((r) => ({ seq: num(r['seq']), update: json<PipelineUpdate>(r['record']) }));
}

/**
 * Stores one change atomically. Answers false (and changes nothing) when the pipeline row is gone:
 * a pipeline that was deleted is not brought back by a late change.
 */
export async function savePipeline(
  db: SqlClient,
  change: PipelineChange,
  fence?: Fence,
  notify?: NotifyContext,
): Promise<boolean> {
  const p = change.pipeline;
  return db.transaction(async (tx) => {
    if (fence) await checkFence(tx, fence);
    const updated = await tx.query(
      `UPDATE pipelines SET spec = $2::jsonb, version = $3, instance_seq = $4, update_state = $5::jsonb,
         update_seq = $6, deleting_at = $7, updated_at = $8
       WHERE pipeline_id = $1 RETURNING pipeline_id`,
      [
        p.pipelineId,
        JSON.stringify(p.spec),
        p.version,
        p.instanceSeq,
        jsonOrNull(p.update),
        p.updateSeq,
        p.deletingAt,
        p.updatedAt,
      ],
    );
    if (updated.rows.length === 0) return false;
    if (change.newVersion)
      await insertVersion(tx, p.pipelineId, change.newVersion.version, change.newVersion.spec, p.updatedAt);
    for (const i of change.instances ?? []) {
      await tx.query(
        `INSERT INTO pipeline_instances (instance_id, pipeline_id, state, launch, updated_at)
         VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)
         ON CONFLICT (instance_id) DO UPDATE SET state = EXCLUDED.state, launch = EXCLUDED.launch,
           updated_at = EXCLUDED.updated_at`,
        [i.state.instanceId, i.pipelineId, JSON.stringify(i.state), jsonOrNull(i.launch), i.updatedAt],
      );
    }
    if (change.removeInstances?.length) {
      await tx.query('DELETE FROM pipeline_instances WHERE instance_id = ANY($1::text[])', [
        change.removeInstances,
      ]);
    }
    if (change.history) {
      await tx.query(
        `INSERT INTO pipeline_updates (pipeline_id, seq, record) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (pipeline_id, seq) DO UPDATE SET record = EXCLUDED.record`,
        [p.pipelineId, change.history.seq, JSON.stringify(change.history.update)],
      );
    }
    if (notify) await notifyPipeline(tx, notify, p.pipelineId);
    return true;
  });
}

/** Tells the other replicas (at commit) that the pipeline changed. */
async function notifyPipeline(tx: SqlQuerier, notify: NotifyContext, pipelineId: string): Promise<void> {
  const { text, params } = pipelineNotice(notify, pipelineId);
  await tx.query(text, params);
}

/** Replaces instance rows that still exist (a row deleted meanwhile stays deleted). */
export async function saveInstances(
  db: SqlClient,
  instances: readonly InstanceRecord[],
  fence?: Fence,
): Promise<void> {
  if (instances.length === 0) return;
  await db.transaction(async (tx) => {
    if (fence) await checkFence(tx, fence);
    for (const i of instances) {
      await tx.query(
        `UPDATE pipeline_instances SET state = $2::jsonb, launch = $3::jsonb, updated_at = $4 WHERE instance_id = $1`,
        [i.state.instanceId, JSON.stringify(i.state), jsonOrNull(i.launch), i.updatedAt],
      );
    }
  });
}

/** Deletes a pipeline with its versions, instances and history; false when there was none. */
export async function deletePipeline(db: SqlClient, pipelineId: string, fence?: Fence): Promise<boolean> {
  if (fence)
    return db.transaction(async (tx) => {
      await checkFence(tx, fence);
      return deletePipelineRows(tx, pipelineId);
    });
  return deletePipelineRows(db, pipelineId);
}

async function deletePipelineRows(db: SqlQuerier, pipelineId: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM pipelines WHERE pipeline_id = $1 RETURNING pipeline_id', [
    pipelineId,
  ]);
  return rows.length > 0;
}

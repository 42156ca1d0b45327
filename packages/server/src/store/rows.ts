import type { AttemptOutcome, RunStatus } from '@galley/core';
import type {
  AttemptRecord,
  DefinitionPlacement,
  DefinitionRecord,
  EnvVar,
  RunBatch,
  RunEventRecord,
  RunPlacement,
  RunRecord,
} from '../model/records.js';

// Row ↔ record mapping. Numbers go through num() because `pg` may hand int8 back as strings
// when a caller did not install Galley's parser, and PGlite answers numbers.

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown, fallback: T): T => {
  if (v === null || v === undefined) return fallback;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
};

/** The `placement` field of a record from its JSON column: absent when NULL. */
function placementOf<T>(v: unknown): { placement?: T } {
  const p = json<T | null>(v, null);
  return p === null ? {} : { placement: p };
}

/** A definitions row as a record. */
export function definitionFromRow(r: Row): DefinitionRecord {
  return {
    definitionId: String(r['definition_id']),
    alias: String(r['alias']),
    groupName: String(r['group_name']),
    image: String(r['image']),
    command: String(r['command']),
    memory: num(r['memory']),
    cpu: num(r['cpu']),
    gpu: num(r['gpu']),
    env: json<EnvVar[]>(r['env'], []),
    ports: json<number[]>(r['ports'], []),
    tags: json<string[]>(r['tags'], []),
    ...placementOf<DefinitionPlacement>(r['placement']),
    targetCluster: strOrNull(r['target_cluster']),
    ownerId: strOrNull(r['owner_id']),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

/** A runs row as a record. */
export function runFromRow(r: Row): RunRecord {
  const instanceId = strOrNull(r['instance_id']);
  return {
    runId: String(r['run_id']),
    definitionId: String(r['definition_id']),
    alias: String(r['alias']),
    groupName: String(r['group_name']),
    image: String(r['image']),
    command: String(r['command']),
    cluster: String(r['cluster']),
    engine: String(r['engine']),
    ownerId: String(r['owner_id']),
    env: json<EnvVar[]>(r['env'], []),
    memory: num(r['memory']),
    cpu: num(r['cpu']),
    gpu: num(r['gpu']),
    description: strOrNull(r['description']),
    idempotenceKey: strOrNull(r['idempotence_key']),
    activeDeadlineSeconds: numOrNull(r['active_deadline_seconds']),
    pipelineId: strOrNull(r['pipeline_id']),
    state: {
      status: String(r['status']) as RunStatus,
      attemptCount: num(r['attempt_count']),
      attemptId: strOrNull(r['attempt_id']),
      attemptIds: json<string[]>(r['attempt_ids'], []),
      exitCode: numOrNull(r['exit_code']),
      exitReason: strOrNull(r['exit_reason']),
      queuedAt: num(r['queued_at']),
      startedAt: numOrNull(r['started_at']),
      finishedAt: numOrNull(r['finished_at']),
      stopRequestedAt: numOrNull(r['stop_requested_at']),
      retryAt: numOrNull(r['retry_at']),
      queuedReason: strOrNull(r['queued_reason']),
    },
    host: instanceId === null ? null : { hostId: instanceId, dnsName: String(r['dns_name'] ?? '') },
    runExceptions: json<string[] | null>(r['run_exceptions'], null),
    maxMemoryUsed: numOrNull(r['max_memory_used']),
    maxCpuUsed: numOrNull(r['max_cpu_used']),
    ...placementOf<RunPlacement>(r['placement']),
    ...batchOf(r),
    version: num(r['version']),
    updatedAt: num(r['updated_at']),
  };
}

/** The `batch` field of a run from its queue, parent_id and batch columns: absent when all are defaults. */
function batchOf(r: Row): { batch?: RunBatch } {
  const queue = r['queue'] === undefined || r['queue'] === null ? 'default' : String(r['queue']);
  const rest = json<Omit<RunBatch, 'queue'> | null>(r['batch'], null);
  const parentId = strOrNull(r['parent_id']);
  if (queue === 'default' && rest === null && parentId === null) return {};
  return { batch: { queue, ...rest, ...(parentId === null ? {} : { parentId }) } };
}

/** The runs columns in insert order, and the values of a record for them. */
export const RUN_COLUMNS = [
  'run_id',
  'definition_id',
  'alias',
  'group_name',
  'image',
  'command',
  'cluster',
  'engine',
  'owner_id',
  'env',
  'memory',
  'cpu',
  'gpu',
  'description',
  'idempotence_key',
  'active_deadline_seconds',
  'pipeline_id',
  'status',
  'attempt_count',
  'attempt_id',
  'attempt_ids',
  'exit_code',
  'exit_reason',
  'queued_reason',
  'queued_at',
  'started_at',
  'finished_at',
  'stop_requested_at',
  'retry_at',
  'instance_id',
  'dns_name',
  'run_exceptions',
  'max_memory_used',
  'max_cpu_used',
  'placement',
  'queue',
  'parent_id',
  'batch',
  'version',
  'updated_at',
] as const;

/** The SQL type of each runs column (for the array parameters of multi-row inserts). */
export const RUN_COLUMN_TYPES: Record<(typeof RUN_COLUMNS)[number], string> = {
  run_id: 'text',
  definition_id: 'text',
  alias: 'text',
  group_name: 'text',
  image: 'text',
  command: 'text',
  cluster: 'text',
  engine: 'text',
  owner_id: 'text',
  env: 'jsonb',
  memory: 'integer',
  cpu: 'integer',
  gpu: 'integer',
  description: 'text',
  idempotence_key: 'text',
  active_deadline_seconds: 'integer',
  pipeline_id: 'text',
  status: 'text',
  attempt_count: 'integer',
  attempt_id: 'text',
  attempt_ids: 'jsonb',
  exit_code: 'integer',
  exit_reason: 'text',
  queued_reason: 'text',
  queued_at: 'bigint',
  started_at: 'bigint',
  finished_at: 'bigint',
  stop_requested_at: 'bigint',
  retry_at: 'bigint',
  instance_id: 'text',
  dns_name: 'text',
  run_exceptions: 'jsonb',
  max_memory_used: 'integer',
  max_cpu_used: 'integer',
  placement: 'jsonb',
  queue: 'text',
  parent_id: 'text',
  batch: 'jsonb',
  version: 'bigint',
  updated_at: 'bigint',
};

/** The values of RUN_COLUMNS for a record, in order. */
export function runValues(run: RunRecord): unknown[] {
  const s = run.state;
  return [
    run.runId,
    run.definitionId,
    run.alias,
    run.groupName,
    run.image,
    run.command,
    run.cluster,
    run.engine,
    run.ownerId,
    JSON.stringify(run.env),
    run.memory,
    run.cpu,
    run.gpu,
    run.description,
    run.idempotenceKey,
    run.activeDeadlineSeconds,
    run.pipelineId,
    s.status,
    s.attemptCount,
    s.attemptId,
    JSON.stringify(s.attemptIds),
    s.exitCode,
    s.exitReason,
    s.queuedReason,
    s.queuedAt,
    s.startedAt,
    s.finishedAt,
    s.stopRequestedAt,
    s.retryAt,
    run.host?.hostId ?? null,
    run.host?.dnsName ?? null,
    run.runExceptions === null ? null : JSON.stringify(run.runExceptions),
    run.maxMemoryUsed,
    run.maxCpuUsed,
    run.placement === undefined ? null : JSON.stringify(run.placement),
    run.batch?.queue ?? 'default',
    run.batch?.parentId ?? null,
    batchJson(run.batch),
    run.version,
    run.updatedAt,
  ];
}

/** The `batch` column of a run: its RunBatch but the queue and parent (columns of their own). */
export function batchJson(batch: RunBatch | undefined): string | null {
  if (!batch) return null;
  const { queue: _queue, parentId: _parentId, ...rest } = batch;
  return Object.keys(rest).length === 0 ? null : JSON.stringify(rest);
}

/** An attempts row as a record. */
export function attemptFromRow(r: Row): AttemptRecord {
  return {
    attemptId: String(r['attempt_id']),
    runId: String(r['run_id']),
    seq: num(r['seq']),
    cluster: String(r['cluster']),
    nodeId: strOrNull(r['node_id']),
    epoch: num(r['epoch']),
    state: String(r['state']) as AttemptRecord['state'],
    handle: json<Record<string, unknown> | null>(r['handle'], null),
    outcome: json<AttemptOutcome | null>(r['outcome'], null),
    createdAt: num(r['created_at']),
    launchedAt: numOrNull(r['launched_at']),
    endedAt: numOrNull(r['ended_at']),
  };
}

/** A run_events row as a record. */
export function runEventFromRow(r: Row): RunEventRecord {
  return {
    id: num(r['id']),
    runId: String(r['run_id']),
    at: num(r['at']),
    type: String(r['type']),
    status: String(r['status']) as RunStatus,
    attemptId: strOrNull(r['attempt_id']),
    reason: strOrNull(r['reason']),
  };
}

import type { PipelineSpec, RunStatus } from '@galley/core';
import type {
  InstanceRecord,
  PipelineChange,
  PipelineRecord,
  UpdateRecord,
} from '../model/pipeline-records.js';
import type {
  AttemptRecord,
  DefinitionInput,
  DefinitionRecord,
  NewRun,
  NewRunEvent,
  RunEventRecord,
  RunRecord,
} from '../model/records.js';
import type { DefinitionSortField, RunSortField } from '../model/sort-fields.js';
import type { NewAuditEntry } from '../auth/audit-rows.js';

/** A page of a list, with the total that matched the filters. */
export interface Page<T> {
  total: number;
  items: T[];
}

/** Sorting and paging of a list. `limit` and `offset` are already validated and capped. */
export interface Paging<Sort extends string> {
  sortBy: Sort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** Sortable run and definition columns: one list for the API, the store and the web (model/sort-fields.ts). */
export type { DefinitionSortField, RunSortField };

/** Run columns usable as equality filters (the flotilla "any field" filter). */
export const RUN_FILTER_FIELDS = [
  'run_id',
  'definition_id',
  'alias',
  'group_name',
  'image',
  'cluster',
  'owner_id',
  'exit_code',
  'idempotence_key',
  'engine',
  'attempt_count',
  'parent_id',
] as const;
export type RunFilterField = (typeof RUN_FILTER_FIELDS)[number];

/** Filters of the history list; every given filter must match (AND). Times in ms. */
export interface RunQuery extends Paging<RunSortField> {
  equals: Partial<Record<RunFilterField, string>>;
  /** Any of these statuses (empty = all). */
  statuses: RunStatus[];
  /** Each `{name, value}` must be in the run's env. */
  env: { name: string; value: string }[];
  queuedFrom?: number;
  queuedUntil?: number;
  /**
   * Count every matching run for `total` (slow on a large history). Default: at most
   * HISTORY_COUNT_CAP past the offset.
   */
  exactTotal?: boolean;
}

/** A page of the history; `total` is `offset + HISTORY_COUNT_CAP` (a lower bound) when not `totalExact`. */
export interface RunPage extends Page<RunRecord> {
  totalExact: boolean;
}

/** Filters of the definitions list. */
export interface DefinitionQuery extends Paging<DefinitionSortField> {
  equals: Partial<Record<'alias' | 'group_name' | 'image' | 'definition_id' | 'target_cluster', string>>;
}

/**
 * One stored change of a run, made by the engine: the new run row (stored only if the row still
 * has `expectedVersion`), an attempt to insert or update, and timeline entries.
 */
export interface RunChange {
  run: RunRecord;
  expectedVersion: number;
  attempt?: { insert: AttemptRecord } | { patch: AttemptPatch };
  events: NewRunEvent[];
}

/** A change of an attempt row: `state` always, the other fields when given (undefined = keep). */
export interface AttemptPatch {
  attemptId: string;
  state: AttemptRecord['state'];
  handle?: Record<string, unknown>;
  outcome?: AttemptRecord['outcome'];
  launchedAt?: number;
  endedAt?: number;
}

/** A position in the queue order (queued_at, then run_id): `after` reads only runs queued later. */
export interface QueueCursor {
  queuedAt: number;
  runId: string;
}

/** A run in flight (PENDING or RUNNING, or with an unended attempt) with its current attempt. */
export interface InFlight {
  run: RunRecord;
  attempt: AttemptRecord;
}

/**
 * The store is split into narrow repositories, one per kind of record; each part of the server
 * takes only the ones it uses (the run controller runs and leases, the pipeline controller
 * pipelines, the Mesos backend's framework id its own). Methods answer `null`/`false` for unknown
 * ids and throw StoreError subclasses for conflicts; every method is safe to call from any replica.
 */

/** Definitions (Flotilla's "tasks"). */
export interface DefinitionRepository {
  /** Inserts a definition; throws DuplicateAliasError when the alias is taken. */
  createDefinition(input: DefinitionInput, id: string, now: number): Promise<DefinitionRecord>;
  getDefinition(definitionId: string): Promise<DefinitionRecord | null>;
  getDefinitionByAlias(alias: string): Promise<DefinitionRecord | null>;
  /** Replaces the stored fields with `next`; null when the id is unknown. DuplicateAliasError on alias clash. */
  updateDefinition(
    definitionId: string,
    next: DefinitionInput,
    now: number,
  ): Promise<DefinitionRecord | null>;
  /** Deletes; false when the id is unknown. Runs keep their copy of the definition. */
  deleteDefinition(definitionId: string): Promise<boolean>;
  listDefinitions(query: DefinitionQuery): Promise<Page<DefinitionRecord>>;
  /** Distinct group names of definitions and runs, sorted. */
  listGroups(): Promise<string[]>;
  /** Distinct definition tags, sorted. */
  listTags(): Promise<string[]>;
}

/** Runs, their attempts and timelines: what the API reads and the run controller changes. */
export interface RunRepository {
  /**
   * Inserts a QUEUED run and its first timeline entry in one statement. When the run has an
   * idempotence key that was seen before, nothing is inserted and the earlier run is answered
   * with `created: false`. `audit`: the audit entry of the request, stored in the same statement
   * (whether or not the run was new).
   */
  insertRun(run: NewRun, audit?: NewAuditEntry): Promise<{ run: RunRecord; created: boolean }>;
  getRun(runId: string): Promise<RunRecord | null>;
  getRuns(runIds: readonly string[]): Promise<RunRecord[]>;
  listRuns(query: RunQuery): Promise<RunPage>;
  /** The run's timeline, oldest first. */
  runEvents(runId: string): Promise<RunEventRecord[]>;
  /** The run's attempts, first first. */
  attempts(runId: string): Promise<AttemptRecord[]>;
  getAttempt(attemptId: string): Promise<AttemptRecord | null>;
  countRunsByStatus(): Promise<Record<RunStatus, number>>;

  /** QUEUED runs of the clusters, oldest first, at most `limit`. */
  queuedRuns(clusters: readonly string[], limit: number, after?: QueueCursor): Promise<RunRecord[]>;
  /** NEEDS_RETRY runs of the clusters whose retry time is at or before `now`. */
  dueRetries(clusters: readonly string[], now: number, limit: number): Promise<RunRecord[]>;
  /** Earliest retry time of NEEDS_RETRY runs and earliest active deadline of running ones (of the clusters); null = none. */
  nextTimerAt(clusters: readonly string[]): Promise<number | null>;
  /** RUNNING/PENDING runs of the clusters whose active deadline passed at `now`, not yet asked to stop. */
  overdueRuns(clusters: readonly string[], now: number, limit: number): Promise<RunRecord[]>;
  /** Attempts not yet ended, with their runs: what recovery reconciles with the backends. */
  inFlight(clusters: readonly string[]): Promise<InFlight[]>;
  /**
   * Stores the changes in ONE transaction. A change whose run row no longer has its expected
   * version is skipped (another writer won); answers the runs as stored, skipped ones left out.
   * With a `fence` (the leader's scheduling writes), nothing is stored and StaleEpochError thrown
   * unless the lease still has that epoch, checked in the same transaction.
   */
  applyChanges(changes: readonly RunChange[], fence?: Fence): Promise<RunRecord[]>;
  /** Changes attempt rows without changing their runs (late events of attempts no longer current). */
  patchAttempts(patches: readonly AttemptPatch[], fence?: Fence): Promise<void>;
}

/** Pipelines, their spec versions, instances and update history. */
export interface PipelineRepository {
  /** Inserts a pipeline with its first spec version; DuplicatePipelineError when the id is taken. */
  createPipeline(pipeline: PipelineRecord): Promise<void>;
  getPipeline(pipelineId: string): Promise<PipelineRecord | null>;
  /** Every pipeline, id order. */
  listPipelines(): Promise<PipelineRecord[]>;
  /** Every spec version of a pipeline, by version number. */
  pipelineVersions(pipelineId: string): Promise<Map<number, PipelineSpec>>;
  /** The instances of one pipeline, or of all of them (`pipelineId` undefined), by instance number. */
  pipelineInstances(pipelineId?: string): Promise<InstanceRecord[]>;
  /** A pipeline's update history, oldest first. */
  pipelineUpdates(pipelineId: string): Promise<UpdateRecord[]>;
  /**
   * Stores a pipeline change in one transaction; false (nothing stored) when the pipeline is gone.
   * With a `fence` (the leader's controller), StaleEpochError when the lease moved on.
   */
  savePipeline(change: PipelineChange, fence?: Fence): Promise<boolean>;
  /** Replaces instance rows that still exist (a row deleted meanwhile stays deleted); fenced as savePipeline. */
  saveInstances(instances: readonly InstanceRecord[], fence?: Fence): Promise<void>;
  /** Deletes a pipeline and everything of it; false when there was none. Fenced as savePipeline. */
  deletePipeline(pipelineId: string, fence?: Fence): Promise<boolean>;
}

/** Each Mesos cluster's framework id. */
export interface FrameworkIdRepository {
  getFrameworkId(cluster: string): Promise<string | null>;
  /** Stores the id; with a `fence`, StaleEpochError when the lease moved on. */
  setFrameworkId(cluster: string, frameworkId: string, now: number, fence?: Fence): Promise<void>;
}

/**
 * The fencing token of a scheduling write: the lease it is made under and the epoch the writer
 * holds it in. A write with a fence is stored only while the lease still has that epoch.
 */
export interface Fence {
  name: string;
  epoch: number;
}

/** A lease as stored. Times in ms. */
export interface LeaseRecord {
  name: string;
  holder: string;
  epoch: number;
  /** When the current epoch began. */
  since: number;
  expiresAt: number;
}

/** How `acquireLease` takes the lease (see there). */
export interface AcquireOptions {
  /** Renew this epoch only: answers null unless the lease is still `holder`'s in this epoch. */
  renew?: number;
  /** A new holding even when `holder` has the lease already: the epoch grows. */
  fresh?: boolean;
}

/** Leases with fencing epochs (leadership). */
export interface LeaseRepository {
  /**
   * Takes the lease `name` for `holder` until `now + ttlMs` if it is free, expired or already
   * held by `holder`; each new holding bumps the epoch (the fencing token). Answers the epoch,
   * or null when another holder has it. A lease taken through a lease session (PostgreSQL) is
   * also free once the holder's database session ended (its process died).
   */
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options?: AcquireOptions,
  ): Promise<number | null>;
  /** Gives the lease up at once (when `holder` still has it in `epoch`), so another may take it. */
  releaseLease(name: string, holder: string, epoch: number): Promise<void>;
  getLease(name: string): Promise<LeaseRecord | null>;
  /** Every epoch handed out for `name`, oldest first, with its holder and when it began. */
  leaseHistory(name: string): Promise<{ epoch: number; holder: string; acquiredAt: number }[]>;
}

/** A server replica: where it answers and on which host its local runs ran. Times in ms. */
export interface ReplicaRecord {
  replicaId: string;
  /** The host name (a local run's `host.hostId`). */
  host: string;
  /** Its HTTP API, e.g. `http://10.0.0.5:1424`; null before it listens. */
  url: string | null;
  startedAt: number;
  /** Last heartbeat. */
  seenAt: number;
}

/** The server replicas (for the health page and log proxying). */
export interface ReplicaRepository {
  saveReplica(replica: ReplicaRecord): Promise<void>;
  /** Every replica with a heartbeat at or after `seenSince`. */
  listReplicas(seenSince: number): Promise<ReplicaRecord[]>;
  removeReplica(replicaId: string): Promise<void>;
}

/** Everything Galley keeps: one implementation over SQL (PostgreSQL or PGlite). */
export interface Store
  extends
    DefinitionRepository,
    RunRepository,
    PipelineRepository,
    FrameworkIdRepository,
    LeaseRepository,
    ReplicaRepository {
  /** Resolves when the database answers a trivial query (health checks). */
  ping(): Promise<void>;
  /** `pglite` or `postgres`. */
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/** Base of store errors; `code` is stable. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another definition already has this alias. */
export class DuplicateAliasError extends StoreError {
  override readonly name = 'DuplicateAliasError';
  constructor(
    readonly alias: string,
    options?: { cause?: unknown },
  ) {
    super(`a definition with alias "${alias}" already exists`, 'DUPLICATE_ALIAS', options);
  }
}

/**
 * A scheduling write made under a lease epoch that is no longer current: another replica leads
 * now (or this one took the lease anew). Nothing of the write was stored.
 */
export class StaleEpochError extends StoreError {
  override readonly name = 'StaleEpochError';
  constructor(
    readonly fence: Fence,
    readonly current: number | null,
  ) {
    super(
      `the ${fence.name} lease is at epoch ${current ?? 'none'}, not ${fence.epoch}: this write was refused`,
      'STALE_EPOCH',
    );
  }
}

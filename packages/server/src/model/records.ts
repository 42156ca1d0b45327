import type { AttemptOutcome, RunState, RunStatus } from '@galley/core';

/** One environment variable, as flotilla writes it. */
export interface EnvVar {
  name: string;
  value: string;
}

/** A definition (flotilla's "task"): what to run. Resources: `memory` MB, `cpu` millicores. */
export interface DefinitionRecord {
  definitionId: string;
  alias: string;
  groupName: string;
  image: string;
  command: string;
  /** Memory in MB. */
  memory: number;
  /** CPU in millicores: 1000 = one CPU. */
  cpu: number;
  gpu: number;
  env: EnvVar[];
  ports: number[];
  tags: string[];
  /** Role, constraints, disk and health check (used by Mesos clusters); undefined = none. */
  placement?: DefinitionPlacement;
  /** Cluster runs go to when the execute names none; null = the server's default cluster. */
  targetCluster: string | null;
  /** Who made it; null until API tokens exist. */
  ownerId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields of a definition a client may set (create) or change (update). */
export type DefinitionInput = Omit<DefinitionRecord, 'definitionId' | 'createdAt' | 'updatedAt'>;

/** Where an attempt ran (this machine, a Mesos agent): Flotilla's run `instance` on the wire. */
export interface RunHost {
  /** The host's id (the Mesos agent id; locally the hostname). */
  hostId: string;
  dnsName: string;
}

/**
 * A run: one request to run a definition, with a copy of what it runs (so later edits of the
 * definition do not change history) and its @galley/core lifecycle state.
 */
export interface RunRecord {
  runId: string;
  definitionId: string;
  alias: string;
  groupName: string;
  image: string;
  command: string;
  cluster: string;
  /** The backend kind that runs it (`local`, `mesos`). */
  engine: string;
  ownerId: string;
  /** The environment the command gets: definition env, execute overrides, injected variables. */
  env: EnvVar[];
  memory: number;
  cpu: number;
  gpu: number;
  description: string | null;
  idempotenceKey: string | null;
  activeDeadlineSeconds: number | null;
  /** The pipeline this run belongs to; null for a job run (pipelines come later). */
  pipelineId: string | null;
  state: RunState;
  /** Where the current attempt runs; null before placement. */
  host: RunHost | null;
  runExceptions: string[] | null;
  maxMemoryUsed: number | null;
  maxCpuUsed: number | null;
  /** Role, constraints, disk, ports and health check of the run (copied from the definition); undefined = none. */
  placement?: RunPlacement;
  /** Its queue, array and dependencies (see RunBatch); undefined = the default queue, none of them. */
  batch?: RunBatch;
  /** Grows by one with every stored change: optimistic concurrency, ETags, stream order. */
  version: number;
  updatedAt: number;
}

/** A dependency of a run: it waits until `runId` ended (`ended`) or succeeded (`succeeded`). */
export interface RunDependency {
  runId: string;
  condition: 'succeeded' | 'ended';
}

/**
 * How a run is queued and batched (issue 16): its queue, whether it is an array parent (a run row
 * that is never launched and ends when its children have) or child, and what it waits for.
 */
export interface RunBatch {
  queue: string;
  /** `array`: an array parent. */
  kind?: 'array';
  /** An array parent's number of children and most children running at once. */
  arraySize?: number;
  arrayParallelism?: number;
  /** An array parent's children by how they stand, as of the last dispatch round. */
  arrayCounts?: { queued: number; running: number; succeeded: number; failed: number };
  /** An array child's parent and index (GALLEY_ARRAY_INDEX). */
  parentId?: string;
  arrayIndex?: number;
  dependsOn?: RunDependency[];
}

/** A run to insert (status QUEUED); `version` and `updatedAt` are set by the store. */
export type NewRun = Omit<RunRecord, 'version' | 'updatedAt'>;

/** Where an attempt is in its launch: the write-ahead record says `launching` before a backend sees it. */
export type AttemptState = 'launching' | 'launched' | 'running' | 'ended';

/** One launch of a run on a backend. `attemptId` is also the backend's task id. */
export interface AttemptRecord {
  attemptId: string;
  runId: string;
  /** 1 for the first attempt of a run. */
  seq: number;
  cluster: string;
  nodeId: string | null;
  /** Fencing token of the scheduler that decided the launch. */
  epoch: number;
  state: AttemptState;
  /** Backend data needed to find the attempt again after a restart (local: pid, start time). */
  handle: Record<string, unknown> | null;
  outcome: AttemptOutcome | null;
  createdAt: number;
  launchedAt: number | null;
  endedAt: number | null;
}

/** One entry of a run's timeline. `type` is a @galley/core event type, or `queued` for the insert. */
export interface RunEventRecord {
  id: number;
  runId: string;
  at: number;
  type: string;
  status: RunStatus;
  attemptId: string | null;
  reason: string | null;
}

export type NewRunEvent = Omit<RunEventRecord, 'id'>;

/** A Mesos health check of a definition's program (Marathon's names). Times in seconds. */
export interface HealthCheckSpec {
  protocol: 'HTTP' | 'TCP' | 'COMMAND';
  /** HTTP path; default `/`. */
  path?: string;
  /** Which of the definition's `ports` is checked; default 0. */
  portIndex?: number;
  /** COMMAND: run by `/bin/sh -c` in the task's environment; exit 0 = healthy. */
  command?: string;
  delaySeconds?: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  gracePeriodSeconds?: number;
  maxConsecutiveFailures?: number;
}

/** Where a definition's runs may go and how they are checked, beyond cpu and memory. */
export interface DefinitionPlacement {
  /** The Mesos role runs use; null = the cluster's default role. */
  role: string | null;
  /** Agent attribute constraints in their written form (`zone:a`, `zone!=b`, `zone in a,b`). */
  constraints: string[];
  /** Disk in MB (0 = none). */
  diskMb: number;
  healthCheck: HealthCheckSpec | null;
}

/** A run's placement: the definition's (with the execute's overrides) and its container ports. */
export interface RunPlacement extends DefinitionPlacement {
  /** Container ports, one host port each (the definition's `ports`). */
  ports: number[];
}

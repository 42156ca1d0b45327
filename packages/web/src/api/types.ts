/**
 * The JSON shapes of the Galley API, as the UI reads them. They mirror the server's TypeBox
 * schemas (packages/server/src/api), which keep flotilla's field names. Fields a server may leave
 * out are optional; `null` means "not yet / not applicable" as on the server.
 */

/**
 * A point in time as the server writes it: an ISO-8601 string or milliseconds since the epoch.
 * `null`/`undefined` = not happened yet. Read with `toMillis()` from format/time.ts.
 */
export type Timestamp = string | number | null | undefined;

/** One environment variable, flotilla style. */
export interface EnvVar {
  name: string;
  value: string;
}

/** A task definition (flotilla's "task"). `memory` in MB, `cpu` in millicores (1000 = 1 CPU). */
export interface Definition {
  definition_id: string;
  alias: string;
  group_name: string;
  image: string;
  command: string;
  memory: number;
  cpu: number;
  gpu?: number;
  env: EnvVar[];
  ports?: number[];
  tags?: string[];
  /** Cluster runs go to when an execute names none; null = the server's default. */
  target_cluster?: string | null;
  created_at?: Timestamp;
  updated_at?: Timestamp;
}

/** What a create or update sends; the server fills `definition_id` and times. */
export type DefinitionInput = Omit<Definition, 'definition_id' | 'created_at' | 'updated_at'>;

/** A run's lifecycle status. NEEDS_RETRY goes back to QUEUED after a host failure. */
export type RunStatus = 'QUEUED' | 'PENDING' | 'RUNNING' | 'STOPPED' | 'NEEDS_RETRY';

/** Every status, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED', 'NEEDS_RETRY'];

/** Where a run's current attempt runs; null before placement. */
export interface RunInstance {
  instance_id: string;
  dns_name: string;
}

/** One run of a definition, flotilla's run JSON plus Galley's queue reason and owner. */
export interface Run {
  run_id: string;
  definition_id: string;
  alias: string;
  group_name?: string;
  image?: string;
  command?: string;
  cluster?: string;
  /** The backend kind that runs it (`local`, `mesos`). */
  engine?: string;
  status: RunStatus;
  exit_code?: number | null;
  exit_reason?: string | null;
  /** Why a QUEUED run could not be placed yet, in words; null when nothing holds it. */
  queued_reason?: string | null;
  queued_at?: Timestamp;
  started_at?: Timestamp;
  finished_at?: Timestamp;
  stop_requested_at?: Timestamp;
  retry_at?: Timestamp;
  owner_id?: string;
  run_tags?: { owner_id?: string };
  env?: EnvVar[];
  memory?: number;
  cpu?: number;
  gpu?: number;
  attempt_count?: number;
  instance?: RunInstance | null;
  run_exceptions?: string[] | null;
  description?: string | null;
  idempotence_key?: string | null;
  max_memory_used?: number | null;
  max_cpu_used?: number | null;
  active_deadline_seconds?: number | null;
  /** True when the command runs on the server's host without a container (local backend). */
  runs_on_host?: boolean;
  /** Grows with every stored change of the run: a lower version is older news. */
  version?: number;
}

/** What an execute sends. `run_tags.owner_id` is required by the server. */
export interface ExecuteInput {
  run_tags: { owner_id: string };
  cluster?: string;
  env?: EnvVar[];
  description?: string;
  idempotence_key?: string;
}

/** One entry of a run's timeline (`GET /api/v1/{run_id}/events`). */
export interface RunEvent {
  at: Timestamp;
  /** The engine's event type (`queued`, `launching`, `running`, `ended`, `stop-requested`, …). */
  type: string;
  /** The run's status after this event. */
  status: RunStatus;
  attempt_id?: string | null;
  reason?: string | null;
}

/** One launch of a run on a backend. */
export interface RunAttempt {
  attempt_id: string;
  /** 1 for the first attempt. */
  seq: number;
  cluster: string;
  /** launching | launched | running | ended */
  state: string;
  created_at?: Timestamp;
  launched_at?: Timestamp;
  ended_at?: Timestamp;
  /** How it ended, in words; null while it has not. */
  outcome?: string | null;
}

/** `GET /api/v1/{run_id}/events`: the timeline and the attempts. */
export interface RunTimeline {
  events: RunEvent[];
  attempts: RunAttempt[];
}

/** A page of a list, flotilla style: the items under `history` or `definitions`. */
export interface ListPage {
  total: number;
  limit: number;
  offset: number;
  sort_by?: string;
  order?: 'asc' | 'desc';
}

export interface HistoryPage extends ListPage {
  history: Run[];
}

export interface DefinitionPage extends ListPage {
  definitions: Definition[];
}

/** One page of a run's log; pass `last_seen` back to read on from where this page ended. */
export interface LogPage {
  log: string;
  last_seen?: string | null;
}

/** An amount of resources. `cpu` in CPUs (fractions allowed), `memory` in MB. */
export interface Resources {
  cpu: number;
  memory: number;
  gpu?: number;
  disk?: number;
}

/**
 * A cluster (a backend's place to run) with its capacity, as the UI shows it. Normalized by
 * api/clusters.ts from whatever `GET /api/v1/clusters` answers (names only, or with resources).
 */
export interface Cluster {
  name: string;
  /** Backend kind (`local`, `mesos`); undefined when the server does not say. */
  backend?: string;
  /** undefined when the server does not report resources for this cluster. */
  total?: Resources;
  used?: Resources;
  free?: Resources;
  /** Runs waiting in this cluster's queue, if the server counts them. */
  queued?: number;
  running?: number;
  /** Free text the server adds (e.g. "the local backend runs commands on this host"). */
  note?: string;
  /** The backend's own word for its state (`ready`, `connecting`, …). */
  state?: string;
  /** The cluster runs go to when an execute names none. */
  isDefault?: boolean;
  /** Commands run on the server's host without a container. */
  runsOnHost?: boolean;
}

/** Faustian's process of a pipeline (one task of the instance's group). */
export interface PipelineProcess {
  id: string;
  command?: string;
  shell?: boolean;
  arguments?: string[];
  environment?: Record<string, string>;
  resources?: { cpu?: number; mem?: number; disk?: number };
  port_mappings?: { host_port: number; container_port: number; protocol: string }[];
  kill_grace_period?: number;
  [extra: string]: unknown;
}

/** One process of one pipeline instance, as Faustian reports it. */
export interface PipelineTaskProcess {
  id: string;
  status?: string;
  agent_id?: string;
  updated?: Timestamp;
}

/** One instance (Faustian "task") of a pipeline with the status of each of its processes. */
export interface PipelineTask {
  id: string;
  pipeline_id: string;
  processor_id?: string;
  message?: string;
  launched?: Timestamp;
  failures?: number;
  updated?: Timestamp;
  ok?: boolean;
  failing?: boolean;
  killing?: boolean;
  processes?: Record<string, PipelineTaskProcess>;
  [extra: string]: unknown;
}

/**
 * Progress of a rolling update, when the server reports one (Galley's addition to Faustian,
 * mirroring @galley/core's PipelineUpdate in snake_case). Every field is optional: the UI shows
 * what is there.
 */
export interface PipelineUpdate {
  /** `rolling`, `rolling-back`, `succeeded`, `rolled-back`. */
  phase?: string;
  /** Older servers' word for `phase`. */
  state?: string;
  from_version?: number;
  to_version?: number;
  failed_version?: number | null;
  started_at?: Timestamp;
  finished_at?: Timestamp;
  stalled_at?: Timestamp;
  /** New-version instances available so far. */
  available_new?: number;
  /** Instances already on the new version (alternative name). */
  updated?: number;
  total?: number;
  batches?: number;
  /** Why it rolls back or stalls, in words. */
  reason?: string | null;
  message?: string;
  [extra: string]: unknown;
}

/** A pipeline in Faustian's JSON, plus what the server reports about its instances. */
export interface Pipeline {
  id: string;
  container?: { image?: string; network?: string; [extra: string]: unknown };
  environment?: Record<string, string>;
  processes?: Record<string, PipelineProcess>;
  executor_resources?: { cpu?: number; mem?: number; disk?: number };
  instances: number;
  roles?: string[];
  labels?: Record<string, string>;
  created?: Timestamp;
  updated?: Timestamp;
  tasks?: PipelineTask[];
  update?: PipelineUpdate | null;
  [extra: string]: unknown;
}

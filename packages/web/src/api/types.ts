/**
 * The JSON shapes of the Galley API, as the UI reads them: the server's own types
 * (`@galley/server/api`, the static types of the TypeBox schemas it validates and documents with),
 * read leniently. A field a server may leave out is optional here (besides a few that identify
 * the thing), `null` means "not yet / not applicable" as on the server, and a time may also be
 * milliseconds since the epoch. Only types are imported: nothing of the server is bundled.
 */
import type * as Api from '@galley/server/api';

/**
 * A point in time as the server writes it: an ISO-8601 string or milliseconds since the epoch.
 * `null`/`undefined` = not happened yet. Read with `toMillis()` from format/time.ts.
 */
export type Timestamp = string | number | null | undefined;

/**
 * `T` as the UI reads it: the `Kept` fields as the server types them, every other field optional,
 * the `Times` fields any Timestamp.
 */
type Lenient<T, Kept extends keyof T, Times extends keyof T = never> = Pick<T, Kept> &
  Partial<Omit<T, Kept | Times>> & { [K in Times]?: Timestamp };

/** One environment variable, flotilla style. */
export type EnvVar = Api.EnvVarBody;

/** A task definition (flotilla's "task"). `memory` in MB, `cpu` in millicores (1000 = 1 CPU). */
export type Definition = Lenient<
  Api.Definition,
  'definition_id' | 'alias' | 'group_name' | 'image' | 'command' | 'memory' | 'cpu' | 'env',
  'created_at' | 'updated_at'
>;

/** What a create or update sends; the server fills `definition_id` and times. */
export type DefinitionInput = Omit<Definition, 'definition_id' | 'created_at' | 'updated_at'>;

/** A run's lifecycle status. NEEDS_RETRY goes back to QUEUED after a host failure. */
export type RunStatus = Api.RunStatusName;

/** Every status, in lifecycle order (the server's RUN_STATUSES). */
export const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED', 'NEEDS_RETRY'];

/** Where a run's current attempt runs. */
export type RunInstance = Api.Run['instance'];

/** One run of a definition, flotilla's run JSON plus Galley's queue reason and owner. */
export type Run = Lenient<
  Api.Run,
  'run_id' | 'definition_id' | 'alias' | 'status',
  'queued_at' | 'started_at' | 'finished_at' | 'stop_requested_at' | 'retry_at'
>;

/** What an execute sends. `run_tags.owner_id` is required by the server. */
export type ExecuteInput = Pick<
  Api.ExecuteBody,
  'run_tags' | 'cluster' | 'env' | 'description' | 'idempotence_key'
>;

type ApiRunEvent = Api.RunEvents['events'][number];
type ApiRunAttempt = Api.RunEvents['attempts'][number];

/** One entry of a run's timeline (`GET /api/v1/{run_id}/events`). */
export type RunEvent = Lenient<ApiRunEvent, 'type' | 'status', 'at'>;

/** One launch of a run on a backend. */
export type RunAttempt = Lenient<
  ApiRunAttempt,
  'attempt_id' | 'seq' | 'cluster' | 'state',
  'created_at' | 'launched_at' | 'ended_at'
>;

/** `GET /api/v1/{run_id}/events`: the timeline and the attempts. */
export interface RunTimeline {
  events: RunEvent[];
  attempts: RunAttempt[];
}

/** A page of a list, flotilla style: the items under `history` or `definitions`. */
export type ListPage = Lenient<Api.RunList, 'total' | 'limit' | 'offset', 'history' | 'order'> & {
  order?: Api.SortOrder;
};

export type HistoryPage = Omit<ListPage, 'history'> & { history: Run[] };

export type DefinitionPage = Omit<ListPage, 'history'> & { definitions: Definition[] };

/** One page of a run's log; pass `last_seen` back to read on from where this page ended. */
export type LogPage = Pick<Api.LogsPage, 'log'> & { last_seen?: Api.LogsPage['last_seen'] | null };

/** An amount of resources. `cpu` in CPUs (fractions allowed), `memory` in MB. */
export interface Resources {
  cpu: number;
  memory: number;
  gpu?: number;
  disk?: number;
}

/**
 * A cluster (a backend's place to run) with its capacity, as the UI shows it. Normalized by
 * api/clusters.ts from whatever `GET /api/v1/clusters` answers (names only, or with resources);
 * not a wire shape.
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
  /** Mesos clusters: each agent's images and executor, and what failed there. */
  agents?: ClusterAgent[];
}

/** One Mesos agent as Galley runs work there (`mesos.agent_support` of `GET /clusters`). */
export interface ClusterAgent {
  agentId: string;
  hostname: string;
  images: string;
  imageFailure: string | null;
  executor: string;
  executorFailure: string | null;
}

/** Fields a server may add to a pipeline answer beyond the ones the UI knows. */
interface Open {
  [extra: string]: unknown;
}

/** Faustian's process of a pipeline (one task of the instance's group), as its spec answers it. */
export type PipelineProcess = Lenient<Api.PipelineProcessJson, 'id'> & Open;

/** One process of one pipeline instance, as Faustian reports it. */
export type PipelineTaskProcess = Lenient<Api.PipelineTaskProcess, 'id', 'updated'> & Open;

/** One instance (Faustian "task") of a pipeline with the status of each of its processes. */
export type PipelineTask = Lenient<
  Omit<Api.PipelineTask, 'processes'>,
  'id' | 'pipeline_id',
  'launched' | 'updated' | 'created' | 'crash_looping_since' | 'restart_at'
> & { processes?: Record<string, PipelineTaskProcess> } & Open;

/**
 * Progress of a rolling update, when the server reports one (Galley's addition to Faustian,
 * core's PipelineUpdate in snake_case). Every field is optional: the UI shows what is there.
 */
export type PipelineUpdate = Lenient<
  Api.PipelineUpdateJson,
  never,
  'started_at' | 'finished_at' | 'stalled_at' | 'last_progress_at'
> & {
  /** Older servers' word for `phase`. */
  state?: string;
  /** Instances already on the new version (older servers' word for `available_new`). */
  updated?: number;
  message?: string;
} & Open;

/** A pipeline in Faustian's JSON (its spec, defaults filled), plus what the server reports about its instances. */
export type Pipeline = Lenient<
  Omit<Api.PipelineJson, 'processes' | 'tasks' | 'update' | 'updates'>,
  'id' | 'instances',
  'created' | 'updated'
> & {
  processes?: Record<string, PipelineProcess>;
  tasks?: PipelineTask[];
  update?: PipelineUpdate | null;
  updates?: PipelineUpdate[];
} & Open;

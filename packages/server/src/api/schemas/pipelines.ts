import { Type, type Static } from '@sinclair/typebox';
import { LeadershipJson } from './leadership.js';
import { Nullable, Text, Time } from './common.js';
import { PipelineSpecFields } from './pipeline-spec.js';

// Faustian's pipelines API (JSON in snake_case), plus what Galley adds: spec versions, instance
// health, restart backoff and crash loops, and rolling updates with their history. The spec as
// posted (PipelineBody, PipelinePatch) is in ./pipeline-spec.ts; answers may carry more properties
// than listed here.

/** One process of one instance (Faustian's shape, plus Galley's details). */
export const PipelineTaskProcess = Type.Object(
  {
    id: Type.String({
      description: 'Task id `<pipeline>$<instance>.<launch>.<uid>:<process>` (the Mesos task id).',
    }),
    status: Type.String({ description: 'Mesos task state: TASK_STAGING, TASK_RUNNING, TASK_FAILED, …' }),
    agent_id: Nullable(Type.String()),
    updated: Time,
    ports: Type.Array(Type.Integer(), { description: 'Host ports, in `port_mappings` order.' }),
    pid: Nullable(Type.Integer({ description: 'Local backend: the supervisor’s pid.' })),
    health: Nullable(
      Type.String({ description: '`pending`, `healthy`, `failing`, `unhealthy`; null = not checked.' }),
    ),
    health_message: Nullable(Type.String()),
    exit_code: Nullable(Type.Integer()),
    message: Nullable(Type.String({ description: 'How it ended.' })),
  },
  { additionalProperties: true },
);
export type PipelineTaskProcess = Static<typeof PipelineTaskProcess>;

/** An instance (Faustian's "task"). */
export const PipelineTask = Type.Object(
  {
    id: Type.String({ description: 'Instance id `<pipeline>.<n>`; never reused.' }),
    pipeline_id: Type.String(),
    processor_id: Nullable(Type.String({ description: 'The current launch (the Mesos executor id).' })),
    message: Type.String(),
    launched: Time,
    failures: Type.Integer({ description: 'Restarts so far.' }),
    updated: Time,
    ok: Type.Boolean({ description: 'Running, and healthy where a process has a health check.' }),
    failing: Type.Boolean(),
    killing: Type.Boolean(),
    processes: Type.Record(Type.String(), PipelineTaskProcess),
    status: Type.String({
      description:
        '`starting`, `running`, `healthy`, `unhealthy`, `backing-off`, `crash-looping`, `stopping`.',
    }),
    version: Type.Integer({ description: 'The spec version it runs.' }),
    created: Time,
    health: Nullable(Type.String()),
    crash_looping: Type.Boolean(),
    crash_looping_since: Time,
    restart_at: Time,
    last_exit: Nullable(
      Type.Object({
        process: Nullable(Type.String()),
        exit_code: Nullable(Type.Integer()),
        message: Type.String(),
        at: Time,
      }),
    ),
    host: Nullable(Type.String()),
    waiting_reason: Nullable(Type.String({ description: 'Why it is not placed yet.' })),
  },
  { additionalProperties: true },
);
export type PipelineTask = Static<typeof PipelineTask>;

/** A rolling update (core's PipelineUpdate in snake_case). */
export const PipelineUpdateJson = Type.Object({
  phase: Type.String({ description: '`rolling`, `rolling-back`, `succeeded`, `rolled-back`.' }),
  from_version: Type.Integer(),
  to_version: Type.Integer(),
  failed_version: Nullable(Type.Integer()),
  started_at: Time,
  last_progress_at: Time,
  available_new: Type.Integer({
    description: 'New-version instances available (ready for min_healthy_seconds).',
  }),
  total: Type.Integer({ description: 'Instances wanted.' }),
  batches: Type.Integer(),
  reason: Nullable(Type.String({ description: 'Why it rolled back or stalled.' })),
  stalled_at: Time,
  finished_at: Time,
});
export type PipelineUpdateJson = Static<typeof PipelineUpdateJson>;

/** A pipeline: its spec (defaults filled) and what runs. */
export const PipelineJson = Type.Object(
  {
    ...PipelineSpecFields,
    version: Type.Integer({ description: 'The current spec version.' }),
    cluster: Type.String(),
    status: Type.String({ description: '`steady`, `rolling`, `rolling-back` or `deleting`.' }),
    created: Time,
    updated: Time,
    tasks: Type.Array(PipelineTask),
    update: Nullable(PipelineUpdateJson),
    updates: Type.Array(PipelineUpdateJson, { description: 'Every update, oldest first.' }),
  },
  { additionalProperties: true },
);
export type PipelineJson = Static<typeof PipelineJson>;

/** GET /pipelines: Faustian's map of id → pipeline. */
export const PipelineMap = Type.Record(Type.String(), PipelineJson);
export type PipelineMap = Static<typeof PipelineMap>;

/** GET /ping (Faustian's), with who leads, the epoch and since when. */
export const PingJson = Type.Composite([
  Type.Object({
    ok: Type.Boolean(),
    version: Type.String(),
    uptime: Type.Number({ description: 'Seconds since the server started.' }),
    pipelines: Type.Integer(),
    tasks: Type.Integer({ description: 'Pipeline instances.' }),
  }),
  LeadershipJson,
]);
export type PingJson = Static<typeof PingJson>;

/**
 * The `{pipeline_id}` of a path. Looser than a new pipeline's id (PipelineBody), so a pipeline
 * stored before that bound existed can still be read and deleted.
 */
export const PipelineIdParams = Type.Object({
  pipeline_id: Text(256, { minLength: 1 }),
});

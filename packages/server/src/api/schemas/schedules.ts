import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum, Text } from './common.js';

// Schedules, retry strategies and webhooks (issue 16): their wire shapes.

/** The longest starting deadline of a schedule, in seconds (a day). */
export const MAX_STARTING_DEADLINE_SECONDS = 86_400;
/** Most missed ticks a schedule may catch up after downtime. */
export const MAX_CATCH_UP = 100;

const cron = Text(200, {
  minLength: 1,
  description:
    'A cron expression (5 fields, or 6 with seconds first), as croner reads it, e.g. `0 9 * * 1-5`; at most 200 characters.',
});
const timezone = Text(100, {
  minLength: 1,
  description: 'An IANA time zone, e.g. `Europe/Paris`; default `UTC`.',
});
const concurrency = StringEnum(['allow', 'forbid', 'replace'] as const, {
  description:
    'When the previous run of the schedule has not ended at the next tick: `allow` starts another, `forbid` skips the tick, `replace` stops the previous run and starts a new one. Default `allow`.',
});
const startingDeadline = Type.Integer({
  minimum: 1,
  maximum: MAX_STARTING_DEADLINE_SECONDS,
  description: `A tick not started within this many seconds is skipped; 1 to ${MAX_STARTING_DEADLINE_SECONDS}; null = none.`,
});
const catchUp = Type.Integer({
  minimum: 0,
  maximum: MAX_CATCH_UP,
  description: `After downtime: how many of the missed ticks still run (the newest), 0 to ${MAX_CATCH_UP}; default 1.`,
});

/** POST /task/{definition_id}/schedules. */
export const ScheduleCreate = Type.Object(
  {
    cron,
    timezone: Type.Optional(timezone),
    concurrency: Type.Optional(concurrency),
    starting_deadline_seconds: Type.Optional(Nullable(startingDeadline)),
    catch_up: Type.Optional(catchUp),
    paused: Type.Optional(Type.Boolean({ description: 'Created paused; default false.' })),
    owner_id: Type.Optional(
      Text(200, { minLength: 1, description: "The runs' owner; default `schedule`. 1 to 200 characters." }),
    ),
  },
  { additionalProperties: false },
);
export type ScheduleCreate = Static<typeof ScheduleCreate>;

/** PATCH /schedules/{id}: fields given replace the stored ones (`paused` pauses and resumes). */
export const ScheduleUpdate = Type.Object(
  {
    cron: Type.Optional(cron),
    timezone: Type.Optional(timezone),
    concurrency: Type.Optional(concurrency),
    starting_deadline_seconds: Type.Optional(Nullable(startingDeadline)),
    catch_up: Type.Optional(catchUp),
    paused: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ScheduleUpdate = Static<typeof ScheduleUpdate>;

export const ScheduleFire = Type.Object({
  tick: Type.String({ format: 'date-time' }),
  run_id: Nullable(Type.String()),
  skipped_reason: Nullable(Type.String()),
});

export const Schedule = Type.Object({
  schedule_id: Type.String(),
  definition_id: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  concurrency: Type.String(),
  starting_deadline_seconds: Nullable(Type.Integer()),
  catch_up: Type.Integer(),
  paused: Type.Boolean(),
  owner_id: Type.String(),
  next_runs: Type.Array(Type.String({ format: 'date-time' }), {
    description: 'The next 5 fire times (none while paused).',
  }),
  last_tick: Type.String({ format: 'date-time', description: 'The newest tick handled.' }),
  recent_fires: Type.Optional(Type.Array(ScheduleFire, { description: 'The last 20 ticks, newest first.' })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Schedule = Static<typeof Schedule>;

export const ScheduleList = Type.Object({ total: Type.Integer(), schedules: Type.Array(Schedule) });
export type ScheduleList = Static<typeof ScheduleList>;

/** A rule of a retry strategy (AWS Batch's `evaluateOnExit`): the first that matches decides. */
export const RetryRuleBody = Type.Object(
  {
    on_exit_code: Type.Optional(
      Type.String({
        pattern: '^(\\*|[0-9]{1,3}\\*?)$',
        maxLength: 4,
        description: 'An exit code, or a prefix ending in `*` (`13*`, `*`).',
      }),
    ),
    on_reason: Type.Optional(
      Type.String({
        pattern: '^(\\*|exit|oom|killed|host_failure|deadline|[a-z_]{1,20}\\*)$',
        maxLength: 21,
        description:
          '`exit`, `oom`, `killed`, `host_failure`, `deadline` (stopped at its active deadline), or a prefix ending in `*`.',
      }),
    ),
    action: StringEnum(['retry', 'exit'] as const),
  },
  { additionalProperties: false, minProperties: 2 },
);
export type RetryRuleBody = Static<typeof RetryRuleBody>;

/** `retry_strategy` of a definition or an execute (the execute's fields win, then the definition's, then the server's). */
export const RetryStrategyBody = Type.Object(
  {
    attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10,
        description: 'Launches in total, the first included; 1 to 10.',
      }),
    ),
    backoff: Type.Optional(
      Type.Object(
        {
          initial_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
          factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
          max_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
        },
        { additionalProperties: false },
      ),
    ),
    evaluate_on_exit: Type.Optional(
      Type.Array(RetryRuleBody, {
        maxItems: 5,
        description:
          'Up to 5 rules; the first that matches decides; none matching = the default (host failures retry).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RetryStrategyBody = Static<typeof RetryStrategyBody>;

/**
 * Events a webhook can ask for: a run's status changes, and (global webhooks only: a pipeline
 * belongs to no definition) a pipeline's life and its instances' phases.
 */
export const WEBHOOK_EVENTS = [
  'run.queued',
  'run.pending',
  'run.running',
  'run.needs_retry',
  'run.stopped',
  'pipeline.created',
  'pipeline.updated',
  'pipeline.deleting',
  'pipeline.deleted',
  'pipeline.instance.starting',
  'pipeline.instance.running',
  'pipeline.instance.failed',
  'pipeline.instance.stopping',
  'pipeline.instance.stopped',
  'pipeline.instance.removed',
] as const;

export const WebhookCreate = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      maxLength: 2000,
      description: 'Where deliveries are POSTed: an http(s) URL of at most 2000 characters.',
    }),
    definition_id: Type.Optional(
      Text(256, { minLength: 1, description: 'Only runs of this definition; absent = all.' }),
    ),
    events: Type.Optional(
      Type.Array(StringEnum(WEBHOOK_EVENTS), {
        minItems: 1,
        maxItems: WEBHOOK_EVENTS.length,
        uniqueItems: true,
        description: 'Events to deliver; default all.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type WebhookCreate = Static<typeof WebhookCreate>;

export const Webhook = Type.Object({
  webhook_id: Type.String(),
  url: Type.String(),
  definition_id: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  secret: Type.Optional(
    Type.String({ description: 'The signing secret: shown once, in the answer of the create, never again.' }),
  ),
});
export type Webhook = Static<typeof Webhook>;

export const WebhookList = Type.Object({ webhooks: Type.Array(Webhook) });

export const WebhookDelivery = Type.Object({
  outbox_id: Type.Integer({ description: 'The event sequence number.' }),
  event: Type.String(),
  run_id: Nullable(Type.String({ description: 'The run of a `run.*` event.' })),
  pipeline_id: Nullable(Type.String({ description: 'The pipeline of a `pipeline.*` event.' })),
  attempt: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  delivered: Type.Boolean(),
});
export const WebhookDeliveryList = Type.Object({ deliveries: Type.Array(WebhookDelivery) });

/** `retention_days` of a definition: its finished runs are kept this long (0 = forever). */
export const RetentionDays = Type.Integer({
  minimum: 0,
  maximum: 36_500,
  description:
    "Days its finished runs (and their logs) are kept, 0 to 36500; 0 = forever; absent = the server's --retention-days.",
});

import { RUN_STATUSES } from './statuses.js';
import { RUN_SORT_FIELDS } from '../../model/sort-fields.js';
import { HISTORY_COUNT_CAP } from '../../model/history-count.js';
import { Type, type Static } from '@sinclair/typebox';
import { BAD_CHARS, EnvList, NO_NUL, Nullable, PagingQuery, QueryText, Text, Time } from './common.js';
import { ActiveDeadline } from './definitions.js';
import { ExecutePlacementFields, RunPlacementAnswer } from './placement.js';
import { RetryStrategyBody } from './schedules.js';
import { ExecuteQueueFields, RunQueueAnswer } from './queues.js';

/** Sortable run columns: the store's too (model/sort-fields.ts). */
export { RUN_SORT_FIELDS };

export { RUN_STATUSES } from './statuses.js';

const Status = Type.Union(RUN_STATUSES.map((s) => Type.Literal(s)));
export type RunStatusName = Static<typeof Status>;

/** PUT …/execute. `run_tags.owner_id` is required; the rest override the definition for this run. */
export const ExecuteBody = Type.Object(
  {
    run_tags: Type.Unsafe<{ owner_id: string } & Record<string, string>>({
      type: 'object',
      properties: { owner_id: Text(200, { minLength: 1, description: '1 to 200 characters.' }) },
      required: ['owner_id'],
      additionalProperties: Text(1000),
      propertyNames: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL },
      maxProperties: 100,
      description:
        'Who runs it: `owner_id` (required) and up to 99 more tags, names of 1 to 200 characters, values of at most 1000.',
    }),
    cluster: Type.Optional(
      Text(200, {
        description:
          "`default` or absent = the definition's target cluster, else the server's default; at most 200 characters.",
      }),
    ),
    env: Type.Optional(EnvList),
    command: Type.Optional(
      Text(131_072, { minLength: 1, description: "Replaces the definition's; 1 to 131072 characters." }),
    ),
    memory: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 16_777_216, description: 'MB, 1 to 16777216.' }),
    ),
    cpu: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'millicores, 1 to 1000000.' }),
    ),
    gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: '0 to 64.' })),
    description: Type.Optional(Text(10_000, { description: 'At most 10000 characters.' })),
    idempotence_key: Type.Optional(
      Text(500, {
        minLength: 1,
        description: 'An execute with a key seen before answers the earlier run; 1 to 500 characters.',
      }),
    ),
    active_deadline_seconds: Type.Optional(ActiveDeadline),
    retry_strategy: Type.Optional(RetryStrategyBody),
    engine: Type.Optional(
      Text(100, {
        description: 'Accepted for flotilla clients; the cluster decides the engine. At most 100 characters.',
      }),
    ),
    ...ExecuteQueueFields,
    ...ExecutePlacementFields,
  },
  {
    additionalProperties: false,
    description:
      "Runs the definition with these overrides. `active_deadline_seconds` absent = the definition's.",
  },
);
export type ExecuteBody = Static<typeof ExecuteBody>;

export const Run = Type.Object({
  run_id: Type.String(),
  definition_id: Type.String(),
  alias: Type.String(),
  image: Type.String(),
  cluster: Type.String(),
  status: Status,
  exit_code: Nullable(Type.Integer()),
  exit_reason: Nullable(Type.String()),
  queued_reason: Nullable(Type.String({ description: 'While QUEUED: why it cannot be placed yet.' })),
  queued_at: Time,
  started_at: Time,
  finished_at: Time,
  retry_at: Time,
  stop_requested_at: Time,
  group_name: Type.String(),
  env: EnvList,
  command: Type.String(),
  memory: Type.Integer(),
  cpu: Type.Integer(),
  gpu: Type.Integer(),
  attempt_count: Type.Integer(),
  instance: Type.Object({ instance_id: Type.String(), dns_name: Type.String() }),
  run_exceptions: Nullable(Type.Array(Type.String())),
  description: Nullable(Type.String()),
  idempotence_key: Nullable(Type.String()),
  active_deadline_seconds: Nullable(Type.Integer()),
  max_memory_used: Nullable(Type.Integer()),
  max_cpu_used: Nullable(Type.Integer()),
  owner_id: Type.String(),
  run_tags: Type.Object({ owner_id: Type.String() }),
  engine: Type.String({ description: 'The backend that runs it: `local` or `mesos`.' }),
  runs_on_host: Type.Boolean({
    description: 'True when the command runs on the host without a container (local backend).',
  }),
  version: Type.Integer({ description: 'Grows with every change of the run.' }),
  ...RunQueueAnswer,
  retry_strategy: Type.Optional(RetryStrategyBody),
  ...RunPlacementAnswer,
});
export type Run = Static<typeof Run>;

/** A time in a query: ms since the epoch or an ISO 8601 time. */
const QueuedTime = Text(40, {
  description: 'ISO 8601 time or ms since the epoch (inclusive); at most 40 characters.',
});

export const RunListQuery = Type.Object(
  {
    ...PagingQuery,
    sort_by: Type.Optional(
      Type.Union(
        RUN_SORT_FIELDS.map((f) => Type.Literal(f)),
        { default: 'queued_at' },
      ),
    ),
    status: Type.Optional(
      Type.Array(Status, { maxItems: 20, description: 'Repeatable (at most 20): any of these statuses.' }),
    ),
    env: Type.Optional(
      Type.Array(Type.String({ pattern: `^[^|${BAD_CHARS}]+\\|[^${BAD_CHARS}]*$`, maxLength: 1000 }), {
        maxItems: 20,
        description: 'Repeatable (at most 20) `KEY|VALUE`, each at most 1000 characters.',
      }),
    ),
    run_id: Type.Optional(QueryText()),
    definition_id: Type.Optional(QueryText()),
    alias: Type.Optional(QueryText()),
    group_name: Type.Optional(QueryText()),
    image: Type.Optional(QueryText()),
    cluster: Type.Optional(QueryText()),
    owner_id: Type.Optional(QueryText()),
    exit_code: Type.Optional(
      Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647, description: 'A 32-bit integer.' }),
    ),
    attempt_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
    idempotence_key: Type.Optional(QueryText()),
    engine: Type.Optional(QueryText()),
    parent_id: Type.Optional(QueryText('An array parent: its children.')),
    queued_after: Type.Optional(QueuedTime),
    queued_before: Type.Optional(QueuedTime),
    exact_total: Type.Optional(
      Type.Boolean({
        description: `\`true\`: count every matching run for \`total\` (slow on a large history). By default at most ${HISTORY_COUNT_CAP} past \`offset\` are counted.`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type RunListQuery = Static<typeof RunListQuery>;

export const RunList = Type.Object({
  total: Type.Integer({
    description: `The matching runs; when \`total_exact\` is false, a lower bound: \`offset\` + ${HISTORY_COUNT_CAP} (more match).`,
  }),
  total_exact: Type.Boolean({
    description: `False when more than \`offset\` + ${HISTORY_COUNT_CAP} runs match and \`exact_total\` was not asked.`,
  }),
  history: Type.Array(Run),
  limit: Type.Integer(),
  offset: Type.Integer(),
  sort_by: Type.String(),
  order: Type.String(),
});
export type RunList = Static<typeof RunList>;

/** GET /{run_id}/status: the small part of a run a poller needs. */
export const RunStatus = Type.Object({
  run_id: Type.String(),
  definition_id: Type.String(),
  alias: Type.String(),
  status: Status,
  exit_code: Nullable(Type.Integer()),
  exit_reason: Nullable(Type.String()),
  queued_reason: Nullable(Type.String()),
  queued_at: Time,
  started_at: Time,
  finished_at: Time,
  attempt_count: Type.Integer(),
});
export type RunStatus = Static<typeof RunStatus>;

export const RunEvents = Type.Object({
  run_id: Type.String(),
  total: Type.Integer(),
  events: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      type: Type.String({
        description: 'queued, launching, running, ended, stop-requested, retry-due, unplaceable',
      }),
      status: Status,
      attempt_id: Nullable(Type.String()),
      reason: Nullable(Type.String()),
    }),
  ),
  attempts: Type.Array(
    Type.Object({
      attempt_id: Type.String(),
      seq: Type.Integer(),
      cluster: Type.String(),
      state: Type.String(),
      created_at: Time,
      launched_at: Time,
      ended_at: Time,
      outcome: Nullable(Type.String()),
    }),
  ),
});
export type RunEvents = Static<typeof RunEvents>;

export const StopAnswer = Type.Object({
  run_id: Type.String(),
  stopped: Type.Boolean({ description: 'True when the run is STOPPED now.' }),
  action: Type.Union([Type.Literal('stopped-while-queued'), Type.Literal('kill-sent')]),
  message: Type.String(),
  status: Status,
});
export type StopAnswer = Static<typeof StopAnswer>;

export const LogsQuery = Type.Object(
  {
    last_seen: Type.Optional(
      Type.String({
        maxLength: 200,
        pattern: '^[A-Za-z0-9_=-]*$',
        description: 'The token of the previous page (at most 200 characters); absent = from the start.',
      }),
    ),
    raw_text: Type.Optional(
      Type.Boolean({ description: 'Answer text/plain; the next token is in the X-Galley-Last-Seen header.' }),
    ),
    follow: Type.Optional(
      Type.Boolean({ description: 'Stream new output as plain text until the run stops.' }),
    ),
    stream: Type.Optional(
      Type.Union([Type.Literal('both'), Type.Literal('stdout'), Type.Literal('stderr')], {
        description: 'Default both: stdout, then stderr.',
      }),
    ),
    max_bytes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 4_194_304, description: 'Page size in bytes (default 65536).' }),
    ),
  },
  { additionalProperties: false },
);
export type LogsQuery = Static<typeof LogsQuery>;

export const LogsPage = Type.Object({ log: Type.String(), last_seen: Type.String() });
export type LogsPage = Static<typeof LogsPage>;

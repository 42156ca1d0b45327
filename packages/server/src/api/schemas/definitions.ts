import { Type, type Static } from '@sinclair/typebox';
import { DEFINITION_SORT_FIELDS } from '../../model/sort-fields.js';
import { EnvList, Nullable, PagingQuery, QueryText, Text } from './common.js';
import { DefinitionPlacementAnswer, DefinitionPlacementFields } from './placement.js';
import { QueueName } from './queues.js';
import { RetentionDays, RetryStrategyBody } from './schedules.js';

/** Sortable definition columns: the store's too (model/sort-fields.ts). */
export { DEFINITION_SORT_FIELDS };

/** The longest alias: within what a path can carry (MAX_PATH_ID_LENGTH). */
export const MAX_ALIAS_LENGTH = 200;

const alias = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  minLength: 1,
  maxLength: MAX_ALIAS_LENGTH,
  description: `Unique name of the definition: 1 to ${MAX_ALIAS_LENGTH} letters, digits, \`.\`, \`_\`, \`-\`.`,
});
const memory = Type.Integer({ minimum: 1, maximum: 16_777_216, description: 'Memory in MB, 1 to 16777216.' });
const cpu = Type.Integer({
  minimum: 1,
  maximum: 1_000_000,
  description: "CPU in millicores (flotilla's unit), 1 to 1000000: 1000 = one CPU.",
});
const gpu = Type.Integer({ minimum: 0, maximum: 64, description: 'GPUs, 0 to 64.' });
const ports = Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
  maxItems: 100,
  description: 'Container ports, 1 to 65535 (at most 100).',
});
const tags = Type.Array(Text(200, { minLength: 1 }), {
  maxItems: 100,
  description: 'Tags of 1 to 200 characters (at most 100).',
});

/** The longest a run may take, in seconds (a year). */
export const MAX_DEADLINE_SECONDS = 31_536_000;

/** `active_deadline_seconds`: a running run is stopped after this long. */
export const ActiveDeadline = Type.Integer({
  minimum: 1,
  maximum: MAX_DEADLINE_SECONDS,
  description: `A running run is stopped after this many seconds, 1 to ${MAX_DEADLINE_SECONDS} (a year).`,
});

const editable = {
  group_name: Type.Optional(Text(200, { description: 'At most 200 characters.' })),
  image: Type.Optional(
    Text(1000, {
      description: 'Container image, at most 1000 characters (recorded; the local backend does not use it).',
    }),
  ),
  command: Type.Optional(Text(131_072, { description: 'Run by `/bin/sh -c`; at most 131072 characters.' })),
  memory: Type.Optional(memory),
  cpu: Type.Optional(cpu),
  gpu: Type.Optional(gpu),
  env: Type.Optional(EnvList),
  ports: Type.Optional(ports),
  tags: Type.Optional(tags),
  target_cluster: Type.Optional(Text(200, { description: 'At most 200 characters.' })),
  ...DefinitionPlacementFields,
};

/** POST /task. Defaults: memory 512 MB, cpu 250 millicores, gpu 0. */
export const DefinitionCreate = Type.Object(
  {
    alias,
    ...editable,
    active_deadline_seconds: Type.Optional(ActiveDeadline),
    retry_strategy: Type.Optional(RetryStrategyBody),
    retention_days: Type.Optional(RetentionDays),
    /** The queue an execute that names none goes to (absent = the default queue). */
    queue: Type.Optional(QueueName),
  },
  { additionalProperties: false },
);
export type DefinitionCreate = Static<typeof DefinitionCreate>;

/**
 * PUT /task/{id}: a field given replaces the stored one, except an empty string, which keeps it
 * (flotilla's merge); a list given replaces the stored list, so an empty list clears it; an
 * absent field keeps the stored value; `active_deadline_seconds: null` clears the deadline.
 */
export const DefinitionUpdate = Type.Object(
  {
    alias: Type.Optional(alias),
    ...editable,
    active_deadline_seconds: Type.Optional(Type.Union([ActiveDeadline, Type.Null()])),
    retry_strategy: Type.Optional(Nullable(RetryStrategyBody)),
    retention_days: Type.Optional(Nullable(RetentionDays)),
    queue: Type.Optional(Nullable(QueueName)),
  },
  {
    additionalProperties: false,
    description:
      'Fields given replace the stored ones (an empty string keeps it; an empty list clears it; ' +
      '`active_deadline_seconds: null` clears it); absent fields are kept.',
  },
);
export type DefinitionUpdate = Static<typeof DefinitionUpdate>;

export const Definition = Type.Object({
  definition_id: Type.String(),
  alias: Type.String(),
  group_name: Type.String(),
  image: Type.String(),
  command: Type.String(),
  memory: Type.Integer(),
  cpu: Type.Integer(),
  gpu: Type.Integer(),
  env: EnvList,
  ports: Type.Array(Type.Integer()),
  tags: Type.Array(Type.String()),
  target_cluster: Nullable(Type.String()),
  active_deadline_seconds: Nullable(
    Type.Integer({ description: "Runs' deadline unless an execute gives its own; null = none." }),
  ),
  ...DefinitionPlacementAnswer,
  retry_strategy: Nullable(RetryStrategyBody),
  retention_days: Nullable(
    Type.Integer({ description: "Days its finished runs are kept; null = the server's --retention-days." }),
  ),
  queue: Nullable(
    Type.String({ description: 'The queue an execute that names none goes to; null = the default queue.' }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Definition = Static<typeof Definition>;

export const DefinitionListQuery = Type.Object(
  {
    ...PagingQuery,
    sort_by: Type.Optional(
      Type.Union(
        DEFINITION_SORT_FIELDS.map((f) => Type.Literal(f)),
        { default: 'alias' },
      ),
    ),
    alias: Type.Optional(QueryText()),
    group_name: Type.Optional(QueryText()),
    image: Type.Optional(QueryText()),
    definition_id: Type.Optional(QueryText()),
    target_cluster: Type.Optional(QueryText()),
  },
  { additionalProperties: false },
);
export type DefinitionListQuery = Static<typeof DefinitionListQuery>;

export const DefinitionList = Type.Object({
  total: Type.Integer(),
  definitions: Type.Array(Definition),
  limit: Type.Integer(),
  offset: Type.Integer(),
  sort_by: Type.String(),
  order: Type.String(),
});
export type DefinitionList = Static<typeof DefinitionList>;

import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum, Text } from './common.js';

/**
 * Queues, array runs and dependencies (issue 16): the execute fields, what a run answers about
 * them, and the queues resource. (What they mean is in ../../queues/.)
 */

/** Queue names: 1 to 100 characters of letters, digits, `.`, `_` and `-`. */
export const QueueName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'A queue name: 1 to 100 characters of letters, digits, `.`, `_`, `-` (not first).',
});

export const MAX_ARRAY_SIZE = 10_000;
export const MAX_DEPENDENCIES = 50;

const Condition = StringEnum(['succeeded', 'ended'] as const, {
  description: '`succeeded` (default): the run waits for exit 0 and fails if not; `ended`: any end.',
});

export const DependencyBody = Type.Object(
  {
    run_id: Text(256, { minLength: 1, description: 'A run that exists, 1 to 256 characters.' }),
    condition: Type.Optional(Condition),
    per_index: Type.Optional(
      Type.Boolean({
        description:
          'For an array depending on an array of the same size: child i waits for child i of `run_id`.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DependencyBody = Static<typeof DependencyBody>;

/** Fields an execute may add (spread into ExecuteBody). */
export const ExecuteQueueFields = {
  queue: Type.Optional(QueueName),
  array_size: Type.Optional(
    Type.Integer({
      minimum: 2,
      maximum: MAX_ARRAY_SIZE,
      description: `Makes an array: a parent run and this many children (2 to ${MAX_ARRAY_SIZE}), each with GALLEY_ARRAY_INDEX.`,
    }),
  ),
  array_parallelism: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_ARRAY_SIZE,
      description: `Most children of the array running at once, 1 to ${MAX_ARRAY_SIZE}; absent = no limit.`,
    }),
  ),
  depends_on: Type.Optional(
    Type.Array(DependencyBody, {
      maxItems: MAX_DEPENDENCIES,
      description: `Runs this one waits for (at most ${MAX_DEPENDENCIES}); it fails at once if one cannot be met.`,
    }),
  ),
};

const Counts = Type.Object({
  queued: Type.Integer(),
  running: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
});

/** Fields of a run's answer (spread into Run). */
export const RunQueueAnswer = {
  queue: Type.String({ description: 'The queue it waits in.' }),
  parent_id: Nullable(Type.String({ description: "An array child's parent run." })),
  array_index: Nullable(Type.Integer({ description: "An array child's GALLEY_ARRAY_INDEX." })),
  array: Nullable(
    Type.Object(
      {
        size: Type.Integer(),
        parallelism: Nullable(Type.Integer()),
        counts: Type.Optional(Counts),
      },
      { description: "An array parent: its size, parallelism and (for one run) its children's counts." },
    ),
  ),
  depends_on: Type.Array(Type.Object({ run_id: Type.String(), condition: Type.String() })),
};

export const QueueBody = Type.Object(
  {
    priority: Type.Optional(
      Type.Integer({
        minimum: -1000,
        maximum: 1000,
        description: 'Higher first; -1000 to 1000 (default 0).',
      }),
    ),
    owner_concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'Most runs per owner at once, 1 to 100000.',
      }),
    ),
    group_concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'Most runs per definition group at once, 1 to 100000.',
      }),
    ),
    owner_cpu: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'CPU quota per owner, millicores.' }),
    ),
    owner_memory: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Memory quota per owner, MB.' }),
    ),
    description: Type.Optional(Text(1000, { description: 'At most 1000 characters.' })),
  },
  { additionalProperties: false },
);
export type QueueBody = Static<typeof QueueBody>;

export const Queue = Type.Object({
  name: Type.String(),
  priority: Type.Integer(),
  owner_concurrency: Nullable(Type.Integer()),
  group_concurrency: Nullable(Type.Integer()),
  owner_cpu: Nullable(Type.Integer()),
  owner_memory: Nullable(Type.Integer()),
  description: Type.String(),
  queued: Type.Integer({ description: 'Runs waiting in it now.' }),
  running: Type.Integer({ description: 'Runs of it holding capacity now.' }),
});
export type Queue = Static<typeof Queue>;

export const QueueList = Type.Object({ queues: Type.Array(Queue) });
export type QueueList = Static<typeof QueueList>;

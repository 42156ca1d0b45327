import { Type, type Static } from '@sinclair/typebox';
import { BAD_CHARS, Nullable, Text } from './common.js';

/**
 * Placement fields of definitions, executes and runs: the Mesos role, agent attribute
 * constraints, disk and a health check. The local backend ignores them; Mesos clusters place
 * and check runs by them. (What they mean is in ../placement.ts.)
 */

const role = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: `^[^\\s/${BAD_CHARS}][^\\s${BAD_CHARS}]*$`,
  description:
    "Mesos role of the runs (one of the framework's roles), 1 to 200 characters; absent = the cluster's default role.",
});
const constraints = Type.Array(Text(500, { minLength: 1 }), {
  maxItems: 50,
  description:
    'Agent attribute constraints (at most 50, each 1 to 500 characters): `zone:a`, `zone!=b`, `zone in a,b`; all must hold.',
});
const disk = Type.Integer({ minimum: 0, maximum: 16_777_216, description: 'Disk in MB, 0 to 16777216.' });

/** The longest health-check duration, in seconds (an hour). */
const MAX_CHECK_SECONDS = 3600;
const checkSeconds = (minimum: number, what: string) =>
  Type.Number({
    minimum,
    maximum: MAX_CHECK_SECONDS,
    description: `${what}, ${minimum} to ${MAX_CHECK_SECONDS} s.`,
  });

export const HealthCheckSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('HTTP'), Type.Literal('TCP'), Type.Literal('COMMAND')]),
    path: Type.Optional(Text(2000, { description: 'HTTP path (default `/`); at most 2000 characters.' })),
    port_index: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 99,
        description: 'Which of `ports` is checked, 0 to 99 (default 0).',
      }),
    ),
    command: Type.Optional(
      Text(10_000, { description: 'COMMAND: exit 0 = healthy; at most 10000 characters.' }),
    ),
    delay_seconds: Type.Optional(checkSeconds(0, 'Before the first check')),
    interval_seconds: Type.Optional(checkSeconds(0.1, 'Between checks')),
    timeout_seconds: Type.Optional(checkSeconds(0.1, 'A check taking longer failed')),
    grace_period_seconds: Type.Optional(checkSeconds(0, 'After start, failures are not counted')),
    max_consecutive_failures: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Failures in a row that make it unhealthy, 0 to 100.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A Mesos health check (Mesos clusters only).' },
);
export type HealthCheckBody = Static<typeof HealthCheckSchema>;

/** Fields a definition create/update may set. */
export const DefinitionPlacementFields = {
  role: Type.Optional(role),
  constraints: Type.Optional(constraints),
  disk: Type.Optional(disk),
  health_check: Type.Optional(HealthCheckSchema),
};

/** Fields an execute may set for its run (they replace the definition's). */
export const ExecutePlacementFields = {
  role: Type.Optional(role),
  constraints: Type.Optional(constraints),
  disk: Type.Optional(disk),
};

/** Placement fields of a definition as answered. */
export const DefinitionPlacementAnswer = {
  role: Nullable(Type.String()),
  constraints: Type.Array(Type.String()),
  disk: Type.Integer({ description: 'MB' }),
  health_check: Nullable(HealthCheckSchema),
};

/** Placement fields of a run as answered. */
export const RunPlacementAnswer = {
  role: Nullable(Type.String({ description: "Mesos role; null = the cluster's default role." })),
  constraints: Type.Array(Type.String()),
  disk: Type.Integer({ description: 'MB' }),
  ports: Type.Array(Type.Integer(), { description: 'Container ports; each gets a host port (PORT0…).' }),
};

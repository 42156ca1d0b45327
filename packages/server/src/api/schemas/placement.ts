import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

/**
 * Placement fields of definitions, executes and runs: the Mesos role, agent attribute
 * constraints, disk and a health check. The local backend ignores them; Mesos clusters place
 * and check runs by them. (What they mean is in ../placement.ts.)
 */

const role = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\s/][^\\s]*$',
  description: "Mesos role of the runs (one of the framework's roles); absent = the cluster's default role.",
});
const constraints = Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
  maxItems: 50,
  description: 'Agent attribute constraints: `zone:a`, `zone!=b`, `zone in a,b`; all must hold.',
});
const disk = Type.Integer({ minimum: 0, maximum: 16_777_216, description: 'Disk in MB.' });

export const HealthCheckSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('HTTP'), Type.Literal('TCP'), Type.Literal('COMMAND')]),
    path: Type.Optional(Type.String({ maxLength: 2000, description: 'HTTP path (default `/`).' })),
    port_index: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 99, description: 'Which of `ports` is checked (default 0).' }),
    ),
    command: Type.Optional(Type.String({ maxLength: 10_000, description: 'COMMAND: exit 0 = healthy.' })),
    delay_seconds: Type.Optional(Type.Number({ minimum: 0 })),
    interval_seconds: Type.Optional(Type.Number({ minimum: 0 })),
    timeout_seconds: Type.Optional(Type.Number({ minimum: 0 })),
    grace_period_seconds: Type.Optional(Type.Number({ minimum: 0 })),
    max_consecutive_failures: Type.Optional(Type.Integer({ minimum: 0 })),
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

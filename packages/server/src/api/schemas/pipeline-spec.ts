import { Type, type Static } from '@sinclair/typebox';
import { BAD_CHARS, NO_NUL, StringEnum, StringMap, Text } from './common.js';
import { AutoscalingBody, DrainBody } from './autoscaling.js';

// The pipeline spec: Faustian's pipeline JSON plus Galley's `update_strategy` and per-process
// `health_check`. Every field, its type and its bounds are here; @galley/core's parsePipelineSpec
// adds only the rules between fields (a process's `id` is its key, a `command` without an image,
// a health check's `port_index` within the process's `port_mappings`) and fills the defaults.
// Bounds are far beyond any real pipeline: they keep one request from taking the server down.

/** The bounds of a pipeline spec, as the schema below states them. */
export const PIPELINE_LIMITS = Object.freeze({
  /** Characters of a pipeline id or a process name (they name routes, launch ids and files). */
  idLength: 63,
  instances: 1000,
  processes: 100,
  /** CPUs of one process or of the executor. */
  cpu: 256,
  /** MB of memory of one process or of the executor (4 TiB). */
  memMb: 4_194_304,
  /** MB of disk of one process or of the executor (16 TiB). */
  diskMb: 16_777_216,
  arguments: 1000,
  argumentLength: 65_536,
  commandLength: 131_072,
  environment: 1000,
  environmentValueLength: 131_072,
  nameLength: 256,
  portMappings: 100,
  /** Seconds (one hour) for kill grace, health-check intervals, timeouts and grace, min_healthy. */
  seconds: 3600,
  /** Shortest health-check interval and timeout, in seconds. */
  minCheckSeconds: 0.1,
  maxConsecutiveFailures: 100,
  progressDeadlineSeconds: 86_400,
  roles: 100,
  labels: 100,
  labelValueLength: 4096,
  imageLength: 1024,
  pathLength: 2048,
  surge: 1000,
});
const L = PIPELINE_LIMITS;

/** Pipeline ids and process names: what a route, a launch id and a file name can always hold. */
export const PIPELINE_ID_PATTERN = '^[a-zA-Z0-9_-]+$';

const idOptions = { minLength: 1, maxLength: L.idLength, pattern: PIPELINE_ID_PATTERN };
const PipelineId = Type.String({
  ...idOptions,
  description: `Pipeline id: 1 to ${L.idLength} letters, digits, \`_\` or \`-\`.`,
});
const ProcessName = Type.String({
  ...idOptions,
  description: `Process name: 1 to ${L.idLength} letters, digits, \`_\` or \`-\`; equals its key in \`processes\`.`,
});

/** Names of environment variables: no `=`, no NUL, no lone surrogate. */
const envKeys = { maxLength: L.nameLength, pattern: `^[^=${BAD_CHARS}]+$` };
const Environment = StringMap(Text(L.environmentValueLength), envKeys, {
  maxProperties: L.environment,
  description: `Environment variables, name → value (at most ${L.environment}; names of 1 to ${L.nameLength} characters without \`=\`, values of at most ${L.environmentValueLength} characters).`,
});

const cpu = (min: number, description: string) =>
  Type.Number({ minimum: min, maximum: L.cpu, description: `${description} CPUs, ${min} to ${L.cpu}.` });
const mem = (min: number, description: string) =>
  Type.Number({
    minimum: min,
    maximum: L.memMb,
    description: `${description} memory in MB, ${min} to ${L.memMb} (4 TiB).`,
  });
const disk = (description: string) =>
  Type.Number({
    minimum: 0,
    maximum: L.diskMb,
    description: `${description} disk in MB, 0 to ${L.diskMb} (16 TiB).`,
  });

/** A process's resources as posted: `disk` defaults to 0. */
const ResourcesBody = Type.Object(
  {
    cpu: cpu(0.001, 'Process'),
    mem: mem(1, 'Process'),
    disk: Type.Optional(disk('Process')),
  },
  { additionalProperties: false, description: 'What one process needs: `{cpu, mem, disk (0)}`.' },
);

const Port = (description: string) => Type.Integer({ minimum: 0, maximum: 65535, description });
const Protocol = StringEnum(['tcp', 'udp'] as const, { description: '`tcp` (default) or `udp`.' });

const PortMappingBody = Type.Object(
  {
    host_port: Port('Host port, 0 to 65535; 0 = any free port.'),
    container_port: Type.Optional(Port('Port in the container, 0 to 65535 (default 0).')),
    protocol: Type.Optional(Protocol),
  },
  { additionalProperties: false },
);

const seconds = (min: number, max: number, description: string) =>
  Type.Number({ minimum: min, maximum: max, description: `${description} (${min} to ${max} s).` });

/** A process's health check (Marathon's names in snake_case); run by Galley locally, by the agent on Mesos. */
export const PipelineHealthCheck = Type.Object(
  {
    protocol: StringEnum(['HTTP', 'TCP', 'COMMAND'] as const, {
      description: '`HTTP` (GET `path`), `TCP` (connect) or `COMMAND` (exit code 0 = healthy).',
    }),
    path: Type.Optional(
      Type.String({
        maxLength: L.pathLength,
        pattern: `^/[^${BAD_CHARS}]*$`,
        description: `HTTP: the path to GET, starting with \`/\` (default \`/\`; at most ${L.pathLength} characters).`,
      }),
    ),
    port_index: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: L.portMappings - 1,
        description: "HTTP/TCP: which of the process's `port_mappings` is checked (default 0).",
      }),
    ),
    command: Type.Optional(
      Text(L.commandLength, { description: 'COMMAND: run by a shell; required for a COMMAND check.' }),
    ),
    interval_seconds: Type.Optional(seconds(L.minCheckSeconds, L.seconds, 'Between checks; default 10')),
    timeout_seconds: Type.Optional(
      seconds(L.minCheckSeconds, L.seconds, 'A check taking longer failed; default 5'),
    ),
    grace_period_seconds: Type.Optional(
      seconds(0, L.seconds, 'After start, failures before the first success are ignored; default 60'),
    ),
    max_consecutive_failures: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: L.maxConsecutiveFailures,
        description: `Failures in a row that make the process unhealthy, 1 to ${L.maxConsecutiveFailures} (default 3).`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type PipelineHealthCheck = Static<typeof PipelineHealthCheck>;

const Arguments = Type.Array(Text(L.argumentLength), {
  maxItems: L.arguments,
  description: `Arguments (at most ${L.arguments}, each at most ${L.argumentLength} characters): \`$1…\` of a shell command, or the program's arguments.`,
});
const Command = Text(L.commandLength, {
  description: `With \`shell: true\` a shell script, else the program to run (at most ${L.commandLength} characters); required without a container image.`,
});
const Shell = Type.Boolean({ description: 'Run `command` through `/bin/sh -c` (default false).' });
const KillGrace = seconds(0, L.seconds, 'Between the stop signal and the kill; default 30');

/** One process of every instance, as posted (Faustian's `processes.<name>`). */
export const PipelineProcessBody = Type.Object(
  {
    id: Type.Optional(ProcessName),
    arguments: Type.Optional(Arguments),
    command: Type.Optional(Command),
    shell: Type.Optional(Shell),
    environment: Type.Optional(Environment),
    resources: ResourcesBody,
    port_mappings: Type.Optional(
      Type.Array(PortMappingBody, {
        maxItems: L.portMappings,
        description: `Ports (at most ${L.portMappings}): \`PORT0…\` in the environment.`,
      }),
    ),
    kill_grace_period: Type.Optional(KillGrace),
    health_check: Type.Optional(PipelineHealthCheck),
    drain: Type.Optional(DrainBody),
  },
  { additionalProperties: false },
);
export type PipelineProcessBody = Static<typeof PipelineProcessBody>;

const Container = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      maxLength: L.imageLength,
      pattern: NO_NUL,
      description: `Container image (at most ${L.imageLength} characters).`,
    }),
    network: Type.Optional(
      StringEnum(['HOST', 'BRIDGE'] as const, { description: '`HOST` (default) or `BRIDGE`.' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'The image every process runs in; absent = processes run their `command` on the host.',
  },
);

const ExecutorResources = Type.Object(
  {
    cpu: Type.Optional(cpu(0, 'Executor')),
    mem: Type.Optional(mem(0, 'Executor')),
    disk: Type.Optional(disk('Executor')),
  },
  {
    additionalProperties: false,
    description: "The Mesos executor's own resources (default `{cpu: 0.01, mem: 32, disk: 1}`).",
  },
);

const Instances = Type.Integer({
  minimum: 0,
  maximum: L.instances,
  description: `Instances to keep running, 0 to ${L.instances} (default 1).`,
});

const Roles = Type.Array(
  Type.String({
    minLength: 1,
    maxLength: L.nameLength,
    pattern: `^[^\\s/${BAD_CHARS}][^\\s${BAD_CHARS}]*$`,
    description: 'A Mesos role.',
  }),
  { maxItems: L.roles, description: `Mesos roles (at most ${L.roles}); the first places the instances.` },
);

const Labels = StringMap(
  Text(L.labelValueLength),
  { maxLength: L.nameLength, pattern: NO_NUL },
  {
    maxProperties: L.labels,
    description: `Labels of each task (at most ${L.labels}; names of 1 to ${L.nameLength} characters, values of at most ${L.labelValueLength}).`,
  },
);

const CountOrPercent = (description: string) =>
  Type.Union(
    [
      Type.Integer({ minimum: 0, maximum: L.surge }),
      Type.String({ pattern: '^(100(\\.0{1,6})?|[1-9]?[0-9](\\.[0-9]{1,6})?)%$', maxLength: 11 }),
    ],
    {
      description: `${description}: a count of instances (0 to ${L.surge}) or a percentage of \`instances\` ('0%' to '100%').`,
    },
  );

const UpdateStrategy = Type.Object(
  {
    max_surge: Type.Optional(
      CountOrPercent("Instances above `instances` during an update, rounded up (default '25%')"),
    ),
    max_unavailable: Type.Optional(
      CountOrPercent('Instances below `instances` during an update, rounded down (default 0)'),
    ),
    min_healthy_seconds: Type.Optional(
      seconds(0, L.seconds, 'A new instance must stay running and healthy this long to count; default 10'),
    ),
    progress_deadline_seconds: Type.Optional(
      seconds(
        1,
        L.progressDeadlineSeconds,
        'Roll back (or report stalled) without progress this long; default 300',
      ),
    ),
    auto_rollback: Type.Optional(
      Type.Boolean({ description: 'Roll back on a missed deadline or a crash loop (default true).' }),
    ),
  },
  { additionalProperties: false, description: 'How a new spec version replaces the instances.' },
);

const Processes = StringMap(
  PipelineProcessBody,
  { maxLength: L.idLength, pattern: PIPELINE_ID_PATTERN },
  {
    minProperties: 1,
    maxProperties: L.processes,
    description: `The processes of every instance, by name (1 to ${L.processes}; names as \`id\`s).`,
  },
);

/** The fields of a pipeline as posted; only `id` and `processes` are required. */
const bodyFields = {
  id: PipelineId,
  container: Type.Optional(Container),
  environment: Type.Optional(Environment),
  processes: Processes,
  executor_resources: Type.Optional(ExecutorResources),
  instances: Type.Optional(Instances),
  roles: Type.Optional(Roles),
  labels: Type.Optional(Labels),
  update_strategy: Type.Optional(UpdateStrategy),
  autoscaling: Type.Optional(AutoscalingBody),
};

/**
 * POST /pipelines: Faustian's pipeline JSON plus Galley's `update_strategy` and per-process
 * `health_check`. An unknown field anywhere is refused (400, naming it).
 */
export const PipelineBody = Type.Object(bodyFields, {
  additionalProperties: false,
  description:
    "A pipeline: Faustian's JSON plus Galley's `update_strategy` and per-process `health_check`. " +
    'Defaults are filled by the server and answered with the pipeline.',
});
export type PipelineBody = Static<typeof PipelineBody>;

/**
 * PATCH /pipelines/{id}: the top-level fields to replace, each as in PipelineBody. Only
 * `instances` scales; only `update_strategy` is stored; anything else is a rolling update.
 */
export const PipelinePatch = Type.Partial(PipelineBody, {
  additionalProperties: false,
  description:
    'The top-level fields to replace (as in a created pipeline; `id`, if given, must be the one in the path). ' +
    'Only `instances`: scale. Only `update_strategy`: stored. Anything else: a new version, rolled out.',
});
export type PipelinePatch = Static<typeof PipelinePatch>;

// ---- the spec as answered: every default filled ----

const PortMappingJson = Type.Object({
  host_port: Type.Integer(),
  container_port: Type.Integer(),
  protocol: Protocol,
});

/** A process as answered: its fields with their defaults filled. */
export const PipelineProcessJson = Type.Object({
  id: ProcessName,
  arguments: Arguments,
  command: Type.Optional(Command),
  shell: Shell,
  environment: Environment,
  resources: Type.Object({ cpu: Type.Number(), mem: Type.Number(), disk: Type.Number() }),
  port_mappings: Type.Array(PortMappingJson),
  kill_grace_period: KillGrace,
  health_check: Type.Optional(PipelineHealthCheck),
  drain: Type.Optional(DrainBody),
});
export type PipelineProcessJson = Static<typeof PipelineProcessJson>;

/** The spec part of a pipeline answer: as posted, with every default filled. */
export const PipelineSpecFields = {
  id: PipelineId,
  container: Type.Optional(
    Type.Object({ image: Type.String(), network: StringEnum(['HOST', 'BRIDGE'] as const) }),
  ),
  environment: Environment,
  processes: StringMap(
    PipelineProcessJson,
    { maxLength: L.idLength, pattern: PIPELINE_ID_PATTERN },
    { maxProperties: L.processes },
  ),
  executor_resources: Type.Object({ cpu: Type.Number(), mem: Type.Number(), disk: Type.Number() }),
  instances: Instances,
  roles: Type.Array(Type.String()),
  labels: Labels,
  update_strategy: Type.Object({
    max_surge: Type.Union([Type.Integer(), Type.String()]),
    max_unavailable: Type.Union([Type.Integer(), Type.String()]),
    min_healthy_seconds: Type.Number(),
    progress_deadline_seconds: Type.Number(),
    auto_rollback: Type.Boolean(),
  }),
  autoscaling: Type.Optional(AutoscalingBody),
};

import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { NO_NUL, Nullable, StringEnum, Text } from './common.js';

// A pipeline's `autoscaling` (the metric source and the policy), a process's `drain` contract,
// and GET /pipelines/{id}/autoscaling's answer. Every number and string is bounded.

/** The bounds of `autoscaling`. */
export const AUTOSCALING_LIMITS = Object.freeze({
  instances: 1000,
  /** Shortest polling interval (s): a metric source is asked at most once a second. */
  minPollSeconds: 1,
  maxPollSeconds: 3600,
  windowSeconds: 3600,
  metric: 1e12,
  urlLength: 2048,
  jsonPathLength: 256,
  queryLength: 4096,
  nameLength: 256,
  resources: 50,
});
const L = AUTOSCALING_LIMITS;

const Url = Type.String({
  minLength: 8,
  maxLength: L.urlLength,
  pattern: '^https?://[^\\s\\u0000]+$',
  description: `An http:// or https:// URL (at most ${L.urlLength} characters).`,
});
const Name = (description: string) =>
  Type.String({ minLength: 1, maxLength: L.nameLength, pattern: NO_NUL, description });
const EnvName = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description });

/** Credentials by NAME of the server's environment variables: the values are never stored, logged or answered. */
export const SourceAuthBody = Type.Object(
  {
    username: Type.Optional(Name('Basic auth user name.')),
    password_env: Type.Optional(
      EnvName("The server's environment variable holding the Basic auth password."),
    ),
    token_env: Type.Optional(EnvName("The server's environment variable holding a bearer token.")),
  },
  { additionalProperties: false, description: 'Credentials, by the names of environment variables.' },
);

const source = <T extends string, P extends TProperties>(type: T, fields: P, description: string) =>
  Type.Object({ type: Type.Literal(type), ...fields }, { additionalProperties: false, description });

/** Where the metric comes from. */
export const AutoscalingSourceBody = Type.Union(
  [
    source(
      'http',
      {
        url: Url,
        json_path: Type.String({
          minLength: 1,
          maxLength: L.jsonPathLength,
          pattern: NO_NUL,
          description: 'Where the number is in the JSON answer: `a.b[0].c` (a leading `$.` is allowed).',
        }),
      },
      'GET `url` answers JSON; the number at `json_path` is the metric.',
    ),
    source(
      'prometheus',
      {
        url: Url,
        query: Text(L.queryLength, { minLength: 1, description: 'A PromQL instant query.' }),
      },
      "Prometheus' `GET /api/v1/query`: a scalar, or the sum of a vector (an empty vector is 0).",
    ),
    source(
      'galley_queue',
      {
        definition: Type.Optional(Name('Count the QUEUED runs of this definition (id or alias).')),
        group: Type.Optional(Name('Count the QUEUED runs of this group.')),
      },
      "This server's QUEUED runs of one definition or group.",
    ),
    source(
      'gocd',
      {
        url: Url,
        resources: Type.Optional(
          Type.Array(Name('A GoCD agent resource.'), {
            maxItems: L.resources,
            description: 'Count only jobs that need all of these resources.',
          }),
        ),
        environment: Type.Optional(Name('Count only jobs of this GoCD environment.')),
        auth: Type.Optional(SourceAuthBody),
      },
      "A GoCD server's scheduled jobs (`GET /go/api/jobs/scheduled.xml`).",
    ),
    source(
      'jenkins',
      {
        url: Url,
        label: Type.Optional(Name('Count only queue items waiting for this label.')),
        auth: Type.Optional(SourceAuthBody),
      },
      'A Jenkins queue (`GET /queue/api/json`): items that wait, not blocked ones.',
    ),
  ],
  { description: 'The metric source: `http`, `prometheus`, `galley_queue`, `gocd` or `jenkins`.' },
);

const seconds = (min: number, max: number, description: string) =>
  Type.Number({ minimum: min, maximum: max, description: `${description} (${min} to ${max} s).` });

/** A pipeline's `autoscaling`, as posted. */
export const AutoscalingBody = Type.Object(
  {
    min: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: L.instances,
        description: 'Fewest instances (0 allowed; default 0).',
      }),
    ),
    max: Type.Integer({
      minimum: 1,
      maximum: L.instances,
      description: `Most instances, 1 to ${L.instances}.`,
    }),
    target_per_instance: Type.Number({
      exclusiveMinimum: 0,
      maximum: L.metric,
      description: 'Backlog one instance takes: desired = ceil(metric / target_per_instance).',
    }),
    polling_interval_seconds: Type.Optional(
      seconds(L.minPollSeconds, L.maxPollSeconds, 'Between two reads of the metric; default 15'),
    ),
    stabilization: Type.Optional(
      Type.Object(
        {
          up_seconds: Type.Optional(
            seconds(
              0,
              L.windowSeconds,
              'Scale up only to the lowest recommendation of this window; default 0',
            ),
          ),
          down_seconds: Type.Optional(
            seconds(
              0,
              L.windowSeconds,
              'Scale down only to the highest recommendation of this window; default 300',
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    activation_threshold: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: L.metric,
        description: 'From 0 to 1 instance only when the metric is above this (default 0).',
      }),
    ),
    source: AutoscalingSourceBody,
  },
  {
    additionalProperties: false,
    description: 'The autoscaler sets `instances` from a metric (leader only, every polling interval).',
  },
);
export type AutoscalingBody = Static<typeof AutoscalingBody>;

/** A process's drain contract (`GALLEY_DRAIN`): how a scale-in asks whether it is busy. */
export const DrainBody = Type.Union(
  [
    Type.Object(
      {
        http: Type.Object(
          {
            port: Type.Union([
              Type.Integer({ minimum: 1, maximum: 65535 }),
              Type.String({ pattern: '^PORT[0-9]{1,2}$', maxLength: 6 }),
            ]),
            path: Type.String({ maxLength: 2048, pattern: '^/[^\\s\\u0000]*$' }),
          },
          {
            additionalProperties: false,
            description:
              '`GET http://<host>:<port><path>` answers `{"busy": true|false}`; port: a number or `PORTn`.',
          },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        signal: StringEnum(['SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const, {
          description:
            'The stop signal: on it the worker finishes its current job and exits 0 within `kill_grace_period` (local backend; Mesos sends SIGTERM).',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        gocd: Type.Object(
          { url: Type.Optional(Url), auth: Type.Optional(SourceAuthBody) },
          {
            additionalProperties: false,
            description:
              "A GoCD agent: disabled, waited for idle, stopped, deleted (url: the source's by default).",
          },
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'How a scale-in asks the process whether it is busy (`GALLEY_DRAIN`).' },
);

/** One recorded autoscaling decision. */
export const AutoscalingDecisionJson = Type.Object({
  at: Type.String({ format: 'date-time' }),
  metric: Nullable(Type.Number()),
  error: Nullable(Type.String()),
  current: Type.Integer(),
  desired: Type.Integer(),
  reason: Type.String(),
});
export type AutoscalingDecisionJson = Static<typeof AutoscalingDecisionJson>;

/** GET /pipelines/{id}/autoscaling. */
export const AutoscalingStatusJson = Type.Object({
  pipeline_id: Type.String(),
  enabled: Type.Boolean(),
  source: Nullable(StringEnum(['http', 'prometheus', 'galley_queue', 'gocd', 'jenkins'] as const)),
  current: Type.Integer({ description: 'Instances the spec asks for now.' }),
  running: Type.Integer({ description: 'Instances not being stopped.' }),
  desired: Nullable(Type.Integer({ description: "The last decision's count." })),
  metric: Nullable(Type.Number({ description: 'The last metric value read.' })),
  decisions: Type.Array(AutoscalingDecisionJson, { description: 'The last decisions, newest first.' }),
});
export type AutoscalingStatusJson = Static<typeof AutoscalingStatusJson>;

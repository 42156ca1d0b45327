/**
 * The pipeline spec: Faustian's pipeline JSON, unchanged, plus Galley's `update_strategy` and a
 * per-process `health_check`. The server's schema checks each field's type and bounds (it is the
 * one description of the wire shape); `parsePipelineSpec` checks the rules between fields and
 * fills every default, so the rest of Galley works on a complete `PipelineSpec`.
 */
import type { HealthCheckSpec } from './health.js';
import type { PipelineAutoscaling } from '../scaling/pipeline-autoscaling.js';
import type { DrainSpec } from '../scaling/pipeline-drain.js';

/** One port of a process: `host_port` 0 = any free port. */
export interface PortMapping {
  host_port: number;
  container_port: number;
  protocol: 'tcp' | 'udp';
}

/** One process of every instance (Faustian's `processes.<id>`). */
export interface ProcessSpec {
  /** Equals its key in `processes`. */
  id: string;
  arguments: string[];
  /** Run through a shell when `shell` is true; undefined = the image's entrypoint with `arguments`. */
  command?: string;
  shell: boolean;
  environment: Record<string, string>;
  /** cpu in cpus, mem and disk in MB. */
  resources: { cpu: number; mem: number; disk: number };
  port_mappings: PortMapping[];
  /** Seconds between the stop signal and the kill. */
  kill_grace_period: number;
  /** undefined = no health check: the process counts as healthy once running. */
  health_check?: HealthCheckSpec;
  /** How Galley asks whether the process is busy before a scale-in stops it (`GALLEY_DRAIN`). */
  drain?: DrainSpec;
}

/**
 * How a new spec version replaces the instances. `max_surge`/`max_unavailable` are a count of
 * instances or a percentage of `instances` (`'25%'`): surge rounds up, unavailable rounds down.
 */
export interface UpdateStrategy {
  /** Instances allowed above `instances` during an update. Default `'25%'`. */
  max_surge: number | string;
  /** Instances allowed below `instances` (running and healthy) during an update. Default 0. */
  max_unavailable: number | string;
  /** A new instance must stay running and healthy this long to count. Default 10. */
  min_healthy_seconds: number;
  /** Roll back (or report stalled) when no new instance became available for this long. Default 300. */
  progress_deadline_seconds: number;
  /** Roll back automatically on a missed deadline or a crash loop. Default true. */
  auto_rollback: boolean;
}

/** A complete pipeline spec (every default filled). */
export interface PipelineSpec {
  id: string;
  /** undefined = no image: processes run their `command` on the host (local backend). */
  container?: { image: string; network: 'HOST' | 'BRIDGE' };
  environment: Record<string, string>;
  processes: Record<string, ProcessSpec>;
  executor_resources: { cpu: number; mem: number; disk: number };
  instances: number;
  roles: string[];
  labels: Record<string, string>;
  update_strategy: UpdateStrategy;
  /** undefined = `instances` is set by people only; else the autoscaler sets it from a metric. */
  autoscaling?: PipelineAutoscaling;
}

/**
 * A pipeline as posted, once its fields have the types and bounds of the server's schema
 * (`PipelineBody` of `@galley/server/api`): what `parsePipelineSpec` reads. Absent fields take
 * their defaults.
 */
export interface PipelineSpecInput {
  id: string;
  container?: { image: string; network?: 'HOST' | 'BRIDGE' };
  environment?: Record<string, string>;
  processes: Record<string, ProcessSpecInput>;
  executor_resources?: { cpu?: number; mem?: number; disk?: number };
  instances?: number;
  roles?: string[];
  labels?: Record<string, string>;
  update_strategy?: Partial<UpdateStrategy>;
  autoscaling?: AutoscalingInput;
}

/** `autoscaling` as posted: `max`, `target_per_instance` and `source` are required. */
export type AutoscalingInput = Partial<Omit<PipelineAutoscaling, 'stabilization'>> &
  Pick<PipelineAutoscaling, 'max' | 'target_per_instance' | 'source'> & {
    stabilization?: Partial<PipelineAutoscaling['stabilization']>;
  };

/** One process as posted (see PipelineSpecInput). */
export interface ProcessSpecInput {
  /** When given, equals its key in `processes`. */
  id?: string;
  arguments?: string[];
  command?: string;
  shell?: boolean;
  environment?: Record<string, string>;
  resources: { cpu: number; mem: number; disk?: number };
  port_mappings?: { host_port: number; container_port?: number; protocol?: 'tcp' | 'udp' }[];
  kill_grace_period?: number;
  health_check?: HealthCheckSpec;
  drain?: DrainSpec;
}

/** One thing wrong with a spec: `field` is a dotted path (`processes.parse.resources.cpu`). */
export interface SpecProblem {
  field: string;
  message: string;
}

export const DEFAULT_KILL_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_EXECUTOR_RESOURCES = Object.freeze({ cpu: 0.01, mem: 32, disk: 1 });
export const DEFAULT_UPDATE_STRATEGY: Readonly<UpdateStrategy> = Object.freeze({
  max_surge: '25%',
  max_unavailable: 0,
  min_healthy_seconds: 10,
  progress_deadline_seconds: 300,
  auto_rollback: true,
});

/**
 * A count or percentage of `instances` as a number of instances; `round` is `'up'` for surge,
 * `'down'` for unavailable (as Kubernetes does).
 */
export function resolveCount(value: number | string, instances: number, round: 'up' | 'down'): number {
  if (typeof value === 'number') return value;
  const exact = (parseFloat(value) / 100) * instances;
  return Math.max(0, round === 'up' ? Math.ceil(exact - 1e-9) : Math.floor(exact + 1e-9));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so equal specs print the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What a change from `before` to `after` (both complete specs) asks for:
 * - `'unchanged'`;
 * - `'scale'`: only `instances` changed (and perhaps `update_strategy`): add or remove instances,
 *   no new spec version;
 * - `'strategy'`: only `update_strategy` or `autoscaling` changed: store it, no instance is touched;
 * - `'update'`: anything else — a new spec version, rolled out by a rolling update (which also
 *   applies a new `instances`).
 */
export function classifyPipelineChange(
  before: PipelineSpec,
  after: PipelineSpec,
): 'unchanged' | 'scale' | 'strategy' | 'update' {
  const content = (spec: PipelineSpec): string =>
    canonical({ ...spec, instances: 0, update_strategy: null, autoscaling: null });
  const policy = (spec: PipelineSpec): string => canonical([spec.update_strategy, spec.autoscaling ?? null]);
  if (content(before) !== content(after)) return 'update';
  if (before.instances !== after.instances) return 'scale';
  return policy(before) === policy(after) ? 'unchanged' : 'strategy';
}

/** Whether any process of the spec has a health check (its instances must be healthy to count). */
export function hasHealthChecks(spec: PipelineSpec): boolean {
  return Object.values(spec.processes).some((p) => p.health_check !== undefined);
}

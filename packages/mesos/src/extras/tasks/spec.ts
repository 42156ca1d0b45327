import type { CommandInfo, ContainerInfo, HealthCheck, ResourceNeeds, TaskState } from '../../index.js';

/**
 * The declarative description of what the task manager keeps running: a map of task specs by
 * name (what mesos-framework's `tasks` option was), with defaults resolved once by `resolveSpecs`.
 */

/** The resources one instance needs; ports are host ports (see `ResourceNeeds`). */
export interface TaskResources {
  cpus: number;
  /** MB. */
  mem: number;
  /** MB of root/PATH disk; default 0. */
  disk?: number;
  /** Whole GPUs; default 0 (needs the framework's GPU_RESOURCES capability). */
  gpus?: number;
  /** Dynamic host ports to pick; default 0. They follow `fixedPorts` in PORT0..n. */
  ports?: number;
  /** Exact host ports; they are PORT0.. first, in this order. */
  fixedPorts?: number[];
}

/** A container port to map to the instance's host port of the same index (PORT<i>). */
export interface TaskPortMapping {
  containerPort: number;
  /** `"tcp"` (default) or `"udp"`. */
  protocol?: 'tcp' | 'udp';
}

/** Exponential restart backoff, in milliseconds. */
export interface RestartBackoff {
  /** First delay after a failure; default 1000. */
  min?: number;
  /** Cap; default 300000 (Marathon's 300 s). */
  max?: number;
  /** Growth per consecutive failure; default 2. */
  factor?: number;
  /**
   * A task that ran (RUNNING) at least this long before failing resets the count of consecutive
   * failures; default 60000.
   */
  resetAfter?: number;
  /** Fraction of the delay taken off at random (0..1), so restarts of many tasks spread out; default 0.2. */
  jitter?: number;
}

/**
 * Framework-side HTTP health polling (mesos-framework's `taskHealthHelper`): GET
 * `http://<agent address>:<PORT<portIndex>><path>` of every RUNNING instance.
 */
export interface HealthPollerSpec {
  /** Milliseconds between polls of one task; default 30000. */
  interval?: number;
  /** Milliseconds before one poll counts as failed; default 5000. */
  timeout?: number;
  /** Consecutive failures before the task is unhealthy; default 4. */
  graceCount?: number;
  /** Index into the instance's host ports; default 0. */
  portIndex?: number;
  /** Request path; default `/`. */
  path?: string;
  /** Status codes that count as healthy; default `[200]`. */
  statusCodes?: number[];
  /** Optional body check run after the status code passed; `false` counts as a failure. */
  checkBody?: (body: string, task: { taskId: string; name: string; serial: number }) => boolean;
  /** Kill (and so restart) a task once it is unhealthy; default false (only `task_unhealthy`). */
  restart?: boolean;
}

/** The executor an instance runs under, when it is not the built-in command executor. */
export interface TaskExecutorSpec {
  /**
   * `DEFAULT`: each instance is launched with LAUNCH_GROUP under its own default executor.
   * `CUSTOM`: each instance is launched with LAUNCH under `command`.
   */
  type: 'DEFAULT' | 'CUSTOM';
  /** The executor's own resources (DEFAULT needs ≥ 0.01 cpus, 32 MB mem and some disk). */
  resources: ResourceNeeds;
  /** The executor's command (CUSTOM only). */
  command?: CommandInfo;
  /** The executor's container (DEFAULT: MESOS type without image only). */
  container?: ContainerInfo;
}

/** One entry of the task map. */
export interface TaskSpec {
  /** Desired instances; default 1. */
  instances?: number;
  /** Lower launches first; default 0. Ties are broken by name, then serial. */
  priority?: number;
  /** `scale(name, n)` is allowed; default false. */
  allowScaling?: boolean;
  /** The command (copied into each TaskInfo; PORTn, HOST and TASK_<NAME>_SERIAL_NUMBER are added). */
  command: CommandInfo;
  container?: ContainerInfo;
  executor?: TaskExecutorSpec;
  resources: TaskResources;
  /** Container ports mapped to PORT0.. (Docker BRIDGE/USER `port_mappings`, or `network_infos[0]`). */
  portMappings?: TaskPortMapping[];
  /** A Mesos health check put into TaskInfo as is, except the port (see `healthCheckPortIndex`). */
  healthCheck?: HealthCheck;
  /**
   * When set, the health check's `http.port`/`tcp.port` becomes the instance's port of this index
   * (the container port when `portMappings` maps it, else the host port).
   */
  healthCheckPortIndex?: number;
  /** Framework-side HTTP polling; `undefined` = none. */
  healthPoller?: HealthPollerSpec;
  /** Labels put into TaskInfo.labels. */
  labels?: Record<string, string>;
  /** Role whose offers this spec uses (MULTI_ROLE frameworks); default: the framework's first role. */
  role?: string;
  /** Terminal states that restart the instance; default `DEFAULT_RESTART_ON`. */
  restartOn?: TaskState[];
  restartBackoff?: RestartBackoff;
  /** Seconds between SIGTERM and SIGKILL when killing (TaskInfo.kill_policy); default Mesos'. */
  killGracePeriodSeconds?: number;
}

/** States that restart an instance by default: everything that means "it died", not "it finished". */
export const DEFAULT_RESTART_ON: readonly TaskState[] = [
  'TASK_FAILED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
];

/** A spec with every default filled in. */
export interface ResolvedSpec {
  name: string;
  instances: number;
  priority: number;
  allowScaling: boolean;
  spec: TaskSpec;
  needs: ResourceNeeds;
  role: string | undefined;
  restartOn: ReadonlySet<string>;
  backoff: Required<RestartBackoff>;
  poller: (Required<Omit<HealthPollerSpec, 'checkBody'>> & Pick<HealthPollerSpec, 'checkBody'>) | undefined;
}

/** Thrown by `resolveSpecs` for a spec that cannot work. */
export class TaskSpecError extends Error {
  /** Stable code. */
  readonly code = 'INVALID_TASK_SPEC' as const;
  constructor(
    readonly taskName: string,
    message: string,
  ) {
    super(`task ${taskName}: ${message}`);
    this.name = 'TaskSpecError';
  }
}

const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Validates the task map and fills in defaults. `defaultRole` is used for specs without `role`.
 * Throws `TaskSpecError` for a bad name, negative instances, no cpus/mem, or more port mappings
 * than ports.
 */
export function resolveSpecs(
  specs: Readonly<Record<string, TaskSpec>>,
  defaultRole?: string,
): ResolvedSpec[] {
  return Object.entries(specs).map(([name, spec]) => resolveSpec(name, spec, defaultRole));
}

function resolveSpec(name: string, spec: TaskSpec, defaultRole: string | undefined): ResolvedSpec {
  if (!NAME.test(name)) throw new TaskSpecError(name, 'names may use letters, digits, "-" and "_" only');
  const instances = spec.instances ?? 1;
  if (!Number.isInteger(instances) || instances < 0)
    throw new TaskSpecError(name, 'instances must be an integer ≥ 0');
  const r = spec.resources;
  if (!(r.cpus > 0) || !(r.mem > 0))
    throw new TaskSpecError(name, 'resources.cpus and resources.mem must be > 0');
  const portCount = (r.ports ?? 0) + (r.fixedPorts?.length ?? 0);
  if ((spec.portMappings?.length ?? 0) > portCount) {
    throw new TaskSpecError(name, `${spec.portMappings?.length} port mappings but only ${portCount} ports`);
  }
  if (spec.healthCheckPortIndex !== undefined && spec.healthCheckPortIndex >= portCount) {
    throw new TaskSpecError(
      name,
      `healthCheckPortIndex ${spec.healthCheckPortIndex} but only ${portCount} ports`,
    );
  }
  const poller = spec.healthPoller;
  if (poller !== undefined && (poller.portIndex ?? 0) >= portCount) {
    throw new TaskSpecError(
      name,
      `healthPoller.portIndex ${poller.portIndex ?? 0} but only ${portCount} ports`,
    );
  }
  return {
    name,
    instances,
    priority: spec.priority ?? 0,
    allowScaling: spec.allowScaling ?? false,
    spec,
    needs: {
      cpus: r.cpus,
      mem: r.mem,
      disk: r.disk ?? 0,
      gpus: r.gpus ?? 0,
      ports: r.ports ?? 0,
      fixedPorts: r.fixedPorts ?? [],
    },
    role: spec.role ?? defaultRole,
    restartOn: new Set(spec.restartOn ?? DEFAULT_RESTART_ON),
    backoff: {
      min: spec.restartBackoff?.min ?? 1000,
      max: spec.restartBackoff?.max ?? 300_000,
      factor: spec.restartBackoff?.factor ?? 2,
      resetAfter: spec.restartBackoff?.resetAfter ?? 60_000,
      jitter: Math.min(1, Math.max(0, spec.restartBackoff?.jitter ?? 0.2)),
    },
    poller:
      poller === undefined
        ? undefined
        : {
            interval: poller.interval ?? 30_000,
            timeout: poller.timeout ?? 5_000,
            graceCount: poller.graceCount ?? 4,
            portIndex: poller.portIndex ?? 0,
            path: poller.path ?? '/',
            statusCodes: poller.statusCodes ?? [200],
            restart: poller.restart ?? false,
            checkBody: poller.checkBody,
          },
  };
}

/**
 * The restart delay (ms) after `failures` consecutive failures (1 = the first):
 * `min(max, min·factor^(failures-1))`, less up to `jitter` of it at random. 0 for no failures.
 */
export function restartDelay(
  backoff: Required<RestartBackoff>,
  failures: number,
  random: () => number,
): number {
  if (failures <= 0) return 0;
  const full = Math.min(backoff.max, backoff.min * backoff.factor ** (failures - 1));
  return Math.round(full * (1 - backoff.jitter * random()));
}

/**
 * Configuration of the fake Mesos cluster: one validated object, defaults resolved once.
 * Every duration has a realistic Mesos default and can be shortened so tests run in milliseconds.
 */

/** What a simulated command decides to do; `undefined` fields take the defaults shown. */
export interface SimulatedBehavior {
  /** Milliseconds from RUNNING to exit; `undefined` = runs until killed. */
  durationMs?: number;
  /** Exit code when it ends on its own (default 0). */
  exitCode?: number;
  /** True = ignores SIGTERM, so a kill needs the SIGKILL after the grace period (default false). */
  ignoresTerm?: boolean;
  /** What the simulated sandbox's `stdout` / `stderr` files contain (default empty). */
  stdout?: string;
  stderr?: string;
  /**
   * The outcome of the TaskInfo's `health_check`, run with its timings: passes (true) or fails
   * (false) every time, or per check number (1-based). Default undefined: no checks are run.
   */
  health?: boolean | ((check: number) => boolean);
}

/** A simulated task, as the behavior callback sees it. */
export interface SimulatedTask {
  readonly taskId: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** The TaskInfo JSON as launched. */
  readonly info: Readonly<Record<string, unknown>>;
  /** `command.value` (of the task, or of its executor for custom executors), or undefined. */
  readonly command: string | undefined;
}

/**
 * One simulated agent. Its containerizer flags are a stock agent's unless given (the recorded
 * agents': `--containerizers=mesos --isolation=posix/cpu,posix/mem --launcher=posix`, no image
 * providers), and it fails the tasks a real agent with those flags cannot run (`agent/containerizer.ts`).
 */
export interface FakeAgentSpec {
  /** Agent `--resources` syntax; default `cpus:2;mem:4096;disk:10000;ports:[31000-32000]`. */
  resources?: string;
  /** Agent `--attributes` syntax, e.g. `zone:a;rack:r1`; default none. */
  attributes?: string;
  /** The agent's HTTP port on 127.0.0.1; default 0 (chosen by the OS). */
  port?: number;
  /**
   * `--hostname`: what the agent reports (offers, `/state`, its maintenance machine id
   * `{hostname, ip: 127.0.0.1}`); default 127.0.0.1. It is still reached at 127.0.0.1.
   */
  hostname?: string;
  /** `--containerizers`: `mesos` (default), `docker`, or both (`mesos,docker`). */
  containerizers?: string;
  /** `--image_providers`: none by default (no container images); `docker`, `appc` or both. */
  imageProviders?: string;
  /**
   * `--isolation`; default `posix/cpu,posix/mem`, or `filesystem/linux,docker/runtime` when
   * `imageProviders` is set (image providers need `filesystem/linux`, as on a real agent).
   */
  isolation?: string;
  /** `--launcher`: `posix` by default, `linux` when `imageProviders` is set (images need it). */
  launcher?: string;
}

/** An agent's containerizer flags, resolved and checked as a real agent checks them at start. */
export interface AgentContainerizer {
  containerizers: string[];
  imageProviders: string[];
  isolation: string[];
  launcher: string;
}

/** An agent spec with every default applied. */
export interface ResolvedAgentSpec {
  hostname: string | undefined;
  resources: string;
  attributes: string;
  port: number;
  containerizer: AgentContainerizer;
}

/** HTTP basic credentials the masters require when `authentication` is set. */
export interface FakeCredential {
  principal: string;
  secret: string;
}

/** A local container runtime for the fake's agents: a Podman (or Docker-compatible) CLI. */
export interface FakeContainerRuntime {
  /** The CLI, e.g. `/usr/bin/podman`. */
  command: string;
  /** Arguments put before every subcommand (`--runtime runc`, `--cgroup-manager cgroupfs`…). */
  args?: string[];
  /** The CLI's environment (`CONTAINERS_CONF`…); default the fake's own. */
  env?: NodeJS.ProcessEnv;
  /**
   * A cgroup (cgroupfs manager) under which each container gets its own parent `<this>/<name>`,
   * which outlives it: its memory peak is read after an OOM kill (Mesos' "Maximum Used"). Default
   * none: then only the runtime's `State.OOMKilled` tells an OOM kill.
   */
  cgroupParent?: string;
}

/** Options of `startFakeMesos`. */
export interface FakeMesosOptions {
  /** Number of masters (one leads, the others answer 307); default 1. */
  masters?: number;
  /** Fixed ports for the masters, by index; default all 0 (chosen by the OS). */
  masterPorts?: number[];
  /** The agents, or how many default agents; default 1. */
  agents?: number | FakeAgentSpec[];
  /** `heartbeat_interval_seconds` in SUBSCRIBED and the HEARTBEAT period; default 15. */
  heartbeatIntervalSeconds?: number;
  /** The allocator's period; default 1000 ms. */
  allocationIntervalMs?: number;
  /** Time from losing an agent to marking it unreachable (ping timeout × max pings); default 75000 ms. */
  agentPingTimeoutMs?: number;
  /** After a master failover, how long agents take to re-register with the new leader; default 0 ms. */
  agentReregisterDelayMs?: number;
  /** After a failover, how long the new leader answers `404 Not Found.`; default 50 ms. */
  masterStartingMs?: number;
  /** Retry of unacknowledged status updates: first interval, doubling up to the max; default 10 s / 10 min. */
  statusUpdateRetryMs?: { initial: number; max: number };
  /** `simulate` (no processes; default) or `processes` (real local processes and sandboxes). */
  execution?: 'simulate' | 'processes';
  /**
   * What starting an executor (its container, then its registration) costs before its first task
   * starts: command executors for every command task, default and custom executors on their first
   * task. Default 250 ms, near what the recorded agents took from ACCEPT to TASK_STARTING
   * (224–282 ms); test harnesses that do not measure launches set it low. A task for an executor
   * that runs already pays nothing (the recorded custom executor's second task: 10 ms).
   */
  executorStartMs?: number;
  /**
   * At most this many executors start at once on one agent (the others wait their turn): a
   * loaded agent's starts share its CPUs. Default unlimited, as on the recorded idle agent.
   */
  executorStartConcurrency?: number;
  /** Simulate mode: delay before STARTING (default 0 ms) and how each command behaves. */
  simulation?: {
    launchDelayMs?: number;
    /** Delay between a signal and the simulated exit (default 0 ms). */
    killDelayMs?: number;
    /** Overrides the built-in interpretation of `sleep N`, `exit N`, `true`, `false`, `echo …`. */
    behavior?: (task: SimulatedTask) => SimulatedBehavior;
  };
  /** Kill grace period when neither the KILL call nor the TaskInfo has one; default 3000 ms. */
  defaultKillGracePeriodMs?: number;
  /** `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`; default 5000 ms. */
  executorShutdownGracePeriodMs?: number;
  /** Time a custom executor has to SUBSCRIBE after it was started; default 60000 ms. */
  executorRegistrationTimeoutMs?: number;
  /** After an agent restart, time executors have to re-subscribe (`MESOS_SUBSCRIPTION_BACKOFF_MAX`); default 2000 ms. */
  executorReregistrationTimeoutMs?: number;
  /** `MESOS_RECOVERY_TIMEOUT` given to executors; default 15 min. */
  recoveryTimeoutMs?: number;
  /** Root of the agents' work directories (sandboxes); default a new temporary directory, removed on stop. */
  workDir?: string;
  /** When set, every scheduler call must carry one of these HTTP basic credentials (401 otherwise). */
  authentication?: FakeCredential[];
  /** Random source in [0, 1) used to order agents in each allocation cycle; default Math.random. */
  random?: () => number;
  /**
   * Processes mode: a local container runtime (Podman's CLI). Agents that may run images (image
   * provider `docker`, or the `docker` containerizer) then run a task with a Docker image in that
   * image (`agent/image-runner.ts`); default none: such a task's command runs on the host.
   */
  containerRuntime?: FakeContainerRuntime;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  masters: number;
  masterPorts: number[];
  agents: ResolvedAgentSpec[];
  heartbeatIntervalSeconds: number;
  allocationIntervalMs: number;
  agentPingTimeoutMs: number;
  agentReregisterDelayMs: number;
  masterStartingMs: number;
  statusUpdateRetryMs: { initial: number; max: number };
  execution: 'simulate' | 'processes';
  executorStartMs: number;
  executorStartConcurrency: number;
  launchDelayMs: number;
  killDelayMs: number;
  behavior: ((task: SimulatedTask) => SimulatedBehavior) | undefined;
  defaultKillGracePeriodMs: number;
  executorShutdownGracePeriodMs: number;
  executorRegistrationTimeoutMs: number;
  executorReregistrationTimeoutMs: number;
  recoveryTimeoutMs: number;
  workDir: string | undefined;
  authentication: FakeCredential[] | undefined;
  random: () => number;
  containerRuntime: FakeContainerRuntime | undefined;
}

/** What starting an executor costs by default (ms): near the recorded agents' ACCEPT → TASK_STARTING. */
export const DEFAULT_EXECUTOR_START_MS = 250;

/** The default agent resources, as the recorded agent on port 5051 had them. */
export const DEFAULT_AGENT_RESOURCES = 'cpus:2;mem:4096;disk:10000;ports:[31000-32000]';

/** Splits a comma-separated agent flag value. */
function flagList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * An agent spec's containerizer flags with their defaults, refused as a real agent refuses to
 * start with them (the texts are Mesos'): unknown or duplicate containerizers, unknown image
 * providers, and image providers without the `filesystem/linux` isolator or the `linux` launcher.
 */
export function resolveContainerizer(spec: FakeAgentSpec): AgentContainerizer {
  const containerizers = flagList(spec.containerizers ?? 'mesos');
  const imageProviders = flagList(spec.imageProviders ?? '');
  const images = imageProviders.length > 0;
  const isolation = flagList(
    spec.isolation ?? (images ? 'filesystem/linux,docker/runtime' : 'posix/cpu,posix/mem'),
  );
  const launcher = spec.launcher ?? (images ? 'linux' : 'posix');
  if (containerizers.length === 0)
    throw new RangeError('containerizers must name at least one containerizer');
  if (new Set(containerizers).size !== containerizers.length)
    throw new RangeError(`Duplicate entries found in --containerizer flag '${containerizers.join(',')}'`);
  for (const name of containerizers) {
    if (name !== 'mesos' && name !== 'docker')
      throw new RangeError(`Unknown or unsupported containerizer: ${name}`);
  }
  for (const name of imageProviders) {
    if (name !== 'docker' && name !== 'appc')
      throw new RangeError(
        `Could not create MesosContainerizer: Unknown or unsupported image provider '${name}'`,
      );
  }
  if (launcher !== 'posix' && launcher !== 'linux')
    throw new RangeError(`Could not create MesosContainerizer: Unknown or unsupported launcher: ${launcher}`);
  if (images && containerizers.includes('mesos')) {
    if (!isolation.includes('filesystem/linux'))
      throw new RangeError(
        "Could not create MesosContainerizer: The 'filesystem/linux' isolator must be enabled for container image support",
      );
    if (launcher !== 'linux')
      throw new RangeError(
        "Could not create MesosContainerizer: The 'linux' launcher must be used for container image support",
      );
  }
  return { containerizers, imageProviders, isolation, launcher };
}

/** An agent spec with its defaults. */
export function resolveAgentSpec(spec: FakeAgentSpec, fallbackResources?: string): ResolvedAgentSpec {
  return {
    hostname: spec.hostname,
    resources: spec.resources ?? fallbackResources ?? DEFAULT_AGENT_RESOURCES,
    attributes: spec.attributes ?? '',
    port: spec.port ?? 0,
    containerizer: resolveContainerizer(spec),
  };
}

/** Applies defaults and rejects values that cannot work (non-positive intervals and the like). */
export function resolveOptions(options: FakeMesosOptions = {}): ResolvedOptions {
  const masters = options.masters ?? 1;
  if (!Number.isInteger(masters) || masters < 1) throw new RangeError('masters must be an integer ≥ 1');
  const agentSpecs =
    typeof options.agents === 'number'
      ? Array.from({ length: options.agents }, () => ({}) as FakeAgentSpec)
      : (options.agents ?? [{}]);
  const positive = (name: string, value: number): number => {
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number`);
    return value;
  };
  const nonNegative = (name: string, value: number): number => {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be ≥ 0`);
    return value;
  };
  const retry = options.statusUpdateRetryMs ?? { initial: 10_000, max: 600_000 };
  return {
    masters,
    masterPorts: Array.from({ length: masters }, (_, i) => options.masterPorts?.[i] ?? 0),
    agents: agentSpecs.map((spec) => resolveAgentSpec(spec)),
    heartbeatIntervalSeconds: positive('heartbeatIntervalSeconds', options.heartbeatIntervalSeconds ?? 15),
    allocationIntervalMs: positive('allocationIntervalMs', options.allocationIntervalMs ?? 1000),
    agentPingTimeoutMs: nonNegative('agentPingTimeoutMs', options.agentPingTimeoutMs ?? 75_000),
    agentReregisterDelayMs: nonNegative('agentReregisterDelayMs', options.agentReregisterDelayMs ?? 0),
    masterStartingMs: nonNegative('masterStartingMs', options.masterStartingMs ?? 50),
    statusUpdateRetryMs: {
      initial: positive('statusUpdateRetryMs.initial', retry.initial),
      max: positive('statusUpdateRetryMs.max', Math.max(retry.initial, retry.max)),
    },
    execution: options.execution ?? 'simulate',
    executorStartMs: nonNegative('executorStartMs', options.executorStartMs ?? DEFAULT_EXECUTOR_START_MS),
    executorStartConcurrency: positive(
      'executorStartConcurrency',
      options.executorStartConcurrency ?? Number.MAX_SAFE_INTEGER,
    ),
    launchDelayMs: nonNegative('simulation.launchDelayMs', options.simulation?.launchDelayMs ?? 0),
    killDelayMs: nonNegative('simulation.killDelayMs', options.simulation?.killDelayMs ?? 0),
    behavior: options.simulation?.behavior,
    defaultKillGracePeriodMs: nonNegative(
      'defaultKillGracePeriodMs',
      options.defaultKillGracePeriodMs ?? 3000,
    ),
    executorShutdownGracePeriodMs: nonNegative(
      'executorShutdownGracePeriodMs',
      options.executorShutdownGracePeriodMs ?? 5000,
    ),
    executorRegistrationTimeoutMs: positive(
      'executorRegistrationTimeoutMs',
      options.executorRegistrationTimeoutMs ?? 60_000,
    ),
    executorReregistrationTimeoutMs: positive(
      'executorReregistrationTimeoutMs',
      options.executorReregistrationTimeoutMs ?? 2000,
    ),
    recoveryTimeoutMs: positive('recoveryTimeoutMs', options.recoveryTimeoutMs ?? 15 * 60_000),
    workDir: options.workDir,
    authentication: options.authentication,
    random: options.random ?? Math.random,
    containerRuntime: containerRuntimeOf(options.containerRuntime),
  };
}

/** The container runtime option, checked. */
function containerRuntimeOf(runtime: FakeContainerRuntime | undefined): FakeContainerRuntime | undefined {
  if (runtime === undefined) return undefined;
  if (typeof runtime.command !== 'string' || runtime.command === '')
    throw new RangeError("containerRuntime.command must name the runtime's CLI");
  return runtime;
}

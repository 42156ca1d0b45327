/** Tasks, executors, commands, checks (mesos.proto `TaskInfo` and friends, spec §6.7). */
import type { CheckType, DiscoveryVisibility, ExecutorType, NetworkProtocol } from '../enums.js';
import type {
  AgentID,
  Base64,
  DurationInfo,
  Environment,
  ExecutorID,
  FrameworkID,
  Labels,
  Scalar,
  TaskID,
} from './common.js';
import type { ContainerInfo } from './containers.js';
import type { Resource } from './resources.js';

/** `CommandInfo.URI`: fetched into the sandbox before the command runs; `extract` defaults to true. */
export interface CommandURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

/**
 * `CommandInfo`. `shell` defaults to true (`/bin/sh -c value`, `arguments` ignored); with
 * `shell: false`, `value` is the executable and `arguments[0]` is argv[0] (spec §9.14).
 */
export interface CommandInfo {
  uris?: CommandURI[];
  environment?: Environment;
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

/** `HealthCheck.HTTPCheckInfo`: checked on 127.0.0.1 inside the task's network namespace. */
export interface HTTPCheckInfo {
  protocol?: NetworkProtocol;
  /** `"http"` or `"https"`. */
  scheme?: string;
  port: number;
  path?: string;
  statuses?: number[];
}

/**
 * `HealthCheck`: built-in executors kill the task after `consecutive_failures` and report
 * `healthy`. Defaults (seconds): delay 15, interval 10, timeout 20, grace period 10; failures 3.
 */
export interface HealthCheck {
  type?: CheckType;
  command?: CommandInfo;
  http?: HTTPCheckInfo;
  tcp?: { protocol?: NetworkProtocol; port: number };
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
}

/** `CheckInfo`: a check that reports (`check_status`) but never kills. */
export interface CheckInfo {
  type?: CheckType;
  command?: { command: CommandInfo };
  http?: { port: number; path?: string };
  tcp?: { port: number };
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
}

/** `KillPolicy`: how long to wait between the graceful and the forcible kill. */
export interface KillPolicy {
  grace_period?: DurationInfo;
}

/** `Port` for service discovery. */
export interface DiscoveryPort {
  number: number;
  name?: string;
  protocol?: string;
  visibility?: DiscoveryVisibility;
  labels?: Labels;
}

/** `DiscoveryInfo`: not interpreted by Mesos; for service discovery systems. */
export interface DiscoveryInfo {
  visibility: DiscoveryVisibility;
  name?: string;
  environment?: string;
  location?: string;
  version?: string;
  ports?: { ports?: DiscoveryPort[] };
  labels?: Labels;
}

/**
 * `ExecutorInfo`. `type` is required for LAUNCH_GROUP (DEFAULT) and must be CUSTOM/unset for
 * LAUNCH; `command` is required for CUSTOM and forbidden for DEFAULT; `framework_id` must be set
 * by you for LAUNCH_GROUP.
 */
export interface ExecutorInfo {
  type?: ExecutorType;
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
  /** Deprecated since 1.0. */
  source?: string;
  data?: Base64;
  discovery?: DiscoveryInfo;
  shutdown_grace_period?: DurationInfo;
  labels?: Labels;
}

/**
 * `TaskInfo`: exactly one of `command` or `executor` for LAUNCH. `limits` is
 * `map<string, Value.Scalar>` in mesos.proto, so on the wire it is
 * `{"cpus": {"value": 1.5}, "mem": {"value": Infinity}}` (the encoder writes `Infinity` as the
 * string `"Infinity"`, which Mesos accepts for doubles).
 */
export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  health_check?: HealthCheck;
  check?: CheckInfo;
  kill_policy?: KillPolicy;
  data?: Base64;
  labels?: Labels;
  discovery?: DiscoveryInfo;
  max_completion_time?: DurationInfo;
  limits?: Record<string, Scalar>;
}

/** `TaskGroupInfo`: tasks delivered atomically to one executor (LAUNCH_GROUP). */
export interface TaskGroupInfo {
  tasks?: TaskInfo[];
}

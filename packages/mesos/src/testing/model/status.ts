import { int64 } from '../wire/mesos-json.js';

/**
 * Task states and `TaskStatus` JSON as Mesos writes it. Builders emit fields in `.proto`
 * declaration order, because Mesos' JSON follows it.
 */

/** Every `TaskState` name. */
export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

export type StatusSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

const TERMINAL: ReadonlySet<string> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/** Mesos' terminal set: the states after which a task's resources are released. */
export function isTerminalState(state: string): boolean {
  return TERMINAL.has(state);
}

const PARTITION_AWARE_ONLY: ReadonlySet<string> = new Set([
  'TASK_UNREACHABLE',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
]);

/** The state a framework without PARTITION_AWARE receives instead of `state` (spec §4.4). */
export function legacyState(state: TaskState, partitionAware: boolean): TaskState {
  return !partitionAware && PARTITION_AWARE_ONLY.has(state) ? 'TASK_LOST' : state;
}

/** `ContainerStatus` JSON: the container, its IPv4 address, and the executor pid when known. */
export interface ContainerStatusJson {
  container_id: { value: string; parent?: { value: string } };
  network_infos?: Array<{ ip_addresses: Array<{ protocol: 'IPv4'; ip_address: string }> }>;
  executor_pid?: number;
}

/** `TaskStatus` JSON (only the fields the fake produces or copies). */
export interface TaskStatusJson {
  task_id: { value: string };
  state: TaskState;
  message?: string;
  source?: StatusSource;
  reason?: string;
  data?: string;
  agent_id?: { value: string };
  executor_id?: { value: string };
  timestamp?: number;
  uuid?: string;
  healthy?: boolean;
  check_status?: unknown;
  labels?: unknown;
  container_status?: ContainerStatusJson;
  unreachable_time?: { nanoseconds: string };
  limitation?: unknown;
}

/** The inputs of `buildStatus`; `undefined` leaves a field out. */
export interface StatusFields {
  state: TaskState;
  message?: string;
  source: StatusSource;
  reason?: string;
  data?: string;
  agentId?: string;
  executorId?: string;
  timestamp: number;
  uuid?: string;
  healthy?: boolean;
  checkStatus?: unknown;
  labels?: unknown;
  containerStatus?: ContainerStatusJson;
  /** Nanoseconds since the epoch. */
  unreachableTime?: bigint;
  limitation?: unknown;
}

/** Builds a `TaskStatus` with fields in declaration order. */
export function buildStatus(taskId: string, fields: StatusFields): TaskStatusJson {
  const status: TaskStatusJson = { task_id: { value: taskId }, state: fields.state };
  if (fields.message !== undefined) status.message = fields.message;
  status.source = fields.source;
  if (fields.reason !== undefined) status.reason = fields.reason;
  if (fields.data !== undefined) status.data = fields.data;
  if (fields.agentId !== undefined) status.agent_id = { value: fields.agentId };
  if (fields.executorId !== undefined) status.executor_id = { value: fields.executorId };
  status.timestamp = fields.timestamp;
  if (fields.uuid !== undefined) status.uuid = fields.uuid;
  if (fields.healthy !== undefined) status.healthy = fields.healthy;
  if (fields.checkStatus !== undefined) status.check_status = fields.checkStatus;
  if (fields.labels !== undefined) status.labels = fields.labels;
  if (fields.containerStatus !== undefined) status.container_status = fields.containerStatus;
  if (fields.unreachableTime !== undefined)
    status.unreachable_time = { nanoseconds: int64(fields.unreachableTime) };
  if (fields.limitation !== undefined) status.limitation = fields.limitation;
  return status;
}

/** Rewrites the state for a framework without PARTITION_AWARE (returns the same object when unchanged). */
export function statusForFramework(status: TaskStatusJson, partitionAware: boolean): TaskStatusJson {
  const state = legacyState(status.state, partitionAware);
  return state === status.state ? status : { ...status, state };
}

/** The `strsignal` text Mesos puts after "Command terminated with signal ". */
export function signalDescription(signal: string): string {
  const names: Record<string, string> = {
    SIGTERM: 'Terminated',
    SIGKILL: 'Killed',
    SIGINT: 'Interrupt',
    SIGHUP: 'Hangup',
    SIGQUIT: 'Quit',
    SIGABRT: 'Aborted',
    SIGSEGV: 'Segmentation fault',
    SIGPIPE: 'Broken pipe',
    SIGUSR1: 'User defined signal 1',
    SIGUSR2: 'User defined signal 2',
    SIGALRM: 'Alarm clock',
    SIGBUS: 'Bus error',
    SIGFPE: 'Floating point exception',
    SIGILL: 'Illegal instruction',
    SIGTRAP: 'Trace/breakpoint trap',
  };
  return names[signal] ?? signal;
}

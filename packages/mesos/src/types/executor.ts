/**
 * The v1 executor API (`mesos.v1.executor.Call` / `Event`, spec §3) as discriminated unions on
 * `type`.
 */
import type {
  AgentInfo,
  Base64,
  ContainerID,
  ExecutorID,
  ExecutorInfo,
  FrameworkID,
  FrameworkInfo,
  KillPolicy,
  TaskGroupInfo,
  TaskID,
  TaskInfo,
  TaskStatus,
} from './mesos.js';

/** Executor call type names. */
export const EXECUTOR_CALL_TYPES = ['SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT'] as const;
/** An executor call type. */
export type ExecutorCallType = (typeof EXECUTOR_CALL_TYPES)[number];

/** Executor event type names. */
export const EXECUTOR_EVENT_TYPES = [
  'SUBSCRIBED',
  'LAUNCH',
  'LAUNCH_GROUP',
  'KILL',
  'ACKNOWLEDGED',
  'MESSAGE',
  'ERROR',
  'SHUTDOWN',
  'HEARTBEAT',
] as const;
/** An executor event type. */
export type ExecutorEventType = (typeof EXECUTOR_EVENT_TYPES)[number];

/**
 * `Call.Update`: `status.uuid` must be 16 random bytes (RFC 4122 v4) in base64, `status.source`
 * SOURCE_EXECUTOR, `status.state` not TASK_STAGING.
 */
export interface ExecutorCallUpdate {
  status: TaskStatus;
}
/**
 * `Call.Subscribe`: send `{}` on first start; on resubscription every task and update the agent
 * has not acknowledged yet (spec §3.4).
 */
export interface ExecutorCallSubscribe {
  unacknowledged_tasks?: TaskInfo[];
  unacknowledged_updates?: ExecutorCallUpdate[];
}
/** `Call.Message`: opaque bytes to the scheduler (unreliable). */
export interface ExecutorCallMessage {
  data: Base64;
}

/** Fields every executor call must carry (from MESOS_EXECUTOR_ID / MESOS_FRAMEWORK_ID). */
interface ExecutorCallEnvelope {
  executor_id: ExecutorID;
  framework_id: FrameworkID;
}

/** `mesos.v1.executor.Call`. */
export type ExecutorCall =
  | (ExecutorCallEnvelope & { type: 'SUBSCRIBE'; subscribe: ExecutorCallSubscribe })
  | (ExecutorCallEnvelope & { type: 'UPDATE'; update: ExecutorCallUpdate })
  | (ExecutorCallEnvelope & { type: 'MESSAGE'; message: ExecutorCallMessage })
  | (ExecutorCallEnvelope & { type: 'HEARTBEAT' });

/** The executor call variant of one type. */
export type ExecutorCallOf<T extends ExecutorCallType> = Extract<ExecutorCall, { type: T }>;

/** `Event.Subscribed`: carries `agent_info` (not `agent_id`) and `container_id`. */
export interface ExecutorEventSubscribed {
  executor_info: ExecutorInfo;
  framework_info: FrameworkInfo;
  agent_info: AgentInfo;
  container_id?: ContainerID;
}
/** `Event.Launch`: only `task`. */
export interface ExecutorEventLaunch {
  task: TaskInfo;
}
/** `Event.LaunchGroup`. */
export interface ExecutorEventLaunchGroup {
  task_group: TaskGroupInfo;
}
/** `Event.Kill`: `kill_policy` overrides the task's. */
export interface ExecutorEventKill {
  task_id: TaskID;
  kill_policy?: KillPolicy;
}
/** `Event.Acknowledged`: the AGENT durably took over this update; never resend it. */
export interface ExecutorEventAcknowledged {
  task_id: TaskID;
  uuid: Base64;
}
/** `Event.Message`. */
export interface ExecutorEventMessage {
  data: Base64;
}
/** `Event.Error` (legacy). */
export interface ExecutorEventError {
  message: string;
}

/** `mesos.v1.executor.Event`. */
export type ExecutorEvent =
  | { type: 'SUBSCRIBED'; subscribed: ExecutorEventSubscribed }
  | { type: 'LAUNCH'; launch: ExecutorEventLaunch }
  | { type: 'LAUNCH_GROUP'; launch_group: ExecutorEventLaunchGroup }
  | { type: 'KILL'; kill: ExecutorEventKill }
  | { type: 'ACKNOWLEDGED'; acknowledged: ExecutorEventAcknowledged }
  | { type: 'MESSAGE'; message: ExecutorEventMessage }
  | { type: 'ERROR'; error: ExecutorEventError }
  | { type: 'SHUTDOWN' }
  | { type: 'HEARTBEAT' };

/** The executor event variant of one type. */
export type ExecutorEventOf<T extends ExecutorEventType> = Extract<ExecutorEvent, { type: T }>;

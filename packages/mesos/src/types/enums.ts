/**
 * Every enum of the Mesos v1 APIs that Galley speaks, as string-literal unions (Mesos JSON writes
 * enum values as their names, spec §0 and Appendix A). Each union has a matching `readonly` list
 * so code can iterate or validate at run time.
 *
 * Events from a newer master may carry names that are not listed here (Mesos adds values over
 * time); code that switches over these unions must keep a default branch.
 */

/** `TaskState` (mesos.proto). See spec §4.3 for what each state means. */
export const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
] as const;
/** A task state name. */
export type TaskState = (typeof TASK_STATES)[number];

/**
 * The states Mesos itself treats as terminal (resources released): FINISHED, FAILED, KILLED,
 * ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR. LOST and GONE_BY_OPERATOR may still resurrect
 * (spec §4.3); UNREACHABLE and UNKNOWN are not terminal.
 */
export const TERMINAL_TASK_STATES: readonly TaskState[] = [
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
];

const terminal = new Set<string>(TERMINAL_TASK_STATES);

/** True when Mesos treats `state` as terminal (see TERMINAL_TASK_STATES). Unknown names: false. */
export function isTerminalTaskState(state: string): boolean {
  return terminal.has(state);
}

/** `TaskStatus.Source`. */
export const TASK_STATUS_SOURCES = ['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR'] as const;
/** Who generated a status update. */
export type TaskStatusSource = (typeof TASK_STATUS_SOURCES)[number];

/** `TaskStatus.Reason` (v1 spelling: `REASON_AGENT_*`, never `REASON_SLAVE_*`). */
export const TASK_STATUS_REASONS = [
  'REASON_COMMAND_EXECUTOR_FAILED',
  'REASON_CONTAINER_LAUNCH_FAILED',
  'REASON_CONTAINER_LIMITATION',
  'REASON_CONTAINER_LIMITATION_DISK',
  'REASON_CONTAINER_LIMITATION_MEMORY',
  'REASON_CONTAINER_PREEMPTED',
  'REASON_CONTAINER_UPDATE_FAILED',
  'REASON_MAX_COMPLETION_TIME_REACHED',
  'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_TERMINATED',
  'REASON_EXECUTOR_UNREGISTERED',
  'REASON_FRAMEWORK_REMOVED',
  'REASON_GC_ERROR',
  'REASON_INVALID_FRAMEWORKID',
  'REASON_INVALID_OFFERS',
  'REASON_IO_SWITCHBOARD_EXITED',
  'REASON_MASTER_DISCONNECTED',
  'REASON_RECONCILIATION',
  'REASON_RESOURCES_UNKNOWN',
  'REASON_AGENT_DISCONNECTED',
  'REASON_AGENT_DRAINING',
  'REASON_AGENT_REMOVED',
  'REASON_AGENT_REMOVED_BY_OPERATOR',
  'REASON_AGENT_REREGISTERED',
  'REASON_AGENT_RESTARTED',
  'REASON_AGENT_UNKNOWN',
  'REASON_TASK_KILLED_DURING_LAUNCH',
  'REASON_TASK_CHECK_STATUS_UPDATED',
  'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  'REASON_TASK_GROUP_INVALID',
  'REASON_TASK_GROUP_UNAUTHORIZED',
  'REASON_TASK_INVALID',
  'REASON_TASK_UNAUTHORIZED',
  'REASON_TASK_UNKNOWN',
] as const;
/** Why a status update was sent. Absent on plain exits of command tasks (transcripts, item 7). */
export type TaskStatusReason = (typeof TASK_STATUS_REASONS)[number];

/** `Offer.Operation.Type`. */
export const OFFER_OPERATION_TYPES = [
  'LAUNCH',
  'LAUNCH_GROUP',
  'RESERVE',
  'UNRESERVE',
  'CREATE',
  'DESTROY',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'CREATE_DISK',
  'DESTROY_DISK',
] as const;
/** An offer operation kind. */
export type OfferOperationType = (typeof OFFER_OPERATION_TYPES)[number];

/** `OperationState`. */
export const OPERATION_STATES = [
  'OPERATION_UNSUPPORTED',
  'OPERATION_PENDING',
  'OPERATION_FINISHED',
  'OPERATION_FAILED',
  'OPERATION_ERROR',
  'OPERATION_DROPPED',
  'OPERATION_UNREACHABLE',
  'OPERATION_GONE_BY_OPERATOR',
  'OPERATION_RECOVERING',
  'OPERATION_UNKNOWN',
] as const;
/** The state of an offer operation that asked for feedback (`Offer.Operation.id` set). */
export type OperationState = (typeof OPERATION_STATES)[number];

/** `FrameworkInfo.Capability.Type`. */
export const FRAMEWORK_CAPABILITIES = [
  'REVOCABLE_RESOURCES',
  'TASK_KILLING_STATE',
  'GPU_RESOURCES',
  'SHARED_RESOURCES',
  'PARTITION_AWARE',
  'MULTI_ROLE',
  'RESERVATION_REFINEMENT',
  'REGION_AWARE',
] as const;
/** A framework capability (spec §1.2 table, §4.4, §6.2). */
export type FrameworkCapabilityType = (typeof FRAMEWORK_CAPABILITIES)[number];

/** `MasterInfo.Capability.Type` as written by Mesos 1.12. */
export type MasterCapabilityType = 'AGENT_UPDATE' | 'AGENT_DRAINING' | 'QUOTA_V2';

/** `AgentInfo.Capability.Type`. */
export type AgentCapabilityType =
  | 'MULTI_ROLE'
  | 'HIERARCHICAL_ROLE'
  | 'RESERVATION_REFINEMENT'
  | 'RESOURCE_PROVIDER'
  | 'RESIZE_VOLUME'
  | 'AGENT_OPERATION_FEEDBACK'
  | 'AGENT_DRAINING';

/** `Value.Type`: which of `scalar`, `ranges`, `set`, `text` a value or attribute carries. */
export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';
/** `Resource.ReservationInfo.Type`. */
export type ReservationType = 'STATIC' | 'DYNAMIC';
/** `ExecutorInfo.Type`: DEFAULT (Mesos' default executor) or CUSTOM (your `command`). */
export type ExecutorType = 'DEFAULT' | 'CUSTOM';
/** `ContainerInfo.Type`. */
export type ContainerType = 'DOCKER' | 'MESOS';
/** `ContainerInfo.DockerInfo.Network` (default HOST). */
export type DockerNetwork = 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
/** `Image.Type`. */
export type ImageType = 'APPC' | 'DOCKER';
/** `Volume.Mode`. */
export type VolumeMode = 'RW' | 'RO';
/** `Volume.Source.Type`. */
export type VolumeSourceType = 'DOCKER_VOLUME' | 'HOST_PATH' | 'SANDBOX_PATH' | 'SECRET' | 'CSI_VOLUME';
/** `Volume.Source.SandboxPath.Type`. */
export type SandboxPathType = 'SELF' | 'PARENT';
/** `MountPropagation.Mode`. */
export type MountPropagationMode = 'HOST_TO_CONTAINER' | 'BIDIRECTIONAL';
/** `NetworkInfo.Protocol` (note the mixed case, as Mesos spells it). */
export type NetworkProtocol = 'IPv4' | 'IPv6';
/** `HealthCheck.Type` and `CheckInfo.Type`. */
export type CheckType = 'COMMAND' | 'HTTP' | 'TCP';
/** `DiscoveryInfo.Visibility`. */
export type DiscoveryVisibility = 'FRAMEWORK' | 'CLUSTER' | 'EXTERNAL';
/** `Environment.Variable.Type` (default VALUE). */
export type EnvironmentVariableType = 'VALUE' | 'SECRET';
/** `Secret.Type`. */
export type SecretType = 'REFERENCE' | 'VALUE';
/** `Resource.DiskInfo.Source.Type`. MOUNT and BLOCK disks are indivisible (spec §6.2). */
export type DiskSourceType = 'PATH' | 'MOUNT' | 'BLOCK' | 'RAW';
/** `MachineInfo.Mode` (maintenance). */
export type MachineMode = 'UP' | 'DRAINING' | 'DOWN';
/** `LinuxInfo.IpcMode`. */
export type IpcMode = 'PRIVATE' | 'SHARE_PARENT';
/** `RLimitInfo.RLimit.Type`. */
export type RLimitType =
  | 'RLMT_AS'
  | 'RLMT_CORE'
  | 'RLMT_CPU'
  | 'RLMT_DATA'
  | 'RLMT_FSIZE'
  | 'RLMT_LOCKS'
  | 'RLMT_MEMLOCK'
  | 'RLMT_MSGQUEUE'
  | 'RLMT_NICE'
  | 'RLMT_NOFILE'
  | 'RLMT_NPROC'
  | 'RLMT_RSS'
  | 'RLMT_RTPRIO'
  | 'RLMT_RTTIME'
  | 'RLMT_SIGPENDING'
  | 'RLMT_STACK';
/** `AttributeConstraint.Selector.PseudoattributeType` (scheduler.proto, Mesos 1.11+). */
export type PseudoattributeType = 'HOSTNAME' | 'REGION' | 'ZONE';

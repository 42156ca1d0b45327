export {
  HealthPoller,
  type HealthPollerHandlers,
  type PolledTask,
  type PollerSettings,
} from './health-poller.js';
export {
  endsTask,
  InstanceTable,
  type Effect,
  type Instance,
  type InstancePhase,
  type KillReason,
  type RemovalReason,
  type TaskEvent,
  type TaskView,
} from './instances.js';
export { instanceName, newTaskId, parseTaskId, serialVariable } from './naming.js';
export {
  planRound,
  roleHasWaiting,
  type PlannedAccept,
  type PlannedLaunch,
  type RoundContext,
  type RoundPlan,
} from './planner.js';
export {
  DEFAULT_RESTART_ON,
  resolveSpecs,
  restartDelay,
  TaskSpecError,
  type HealthPollerSpec,
  type ResolvedSpec,
  type RestartBackoff,
  type TaskExecutorSpec,
  type TaskPortMapping,
  type TaskResources,
  type TaskSpec,
} from './spec.js';
export {
  buildTask,
  executorIdFor,
  launchEnvironment,
  type BuiltTask,
  type LaunchInput,
} from './task-info.js';
export {
  TaskManagerEmitter,
  TaskManagerError,
  type OffersAccepted,
  type TaskManagerEvent,
  type TaskManagerEventName,
  type TaskManagerEventOf,
  type TaskManagerFailure,
  type UnknownTask,
} from './events.js';
export {
  createTaskManager,
  TaskManager,
  type TaskManagerMessage,
  type TaskManagerOptions,
} from './manager.js';

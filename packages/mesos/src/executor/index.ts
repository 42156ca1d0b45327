/** The v1 executor client and the galley-executor command executor. */
export {
  createExecutor,
  newStatusUuid,
  ExecutorClient,
  type ExecutorHandlers,
  type ExecutorLifecycleEvent,
  type ExecutorOptions,
  type StatusInput,
} from './client.js';
export { executorConfigFromEnv, parseStoutDuration, type ExecutorConfig } from './config.js';
export { ExecutorError, type ExecutorErrorCode } from './errors.js';
export {
  DEFAULT_SHARED_IDLE_TIMEOUT_MS,
  runCommandExecutor,
  sharedTaskDirectory,
  type CommandExecutorOptions,
  type CommandExecutorExit,
} from './command-executor.js';
export { describeExit, TaskProcess, taskEnvironment, type TaskExit } from './task-process.js';
export {
  decodeTaskUsage,
  encodeTaskUsage,
  parseProcStat,
  TaskUsageSampler,
  type TaskUsage,
} from './task-usage.js';

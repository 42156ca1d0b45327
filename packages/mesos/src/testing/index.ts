/**
 * `@galley/mesos/testing`: a faithful fake Mesos master (and agents) on 127.0.0.1 that speaks the
 * real v1 HTTP API and RecordIO, for tests of schedulers and executors. See README.md beside this file.
 */
export { startFakeMesos, type FakeMesos } from './fake-mesos.js';
export type {
  FakeMesosOptions,
  FakeAgentSpec,
  FakeContainerRuntime,
  FakeCredential,
  SimulatedBehavior,
  SimulatedTask,
} from './options.js';
export type { FailoverOptions } from './master/failover.js';
export type {
  AgentSnapshot,
  CallFilter,
  FakeMesosState,
  FrameworkSnapshot,
  MasterSnapshot,
  OfferSnapshot,
  TaskSnapshot,
} from './inspection.js';
export type { FilterSnapshot } from './master/filters.js';
export type { RecordedCall, ExecutorMessage } from './model/world.js';
export { filterDurationMs, DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS } from './master/filters.js';

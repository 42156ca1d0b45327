/** The scheduler client: session, ordered queue, acknowledgements, reconciliation. */
export { createScheduler } from './create.js';
export { MesosScheduler } from './scheduler.js';
export * as calls from './calls.js';
export { toId, type IdLike } from './calls.js';
export {
  type SchedulerOptions,
  type SchedulerHandlers,
  type HandlerContext,
  type ResolvedSchedulerOptions,
  resolveSchedulerOptions,
  DEFAULT_FAILOVER_TIMEOUT_SECONDS,
} from './options.js';
export {
  transition,
  classifyErrorEvent,
  INITIAL_CONNECTION_STATE,
  type ConnectionState,
  type ConnectionPhase,
  type ConnectionEvent,
  type DisconnectReason,
  type StopReason,
  type ErrorEventKind,
} from './connection.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { type Clock, SYSTEM_CLOCK } from './clock.js';
export { SchedulerError, type SchedulerErrorCode } from './errors.js';
export type { QueueItem } from './items.js';
export {
  SILENT_LOGGER,
  type Logger,
  type SchedulerLifecycleEvents,
  type SchedulerLifecycleEventName,
  type LifecycleListener,
} from './lifecycle.js';
export type { HeldOffers } from './offer-cache.js';
export { OrderedQueue, QueueClosedError, type OrderedQueueOptions } from './queue.js';
export { Acknowledger, BackgroundAcks, type AckDecision } from './acknowledger.js';
export {
  Reconciler,
  resolveReconciliation,
  type ReconciliationOptions,
  type ReconciliationResult,
  type ReconciliationTrigger,
  type ReconcileTaskRef,
} from './reconciler.js';
export { Watchdog } from './watchdog.js';

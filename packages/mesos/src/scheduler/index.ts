/**
 * The scheduler client. Its parts, one folder each: session/ (the subscription), calls/ (building
 * and sending calls, acknowledgements), queue/ (the ordered queue and its handlers),
 * reconciliation/, offers/ (exported on its own from the package index).
 */

// The client, its options, lifecycle events and errors.
export { createScheduler } from './create.js';
export { MesosScheduler } from './scheduler.js';
export {
  type SchedulerOptions,
  type ResolvedSchedulerOptions,
  resolveSchedulerOptions,
  DEFAULT_FAILOVER_TIMEOUT_SECONDS,
} from './options.js';
export type { SchedulerHandlers, HandlerContext, SchedulerClient } from './handlers.js';
export {
  SILENT_LOGGER,
  type Logger,
  type SchedulerLifecycleEvents,
  type SchedulerLifecycleEventName,
  type LifecycleListener,
} from './lifecycle.js';
export { SchedulerError, type SchedulerErrorCode } from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { type Clock, SYSTEM_CLOCK } from './clock.js';

// The session: connection phases and the heartbeat watchdog.
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
} from './session/connection.js';
export { Watchdog } from './session/watchdog.js';

// The calls: builders and acknowledgement bookkeeping.
export * as calls from './calls/builders.js';
export { toId, type IdLike } from './calls/builders.js';
export { Acknowledger, BackgroundAcks, type AckDecision } from './calls/acknowledgements.js';

// The ordered queue.
export type { QueueItem } from './queue/items.js';
export { OrderedQueue, QueueClosedError, type OrderedQueueOptions } from './queue/ordered-queue.js';

// Reconciliation.
export {
  Reconciler,
  resolveReconciliation,
  type ReconciliationOptions,
  type ReconciliationResult,
  type ReconciliationTrigger,
  type ReconcileTaskRef,
} from './reconciliation/reconciler.js';

// The offers the scheduler holds now (offers/ has the rest).
export type { HeldOffers } from './offers/held-offers.js';

/**
 * The ordered handlers and what each is given: its context, in which the scheduler is seen as a
 * `SchedulerClient`, the public face of `MesosScheduler` (which implements it). Kept apart from
 * ./scheduler.ts so that the options, the queue's dispatcher and the scheduler all depend on this
 * file and not on one another.
 */
import type { SchedulerEventOf, SchedulerEventType, TaskStatus } from '../types/index.js';
import type { SchedulerCallMethods } from './calls/methods.js';
import type { LifecycleListener, SchedulerLifecycleEventName } from './lifecycle.js';
import type { HeldOffers } from './offers/held-offers.js';
import type { QueueItem } from './queue/items.js';
import type { ReconciliationResult } from './reconciliation/reconciler.js';
import type { ConnectionState } from './session/connection.js';

/** What a handler gets besides its event or message. */
export interface HandlerContext<M> {
  scheduler: SchedulerClient<M>;
  /** The queue item being handled. */
  item: QueueItem<M>;
  /**
   * Acknowledges the UPDATE (or UPDATE_OPERATION_STATUS) being handled, if it carries a uuid;
   * a no-op otherwise. Needed only with `acknowledge: 'manual'`.
   */
  acknowledge(): Promise<void>;
}

/**
 * Ordered handlers: one per Mesos event type (the event is narrowed to that type), and `user`
 * for messages given to `scheduler.send()`. All run one at a time, in arrival order.
 */
export type SchedulerHandlers<M> = {
  [T in SchedulerEventType]?: (event: SchedulerEventOf<T>, context: HandlerContext<M>) => unknown;
} & {
  user?: (message: M, context: HandlerContext<M>) => unknown;
};

/**
 * The scheduler client's public methods: every call (`SchedulerCallMethods`) and the rest of
 * `MesosScheduler`, which documents each.
 */
export interface SchedulerClient<M> extends SchedulerCallMethods {
  /** The connection phase now. */
  readonly state: ConnectionState;
  /** The framework id (from the store or the last SUBSCRIBED); undefined before the first one. */
  readonly id: string | undefined;
  /** The offers held right now (cleared on every disconnect). */
  readonly offers: HeldOffers;
  /** Items waiting in the ordered queue. */
  readonly queued: number;
  start(): void;
  stop(): Promise<void>;
  teardown(): Promise<void>;
  send(message: M): Promise<void>;
  handle<K extends keyof SchedulerHandlers<M>>(type: K, handler: SchedulerHandlers<M>[K] | undefined): void;
  on<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): () => void;
  off<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): void;
  subscribed(signal?: AbortSignal): Promise<Extract<ConnectionState, { phase: 'SUBSCRIBED' }>>;
  reconcile(): Promise<ReconciliationResult>;
  acknowledge(status: TaskStatus): Promise<void>;
}

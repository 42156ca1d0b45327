/**
 * The scheduler client, wiring its four parts together:
 * - the session (./session/): one subscription to the leading master, its Mesos-Stream-Id and
 *   heartbeats, re-made whenever it is lost;
 * - the calls (./calls/): building calls and sending them on the current subscription (SUPPRESS
 *   and REVIVE in order), and acknowledgements;
 * - the ordered queue (./queue/): every Mesos event and user message handed to the handlers one
 *   at a time;
 * - reconciliation (./reconciliation/): asking the master for the state of tasks.
 *
 *   session ──events──► OrderedQueue (bounded; full ⇒ the stream is not read)
 *           ──► handlers, one at a time ──► ACKNOWLEDGE (uuid updates, after their handler)
 *   reconciler ──RECONCILE──► calls ; UPDATEs handled ──► reconciler bookkeeping
 *
 * It never throws out of the process on connection problems: they become `disconnected`,
 * `reconnecting` and `error` lifecycle events.
 */
import type { MesosHttpClient, MesosResponse } from '../http/client.js';
import type { MasterDetector } from '../master/detector.js';
import type { SchedulerCall, SchedulerCallOf, TaskStatus } from '../types/index.js';
import { Acknowledger } from './calls/acknowledgements.js';
import { SchedulerCallMethods } from './calls/methods.js';
import * as calls from './calls/builders.js';
import type { IdLike } from './calls/builders.js';
import { CallSender } from './calls/sender.js';
import type { ConnectionState } from './session/connection.js';
import { Dispatcher } from './queue/dispatcher.js';
import { SchedulerError } from './errors.js';
import type { QueueItem } from './queue/items.js';
import { LifecycleEmitter, type LifecycleListener, type SchedulerLifecycleEventName } from './lifecycle.js';
import { type HeldOffers, OfferCache } from './offers/held-offers.js';
import type { SchedulerClient, SchedulerHandlers } from './handlers.js';
import type { ResolvedSchedulerOptions } from './options.js';
import { OrderedQueue } from './queue/ordered-queue.js';
import { Reconciler, type ReconciliationResult } from './reconciliation/reconciler.js';
import { Session } from './session/session.js';

/** The scheduler client. Build it with `createScheduler`. */
export class MesosScheduler<M = never> extends SchedulerCallMethods implements SchedulerClient<M> {
  private readonly emitter: LifecycleEmitter<M>;
  private readonly queue: OrderedQueue<QueueItem<M>>;
  private readonly offerCache = new OfferCache();
  private readonly acks: Acknowledger;
  private readonly reconciler: Reconciler;
  private readonly handlers: SchedulerHandlers<M>;
  private readonly session: Session<M>;
  private readonly sender: CallSender;

  /** @internal use `createScheduler`. */
  constructor(
    private readonly options: ResolvedSchedulerOptions<M>,
    http: MesosHttpClient,
    detector: MasterDetector,
    ownsDetector: boolean,
  ) {
    super();
    this.emitter = new LifecycleEmitter(options.logger);
    this.handlers = options.handlers;
    this.acks = new Acknowledger(() => options.clock.now());
    const dispatcher = new Dispatcher<M>({
      scheduler: this,
      sendAcknowledge: (call) => this.sendAcknowledge(call),
      handlers: this.handlers,
      acknowledge: options.acknowledge,
      logger: options.logger,
      noteUpdate: (taskId) => this.reconciler.noteUpdate(taskId),
    });
    this.queue = new OrderedQueue<QueueItem<M>>({
      capacity: options.queueCapacity,
      process: (item) => dispatcher.dispatch(item),
      onError: (error, item) => {
        options.logger.warn({ err: error, source: item.source }, 'scheduler handler failed');
        this.emitter.emit('handler-failed', { error, item });
      },
    });
    this.reconciler = new Reconciler(options.reconciliation, {
      clock: options.clock,
      send: (call) => this.call(call),
      onComplete: (result) => this.emitter.emit('reconciliation-complete', result),
      onError: (error) => options.logger.debug({ err: error }, 'reconciliation interrupted'),
    });
    this.session = new Session<M>({
      options,
      http,
      detector,
      ownsDetector,
      emitter: this.emitter,
      queue: this.queue,
      offers: this.offerCache,
      reconciler: this.reconciler,
      handlers: this.handlers,
    });
    this.sender = new CallSender({
      http,
      state: () => this.session.state,
      subscriptionLost: (subscription, error) => {
        if (this.session.state === subscription) this.session.dropStream({ reason: 'call-rejected', error });
      },
    });
  }

  /** The connection phase now. */
  get state(): ConnectionState {
    return this.session.state;
  }

  /** The framework id (from the store or the last SUBSCRIBED); undefined before the first one. */
  get id(): string | undefined {
    return this.session.id;
  }

  /** The offers held right now (cleared on every disconnect). */
  get offers(): HeldOffers {
    return this.offerCache;
  }

  /** Items waiting in the ordered queue. */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * Resolves when the connection loop has ended for good (stopped, failed over, torn down, given
   * up): no SUBSCRIBE or reconnect follows. At once if never started.
   */
  get ended(): Promise<void> {
    return this.session.done;
  }

  /** Starts connecting (idempotent). Progress is reported through lifecycle events. */
  start(): void {
    this.session.start();
  }

  /**
   * Stops for good: closes the subscription, cancels timers and reconciliation, drops queued
   * items and waits for the handler in progress. The master keeps the framework for its
   * failover timeout. Idempotent.
   */
  async stop(): Promise<void> {
    this.session.finish('stopped');
    await this.queue.close();
    await this.session.done;
  }

  /**
   * Sends TEARDOWN (the framework and all its tasks are removed; the id can never be used
   * again), clears the framework id store, and stops.
   */
  async teardown(): Promise<void> {
    await this.call(calls.teardown());
    this.session.finish('teardown');
    await this.options.frameworkIdStore.clear();
    await this.stop();
  }

  /**
   * Queues a user message behind everything already queued; it is handled by the `user`
   * handler. Waits while the queue is full. Rejects with QueueClosedError after `stop()`.
   */
  send(message: M): Promise<void> {
    return this.queue.push({ source: 'user', message });
  }

  /** Sets (or replaces, or with undefined removes) the ordered handler of one event type. */
  handle<K extends keyof SchedulerHandlers<M>>(type: K, handler: SchedulerHandlers<M>[K] | undefined): void {
    if (handler === undefined) delete this.handlers[type];
    else this.handlers[type] = handler;
  }

  /** Subscribes to a lifecycle event; returns the function that unsubscribes. */
  on<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): () => void {
    return this.emitter.on(name, listener);
  }

  /** Unsubscribes a lifecycle listener. */
  off<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): void {
    this.emitter.off(name, listener);
  }

  /**
   * Resolves when the scheduler is SUBSCRIBED (at once if it is). Rejects with SchedulerError
   * MESOS_SCHEDULER_STOPPED if it stops first, or with `signal`'s reason.
   */
  subscribed(signal?: AbortSignal): Promise<Extract<ConnectionState, { phase: 'SUBSCRIBED' }>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.session.state;
        if (s.phase === 'SUBSCRIBED') done(() => resolve(s));
        else if (s.phase === 'STOPPED')
          done(() =>
            reject(new SchedulerError('MESOS_SCHEDULER_STOPPED', `scheduler stopped (${s.reason})`)),
          );
      };
      const onAbort = () => done(() => reject(signal?.reason));
      const unsubscribe = this.on('state', check);
      const done = (settle: () => void) => {
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /**
   * Runs reconciliation now (or joins the run in progress). Resolves with which tasks answered
   * and which never did.
   */
  reconcile(): Promise<ReconciliationResult> {
    return this.reconciler.startOrJoin();
  }

  /** Sends a non-SUBSCRIBE call on the current subscription. See SchedulerCallMethods. */
  call(call: SchedulerCall): Promise<MesosResponse> {
    return this.sender.send(call);
  }

  /**
   * ACKNOWLEDGEs `status` if it carries a uuid and the uuid is not already acknowledged (or
   * being acknowledged). A no-op for updates without uuid (spec §4.2).
   */
  async acknowledge(status: TaskStatus): Promise<void> {
    const call = calls.acknowledgeStatus(status);
    if (call) await this.sendAcknowledge(call);
  }

  /**
   * @internal Sends an ACKNOWLEDGE built by `calls.acknowledgeStatus`, unless its uuid is already
   * acknowledged or being acknowledged (the rules of `acknowledge`).
   */
  async sendAcknowledge(call: SchedulerCallOf<'ACKNOWLEDGE'>): Promise<void> {
    const uuid = call.acknowledge.uuid;
    if (this.acks.begin(uuid) !== 'send') return;
    let ok = false;
    try {
      await this.call(call);
      ok = true;
    } finally {
      this.acks.finish(uuid, ok);
    }
  }

  protected offersUsed(offerIds: readonly IdLike[]): void {
    this.offerCache.remove(offerIds.map((id) => (typeof id === 'string' ? id : id.value)));
  }
}

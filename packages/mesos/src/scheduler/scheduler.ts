/**
 * The scheduler client: a `Session` (./session.ts) keeps one subscription to the leading master
 * and re-makes it whenever it is lost; an ordered queue hands every Mesos event and user message
 * to the handlers one at a time (./dispatcher.ts); calls go through a keep-alive pool with the
 * current subscription's Mesos-Stream-Id and framework_id.
 *
 *   session ──events──► OrderedQueue (bounded; full ⇒ the stream is not read)
 *           ──► handlers, one at a time ──► ACKNOWLEDGE (uuid updates, after their handler)
 *   reconciler ──RECONCILE──► calls ; UPDATEs handled ──► reconciler bookkeeping
 *
 * It never throws out of the process on connection problems: they become `disconnected`,
 * `reconnecting` and `error` lifecycle events.
 */
import type { MesosHttpClient, MesosResponse } from '../http/client.js';
import { isMesosTransportError } from '../http/errors.js';
import { encodeJson } from '../json/index.js';
import type { MasterDetector } from '../master/detector.js';
import type { SchedulerCall, SchedulerCallOf, TaskStatus } from '../types/index.js';
import { Acknowledger } from './acknowledger.js';
import { SchedulerCallMethods } from './call-methods.js';
import * as calls from './calls.js';
import type { IdLike } from './calls.js';
import type { ConnectionState } from './connection.js';
import { Dispatcher } from './dispatcher.js';
import { SchedulerError } from './errors.js';
import type { QueueItem } from './items.js';
import { LifecycleEmitter, type LifecycleListener, type SchedulerLifecycleEventName } from './lifecycle.js';
import { type HeldOffers, OfferCache } from './offer-cache.js';
import type { ResolvedSchedulerOptions, SchedulerHandlers } from './options.js';
import { OrderedQueue } from './queue.js';
import { Reconciler, type ReconciliationResult } from './reconciler.js';
import { Session } from './session.js';

/** The scheduler client. Build it with `createScheduler`. */
export class MesosScheduler<M = never> extends SchedulerCallMethods {
  private readonly emitter: LifecycleEmitter<M>;
  private readonly queue: OrderedQueue<QueueItem<M>>;
  private readonly offerCache = new OfferCache();
  private readonly acks: Acknowledger;
  private readonly reconciler: Reconciler;
  private readonly handlers: SchedulerHandlers<M>;
  private readonly session: Session<M>;
  /** The calls endpoint and Mesos-Stream-Id header of the last subscription a call used. */
  private route: { master: string; streamId: string; url: URL; headers: Record<string, string> } | undefined;
  /** The last order-sensitive call (see ORDERED_CALLS) sent: the next one waits for its answer. */
  private orderedTail: Promise<unknown> = Promise.resolve();

  /** @internal use `createScheduler`. */
  constructor(
    private readonly options: ResolvedSchedulerOptions<M>,
    private readonly http: MesosHttpClient,
    detector: MasterDetector,
    ownsDetector: boolean,
  ) {
    super();
    this.emitter = new LifecycleEmitter(options.logger);
    this.handlers = options.handlers;
    this.acks = new Acknowledger(() => options.clock.now());
    const dispatcher = new Dispatcher<M>({
      scheduler: this,
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
  async call(call: SchedulerCall): Promise<MesosResponse> {
    const s = this.session.state;
    if (call.type === 'SUBSCRIBE')
      throw new SchedulerError('MESOS_BAD_OPTIONS', 'SUBSCRIBE is made by the scheduler itself');
    if (s.phase !== 'SUBSCRIBED') {
      throw new SchedulerError('MESOS_NOT_SUBSCRIBED', `cannot send ${call.type} while ${s.phase}`);
    }
    const body = encodeCall(call, s.frameworkId);
    if (ORDERED_CALLS.has(call.type)) {
      // Calls go out on many keep-alive connections, so two calls sent back to back can reach
      // the master in either order. For these the order is the meaning (a SUPPRESS overtaken by
      // a later REVIVE leaves the framework suppressed with work waiting), so each one is sent
      // only once the master has answered the one before: the master queues a call before it
      // answers 202, so the answers' order is the order it acts in.
      const sent = this.orderedTail.then(
        () => this.post(s, body),
        () => this.post(s, body),
      );
      this.orderedTail = sent.catch(() => undefined);
      return sent;
    }
    // Returned, not awaited: once encoded, the call (an ACCEPT's TaskInfos, say) can be
    // collected while its answer is awaited.
    return this.post(s, body);
  }

  private async post(s: SubscribedState, body: string): Promise<MesosResponse> {
    let route = this.route;
    if (route === undefined || route.master !== s.master || route.streamId !== s.streamId) {
      route = {
        master: s.master,
        streamId: s.streamId,
        url: schedulerEndpoint(s.master),
        headers: { 'Mesos-Stream-Id': s.streamId },
      };
      this.route = route;
    }
    try {
      return await this.http.post(route.url, body, { headers: route.headers });
    } catch (error) {
      if (isMesosTransportError(error) && error.subscriptionLost && this.session.state === s) {
        this.session.dropStream({ reason: 'call-rejected', error });
      }
      throw error;
    }
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

/** Calls whose effect depends on their order among themselves: sent one after another. */
const ORDERED_CALLS: ReadonlySet<SchedulerCall['type']> = new Set(['SUPPRESS', 'REVIVE', 'UPDATE_FRAMEWORK']);

type SubscribedState = Extract<ConnectionState, { phase: 'SUBSCRIBED' }>;

/** The JSON body of a call, with `framework_id` (and UPDATE_FRAMEWORK's `framework_info.id`) filled in. */
function encodeCall(call: SchedulerCall, frameworkId: string): string {
  const framework_id = call.framework_id ?? { value: frameworkId };
  let body: SchedulerCall = { ...call, framework_id };
  if (body.type === 'UPDATE_FRAMEWORK' && !body.update_framework.framework_info.id) {
    body = {
      ...body,
      update_framework: {
        ...body.update_framework,
        framework_info: { ...body.update_framework.framework_info, id: framework_id },
      },
    };
  }
  return encodeJson(body);
}

function schedulerEndpoint(master: string | URL): URL {
  return new URL('/api/v1/scheduler', master);
}

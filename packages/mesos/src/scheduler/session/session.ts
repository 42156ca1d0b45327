/**
 * One scheduler's connection to Mesos, re-made whenever it is lost (spec §1.2–1.8):
 *
 *   detector ──leader──► SUBSCRIBE (follow 307) ──200 + Mesos-Stream-Id──► RecordIO stream
 *   stream ──records──► decodeJson ──► receive(): watchdog, offer cache, SUBSCRIBED / ERROR
 *          ──► the ordered queue (full ⇒ the stream is not read)
 *
 * The phases follow ./connection.ts. Every way a subscription can end becomes a DisconnectReason,
 * a `disconnected` event and a new attempt after a truncated exponential backoff with jitter;
 * nothing is thrown out. SUBSCRIBED is fully handled (framework id persisted) before the next
 * event is read.
 */
import type { MesosHttpClient, MesosStreamResponse } from '../../http/client.js';
import { MesosConnectionError, MesosHttpError } from '../../http/errors.js';
import { describeMaster } from '../../http/location.js';
import { encodeJson } from '../../json/index.js';
import type { MasterDetector } from '../../master/detector.js';
import type { SchedulerEvent } from '../../types/index.js';
import { backoffDelay } from '../backoff.js';
import * as calls from '../calls/builders.js';
import { schedulerEndpoint } from '../calls/sender.js';
import { sleep } from '../clock.js';
import {
  type ConnectionEvent,
  type ConnectionState,
  type DisconnectReason,
  INITIAL_CONNECTION_STATE,
  type StopReason,
  classifyErrorEvent,
  transition,
} from './connection.js';
import { SchedulerError } from '../errors.js';
import { type QueueItem, isKnownEvent, isOfferEvent } from '../queue/items.js';
import type { LifecycleEmitter } from '../lifecycle.js';
import type { OfferCache } from '../offers/held-offers.js';
import type { SchedulerHandlers } from '../handlers.js';
import type { ResolvedSchedulerOptions } from '../options.js';
import { type OrderedQueue, QueueClosedError } from '../queue/ordered-queue.js';
import type { Reconciler } from '../reconciliation/reconciler.js';
import { readSubscription } from './subscription.js';
import type { Watchdog } from './watchdog.js';

/** How a subscription (or an attempt at one) ended. */
export interface AttemptOutcome {
  reason: DisconnectReason;
  error?: Error;
}

/** What a session works with; all owned by the scheduler. */
export interface SessionDeps<M> {
  options: ResolvedSchedulerOptions<M>;
  http: MesosHttpClient;
  detector: MasterDetector;
  /** Close the detector when the session ends (it was built from a master string). */
  ownsDetector: boolean;
  emitter: LifecycleEmitter<M>;
  queue: OrderedQueue<QueueItem<M>>;
  offers: OfferCache;
  reconciler: Reconciler;
  handlers: SchedulerHandlers<M>;
}

/** The connection loop and its state. */
export class Session<M> {
  private current: ConnectionState = INITIAL_CONNECTION_STATE;
  private readonly stopController = new AbortController();
  private frameworkId: string | undefined;
  private stream: MesosStreamResponse | undefined;
  private dropReason: AttemptOutcome | undefined;
  private loopDone: Promise<void> | undefined;
  private unsubscribeDetector: (() => void) | undefined;
  private readonly options: ResolvedSchedulerOptions<M>;

  constructor(private readonly deps: SessionDeps<M>) {
    this.options = deps.options;
  }

  /** The connection phase now. */
  get state(): ConnectionState {
    return this.current;
  }

  /** The framework id (from the store or the last SUBSCRIBED). */
  get id(): string | undefined {
    return this.frameworkId;
  }

  /** Resolves when the loop has ended (after `finish`). */
  get done(): Promise<void> {
    return this.loopDone ?? Promise.resolve();
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.loopDone || this.current.phase === 'STOPPED') return;
    this.unsubscribeDetector = this.deps.detector.onChange((change) => {
      if (change.type !== 'leader') return;
      const s = this.current;
      const master = s.phase === 'SUBSCRIBED' || s.phase === 'SUBSCRIBING' ? s.master : undefined;
      if (master !== undefined && master !== change.location.url.href)
        this.dropStream({ reason: 'leader-changed' });
    });
    this.loopDone = this.loop().catch((error: unknown) => {
      // The loop handles its own failures; this is a last line of defence against bugs.
      this.options.logger.error({ err: error }, 'scheduler loop failed');
      this.deps.emitter.emit('error', { error: asError(error) });
    });
  }

  /** Ends the current stream (if any) for `outcome`; the loop then reconnects. */
  dropStream(outcome: AttemptOutcome): void {
    this.dropReason ??= outcome;
    this.stream?.close();
  }

  /** Moves to STOPPED for `reason` and releases the network side (the queue keeps draining). */
  finish(reason: StopReason): void {
    if (this.current.phase === 'STOPPED') return;
    this.apply({ type: 'stop', reason });
    this.stopController.abort();
    this.stream?.close();
    this.deps.reconciler.cancel();
    this.deps.offers.clear();
    this.unsubscribeDetector?.();
    this.deps.http.close();
    if (this.deps.ownsDetector) this.deps.detector.close().catch(() => {});
    this.deps.emitter.emit('stopped', { reason });
  }

  private async loop(): Promise<void> {
    const signal = this.stopController.signal;
    try {
      this.frameworkId = (await this.options.frameworkIdStore.load()) ?? this.options.framework.id?.value;
    } catch (cause) {
      this.deps.emitter.emit('error', {
        error: new SchedulerError('MESOS_FRAMEWORK_ID_STORE_FAILED', 'could not load the framework id', {
          cause,
        }),
      });
    }
    while (!this.stopped()) {
      this.apply({ type: 'connect' });
      const outcome = await this.attempt(signal);
      if (this.stopped()) break;
      this.disconnected(outcome);
      const s = this.current;
      const attempt = s.phase === 'DISCONNECTED' ? s.attempt : 0;
      const delayMs = backoffDelay(Math.max(0, attempt - 1), this.options.backoff, this.options.random);
      this.deps.emitter.emit('reconnecting', { delayMs, attempt });
      await sleep(this.options.clock, delayMs, signal);
    }
  }

  /** One attempt: detect, SUBSCRIBE (following redirects), read the stream until it ends. */
  private async attempt(signal: AbortSignal): Promise<AttemptOutcome> {
    let master: URL;
    try {
      master = (await this.deps.detector.detect(signal)).url;
    } catch (error) {
      return { reason: 'no-leader', error: asError(error) };
    }
    this.apply({ type: 'leader-found', master: master.href });
    let stream: MesosStreamResponse;
    for (let hops = 0; ; hops++) {
      // Asked at the last moment (detection and redirects take time): a SUBSCRIBE from a deposed
      // instance would fail the leading one over.
      if (!this.options.leading()) {
        this.finish('not-leading');
        return { reason: 'subscribe-failed' };
      }
      try {
        stream = await this.deps.http.openStream(
          schedulerEndpoint(master),
          encodeJson(this.subscribeCall()),
          {
            signal,
          },
        );
        break;
      } catch (error) {
        if (error instanceof MesosHttpError && error.redirect && error.location) {
          if (hops >= this.options.maxRedirects) {
            const message = `SUBSCRIBE redirected more than ${this.options.maxRedirects} times`;
            const tooMany = new MesosConnectionError('MESOS_TOO_MANY_REDIRECTS', message, error.url, {
              cause: error,
            });
            return { reason: 'subscribe-failed', error: tooMany };
          }
          master = new URL(error.location);
          this.apply({ type: 'redirected', master: master.href });
          continue;
        }
        return { reason: 'subscribe-failed', error: asError(error) };
      }
    }
    return this.consume(stream, master);
  }

  private subscribeCall() {
    const framework = { ...this.options.framework };
    if (this.frameworkId) framework.id = { value: this.frameworkId };
    return calls.subscribe(framework, {
      suppressedRoles: this.options.suppressedRoles,
      offerConstraints: this.options.offerConstraints,
    });
  }

  /** Reads one subscription stream until it ends; returns why it ended. */
  private async consume(stream: MesosStreamResponse, master: URL): Promise<AttemptOutcome> {
    this.stream = stream;
    this.dropReason = undefined;
    const streamId = headerValue(stream.headers['mesos-stream-id']);
    if (this.stopController.signal.aborted) stream.close();
    try {
      const end = await readSubscription(stream, {
        clock: this.options.clock,
        maxRecordBytes: this.options.maxRecordBytes,
        heartbeatLimitMs: (seconds) => seconds * 1000 * this.options.heartbeatMissLimit,
        onTimeout: () => this.dropStream({ reason: 'heartbeat-timeout' }),
        receive: (event, watchdog) => this.receive(event, streamId, master, watchdog),
      });
      return this.dropReason ?? end;
    } finally {
      stream.close();
      if (this.stream === stream) this.stream = undefined;
    }
  }

  /** Handles one event read from the stream, before it is queued. */
  private async receive(
    event: SchedulerEvent,
    streamId: string | undefined,
    master: URL,
    watchdog: Watchdog,
  ): Promise<void> {
    this.deps.emitter.emit('event', event);
    switch (event.type) {
      case 'SUBSCRIBED':
        return this.subscribedEvent(event, streamId, master, watchdog);
      case 'OFFERS':
        this.deps.offers.add(event.offers.offers);
        break;
      case 'RESCIND':
        this.deps.offers.remove([event.rescind.offer_id.value]);
        break;
      case 'ERROR':
        return this.errorEvent(event);
      case 'HEARTBEAT':
        if (!this.deps.handlers.HEARTBEAT) return;
        break;
      default:
        if (!isKnownEvent(event)) {
          this.options.logger.debug(
            { type: (event as { type?: unknown }).type },
            'ignoring an unknown event type',
          );
          return;
        }
    }
    await this.enqueue({ source: 'mesos', event }, watchdog);
  }

  /**
   * Persists the framework id, then moves to SUBSCRIBED and queues the event before any listener
   * hears of it: a `send()` from a `state` or `subscribed` listener, or from code that awaited
   * `subscribed()`, is queued behind SUBSCRIBED. The handler runs after the listeners (the queue
   * never starts it inside `push`) and sees the SUBSCRIBED phase, so its calls can be sent. A
   * subscription that could not be made (id not persisted, no stream id) is dropped, and its
   * SUBSCRIBED is not handled.
   */
  private async subscribedEvent(
    event: Extract<SchedulerEvent, { type: 'SUBSCRIBED' }>,
    streamId: string | undefined,
    master: URL,
    watchdog: Watchdog,
  ): Promise<void> {
    const frameworkId = event.subscribed.framework_id.value;
    const resubscribed = this.frameworkId === frameworkId;
    try {
      await this.options.frameworkIdStore.save(frameworkId);
    } catch (cause) {
      const error = new SchedulerError(
        'MESOS_FRAMEWORK_ID_STORE_FAILED',
        'could not persist the framework id',
        { cause },
      );
      this.deps.emitter.emit('error', { error });
      this.dropStream({ reason: 'framework-id-store-failed', error });
      return;
    }
    this.frameworkId = frameworkId;
    const heartbeatIntervalSeconds = event.subscribed.heartbeat_interval_seconds ?? 15;
    watchdog.setLimit(heartbeatIntervalSeconds * 1000 * this.options.heartbeatMissLimit);
    if (!streamId) {
      this.dropStream({
        reason: 'subscribe-failed',
        error: new Error('SUBSCRIBE answered without a Mesos-Stream-Id header'),
      });
      return;
    }
    const previous = this.move({ type: 'subscribed', streamId, frameworkId, heartbeatIntervalSeconds });
    const queued = this.enqueue({ source: 'mesos', event }, watchdog);
    if (previous !== undefined) this.announce(previous);
    this.deps.emitter.emit('subscribed', {
      frameworkId,
      master: describeMaster(master),
      streamId,
      heartbeatIntervalSeconds,
      resubscribed,
    });
    void this.deps.reconciler.start('subscribed');
    return queued;
  }

  private async errorEvent(event: Extract<SchedulerEvent, { type: 'ERROR' }>): Promise<void> {
    const message = event.error.message;
    const error = new SchedulerError('MESOS_ERROR_EVENT', `Mesos sent ERROR: ${message}`);
    this.deps.emitter.emit('error', { error });
    // Let the handler see it, without waiting for room: the stream is about to end anyway.
    void this.deps.queue.push({ source: 'mesos', event }).catch(() => {});
    const kind = classifyErrorEvent(message);
    if (kind === 'failed-over') this.finish('failed-over');
    else if (kind === 'removed') {
      this.finish('removed');
      await this.options.frameworkIdStore.clear().catch(() => {});
    } else this.dropStream({ reason: 'subscription-rejected', error });
  }

  /** Queues `item` before returning (waiting in line when full); resolves once it is in the queue. */
  private enqueue(item: QueueItem<M>, watchdog: Watchdog): Promise<void> {
    const full = this.deps.queue.full;
    const queued = this.deps.queue.push(item).catch(ignoreClosed);
    if (!full) return queued;
    // Backpressure: stop reading, and stop counting heartbeats (the silence is ours).
    watchdog.pause();
    return queued.finally(() => watchdog.resume());
  }

  private stopped(): boolean {
    return this.current.phase === 'STOPPED' || this.stopController.signal.aborted;
  }

  /** Moves to the phase `event` leads to and tells the `state` listeners. */
  private apply(event: ConnectionEvent): void {
    const previous = this.move(event);
    if (previous !== undefined) this.announce(previous);
  }

  /** Moves to the phase `event` leads to, telling no one yet; returns the phase left, if it changed. */
  private move(event: ConnectionEvent): ConnectionState | undefined {
    const previous = this.current;
    const next = transition(previous, event);
    if (next === previous) return undefined;
    this.current = next;
    this.options.logger.debug({ phase: next.phase, event: event.type }, 'scheduler connection phase');
    return previous;
  }

  private announce(previous: ConnectionState): void {
    this.deps.emitter.emit('state', { state: this.current, previous });
  }

  private disconnected(outcome: AttemptOutcome): void {
    const previous = this.current;
    const master =
      previous.phase === 'SUBSCRIBED' || previous.phase === 'SUBSCRIBING' ? previous.master : undefined;
    // Offers die with the subscription (spec §9.13): forget them, and the queued events about them.
    this.deps.offers.clear();
    this.deps.queue.removeWhere(isOfferEvent);
    this.deps.reconciler.cancel();
    this.apply({ type: 'lost', reason: outcome.reason });
    this.options.logger.info({ reason: outcome.reason, err: outcome.error }, 'scheduler disconnected');
    this.deps.emitter.emit('disconnected', {
      reason: outcome.reason,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(master ? { master: describeMaster(new URL(master)) } : {}),
    });
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function ignoreClosed(error: unknown): void {
  if (!(error instanceof QueueClosedError)) throw error;
}

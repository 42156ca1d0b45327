/**
 * The scheduler's lifecycle events, typed by name, and a small emitter that never throws (a
 * listener that throws is reported to the logger and ignored).
 */
import type { SchedulerEvent } from '../types/index.js';
import type { ConnectionState, DisconnectReason, StopReason } from './session/connection.js';
import type { QueueItem } from './queue/items.js';
import type { ReconciliationResult } from './reconciliation/reconciler.js';

/** Payloads of the lifecycle events, by event name. */
export interface SchedulerLifecycleEvents<M = unknown> {
  /** The connection phase changed. */
  state: { state: ConnectionState; previous: ConnectionState };
  /** SUBSCRIBED arrived and the framework id was persisted. */
  subscribed: {
    frameworkId: string;
    master: string;
    streamId: string;
    heartbeatIntervalSeconds: number;
    /** True when the framework id was already known (a re-subscription). */
    resubscribed: boolean;
  };
  /** A subscription ended or could not be made; the scheduler will try again. */
  disconnected: { reason: DisconnectReason; error?: Error; master?: string };
  /** The next attempt to subscribe starts in `delayMs`. */
  reconnecting: { delayMs: number; attempt: number };
  /** The scheduler stopped for good. */
  stopped: { reason: StopReason };
  /** Something went wrong that the scheduler handled (it keeps running unless `stopped` follows). */
  error: { error: Error };
  /** A handler threw (or rejected) on an item; the loop continued with the next one. */
  'handler-failed': { error: unknown; item: QueueItem<M> };
  /** A reconciliation run finished (or was cancelled by a new subscription or stop). */
  'reconciliation-complete': ReconciliationResult;
  /** Every Mesos event as it is read from the stream, before it is queued (observe only). */
  event: SchedulerEvent;
}

/** Names of the lifecycle events. */
export type SchedulerLifecycleEventName = keyof SchedulerLifecycleEvents;

/** A listener of one lifecycle event. */
export type LifecycleListener<M, K extends SchedulerLifecycleEventName> = (
  payload: SchedulerLifecycleEvents<M>[K],
) => void;

/** Minimal structured logger (pino-compatible). All methods optional in spirit: silent default. */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** A logger that drops everything (the default: the SDK is silent). */
export const SILENT_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Typed registry of lifecycle listeners. */
export class LifecycleEmitter<M> {
  private readonly listeners = new Map<SchedulerLifecycleEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => this.off(name, listener);
  }

  off<K extends SchedulerLifecycleEventName>(name: K, listener: LifecycleListener<M, K>): void {
    this.listeners.get(name)?.delete(listener as (payload: never) => void);
  }

  emit<K extends SchedulerLifecycleEventName>(name: K, payload: SchedulerLifecycleEvents<M>[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as LifecycleListener<M, K>)(payload);
      } catch (error) {
        this.logger.error({ err: error, event: name }, 'a scheduler lifecycle listener threw');
      }
    }
  }
}

import {
  createScheduler,
  type FrameworkIdStore,
  type MesosScheduler,
  type ReconcileTaskRef,
} from '@galley/mesos';
import type { Logger } from 'pino';
import type { MesosClusterConfig, MesosSettings } from '../../config/mesos-settings.js';
import { credentialsOf, frameworkInfoOf } from './framework.js';

/** Delay before a framework the master removed registers again as a new one. */
const REREGISTER_DELAY_MS = 1_000;
/** The longest wait before taking the framework back after it was failed over (doubling from 1 s). */
const MAX_TAKE_BACK_DELAY_MS = 30_000;
/** Failovers further apart than this start the doubling again. */
const TAKE_BACK_WINDOW_MS = 10 * 60_000;

/** What the framework session needs: the cluster, where its id is kept, and what to do on events. */
export interface FrameworkSessionOptions {
  cluster: MesosClusterConfig;
  settings: MesosSettings;
  frameworkIds: FrameworkIdStore;
  /** Whether this replica still leads (asked before every SUBSCRIBE, and after a failover). */
  leading: () => boolean;
  logger: Logger;
  random: (() => number) | undefined;
  /** The tasks to reconcile (explicit reconciliation after every SUBSCRIBED, then periodically). */
  tasks: () => ReconcileTaskRef[];
  /** The scheduler events the backend handles (OFFERS, UPDATE, FAILURE, …). */
  handlers: NonNullable<Parameters<typeof createScheduler>[0]['handlers']>;
  /** Called after every SUBSCRIBED (first, after a master failover, after re-registering). */
  onSubscribed: () => void;
}

/**
 * Galley's framework on one cluster (spec §1): subscribes with the kept framework id, reconciles
 * the tasks in flight after every SUBSCRIBED, and registers anew when the master removed the
 * framework (failover timeout or teardown) — the tasks of the old one then answer reconciliation as
 * unknown and are retried as host failures.
 *
 * With several replicas, only the leader subscribes: a replica that no longer leads stops rather
 * than subscribe again. A deposed leader can still subscribe before it learns it lost the lease (a
 * paused process): the master then fails the new leader over, which takes the framework back while
 * it leads, the deposed one having stopped by then.
 */
export class FrameworkSession {
  private scheduler: MesosScheduler | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  /** When this replica was failed over while leading, within the last TAKE_BACK_WINDOW_MS. */
  private failovers: number[] = [];
  /** Why the scheduler stopped, while it is stopped. */
  stopReason: string | null = null;
  closed = false;

  constructor(private readonly o: FrameworkSessionOptions) {}

  /** The current scheduler (any phase); null before `start`. */
  get current(): MesosScheduler | null {
    return this.scheduler;
  }

  /** The scheduler while subscribed; null otherwise. */
  subscribed(): MesosScheduler | null {
    const s = this.scheduler;
    return s && s.state.phase === 'SUBSCRIBED' ? s : null;
  }

  start(): void {
    const { settings, cluster } = this.o;
    const credentials = credentialsOf(settings);
    const s = createScheduler({
      master: cluster.master,
      framework: frameworkInfoOf(settings, cluster),
      frameworkIdStore: this.o.frameworkIds,
      leading: this.o.leading,
      acknowledge: 'manual',
      ...(credentials ? { credentials } : {}),
      reconciliation: {
        tasks: this.o.tasks,
        initialDelayMs: settings.reconcileDelayMs,
        periodMs: settings.reconcileIntervalMs,
      },
      ...(this.o.random ? { random: this.o.random } : {}),
      logger: this.o.logger,
      handlers: this.o.handlers,
    });
    const log = this.o.logger;
    s.on('subscribed', (e) => {
      log.info(
        { frameworkId: e.frameworkId, master: e.master, resubscribed: e.resubscribed },
        'mesos: subscribed',
      );
      this.o.onSubscribed();
    });
    s.on('disconnected', (e) =>
      log.warn({ reason: e.reason, err: e.error?.message, master: e.master }, 'mesos: disconnected'),
    );
    s.on('error', (e) => log.warn({ err: e.error.message }, 'mesos: scheduler error'));
    s.on('stopped', (e) => this.onStopped(s, e.reason));
    this.scheduler = s;
    this.stopReason = null;
    s.start();
  }

  /** Stops the connection; the master keeps the framework's tasks for the failover timeout. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.scheduler?.stop();
  }

  private onStopped(s: MesosScheduler, reason: string): void {
    if (this.scheduler !== s) return;
    this.stopReason = reason;
    if (this.closed) return;
    if (reason === 'removed') {
      this.o.logger.error({}, 'mesos: the master removed the framework; registering anew');
      this.restartIn(REREGISTER_DELAY_MS);
    } else if (reason === 'failed-over' && this.o.leading()) {
      const now = Date.now();
      this.failovers = [...this.failovers.filter((t) => now - t < TAKE_BACK_WINDOW_MS), now];
      const delayMs = Math.min(MAX_TAKE_BACK_DELAY_MS, 1_000 * 2 ** (this.failovers.length - 1));
      this.o.logger.warn(
        { delayMs },
        'mesos: another instance subscribed as this framework while this replica leads; subscribing again',
      );
      this.restartIn(delayMs);
    } else if (reason === 'not-leading' || reason === 'failed-over') {
      this.o.logger.info({ reason }, 'mesos: the scheduler stopped: another replica leads');
    } else {
      this.o.logger.error({ reason }, 'mesos: the scheduler stopped');
    }
  }

  private restartIn(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      if (!this.closed) this.start();
    }, delayMs);
    this.restartTimer.unref();
  }
}

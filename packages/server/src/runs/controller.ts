import type { RetryPolicy } from '@galley/core';
import type { Logger } from 'pino';
import type { Backend, BackendEvent } from '../backends/backend.js';
import type { GroupLaunch } from '../backends/group-runner.js';
import type { Clock } from '../clock.js';
import { ControlLoop } from '../control/control-loop.js';
import type { Leadership, TermLeadership } from '../control/leadership.js';
import type { RunRecord } from '../model/records.js';
import type { QueueGate } from '../queues/gate.js';
import { StaleEpochError, type RunRepository } from '../store/store.js';
import { DispatchLoop } from './dispatch-loop.js';
import type { RunFeed } from './feed.js';
import { type DecisionContext, RunWriter } from './run-writer.js';
import {
  killPendingStops,
  type StopAnswer,
  stopAsFollower,
  stopAsLeader,
  type StopContext,
} from './stops.js';
import { LeadershipTerms } from './terms.js';
import { type GroupEventListener, WaitingWork } from './waiting-work.js';

export type { StopAnswer } from './stops.js';

/** What the run controller works with. Times in ms. */
export interface RunControllerOptions {
  store: RunRepository;
  backends: readonly Backend[];
  leadership: Leadership;
  feed: RunFeed;
  clock: Clock;
  /** A number in [0, 1), for retry jitter. */
  random: () => number;
  policy: RetryPolicy;
  /** SIGTERM → SIGKILL grace of a stop. */
  stopGraceMs: number;
  logger: Logger;
  /** Called with each launched run's dispatch latency: from accepted (queued_at) to PENDING stored. */
  onDispatched?: (latencyMs: number) => void;
  /** Queued runs read per dispatch round (default 256). */
  batchSize?: number;
  /** The pipeline controller's view of leadership: its terms begin and end with this controller's. */
  terms?: TermLeadership;
  /** Queues, fair share, arrays and dependencies (queues/gate.ts); absent = oldest first. */
  queues?: QueueGate;
}

/**
 * The run controller, and the one placement owner of every backend (level-triggered, like a
 * Kubernetes controller). Everything that changes runs goes through one serial loop, so decisions
 * never interleave; this class is the front the API, the schedulers and the pipeline controller
 * talk to, and wires the parts that each hold one concern:
 *  - LeadershipTerms (terms.ts): taking over as the leader and stepping down;
 *  - DispatchLoop (dispatch-loop.ts): timers and one dispatch round per backend per wake;
 *  - RunWriter (run-writer.ts): storing decided changes and carrying out their effects, backend
 *    events applied through core `transition`;
 *  - stops (stops.ts): a stop on the leader or on a follower;
 *  - WaitingWork (waiting-work.ts): pipeline launches waiting for placement, and the report of
 *    what waits that backends with offer hygiene get.
 */
export class RunController {
  private readonly loop: ControlLoop;
  private readonly byCluster: Map<string, Backend>;
  private readonly writer: RunWriter;
  private readonly work: WaitingWork;
  private readonly dispatcher: DispatchLoop;
  private readonly terms: LeadershipTerms;
  private readonly stops: StopContext;
  private pendingEvents: BackendEvent[] = [];
  private pendingDrain: Promise<void> | null = null;
  private unsubscribeFeed: (() => void) | null = null;

  constructor(private readonly o: RunControllerOptions) {
    this.byCluster = new Map(o.backends.map((b) => [b.cluster, b]));
    this.loop = new ControlLoop({
      clock: o.clock,
      step: () => (this.terms.leads() ? this.dispatcher.step() : Promise.resolve()),
      onStepError: (err) => this.fail('dispatch', err),
      onDeadline: () => this.dispatcher.timerFired(),
      closedError: () => new Error('the run controller is closed'),
    });
    const ctx = (): DecisionContext => ({ policy: o.policy, random: o.random, now: o.clock.now() });
    this.work = new WaitingWork(o.backends, o.logger);
    this.writer = new RunWriter({
      ...o,
      backendFor: (cluster) => this.byCluster.get(cluster),
      ctx,
      requeue: () => {
        this.dispatcher.invalidate();
        this.wake();
      },
      wakeAt: (at) => this.loop.wakeAt(at),
    });
    this.dispatcher = new DispatchLoop(
      { ...o, loop: this.loop, writer: this.writer, work: this.work, ctx, batchSize: o.batchSize ?? 256 },
      o.backends,
    );
    this.stops = { store: o.store, feed: o.feed, writer: this.writer, ctx, clusters: () => this.clusters() };
    this.terms = new LeadershipTerms({
      ...o,
      loop: this.loop,
      writer: this.writer,
      work: this.work,
      dispatch: this.dispatcher,
      stops: this.stops,
      fail: (what, err) => this.fail(what, err),
    });
  }

  /**
   * Competes for leadership; each time this replica becomes the leader it takes over, and each
   * time it stops leading it steps down (see LeadershipTerms). Resolves once the first attempt at
   * leadership is made and, when it won, the takeover is done.
   */
  async start(handOver?: () => Promise<void>): Promise<void> {
    for (const backend of this.o.backends) {
      backend.onEvents((batch) => this.queueEvents(batch));
      backend.onCapacity(() => this.wake());
    }
    this.unsubscribeFeed = this.o.feed.subscribe((run) => {
      this.work.observe(run);
      this.dispatcher.noteQueued(run);
    });
    await this.terms.follow(handOver);
  }

  /** This replica's leadership (who it is, whether it leads, its epoch and since when). */
  get leadership(): Leadership {
    return this.o.leadership;
  }

  /**
   * Runs another replica changed (read back from the store after its notice): forgotten from the
   * in-flight copy (re-read when next needed). The leader kills what was asked to stop and
   * dispatches what was queued. `gap`: notices may have been missed; the leader looks at all.
   */
  changedElsewhere(runs: readonly RunRecord[], gap: boolean): void {
    for (const run of runs) this.writer.forget(run.runId);
    if (!this.terms.leads()) return;
    if (runs.some((r) => r.state.status === 'QUEUED')) this.dispatcher.invalidate();
    const stops = runs.filter(
      (r) =>
        r.state.stopRequestedAt !== null &&
        r.state.attemptId !== null &&
        (r.state.status === 'PENDING' || r.state.status === 'RUNNING'),
    );
    if (stops.length > 0 || gap)
      this.serial(async () => {
        if (!this.terms.leads()) return;
        if (gap) return killPendingStops(this.stops);
        for (const r of stops) await this.writer.kill(r, r.state.attemptId!);
      }).catch((err: unknown) => this.fail('stops requested elsewhere', err));
    this.wake();
  }

  /** Asks for a dispatch round soon. Many wakes before the round starts make one round. */
  wake(): void {
    this.loop.wake();
  }

  // ---- pipeline launches (the pipeline controller's side of placement, see WaitingWork) ----

  /** Registers the one listener for what becomes of waiting launches (`waiting`, or killed before placement). */
  onGroupEvents(listener: GroupEventListener): void {
    this.work.onGroupEvents(listener);
  }

  /** Queues pipeline launches (their launch records are stored) for placement on `cluster`. */
  submit(cluster: string, launches: readonly GroupLaunch[]): void {
    if (this.work.submit(cluster, launches)) this.wake();
  }

  /**
   * What the pipeline launches waiting for placement on `cluster` ask for, by role: cpus, memory
   * (MB, the default executor's included where the backend adds it) and how many (the demand
   * cluster capacity counts beside the queued runs).
   */
  waitingLaunchDemand(cluster: string): Map<string, { cpus: number; memMb: number; count: number }> {
    return this.work.launchDemand(cluster);
  }

  /**
   * Drops a launch still waiting for placement: its processes end as TASK_KILLED (reported as
   * group events). False when it is not waiting (it was handed to its backend, or is unknown).
   */
  withdraw(launchId: string): boolean {
    return this.work.withdraw(launchId, this.o.clock.now());
  }

  /** Stops a run: at once if it waits, by killing its attempt if it runs (see stops.ts). */
  requestStop(runId: string, reason?: string): Promise<StopAnswer> {
    return this.serial(() =>
      this.terms.leads()
        ? stopAsLeader(this.stops, runId, reason)
        : stopAsFollower(this.stops, runId, reason),
    );
  }

  /**
   * Buffers backend events; one serial step drains everything buffered by the time it runs, so
   * under load events of one run (running, then ended) are written together.
   */
  private queueEvents(batch: readonly BackendEvent[]): Promise<void> {
    this.pendingEvents.push(...batch);
    if (this.pendingDrain) return this.pendingDrain;
    const drained = this.serial(async () => {
      this.pendingDrain = null; // events from now on go into the next drain
      const events = this.pendingEvents;
      this.pendingEvents = [];
      await this.writer.applyBackendEvents(events);
    });
    drained.catch((err: unknown) => {
      if (!this.loop.isClosed) this.fail('backend events', err);
    });
    // Settles once the batch is stored (rejects when it was not, e.g. the controller closed), so
    // a backend can confirm delivery only then (Mesos acknowledges status updates after this).
    const confirmed = drained;
    confirmed.catch(() => undefined); // a backend that does not wait must not leave it unhandled
    this.pendingDrain = confirmed;
    return confirmed;
  }

  /** Clusters served, for the API. */
  get backends(): readonly Backend[] {
    return this.o.backends;
  }

  backendFor(cluster: string): Backend | undefined {
    return this.byCluster.get(cluster);
  }

  /** Stops the loop and the backends (their processes keep running); waits for the current step. */
  async close(): Promise<void> {
    this.unsubscribeFeed?.();
    await this.loop.close();
    await this.terms.settled();
    for (const backend of this.o.backends) await backend.close();
    await this.o.leadership.close();
  }

  private clusters(): string[] {
    return [...this.byCluster.keys()];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.loop.serial(fn);
  }

  private fail(what: string, err: unknown): void {
    if (err instanceof StaleEpochError) {
      // Another replica leads now: leadership learns it at its next renewal and steps down.
      this.o.logger.warn({ err: err.message }, `runs: ${what} refused: the lease moved on`);
      return;
    }
    this.o.logger.error({ err }, `runs: ${what} failed; the next wake retries from the store`);
    // Level-triggered: state is in the store, so a later round picks up where this one failed.
    this.loop.wakeAt(this.o.clock.now() + 1_000);
  }
}

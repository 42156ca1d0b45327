import type { Node, RetryPolicy, RunEvent } from '@galley/core';
import type { Logger } from 'pino';
import type { Backend, BackendEvent } from '../backends/backend.js';
import type { GroupEvent, GroupLaunch } from '../backends/group-runner.js';
import { launchDemand } from '../backends/launch-shape.js';
import type { Clock } from '../clock.js';
import { ControlLoop } from '../control/control-loop.js';
import type { Leadership, TermLeadership } from '../control/leadership.js';
import type { RunRecord } from '../model/records.js';
import { type AttemptPatch, type RunChange, type RunRepository, StaleEpochError } from '../store/store.js';
import { applyEvent, mergeSteps, type Step } from './changes.js';
import { type DispatchTarget, planDispatch } from './dispatch-plan.js';
import type { RunFeed } from './feed.js';
import { parseAttemptId } from './ids.js';
import type { QueueGate } from '../queues/gate.js';
import { QueueView } from './queue-view.js';
import { recover } from './recovery.js';
import { WaitingLaunches } from './waiting-launches.js';
import { WaitingRuns } from './waiting-runs.js';

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

/** The truthful answer of a stop request. */
export type StopAnswer =
  | { result: 'not-found' }
  /** The run had already finished: nothing was done. */
  | { result: 'already-stopped'; run: RunRecord }
  /** The run was queued or waiting for a retry: it is STOPPED now and never ran (again). */
  | { result: 'stopped'; run: RunRecord }
  /** The run has an attempt on a backend: a kill was sent (`signalled` false: the attempt was already gone). */
  | { result: 'kill-sent'; run: RunRecord; signalled: boolean };

/** Smallest gap between two stored changes of one queued run's reason, so a backlog does not rewrite itself. */
const REASON_REFRESH_MS = 1_000;

/** A dispatch round's view of the waiting pipeline launches and their events (see WaitingLaunches). */
type GroupEventListener = (cluster: string, events: GroupEvent[]) => Promise<void>;

/**
 * The run controller, and the one placement owner of every backend (level-triggered, like a
 * Kubernetes controller): `wake()` coalesces into one dispatch round per backend that re-reads the
 * queue from the store, opens a placement round on the backend's capacity, lets one core
 * `place()` decide for the queued runs and the waiting pipeline launches together, records each
 * run's attempt (write-ahead) and hands the backend one batch. Backend events go through core
 * `transition` into the store. Everything that changes runs goes through one serial loop, so
 * decisions never interleave. It also tells each backend what waits for its capacity.
 */
export class RunController {
  private readonly loop: ControlLoop;
  /** Set when the deadline timer fired: timers may fire a millisecond before the clock reaches it. */
  private timerDue = false;
  private readonly byCluster: Map<string, Backend>;
  private readonly reasonAt = new Map<string, number>();
  /**
   * Runs in flight as this controller last stored them. Only the leader writes in-flight runs, so the
   * copy is current; the store's version check catches it if not (the run is then re-read).
   */
  private readonly live = new Map<string, RunRecord>();
  private pendingEvents: BackendEvent[] = [];
  /** Per cluster: what the last dispatch round saw of the queue (see QueueView). */
  private readonly queueViews = new Map<string, QueueView>();
  private pendingDrain: Promise<void> | null = null;
  private readonly batchSize: number;
  /** Pipeline launches waiting for placement (submitted by the pipeline controller). */
  private readonly launches = new WaitingLaunches();
  private groupListener: GroupEventListener = async () => {};
  private pendingGroupEvents: { cluster: string; event: GroupEvent }[] = [];
  /** Queued runs by role, per cluster (for the backends' offer hygiene). */
  private readonly waitingRuns = new Map<string, WaitingRuns>();
  /** Roles of each cluster that got new work since the backend was last told. */
  private readonly newWork = new Map<string, Set<string>>();
  private waitingReportQueued = false;
  private unsubscribeFeed: (() => void) | null = null;
  /** Hands the pipeline launches in flight to the backends, at the start of each term. */
  private handOver: (() => Promise<void>) | undefined;
  /** Leadership terms, taken over and stepped down from one after the other. */
  private terms: Promise<void> = Promise.resolve();
  /** A term is open: this replica took over (its backends run) and has not stepped down. */
  private termOpen = false;

  constructor(private readonly o: RunControllerOptions) {
    this.byCluster = new Map(o.backends.map((b) => [b.cluster, b]));
    this.batchSize = o.batchSize ?? 256;
    for (const b of o.backends) this.waitingRuns.set(b.cluster, new WaitingRuns(b.cluster, mainRoleOf(b)));
    this.loop = new ControlLoop({
      clock: o.clock,
      step: () => this.tick(),
      onStepError: (err) => this.fail('dispatch', err),
      onDeadline: () => {
        this.timerDue = true;
      },
      closedError: () => new Error('the run controller is closed'),
    });
  }

  /**
   * Competes for leadership; each time this replica becomes the leader it takes over (see
   * `takeOver`), and each time it stops leading it steps down. Resolves once the first attempt at
   * leadership is made and, when it won, the takeover is done.
   */
  async start(handOver?: () => Promise<void>): Promise<void> {
    this.handOver = handOver;
    for (const backend of this.o.backends) {
      backend.onEvents((batch) => this.queueEvents(batch));
      backend.onCapacity(() => this.wake());
    }
    this.unsubscribeFeed = this.o.feed.subscribe((run) => this.observeWaiting(run));
    this.o.leadership.onChange((leader) => this.leadershipChanged(leader));
    await this.o.leadership.start();
    await this.terms;
  }

  private leadershipChanged(leader: boolean): void {
    this.terms = this.terms.then(async () => {
      if (!leader) return this.stepDown().catch((err: unknown) => this.fail('step-down', err));
      try {
        await this.takeOver();
      } catch (err) {
        // A leader whose takeover failed must not hold the lease without running backends:
        // it resigns (another replica, or this one anew, takes over); alone, it tries again.
        this.fail('takeover', err);
        if (this.loop.isClosed || !this.o.leadership.isLeader()) return;
        if (this.o.leadership.resign) this.o.leadership.resign('its takeover failed');
        else
          setTimeout(() => {
            if (!this.loop.isClosed && this.o.leadership.isLeader() && !this.termOpen)
              this.leadershipChanged(true);
          }, 1_000).unref();
      }
    });
  }

  /** Whether this replica leads and its term is open (its backends run). */
  private leads(): boolean {
    return this.termOpen && this.o.leadership.isLeader();
  }

  /** This replica's leadership (who it is, whether it leads, its epoch and since when). */
  get leadership(): Leadership {
    return this.o.leadership;
  }

  /**
   * A term begins: hands each backend the work it has in flight (runs here, pipeline launches
   * through `handOver`) and applies what it answers, then starts the backends and dispatches.
   * Work is handed over before a backend starts, so it knows every task it may hear of (Mesos: the
   * new leader subscribes with the stored framework id, which cuts the old leader's connection,
   * and reconciles).
   */
  private async takeOver(): Promise<void> {
    if (!this.o.leadership.isLeader() || this.loop.isClosed) return;
    this.o.logger.info({ epoch: this.o.leadership.epoch() }, 'runs: taking over as the leader');
    this.o.terms?.begin();
    const relaunch = await this.serial(async () => {
      const recovered = await recover(
        this.o.store,
        this.o.backends,
        (events) => this.applyBackendEvents(events),
        () => this.o.clock.now(),
      );
      return recovered.relaunch;
    });
    await this.handOver?.();
    const hygiene = this.o.backends.filter((b) => b.waiting !== undefined).map((b) => b.cluster);
    if (hygiene.length > 0)
      for (const run of await this.o.store.queuedRuns(hygiene, 1_000_000)) this.observeWaiting(run);
    if (!this.o.leadership.isLeader()) return;
    for (const backend of this.o.backends) await backend.start();
    for (const backend of this.o.backends) this.reportWaiting(backend);
    // Open before the sweep of stops: a stop recorded until now (as by a follower) is found by
    // it, one recorded after is carried out at once.
    this.termOpen = true;
    await this.serial(async () => {
      if (!this.o.leadership.isLeader()) return;
      for (const [cluster, specs] of relaunch)
        await this.byCluster.get(cluster)?.launch({ runs: specs, groups: [] });
      await this.killPendingStops();
    });
    await this.serial(() => this.refreshTimer());
    this.o.terms?.open();
    this.wake();
  }

  /**
   * A term ends: the backends close (their attempts keep running, for the next leader to find)
   * and what this replica knew of the term is forgotten; the store has it all.
   */
  private async stepDown(): Promise<void> {
    this.termOpen = false;
    this.o.terms?.end();
    this.o.logger.warn({}, 'runs: stepping down; the backends close, their work keeps running');
    for (const backend of this.o.backends)
      await backend
        .close()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'runs: a backend did not close'));
    await this.serial(async () => {
      this.loop.clearDeadline();
      this.live.clear();
      this.queueViews.clear();
      this.reasonAt.clear();
      for (const launch of this.o.backends.flatMap((b) => this.launches.list(b.cluster)))
        this.launches.take(launch.launchId);
      for (const b of this.o.backends)
        this.waitingRuns.set(b.cluster, new WaitingRuns(b.cluster, mainRoleOf(b)));
      this.newWork.clear();
    }).catch(() => undefined);
  }

  /**
   * Runs another replica changed (read back from the store after its notice): forgotten from the
   * in-flight copy (re-read when next needed). The leader kills what was asked to stop and
   * dispatches what was queued. `gap`: notices may have been missed; the leader looks at all.
   */
  changedElsewhere(runs: readonly RunRecord[], gap: boolean): void {
    for (const run of runs) this.live.delete(run.runId);
    if (!this.leads()) return;
    if (runs.some((r) => r.state.status === 'QUEUED'))
      for (const view of this.queueViews.values()) view.invalidate();
    const stops = runs.filter(
      (r) =>
        r.state.stopRequestedAt !== null &&
        r.state.attemptId !== null &&
        (r.state.status === 'PENDING' || r.state.status === 'RUNNING'),
    );
    if (stops.length > 0 || gap)
      this.serial(async () => {
        if (!this.leads()) return;
        if (gap) return this.killPendingStops();
        for (const r of stops) await this.kill(r, r.state.attemptId!);
      }).catch((err: unknown) => this.fail('stops requested elsewhere', err));
    this.wake();
  }

  /** Asks for a dispatch round soon. Many wakes before the round starts make one round. */
  wake(): void {
    this.loop.wake();
  }

  // ---- pipeline launches (the pipeline controller's side of placement) ----

  /** Registers the one listener for what becomes of waiting launches (`waiting`, or killed before placement). */
  onGroupEvents(listener: GroupEventListener): void {
    this.groupListener = listener;
  }

  /** Queues pipeline launches (their launch records are stored) for placement on `cluster`. */
  submit(cluster: string, launches: readonly GroupLaunch[]): void {
    const backend = this.byCluster.get(cluster);
    if (!backend) return;
    let added = false;
    for (const launch of launches)
      if (this.launches.add(cluster, launch)) {
        added = true;
        this.noteNewWork(cluster, launchRoleOf(backend, launch));
      }
    if (added) this.wake();
  }

  /**
   * What the pipeline launches waiting for placement on `cluster` ask for, by role: cpus, memory
   * (MB, the default executor's included where the backend adds it) and how many (the demand
   * cluster capacity counts beside the queued runs).
   */
  waitingLaunchDemand(cluster: string): Map<string, { cpus: number; memMb: number; count: number }> {
    const out = new Map<string, { cpus: number; memMb: number; count: number }>();
    const backend = this.o.backends.find((b) => b.cluster === cluster);
    if (!backend) return out;
    for (const l of this.launches.list(cluster)) {
      const role = launchRoleOf(backend, l);
      const d = launchDemand(l.spec, l.launchId, l.queuedAt, backend.placement.groupExecutor, role);
      const sum = out.get(role) ?? { cpus: 0, memMb: 0, count: 0 };
      out.set(role, { cpus: sum.cpus + d.cpus, memMb: sum.memMb + d.memMb, count: sum.count + 1 });
    }
    return out;
  }

  /**
   * Drops a launch still waiting for placement: its processes end as TASK_KILLED (reported as
   * group events). False when it is not waiting (it was handed to its backend, or is unknown).
   */
  withdraw(launchId: string): boolean {
    const taken = this.launches.take(launchId);
    if (!taken) return false;
    const at = this.o.clock.now();
    for (const process of Object.keys(taken.launch.spec.processes))
      this.emitGroup(taken.cluster, {
        type: 'process-ended',
        launchId,
        process,
        at,
        end: {
          state: 'TASK_KILLED',
          exitCode: null,
          message: 'stopped before it started',
          hostFailure: false,
        },
      });
    this.scheduleWaitingReport();
    return true;
  }

  /** Stops a run: at once if it waits, by killing its attempt if it runs. */
  requestStop(runId: string, reason?: string): Promise<StopAnswer> {
    return this.serial(() => this.stop(runId, reason));
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
      await this.applyBackendEvents(events);
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
    await this.terms;
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

  private ctx() {
    return { policy: this.o.policy, random: this.o.random, now: this.o.clock.now() };
  }

  private async tick(): Promise<void> {
    if (!this.leads()) return;
    const deadline = this.loop.nextDeadline;
    if (this.timerDue || (deadline !== null && deadline <= this.o.clock.now())) await this.fireTimers();
    for (const backend of this.o.backends) await this.dispatch(backend);
  }

  /** One dispatch round on one backend: its capacity is kept for the round until it launched. */
  private async dispatch(backend: Backend): Promise<void> {
    const round = backend.openRound();
    try {
      await this.dispatchOnto(backend, round.nodes);
    } finally {
      round.close();
    }
  }

  private async dispatchOnto(backend: Backend, nodes: Node[]): Promise<void> {
    let view = this.queueViews.get(backend.cluster);
    if (!view) this.queueViews.set(backend.cluster, (view = new QueueView()));
    const after = view.readFrom(nodes, this.o.clock.now());
    const queued = await this.o.store.queuedRuns([backend.cluster], this.batchSize, after);
    const waitingLaunches = this.launches.list(backend.cluster);
    if (queued.length === 0 && waitingLaunches.length === 0) {
      if (!after) view.afterRound([], false, backend.capacity());
      return;
    }
    const ctx = { ...this.ctx(), epoch: this.o.leadership.epoch(), target: targetOf(backend) };
    const order = await this.o.queues?.prepare(backend.cluster, queued, nodes, ctx);
    const plan = planDispatch(
      queued,
      waitingLaunches,
      nodes,
      ctx,
      (run) => {
        const last = this.reasonAt.get(run.runId);
        if (last !== undefined && ctx.now - last < REASON_REFRESH_MS) return false;
        this.reasonAt.set(run.runId, ctx.now);
        return true;
      },
      order,
    );
    for (const w of plan.groupsWaiting) {
      // Nothing offered right now (Mesos offers come and go): keep the reason a real round gave.
      if (nodes.length === 0 && this.launches.hasReason(w.launchId)) continue;
      if (this.launches.noteReason(w.launchId, w.reason))
        this.emitGroup(backend.cluster, {
          type: 'waiting',
          launchId: w.launchId,
          at: ctx.now,
          reason: w.reason,
        });
    }
    const stored = await this.store(plan.steps);
    const launched = new Set(stored.map((r) => r.runId));
    const specs = plan.launches.filter((s) => launched.has(s.runId));
    // A launch withdrawn (stopped) while the round stored its steps is not handed over.
    const groups = plan.groups.filter((g) => this.launches.take(g.launch.launchId) !== undefined);
    if (groups.length > 0) this.scheduleWaitingReport();
    const full = queued.length === this.batchSize;
    if (specs.length === 0 && groups.length === 0) {
      view.afterRound(queued, true, backend.capacity());
      if (full) this.wake(); // page through a backlog larger than a batch
      return;
    }
    const committedAt = this.o.clock.now();
    for (const run of stored) {
      if (run.state.status !== 'PENDING') continue;
      this.reasonAt.delete(run.runId);
      this.o.onDispatched?.(committedAt - run.state.queuedAt);
    }
    // A replica that stopped leading while the round stored its intents launches nothing: the
    // next leader finds the intents and launches them (recovery), under the same attempt ids.
    if (!this.o.leadership.isLeader()) return;
    this.o.queues?.dispatched(backend.cluster, stored);
    await backend.launch({ runs: specs, groups });
    view.afterRound(queued, full || specs.length < queued.length, backend.capacity());
    // A full batch may hide more runs that fit now.
    if (full) this.wake();
  }

  // ---- what waits, for the backends' offer hygiene ----

  private observeWaiting(run: RunRecord): void {
    const waiting = this.waitingRuns.get(run.cluster);
    const backend = this.byCluster.get(run.cluster);
    if (!waiting || !backend?.waiting) return;
    const change = waiting.observe(run);
    if (change === null) return;
    if (change !== 'changed') this.noteNewWork(run.cluster, change.newWork);
    else this.scheduleWaitingReport();
  }

  private noteNewWork(cluster: string, role: string): void {
    let roles = this.newWork.get(cluster);
    if (!roles) this.newWork.set(cluster, (roles = new Set()));
    roles.add(role);
    this.scheduleWaitingReport();
  }

  /** Tells the backends what waits, once for all the changes of this turn of the event loop. */
  private scheduleWaitingReport(): void {
    if (this.waitingReportQueued) return;
    this.waitingReportQueued = true;
    queueMicrotask(() => {
      this.waitingReportQueued = false;
      for (const backend of this.o.backends) this.reportWaiting(backend);
    });
  }

  private reportWaiting(backend: Backend): void {
    if (!backend.waiting) return;
    const byRole = new Map(this.waitingRuns.get(backend.cluster)?.byRole() ?? []);
    for (const [role, n] of this.launches.countByRole(backend.cluster, (l) => launchRoleOf(backend, l)))
      byRole.set(role, (byRole.get(role) ?? 0) + n);
    const newWork = this.newWork.get(backend.cluster) ?? new Set<string>();
    this.newWork.delete(backend.cluster);
    backend.waiting({ byRole, newWork });
  }

  /** Group events of waiting launches go out in batches, after the current step. */
  private emitGroup(cluster: string, event: GroupEvent): void {
    this.pendingGroupEvents.push({ cluster, event });
    if (this.pendingGroupEvents.length > 1) return;
    setImmediate(() => {
      const batch = this.pendingGroupEvents;
      this.pendingGroupEvents = [];
      const byCluster = new Map<string, GroupEvent[]>();
      for (const { cluster: c, event: e } of batch) {
        const list = byCluster.get(c);
        if (list) list.push(e);
        else byCluster.set(c, [e]);
      }
      for (const [c, events] of byCluster)
        this.groupListener(c, events).catch((err: unknown) =>
          this.o.logger.warn({ err, events: events.length }, 'runs: pipeline launch events were not stored'),
        );
    });
  }

  /** Stores steps' changes in one transaction, publishes them, and carries out their effects. */
  private async store(steps: readonly Step[]): Promise<RunRecord[]> {
    if (steps.length === 0) return [];
    const stored = await this.o.store.applyChanges(
      steps.map((s) => s.change),
      this.o.leadership.fence(),
    );
    if (stored.length < steps.length) for (const view of this.queueViews.values()) view.invalidate();
    if (stored.length < steps.length) {
      this.o.logger.warn(
        { lost: steps.length - stored.length },
        'runs: some runs changed under us; re-reading',
      );
      this.wake();
    }
    this.o.feed.publish(stored);
    const storedIds = new Set(stored.map((r) => r.runId));
    for (const step of steps)
      if (!storedIds.has(step.change.run.runId)) this.live.delete(step.change.run.runId);
    for (const run of stored) {
      if (run.state.status === 'PENDING' || run.state.status === 'RUNNING') this.live.set(run.runId, run);
      else this.live.delete(run.runId);
    }
    for (const step of steps) {
      if (!storedIds.has(step.change.run.runId)) continue;
      for (const effect of step.effects) {
        if (effect.type === 'schedule-retry') this.loop.wakeAt(effect.at);
        else await this.kill(step.change.run, effect.attemptId);
      }
      const s = step.change.run.state;
      const deadline = step.change.run.activeDeadlineSeconds;
      if (s.status === 'RUNNING' && deadline !== null && s.startedAt !== null && s.stopRequestedAt === null) {
        this.loop.wakeAt(s.startedAt + deadline * 1000);
      }
    }
    return stored;
  }

  private async kill(run: RunRecord, attemptId: string): Promise<boolean> {
    const backend = this.byCluster.get(run.cluster);
    if (!backend) return false;
    const answer = await backend.kill(attemptId, this.o.stopGraceMs);
    this.o.logger.info({ runId: run.runId, attemptId, answer }, 'runs: kill');
    return answer === 'signalled';
  }

  /**
   * Applies backend events (or recovery answers) through core transitions, one write per run. A
   * run another replica changed meanwhile (a stop asked of a follower) is read again and its
   * events applied to what is stored now, so no event is lost to the version check.
   */
  private async applyBackendEvents(events: readonly BackendEvent[]): Promise<void> {
    let pending = events;
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      const changedUnderUs = await this.applyBackendEventsOnce(pending);
      pending = pending.filter((e) => changedUnderUs.has(parseAttemptId(e.attemptId)?.runId ?? ''));
    }
  }

  /** One pass of applyBackendEvents; answers the runs whose change was not stored (their version moved on). */
  private async applyBackendEventsOnce(events: readonly BackendEvent[]): Promise<Set<string>> {
    const runIds = [
      ...new Set(events.map((e) => parseAttemptId(e.attemptId)?.runId).filter((x) => x !== undefined)),
    ];
    const runs = new Map<string, RunRecord>();
    const missing: string[] = [];
    for (const id of runIds) {
      const cached = this.live.get(id);
      if (cached) runs.set(id, cached);
      else missing.push(id);
    }
    for (const r of await this.o.store.getRuns(missing)) runs.set(r.runId, r);
    const steps = new Map<string, Step>();
    const late: AttemptPatch[] = [];
    const ctx = this.ctx();
    let freed = false;
    for (const e of events) {
      const runId = parseAttemptId(e.attemptId)?.runId;
      const run = runId === undefined ? undefined : (steps.get(runId)?.change.run ?? runs.get(runId));
      if (!run || runId === undefined) {
        this.o.logger.warn({ attemptId: e.attemptId }, 'runs: event for an unknown attempt');
        continue;
      }
      const { event, patch, host, usage } = toRunEvent(e);
      freed ||= e.type === 'ended';
      const step = applyEvent(run, event, ctx, { attempt: { patch }, ...(host ? { host } : {}) });
      if (!step) {
        late.push(patch);
        continue;
      }
      if (usage) Object.assign(step.change.run, usage(step.change.run));
      const before = steps.get(runId);
      steps.set(runId, before ? mergeSteps(before, step) : step);
    }
    const stored = new Set((await this.store([...steps.values()])).map((r) => r.runId));
    await this.o.store.patchAttempts(late, this.o.leadership.fence());
    if (freed) {
      // An end may satisfy a run waiting for it (a dependency, an array's parallelism): read from the head.
      for (const view of this.queueViews.values()) view.invalidate();
      this.wake();
    }
    return new Set([...steps.keys()].filter((id) => !stored.has(id)));
  }

  private async stop(runId: string, reason: string | undefined): Promise<StopAnswer> {
    if (!this.leads()) return this.stopElsewhere(runId, reason);
    const run = await this.o.store.getRun(runId);
    if (!run) return { result: 'not-found' };
    if (run.state.status === 'STOPPED') return { result: 'already-stopped', run };
    const step = applyEvent(
      run,
      { type: 'stop-requested', at: this.o.clock.now(), ...(reason ? { reason } : {}) },
      this.ctx(),
    );
    if (!step) {
      // A stop was already requested: send the kill again (kills are idempotent).
      const signalled = run.state.attemptId ? await this.kill(run, run.state.attemptId) : false;
      return { result: 'kill-sent', run, signalled };
    }
    const kills = step.effects.filter((e) => e.type === 'kill');
    const [stored] = await this.store([{ change: step.change, effects: [] }]);
    const now = stored ?? step.change.run;
    if (kills.length === 0) return { result: 'stopped', run: now };
    let signalled = false;
    for (const k of kills) signalled = (await this.kill(now, k.attemptId)) || signalled;
    return { result: 'kill-sent', run: now, signalled };
  }

  /**
   * A stop asked of a follower: it records the stop request (a queued run is STOPPED at once),
   * unfenced like an execute, and its notice wakes the leader, which sends the kill (see
   * `changedElsewhere`; a new leader does it at takeover). A run the leader changed meanwhile is
   * read again.
   */
  private async stopElsewhere(runId: string, reason: string | undefined): Promise<StopAnswer> {
    for (let tries = 0; ; tries++) {
      const run = (await this.o.store.getRuns([runId]))[0];
      if (!run) return { result: 'not-found' };
      if (run.state.status === 'STOPPED') return { result: 'already-stopped', run };
      const step = applyEvent(
        run,
        { type: 'stop-requested', at: this.o.clock.now(), ...(reason ? { reason } : {}) },
        this.ctx(),
      );
      // Asked before: the leader carries it out (and a new leader at its takeover).
      if (!step) return { result: 'kill-sent', run, signalled: true };
      const change: RunChange = step.change;
      const [stored] = await this.o.store.applyChanges([change]);
      if (stored) {
        this.o.feed.publish([stored]);
        const kills = step.effects.some((e) => e.type === 'kill');
        return kills
          ? { result: 'kill-sent', run: stored, signalled: true }
          : { result: 'stopped', run: stored };
      }
      if (tries >= 10) throw new Error(`run ${runId} kept changing; its stop was not recorded`);
    }
  }

  /** Level-triggered kills: runs whose stop was requested but whose attempt is still out there. */
  private async killPendingStops(): Promise<void> {
    for (const { run, attempt } of await this.o.store.inFlight([...this.byCluster.keys()])) {
      if (run.state.stopRequestedAt !== null && run.state.attemptId === attempt.attemptId) {
        await this.kill(run, attempt.attemptId);
      }
    }
  }

  private async refreshTimer(): Promise<void> {
    const next = await this.o.store.nextTimerAt(this.clusters());
    if (next !== null) this.loop.wakeAt(next);
  }

  /** Retries whose delay passed go back to QUEUED; runs past their active deadline are stopped. */
  private async fireTimers(): Promise<void> {
    this.timerDue = false;
    this.loop.clearDeadline();
    const ctx = this.ctx();
    const steps: Step[] = [];
    for (const run of await this.o.store.dueRetries(this.clusters(), ctx.now, this.batchSize)) {
      const step = applyEvent(run, { type: 'retry-due', at: ctx.now }, ctx);
      if (step) steps.push(step);
    }
    for (const run of await this.o.store.overdueRuns(this.clusters(), ctx.now, this.batchSize)) {
      const reason = `active deadline of ${run.activeDeadlineSeconds} s exceeded`;
      const event: RunEvent = { type: 'stop-requested', at: ctx.now, reason };
      const step = applyEvent(run, event, ctx);
      if (step) steps.push(step);
    }
    const stored = await this.store(steps);
    // Retried runs rejoin the queue at their old place, before any cursor.
    if (stored.some((r) => r.state.status === 'QUEUED'))
      for (const view of this.queueViews.values()) view.invalidate();
    await this.refreshTimer();
  }
}

/** The role of queued runs that name none on `backend` (its framework's first role). */
function mainRoleOf(backend: Backend): string {
  return backend.roles?.[0] ?? '*';
}

/** The role a pipeline launch waits for on `backend`. */
function launchRoleOf(backend: Backend, launch: GroupLaunch): string {
  return launch.spec.roles[0] ?? backend.defaultRole ?? mainRoleOf(backend);
}

/** What placement needs to know of a backend. */
function targetOf(backend: Backend): DispatchTarget {
  return {
    cluster: backend.cluster,
    defaultRole: backend.defaultRole,
    roles: backend.roles,
    placement: backend.placement,
  };
}

/** A backend event as a core run event, with the attempt row change it brings. */
function toRunEvent(e: BackendEvent): {
  event: RunEvent;
  patch: AttemptPatch;
  host?: RunRecord['host'];
  /** The run's usage fields an ended attempt brings (the last attempt's figures; exceptions add up). */
  usage?: (run: RunRecord) => Partial<RunRecord>;
} {
  if (e.type === 'running') {
    return {
      event: { type: 'running', attemptId: e.attemptId, at: e.at },
      patch: { attemptId: e.attemptId, state: 'running', handle: e.handle, launchedAt: e.at },
      host: e.host,
    };
  }
  const u = e.usage;
  return {
    event: { type: 'ended', attemptId: e.attemptId, at: e.at, outcome: e.outcome },
    patch: { attemptId: e.attemptId, state: 'ended', outcome: e.outcome, endedAt: e.at },
    ...(u
      ? {
          usage: (run: RunRecord) => ({
            maxMemoryUsed: u.maxMemoryMb ?? run.maxMemoryUsed,
            maxCpuUsed: u.maxCpuMillicores ?? run.maxCpuUsed,
            ...(u.exceptions?.length
              ? { runExceptions: [...(run.runExceptions ?? []), ...u.exceptions] }
              : {}),
          }),
        }
      : {}),
  };
}

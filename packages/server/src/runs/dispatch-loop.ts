import type { Node, RunEvent } from '@galley/core';
import type { Backend } from '../backends/backend.js';
import type { Clock } from '../clock.js';
import type { ControlLoop } from '../control/control-loop.js';
import type { Leadership } from '../control/leadership.js';
import type { RunRecord } from '../model/records.js';
import type { QueueGate } from '../queues/gate.js';
import type { RunRepository } from '../store/store.js';
import { applyEvent, type Step } from './changes.js';
import { type DispatchTarget, planDispatch } from './dispatch-plan.js';
import { QueueView } from './queue-view.js';
import type { DecisionContext, RunWriter } from './run-writer.js';
import type { WaitingWork } from './waiting-work.js';

/** Smallest gap between two stored changes of one queued run's reason, so a backlog does not rewrite itself. */
const REASON_REFRESH_MS = 1_000;

/** What the dispatch loop works with. */
export interface DispatchLoopOptions {
  store: RunRepository;
  leadership: Leadership;
  clock: Clock;
  /** The run controller's serial loop: its deadline is the next timer. */
  loop: ControlLoop;
  writer: RunWriter;
  work: WaitingWork;
  ctx: () => DecisionContext;
  /** Queued runs read per dispatch round. */
  batchSize: number;
  /** Queues, fair share, arrays and dependencies (queues/gate.ts); absent = oldest first. */
  queues?: QueueGate;
  /** Called with each launched run's dispatch latency: from accepted (queued_at) to PENDING stored. */
  onDispatched?: (latencyMs: number) => void;
}

/**
 * The leader's dispatch loop: one step of the run controller's serial loop fires the timers that
 * are due (retry delays, active deadlines) and then runs one dispatch round per backend.
 *
 * A round re-reads the queue from the store (level-triggered: what a crashed round left is simply
 * seen again), opens a placement round on the backend's capacity, lets one core `place()` decide
 * for the queued runs and the waiting pipeline launches together, records each run's attempt
 * (write-ahead, so a restart finds the intent and launches it under the same attempt id) and only
 * then hands the backend one batch. What a round saw of the queue is kept per cluster (QueueView),
 * so a backlog that cannot fit is not re-read from its head on every wake.
 */
export class DispatchLoop {
  /** Set when the deadline timer fired: timers may fire a millisecond before the clock reaches it. */
  private timerDue = false;
  /** Per cluster: what the last dispatch round saw of the queue (see QueueView). */
  private readonly queueViews = new Map<string, QueueView>();
  /** When each queued run's reason was last stored (see REASON_REFRESH_MS). */
  private readonly reasonAt = new Map<string, number>();

  constructor(
    private readonly o: DispatchLoopOptions,
    private readonly backends: readonly Backend[],
  ) {}

  /** The loop's deadline timer fired. */
  timerFired(): void {
    this.timerDue = true;
  }

  /** The queue changed behind the views (a run queued again, one ended): the next round reads it from the head. */
  invalidate(): void {
    for (const view of this.queueViews.values()) view.invalidate();
  }

  /** A term ended: what this replica saw of the queue is forgotten. */
  clear(): void {
    this.o.loop.clearDeadline();
    this.queueViews.clear();
    this.reasonAt.clear();
  }

  /** One step: the timers that are due, then a dispatch round on each backend. */
  async step(): Promise<void> {
    const deadline = this.o.loop.nextDeadline;
    if (this.timerDue || (deadline !== null && deadline <= this.o.clock.now())) await this.fireTimers();
    for (const backend of this.backends) await this.dispatch(backend);
  }

  /** Arms the loop's deadline for the next stored timer (at takeover, and after timers fired). */
  async refreshTimer(): Promise<void> {
    const next = await this.o.store.nextTimerAt(this.clusters());
    if (next !== null) this.o.loop.wakeAt(next);
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

  /**
   * Follows a stored run: one queued (or queued again) behind a queue view's cursor is read by the
   * next round. A run with a reason is one a round already considered (its own write coming back).
   */
  noteQueued(run: RunRecord): void {
    if (run.state.status !== 'QUEUED' || run.state.queuedReason !== null) return;
    this.queueViews.get(run.cluster)?.noteQueued(run.state.queuedAt);
  }

  private async dispatchOnto(backend: Backend, nodes: Node[]): Promise<void> {
    let view = this.queueViews.get(backend.cluster);
    if (!view) this.queueViews.set(backend.cluster, (view = new QueueView()));
    const after = view.readFrom(nodes, this.o.clock.now());
    const queued = await this.o.store.queuedRuns([backend.cluster], this.o.batchSize, after);
    // An array's children are stored in one transaction and only the parent reaches the feed: the
    // round that reads them tells the waiting work, or a suppressed Mesos role is never revived.
    for (const run of queued) if (run.batch?.parentId !== undefined) this.o.work.observe(run);
    const waitingLaunches = this.o.work.launchesOn(backend.cluster);
    if (queued.length === 0 && waitingLaunches.length === 0) {
      if (!after) view.afterRound([], false, backend.capacity());
      return;
    }
    const ctx = { ...this.o.ctx(), epoch: this.o.leadership.epoch(), target: targetOf(backend) };
    const order = await this.o.queues?.prepare(backend.cluster, queued, nodes, ctx);
    const plan = planDispatch(
      queued,
      waitingLaunches,
      nodes,
      ctx,
      (run) => {
        const last = this.reasonAt.get(run.runId);
        if (last === undefined || ctx.now - last >= REASON_REFRESH_MS) return true;
        // Held back, not dropped: a round when the gap is over reads it again and stores it,
        // whether or not anything else wakes the loop.
        view.readHeadAt(last + REASON_REFRESH_MS);
        this.o.loop.wakeAt(last + REASON_REFRESH_MS);
        return false;
      },
      order,
    );
    for (const w of plan.groupsWaiting)
      this.o.work.noteWaiting(backend.cluster, w.launchId, w.reason, ctx.now, nodes.length === 0);
    const stored = await this.o.writer.store(plan.steps);
    // A reason counts as stored once it is: one lost to a conflict is stored by the next round.
    for (const run of stored) if (run.state.status === 'QUEUED') this.reasonAt.set(run.runId, ctx.now);
    const launched = new Set(stored.map((r) => r.runId));
    const specs = plan.launches.filter((s) => launched.has(s.runId));
    const groups = this.o.work.takePlaced(plan.groups);
    const full = queued.length === this.o.batchSize;
    if (specs.length === 0 && groups.length === 0) {
      view.afterRound(queued, true, backend.capacity());
      if (full) this.o.loop.wake(); // page through a backlog larger than a batch
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
    if (full) this.o.loop.wake();
  }

  /** Retries whose delay passed go back to QUEUED; runs past their active deadline are stopped. */
  private async fireTimers(): Promise<void> {
    this.timerDue = false;
    this.o.loop.clearDeadline();
    const ctx = this.o.ctx();
    const steps: Step[] = [];
    for (const run of await this.o.store.dueRetries(this.clusters(), ctx.now, this.o.batchSize)) {
      const step = applyEvent(run, { type: 'retry-due', at: ctx.now }, ctx);
      if (step) steps.push(step);
    }
    for (const run of await this.o.store.overdueRuns(this.clusters(), ctx.now, this.o.batchSize)) {
      const reason = `active deadline of ${run.activeDeadlineSeconds} s exceeded`;
      const event: RunEvent = { type: 'stop-requested', at: ctx.now, reason };
      const step = applyEvent(run, event, ctx);
      if (step) steps.push(step);
    }
    const stored = await this.o.writer.store(steps);
    // Retried runs rejoin the queue at their old place, before any cursor.
    if (stored.some((r) => r.state.status === 'QUEUED')) this.invalidate();
    await this.refreshTimer();
  }

  private clusters(): string[] {
    return this.backends.map((b) => b.cluster);
  }
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

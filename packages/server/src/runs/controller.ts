import type { RetryPolicy, RunEvent } from '@galley/core';
import type { Logger } from 'pino';
import type { Backend, BackendEvent } from '../backends/backend.js';
import type { Clock } from '../clock.js';
import type { RunRecord } from '../model/records.js';
import type { AttemptPatch, Store } from '../store/store.js';
import { applyEvent, mergeSteps, type Step } from './changes.js';
import { parseAttemptId } from './ids.js';
import { planDispatch } from './dispatch-plan.js';
import { QueueView } from './queue-view.js';
import type { Leadership } from '../control/leadership.js';
import { recover } from './recovery.js';
import type { RunFeed } from './feed.js';

/** What the engine works with. Times in ms. */
export interface RunControllerOptions {
  store: Store;
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
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The control loop (level-triggered, like a Kubernetes controller): `wake()` coalesces into one
 * dispatch round that re-reads the queue from the store, asks the backends for capacity, lets
 * core `place()` decide, records each launch (write-ahead) and then launches. Backend events go
 * through core `transition` into the store. Everything that changes runs goes through one serial
 * queue, so decisions never interleave.
 */
export class RunController {
  private chain: Promise<unknown> = Promise.resolve();
  private tickQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt: number | null = null;
  /** Set when the timer fired: timers may fire a millisecond before the clock reaches `timerAt`. */
  private timerDue = false;
  private readonly byCluster: Map<string, Backend>;
  private readonly reasonAt = new Map<string, number>();
  /**
   * Runs in flight as this engine last stored them. Only the leader writes in-flight runs, so the
   * copy is current; the store's version check catches it if not (the run is then re-read).
   */
  private readonly live = new Map<string, RunRecord>();
  private pendingEvents: BackendEvent[] = [];
  /** Per cluster: what the last dispatch round saw of the queue (see QueueView). */
  private readonly queueViews = new Map<string, QueueView>();
  private pendingDrain: Promise<void> | null = null;
  private readonly batchSize: number;
  private closed = false;

  constructor(private readonly o: RunControllerOptions) {
    this.byCluster = new Map(o.backends.map((b) => [b.cluster, b]));
    this.batchSize = o.batchSize ?? 256;
  }

  /** Takes leadership, starts the backends, reconciles what was in flight, then dispatches. */
  async start(): Promise<void> {
    await this.o.leadership.start();
    for (const backend of this.o.backends) {
      backend.onEvents((batch) => this.queueEvents(batch));
      await backend.start();
    }
    await this.serial(async () => {
      const { relaunch } = await recover(
        this.o.store,
        this.o.backends,
        (events) => this.applyBackendEvents(events),
        () => this.o.clock.now(),
      );
      for (const [cluster, specs] of relaunch) await this.byCluster.get(cluster)?.launch(specs);
      await this.killPendingStops();
    });
    await this.serial(() => this.refreshTimer());
    this.wake();
  }

  /** Asks for a dispatch round soon. Many wakes before the round starts make one round. */
  wake(): void {
    if (this.closed || this.tickQueued) return;
    this.tickQueued = true;
    this.serial(async () => {
      this.tickQueued = false;
      await this.tick();
    }).catch((err) => this.fail('dispatch', err));
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
      return true;
    });
    drained.catch((err) => this.fail('backend events', err));
    // Settles once the batch is stored (rejects when it was not), so a backend can confirm
    // delivery only then (Mesos acknowledges status updates after this).
    const confirmed = drained.then((done) => {
      if (!done) throw new Error('the engine closed before the events were stored');
    });
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
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain.catch(() => undefined);
    for (const backend of this.o.backends) await backend.close();
    await this.o.leadership.close();
  }

  private clusters(): string[] {
    return [...this.byCluster.keys()];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(() => (this.closed ? (undefined as T) : fn()));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private fail(what: string, err: unknown): void {
    this.o.logger.error({ err }, `runs: ${what} failed; the next wake retries from the store`);
    // Level-triggered: state is in the store, so a later round picks up where this one failed.
    if (!this.closed) this.armTimer(this.o.clock.now() + 1_000);
  }

  private ctx() {
    return { policy: this.o.policy, random: this.o.random, now: this.o.clock.now() };
  }

  private async tick(): Promise<void> {
    if (!this.o.leadership.isLeader()) return;
    if (this.timerDue || (this.timerAt !== null && this.timerAt <= this.o.clock.now()))
      await this.fireTimers();
    for (const backend of this.o.backends) await this.dispatch(backend);
  }

  private async dispatch(backend: Backend): Promise<void> {
    let view = this.queueViews.get(backend.cluster);
    if (!view) this.queueViews.set(backend.cluster, (view = new QueueView()));
    const after = view.readFrom(backend.capacity(), this.o.clock.now());
    const queued = await this.o.store.queuedRuns([backend.cluster], this.batchSize, after);
    if (queued.length === 0) {
      if (!after) view.afterRound([], false, backend.capacity());
      return;
    }
    const ctx = {
      ...this.ctx(),
      epoch: this.o.leadership.epoch(),
      cluster: backend.cluster,
      defaultRole: backend.defaultRole,
    };
    const plan = planDispatch(queued, backend.capacity(), ctx, (run) => {
      const last = this.reasonAt.get(run.runId);
      if (last !== undefined && ctx.now - last < REASON_REFRESH_MS) return false;
      this.reasonAt.set(run.runId, ctx.now);
      return true;
    });
    const stored = await this.store(plan.steps);
    const launched = new Set(stored.map((r) => r.runId));
    const specs = plan.launches.filter((s) => launched.has(s.runId));
    const full = queued.length === this.batchSize;
    if (specs.length === 0) {
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
    await backend.launch(specs);
    view.afterRound(queued, full || specs.length < queued.length, backend.capacity());
    // A full batch may hide more runs that fit now.
    if (full) this.wake();
  }

  /** Stores steps' changes in one transaction, publishes them, and carries out their effects. */
  private async store(steps: readonly Step[]): Promise<RunRecord[]> {
    if (steps.length === 0) return [];
    const stored = await this.o.store.applyChanges(steps.map((s) => s.change));
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
        if (effect.type === 'schedule-retry') this.armTimer(effect.at);
        else await this.kill(step.change.run, effect.attemptId);
      }
      const s = step.change.run.state;
      const deadline = step.change.run.activeDeadlineSeconds;
      if (s.status === 'RUNNING' && deadline !== null && s.startedAt !== null && s.stopRequestedAt === null) {
        this.armTimer(s.startedAt + deadline * 1000);
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

  /** Applies backend events (or recovery answers) through core transitions, one write per run. */
  private async applyBackendEvents(events: readonly BackendEvent[]): Promise<void> {
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
      const { event, patch, instance } = toRunEvent(e);
      freed ||= e.type === 'ended';
      const step = applyEvent(run, event, ctx, { attempt: { patch }, ...(instance ? { instance } : {}) });
      if (!step) {
        late.push(patch);
        continue;
      }
      const before = steps.get(runId);
      steps.set(runId, before ? mergeSteps(before, step) : step);
    }
    await this.store([...steps.values()]);
    await this.o.store.patchAttempts(late);
    if (freed) this.wake();
  }

  private async stop(runId: string, reason: string | undefined): Promise<StopAnswer> {
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

  /** Level-triggered kills: runs whose stop was requested but whose attempt is still out there. */
  private async killPendingStops(): Promise<void> {
    for (const { run, attempt } of await this.o.store.inFlight([...this.byCluster.keys()])) {
      if (run.state.stopRequestedAt !== null && run.state.attemptId === attempt.attemptId) {
        await this.kill(run, attempt.attemptId);
      }
    }
  }

  private armTimer(at: number): void {
    if (this.closed || (this.timerAt !== null && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timerDue = true;
        this.wake();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.o.clock.now())),
    );
    this.timer.unref();
  }

  private async refreshTimer(): Promise<void> {
    const next = await this.o.store.nextTimerAt(this.clusters());
    if (next !== null) this.armTimer(next);
  }

  /** Retries whose delay passed go back to QUEUED; runs past their active deadline are stopped. */
  private async fireTimers(): Promise<void> {
    this.timerAt = null;
    this.timerDue = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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

/** A backend event as a core run event, with the attempt row change it brings. */
function toRunEvent(e: BackendEvent): {
  event: RunEvent;
  patch: AttemptPatch;
  instance?: RunRecord['instance'];
} {
  if (e.type === 'running') {
    return {
      event: { type: 'running', attemptId: e.attemptId, at: e.at },
      patch: { attemptId: e.attemptId, state: 'running', handle: e.handle, launchedAt: e.at },
      instance: e.instance,
    };
  }
  return {
    event: { type: 'ended', attemptId: e.attemptId, at: e.at, outcome: e.outcome },
    patch: { attemptId: e.attemptId, state: 'ended', outcome: e.outcome, endedAt: e.at },
  };
}

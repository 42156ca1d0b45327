import type { RetryPolicy, RunEvent } from '@galley/core';
import type { Logger } from 'pino';
import type { Backend, BackendEvent } from '../backends/backend.js';
import type { Leadership } from '../control/leadership.js';
import type { RunRecord } from '../model/records.js';
import type { AttemptPatch, RunRepository } from '../store/store.js';
import { applyEvent, mergeSteps, type Step } from './changes.js';
import type { RunFeed } from './feed.js';
import { parseAttemptId } from './ids.js';

/** What a core transition needs besides the run and the event. */
export interface DecisionContext {
  policy: RetryPolicy;
  random: () => number;
  now: number;
}

/** What the run writer works with. */
export interface RunWriterOptions {
  store: RunRepository;
  feed: RunFeed;
  leadership: Leadership;
  logger: Logger;
  backendFor: (cluster: string) => Backend | undefined;
  /** SIGTERM → SIGKILL grace of a kill. */
  stopGraceMs: number;
  ctx: () => DecisionContext;
  /** The queue may hold runs a round skipped (a run changed under us, an attempt ended): read it again. */
  requeue: () => void;
  /** Asks for a timer round at `at` (a retry's delay, a run's active deadline). */
  wakeAt: (at: number) => void;
}

/** Most in-flight runs the writer keeps a copy of (the newest stored). */
export const LIVE_CACHE_SIZE = 10_000;

/**
 * The leader's write path for runs: every change the run controller decides (a dispatch, a backend
 * event, a stop, a timer) is stored here, fenced by the leader's epoch, in one transaction per
 * batch, then published on the feed and its effects (kills, retry timers) carried out — in that
 * order, so nothing is done that the store does not show.
 *
 * It keeps the runs in flight as it last stored them (the newest LIVE_CACHE_SIZE): only the leader
 * writes in-flight runs, so the copy is current, and the store's version check catches it if not
 * (the run is then re-read).
 * That saves a read per backend event, the commonest write.
 */
export class RunWriter {
  /** The most recently stored runs in flight, oldest first (Map order), at most LIVE_CACHE_SIZE. */
  private readonly live = new Map<string, RunRecord>();

  constructor(private readonly o: RunWriterOptions) {}

  /** Forgets a run's in-flight copy (another replica changed it; it is re-read when next needed). */
  forget(runId: string): void {
    this.live.delete(runId);
  }

  /** A term ended: the store has it all. */
  clear(): void {
    this.live.clear();
  }

  /** Stores steps' changes in one transaction, publishes them, and carries out their effects. */
  async store(steps: readonly Step[]): Promise<RunRecord[]> {
    if (steps.length === 0) return [];
    const stored = await this.o.store.applyChanges(
      steps.map((s) => s.change),
      this.o.leadership.fence(),
    );
    if (stored.length < steps.length) {
      this.o.logger.warn(
        { lost: steps.length - stored.length },
        'runs: some runs changed under us; re-reading',
      );
      this.o.requeue();
    }
    this.o.feed.publish(stored);
    const storedIds = new Set(stored.map((r) => r.runId));
    for (const step of steps)
      if (!storedIds.has(step.change.run.runId)) this.live.delete(step.change.run.runId);
    for (const run of stored) {
      this.live.delete(run.runId);
      if (run.state.status === 'PENDING' || run.state.status === 'RUNNING') this.live.set(run.runId, run);
    }
    // Bounded: a copy of every run in flight held ~2 KB apiece, ~200 MB of heap at 100,000 runs in
    // flight. A run's events come mostly soon after its launch; a run dropped here is read again
    // (one batched read per batch of events) when its next event comes.
    for (const runId of this.live.keys()) {
      if (this.live.size <= LIVE_CACHE_SIZE) break;
      this.live.delete(runId);
    }
    for (const step of steps) {
      if (!storedIds.has(step.change.run.runId)) continue;
      for (const effect of step.effects) {
        if (effect.type === 'schedule-retry') this.o.wakeAt(effect.at);
        else await this.kill(step.change.run, effect.attemptId);
      }
      const s = step.change.run.state;
      const deadline = step.change.run.activeDeadlineSeconds;
      if (s.status === 'RUNNING' && deadline !== null && s.startedAt !== null && s.stopRequestedAt === null) {
        this.o.wakeAt(s.startedAt + deadline * 1000);
      }
    }
    return stored;
  }

  /** Kills an attempt on its run's backend; true when a signal went out (false: it was already gone). */
  async kill(run: RunRecord, attemptId: string): Promise<boolean> {
    const backend = this.o.backendFor(run.cluster);
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
  async applyBackendEvents(events: readonly BackendEvent[]): Promise<void> {
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
    const ctx = this.o.ctx();
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
    // An end may satisfy a run waiting for it (a dependency, an array's parallelism): read from the head.
    if (freed) this.o.requeue();
    return new Set([...steps.keys()].filter((id) => !stored.has(id)));
  }
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

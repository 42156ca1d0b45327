import { planTicks, tickAction } from '@galley/core';
import type { Logger } from 'pino';
import { buildRun } from '../api/execute.js';
import type { ExecuteBody } from '../api/schemas/runs.js';
import type { Clock } from '../clock.js';
import type { RunController } from '../runs/controller.js';
import type { RunFeed } from '../runs/feed.js';
import type { Store } from '../store/store.js';
import { dueTicks, nextTicks, ticksBetween } from './cron.js';
import type { ScheduleRecord, ScheduleStore } from './schedules-sql.js';

/** What the scheduler works with. */
export interface SchedulerOptions {
  schedules: ScheduleStore;
  store: Store;
  runs: RunController;
  feed: RunFeed;
  clock: Clock;
  newId: () => string;
  defaultCluster: string;
  serverMode: string;
  logger: Logger;
  /** Longest sleep between passes (ms); default 1000. */
  maxSleepMs?: number;
}

/** The idempotence key of a schedule's run for a tick: the same tick can never make two runs. */
export const scheduleRunKey = (scheduleId: string, tick: number): string => `schedule:${scheduleId}:${tick}`;

/**
 * Fires schedules on the leader. Each pass looks at every unpaused schedule's ticks since its
 * last handled one; core `planTicks` says which fire (catch-up, starting deadline) and
 * `tickAction` what each does to the schedule's previous run (allow / forbid / replace). A tick is
 * claimed in `schedule_fires` before its run is created, and the run's idempotence key is
 * `schedule:{id}:{tick}`, so a tick fires once across restarts, crashes mid-fire and replicas.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private running: Promise<void> = Promise.resolve();
  /** Since when this replica's scheduler has been passing as the leader; null = not leading. */
  private liveSince: number | null = null;

  constructor(private readonly o: SchedulerOptions) {}

  start(): void {
    this.schedule(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.loop();
    }, delayMs);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    let sleep = this.o.maxSleepMs ?? 1000;
    try {
      if (this.o.runs.leadership.isLeader()) sleep = Math.min(sleep, await this.pass(this.o.clock.now()));
      else this.liveSince = null;
    } catch (err) {
      this.o.logger.warn({ err }, 'schedules: a pass failed; trying again');
    }
    this.schedule(Math.max(10, sleep));
  }

  /** One pass at `now`; answers how long (ms) until the next tick of any schedule. */
  async pass(now: number): Promise<number> {
    let next = Infinity;
    const liveSince = this.liveSince;
    for (const s of await this.o.schedules.list()) {
      if (this.closed) break;
      if (s.paused) continue;
      await this.handle(s, now, liveSince);
      const [upcoming] = nextTicks(s.cron, s.timezone, now, 1);
      if (upcoming !== undefined) next = Math.min(next, upcoming - this.o.clock.now());
    }
    // From now on ticks come due while this scheduler runs: none of them is a missed one.
    this.liveSince ??= now;
    return next;
  }

  /**
   * Handles a schedule's due ticks: those that came due before `liveSince` (while no scheduler
   * ran; only the newest catch_up + 1 are looked at) and every one since.
   */
  private async handle(s: ScheduleRecord, now: number, liveSince: number | null): Promise<void> {
    const missedUntil = liveSince === null ? now : Math.min(now, liveSince);
    const due = [
      ...dueTicks(s.cron, s.timezone, s.lastTick, missedUntil, s.catchUp + 1),
      ...(liveSince === null
        ? []
        : ticksBetween(s.cron, s.timezone, Math.max(s.lastTick, liveSince), now, 1_000)),
    ];
    if (due.length === 0) return;
    const plan = planTicks({
      due,
      now,
      catchUp: s.catchUp,
      startingDeadlineSeconds: s.startingDeadlineSeconds,
      liveSince,
    });
    for (const skipped of plan.skipped)
      await this.o.schedules.skip(s.scheduleId, skipped.tick, skipped.reason, now);
    for (const tick of plan.fire) await this.fire(s, tick);
    await this.o.schedules.advance(s.scheduleId, due[due.length - 1]!);
  }

  /** Fires one tick: claims it, then starts (or skips, or replaces) as its concurrency policy says. */
  private async fire(s: ScheduleRecord, tick: number): Promise<void> {
    const now = this.o.clock.now();
    const earlier = await this.o.schedules.claim(s.scheduleId, tick, now);
    const key = scheduleRunKey(s.scheduleId, tick);
    if (earlier) {
      if (earlier.runId !== null || earlier.skippedReason !== null) return;
      // Claimed before a crash: its run may exist already.
      const runId = await this.o.schedules.runByKey(key);
      if (runId !== null) return this.o.schedules.settle(s.scheduleId, tick, { runId });
    }
    const def = await this.o.store.getDefinition(s.definitionId);
    if (!def) {
      // Its definition was deleted: the schedule pauses rather than skip every tick from now on.
      await this.o.schedules.settle(s.scheduleId, tick, { skipped: 'the definition no longer exists' });
      await this.o.schedules.update({ ...s, paused: true, updatedAt: now });
      return;
    }
    const previous = await this.o.schedules.previousRun(s.scheduleId, tick);
    const decision = tickAction(s.concurrency, previous !== null && previous.status !== 'STOPPED');
    if (decision.action === 'skip')
      return this.o.schedules.settle(s.scheduleId, tick, { skipped: decision.reason });
    if (decision.action === 'replace' && previous)
      await this.o.runs.requestStop(
        previous.runId,
        `replaced by schedule ${s.scheduleId}'s tick ${iso(tick)}`,
      );
    const body: ExecuteBody = {
      run_tags: { owner_id: s.ownerId },
      idempotence_key: key,
      description: `schedule ${s.scheduleId}, tick ${iso(tick)}`,
      env: [
        { name: 'GALLEY_SCHEDULE_ID', value: s.scheduleId },
        { name: 'GALLEY_SCHEDULE_TICK', value: iso(tick) },
      ],
    };
    const backends = this.o.runs.backends;
    try {
      const newRun = buildRun(def, body, {
        clusters: new Map(backends.map((b) => [b.cluster, b.kind])),
        describe: (cluster) => backends.find((b) => b.cluster === cluster)?.describe(),
        roles: new Map(backends.flatMap((b) => (b.roles ? [[b.cluster, b.roles] as const] : []))),
        defaultCluster: this.o.defaultCluster,
        serverMode: this.o.serverMode,
        now,
        runId: this.o.newId(),
      });
      const { run, created } = await this.o.store.insertRun(newRun);
      if (created) {
        this.o.feed.publish([run]);
        this.o.runs.wake();
      }
      await this.o.schedules.settle(s.scheduleId, tick, { runId: run.runId });
      this.o.logger.info({ scheduleId: s.scheduleId, tick: iso(tick), runId: run.runId }, 'schedules: fired');
    } catch (err) {
      // A run the definition cannot make (its cluster is gone, no command): the tick says why.
      const reason = err instanceof Error ? err.message : String(err);
      await this.o.schedules.settle(s.scheduleId, tick, { skipped: `the run could not be made: ${reason}` });
    }
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

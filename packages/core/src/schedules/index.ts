/**
 * Schedules: which due ticks of a cron schedule fire, and what a tick does to the run the schedule
 * started before. Pure: the server computes the ticks (croner) and carries the answers out.
 *
 * A tick is a fire time (ms). On each pass the server hands in the ticks that came due since the
 * schedule's last handled tick (oldest first, at most `catchUp + 1` of the newest). One tick due is
 * the normal case and fires. Several due at once means the scheduler was not running (downtime, a
 * paused leader): `catchUp` says how many of them still fire — the newest ones — and the others are
 * skipped as missed. A starting deadline skips any tick older than `now − deadline`.
 */

/** What a schedule does when its previous run has not ended by the next tick (Kubernetes CronJob's names). */
export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';

export const CONCURRENCY_POLICIES: readonly ConcurrencyPolicy[] = ['allow', 'forbid', 'replace'];

/** The input of {@link planTicks}. Times in ms. */
export interface TickInput {
  /** Ticks due (after the last handled tick, at or before `now`), ascending. */
  due: readonly number[];
  now: number;
  /** How many missed ticks may fire when several are due at once (0 = none). */
  catchUp: number;
  /** A tick older than this many seconds never fires; null = no deadline. */
  startingDeadlineSeconds: number | null;
}

/** A tick that does not fire, and why. */
export interface SkippedTick {
  tick: number;
  reason: string;
}

/** The answer of {@link planTicks}: ticks to fire (ascending) and ticks skipped. */
export interface TickPlan {
  fire: number[];
  skipped: SkippedTick[];
}

/** Which of the due ticks fire (see the module comment). */
export function planTicks(input: TickInput): TickPlan {
  const { due, now, catchUp, startingDeadlineSeconds } = input;
  const skipped: SkippedTick[] = [];
  const inTime: number[] = [];
  for (const tick of due) {
    if (startingDeadlineSeconds !== null && now - tick > startingDeadlineSeconds * 1000)
      skipped.push({ tick, reason: `missed its starting deadline of ${startingDeadlineSeconds} s` });
    else inTime.push(tick);
  }
  if (due.length <= 1) return { fire: inTime, skipped };
  const keep = Math.max(0, Math.min(catchUp, inTime.length));
  const fire = inTime.slice(inTime.length - keep);
  for (const tick of inTime.slice(0, inTime.length - keep))
    skipped.push({ tick, reason: `missed while the scheduler was not running (catch_up ${catchUp})` });
  skipped.sort((a, b) => a.tick - b.tick);
  return { fire, skipped };
}

/** What a tick does: start a run, skip the tick, or stop the previous run and start a new one. */
export type TickAction = { action: 'start' } | { action: 'skip'; reason: string } | { action: 'replace' };

/** The action of a tick under `policy`, given whether the schedule's previous run has not ended yet. */
export function tickAction(policy: ConcurrencyPolicy, previousActive: boolean): TickAction {
  if (!previousActive || policy === 'allow') return { action: 'start' };
  if (policy === 'forbid') return { action: 'skip', reason: 'forbid: the previous run has not ended' };
  return { action: 'replace' };
}

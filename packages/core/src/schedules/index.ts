/**
 * Schedules: which due ticks of a cron schedule fire, and what a tick does to the run the schedule
 * started before. Pure: the server computes the ticks (croner) and carries the answers out.
 *
 * A tick is a fire time (ms). On each pass the server hands in the ticks that came due since the
 * schedule's last handled tick (oldest first; of the ones before `liveSince`, at most `catchUp + 1`
 * of the newest). A tick after `liveSince` came due while the scheduler was running: it fires,
 * however late the pass (a loaded machine is not downtime). The ticks at or before it came due
 * while no scheduler ran (the server was down, or no replica led): `catchUp` says how many of them
 * still fire — the newest — and the others are skipped as missed. A starting deadline skips any
 * tick older than `now − deadline`.
 */

/** What a schedule does when its previous run has not ended by the next tick (Kubernetes CronJob's names). */
export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';

export const CONCURRENCY_POLICIES: readonly ConcurrencyPolicy[] = ['allow', 'forbid', 'replace'];

/** The input of {@link planTicks}. Times in ms. */
export interface TickInput {
  /** Ticks due (after the last handled tick, at or before `now`), ascending. */
  due: readonly number[];
  now: number;
  /** How many of the ticks missed while no scheduler ran may still fire (0 = none). */
  catchUp: number;
  /** Since when the scheduler has been running (ms); null = it is its first pass. */
  liveSince: number | null;
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
  const { due, now, catchUp, startingDeadlineSeconds, liveSince } = input;
  const skipped: SkippedTick[] = [];
  const missed: number[] = [];
  const live: number[] = [];
  for (const tick of due) {
    if (startingDeadlineSeconds !== null && now - tick > startingDeadlineSeconds * 1000)
      skipped.push({ tick, reason: `missed its starting deadline of ${startingDeadlineSeconds} s` });
    else if (liveSince !== null && tick > liveSince) live.push(tick);
    else missed.push(tick);
  }
  const keep = Math.max(0, Math.min(catchUp, missed.length));
  for (const tick of missed.slice(0, missed.length - keep))
    skipped.push({ tick, reason: `missed while no scheduler was running (catch_up ${catchUp})` });
  skipped.sort((a, b) => a.tick - b.tick);
  return { fire: [...missed.slice(missed.length - keep), ...live], skipped };
}

/** What a tick does: start a run, skip the tick, or stop the previous run and start a new one. */
export type TickAction = { action: 'start' } | { action: 'skip'; reason: string } | { action: 'replace' };

/** The action of a tick under `policy`, given whether the schedule's previous run has not ended yet. */
export function tickAction(policy: ConcurrencyPolicy, previousActive: boolean): TickAction {
  if (!previousActive || policy === 'allow') return { action: 'start' };
  if (policy === 'forbid') return { action: 'skip', reason: 'forbid: the previous run has not ended' };
  return { action: 'replace' };
}

/**
 * Rolling updates: the update record and one step of moving instances to a target version.
 *
 * Bounds, with N = `instances`, surge = max_surge (rounded up), unavailable = max_unavailable
 * (rounded down); when both are 0, surge is taken as 1 so an update can move at all:
 * - never more than N + surge instances that are not being stopped;
 * - never stop a ready old instance (running, and healthy where checked) unless at least
 *   N − unavailable instances stay available (old: ready; new: ready for min_healthy_seconds);
 * - a batch of new instances is launched only when every new instance launched before is available
 *   (running and healthy for min_healthy_seconds); old instances that are not ready are stopped
 *   first, then the youngest old ones.
 */
import type { InstanceState } from './instance.js';
import { isAvailable, readySince } from './instance.js';
import { resolveCount } from './spec.js';
import type { UpdateStrategy } from './spec.js';

/**
 * - `rolling`: moving instances to `toVersion`;
 * - `rolling-back`: `failedVersion` failed; moving instances back to `toVersion` (= `fromVersion`);
 * - `succeeded`, `rolled-back`: finished (terminal).
 */
export type UpdatePhase = 'rolling' | 'rolling-back' | 'succeeded' | 'rolled-back';

/** One update of a pipeline, as stored for its progress and history. Times in ms since epoch. */
export interface PipelineUpdate {
  /** The version that was fully rolled out before: what a rollback returns to. */
  fromVersion: number;
  /** The version instances are moving to now (during a rollback: `fromVersion`). */
  toVersion: number;
  /** During and after a rollback: the version that failed; otherwise null. */
  failedVersion: number | null;
  phase: UpdatePhase;
  startedAt: number;
  /** The last time another new instance became available (the deadline counts from here). */
  lastProgressAt: number;
  /** New-version instances available at `lastProgressAt`. */
  availableNew: number;
  /** Batches of new instances launched so far. */
  batches: number;
  /** Why it is rolling back or stalled, for people; null when nothing went wrong. */
  reason: string | null;
  /** The deadline passed without auto_rollback (or during a rollback): shown, the update keeps trying. */
  stalledAt: number | null;
  finishedAt: number | null;
}

/** Whether the update has finished (`succeeded` or `rolled-back`). */
export function isUpdateFinished(update: PipelineUpdate): boolean {
  return update.phase === 'succeeded' || update.phase === 'rolled-back';
}

/** The update strategy as instance counts and milliseconds for `instances`. */
export interface RollingBounds {
  instances: number;
  surge: number;
  unavailable: number;
  minHealthyMs: number;
  progressDeadlineMs: number;
}

/** Bounds for `instances` under the strategy (see the module comment for the rounding). */
export function rollingBounds(strategy: UpdateStrategy, instances: number): RollingBounds {
  let surge = resolveCount(strategy.max_surge, instances, 'up');
  const unavailable = Math.min(instances, resolveCount(strategy.max_unavailable, instances, 'down'));
  if (surge === 0 && unavailable === 0) surge = 1;
  return {
    instances,
    surge,
    unavailable,
    minHealthyMs: strategy.min_healthy_seconds * 1000,
    progressDeadlineMs: strategy.progress_deadline_seconds * 1000,
  };
}

/** Youngest first: latest `createdAt`, then highest number. */
export function byYoungest(a: InstanceState, b: InstanceState): number {
  return b.createdAt - a.createdAt || b.number - a.number;
}

/** What one rolling step decides. */
export interface RollingStep {
  stop: { instance: InstanceState; reason: string }[];
  /** New instances of the target version to launch now. */
  launch: number;
  /**
   * Once this step's stops are carried out, all instances are on the target version, N of them, all
   * available: the update is over now. The instances of other versions this step stops count as gone
   * (they are `stopping` from now on and count for nothing), so the pass that stops the last of them
   * ends the update; no later pass may come before the progress deadline.
   */
  complete: boolean;
  /** When a new instance will have been ready for min_healthy_seconds; null if none is waiting. */
  nextAvailableAt: number | null;
}

/**
 * One step of a rolling update toward `target` over `live` (instances not being stopped; the caller
 * has already taken out the ones it stops for other reasons).
 */
export function rollingStep(
  live: InstanceState[],
  target: number,
  bounds: RollingBounds,
  now: number,
): RollingStep {
  const { instances: n, surge, unavailable, minHealthyMs } = bounds;
  const stop: RollingStep['stop'] = [];
  const fresh = live.filter((i) => i.version === target).sort(byYoungest);
  const old = live.filter((i) => i.version !== target);
  // More new instances than wanted (scaled down during the update): drop the youngest.
  for (const instance of fresh.splice(0, Math.max(0, fresh.length - n))) {
    stop.push({ instance, reason: `scaled down to ${n} instances` });
  }
  const available = fresh.filter((i) => isAvailable(i, now, minHealthyMs));
  const pendingNew = fresh.length - available.length;
  const isReady = (i: InstanceState): boolean => readySince(i) !== null;
  let availableNow = available.length + old.filter(isReady).length;
  const minAvailable = n - unavailable;
  // Old instances that are not ready go first (stopping them loses nothing), then the youngest.
  const candidates = [
    ...old.filter((i) => !isReady(i)).sort(byYoungest),
    ...old.filter(isReady).sort(byYoungest),
  ];
  let liveCount = live.length - stop.length;
  let oldStopped = 0;
  for (const instance of candidates) {
    if (isReady(instance)) {
      if (availableNow - 1 < minAvailable) break;
      availableNow -= 1;
    }
    stop.push({
      instance,
      reason: `replaced by version ${target}${isReady(instance) ? '' : ' (it was not ready)'}`,
    });
    liveCount -= 1;
    oldStopped += 1;
  }
  const newCount = fresh.length;
  const launch = pendingNew > 0 ? 0 : Math.max(0, Math.min(n - newCount, n + surge - liveCount));
  const waiting = fresh
    .map((i) => readySince(i))
    .filter((t): t is number => t !== null && now - t < minHealthyMs)
    .map((t) => t + minHealthyMs);
  return {
    stop,
    launch,
    complete: oldStopped === old.length && newCount === n && available.length === n,
    nextAvailableAt: waiting.length ? Math.min(...waiting) : null,
  };
}

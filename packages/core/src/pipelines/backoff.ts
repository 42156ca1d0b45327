/**
 * Restart backoff and crash-loop detection for pipeline instances.
 *
 * A failed instance is restarted after `initialDelayMs × factor^(n−1)` (n = consecutive failures),
 * capped at `maxDelayMs`. The count resets once the instance stayed available (running, and healthy
 * where checked) for `resetAfterMs` before failing — as Kubernetes' CrashLoopBackOff does. An
 * instance that failed `crashLoopFailures` times within `crashLoopWindowMs` is crash-looping
 * (Singularity's "cooldown"): a visible state that lasts until the same reset.
 */

import { backoffDelayMs } from '../backoff.js';

/** Milliseconds throughout. */
export interface RestartBackoffPolicy {
  initialDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Available this long before a failure → the failure counts as the first again. */
  resetAfterMs: number;
  crashLoopFailures: number;
  crashLoopWindowMs: number;
}

/** 1 s doubling up to 5 min; reset after 10 min available; crash loop = 3 failures within 60 s. */
export const DEFAULT_RESTART_BACKOFF: Readonly<RestartBackoffPolicy> = Object.freeze({
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 300_000,
  resetAfterMs: 600_000,
  crashLoopFailures: 3,
  crashLoopWindowMs: 60_000,
});

/** The delay before restart number `consecutiveFailures` (≥ 1): 1 s, 2 s, 4 s … capped. */
export function restartDelayMs(policy: RestartBackoffPolicy, consecutiveFailures: number): number {
  return backoffDelayMs(policy, consecutiveFailures);
}

/** The failure times still inside the crash-loop window at `now` (oldest first), `now` included. */
export function recentFailures(
  policy: RestartBackoffPolicy,
  previous: readonly number[],
  now: number,
): number[] {
  const kept = previous.filter((t) => now - t < policy.crashLoopWindowMs);
  return [...kept, now].slice(-policy.crashLoopFailures);
}

/** Whether these recent failures make a crash loop. */
export function isCrashLoop(policy: RestartBackoffPolicy, recent: readonly number[]): boolean {
  return recent.length >= policy.crashLoopFailures;
}

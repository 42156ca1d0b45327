/** Truncated exponential backoff with jitter, for re-subscription and reconciliation rounds. */

/** Backoff settings. All durations in ms. */
export interface BackoffPolicy {
  /** Delay before the first retry (before jitter). */
  minMs: number;
  /** Upper bound of any delay (before jitter). */
  maxMs: number;
  /** Growth factor per attempt (≥ 1). */
  factor: number;
  /**
   * Fraction of the delay that is randomized, 0..1: the delay is drawn uniformly from
   * `[d × (1 − jitter), d]`. 0 disables jitter.
   */
  jitter: number;
}

/** 0.5 s doubling to 15 s, half of it randomized (spec §1.8's example). */
export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 500, maxMs: 15_000, factor: 2, jitter: 0.5 };

/**
 * The delay before retry number `attempt` (0 = first retry): `min(maxMs, minMs × factor^attempt)`
 * with jitter applied using `random()` (a number in [0, 1)). Pure: same inputs, same delay.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, attempt);
  const base = Math.min(policy.maxMs, policy.minMs * Math.pow(Math.max(1, policy.factor), exponent));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(base * (1 - jitter * random()));
}

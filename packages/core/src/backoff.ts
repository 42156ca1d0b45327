/** Exponential backoff, the one formula behind run retries and pipeline instance restarts. */

/** Milliseconds. */
export interface Backoff {
  initialDelayMs: number;
  /** Each further delay is `factor` times longer (≥ 1). */
  factor: number;
  /** No delay is ever longer than this, jitter included. */
  maxDelayMs: number;
}

/**
 * The delay before try number `n` (≥ 1): `min(maxDelayMs, initialDelayMs × factor^(n−1))`, then
 * ± `jitter` of it using `random()` (a number in [0, 1); 0.5 means no jitter), rounded to whole ms
 * and capped at `maxDelayMs` again.
 */
export function backoffDelayMs(
  backoff: Backoff,
  n: number,
  jitter = 0,
  random: () => number = () => 0.5,
): number {
  const exponent = Math.max(0, n - 1);
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** exponent);
  const jittered = jitter === 0 ? base : base * (1 + jitter * (2 * random() - 1));
  return Math.max(0, Math.min(backoff.maxDelayMs, Math.round(jittered)));
}

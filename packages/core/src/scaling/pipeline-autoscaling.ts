/**
 * Per-pipeline autoscaling: from a metric (a backlog: queued jobs, scheduled GoCD jobs, a PromQL
 * value…) and the current instance count, the instance count to keep. Pure: the server's loop
 * fetches the metric, calls `decideAutoscale`, records what it answers and sets the count through
 * the pipeline controller. No I/O, no clock: `now` is given.
 *
 * The rule, as KEDA + the Kubernetes HPA apply it:
 * - raw = clamp(ceil(metric / target_per_instance), min, max);
 * - activation: a pipeline at 0 goes to 1 only when metric > activation_threshold, and goes back
 *   to 0 (when min is 0) only once metric ≤ activation_threshold; in between at least 1 is kept;
 * - stabilization (the HPA's `behavior.*.stabilizationWindowSeconds`): every raw recommendation is
 *   kept with its time; the count rises only to the LOWEST recommendation of the up window and
 *   falls only to the HIGHEST recommendation of the down window — so a metric that flaps within a
 *   window moves nothing, and up_seconds = 0 scales up at once;
 * - a metric that could not be fetched leaves the count alone (the reason says why) and adds no
 *   recommendation.
 */

/** Credentials of a metric source or a GoCD drain, by NAME of the server's environment variable (never the value). */
export interface SourceAuth {
  /** Basic auth user name. */
  username?: string;
  /** The environment variable holding the Basic auth password. */
  password_env?: string;
  /** The environment variable holding a bearer token. */
  token_env?: string;
}

/** Where the metric comes from. */
export type AutoscalingSource =
  | { type: 'http'; url: string; json_path: string }
  | { type: 'prometheus'; url: string; query: string }
  | { type: 'galley_queue'; definition?: string; group?: string }
  | { type: 'gocd'; url: string; resources?: string[]; environment?: string; auth?: SourceAuth }
  | { type: 'jenkins'; url: string; label?: string; auth?: SourceAuth };

/** A pipeline's `autoscaling` (complete: defaults filled). */
export interface PipelineAutoscaling {
  min: number;
  max: number;
  /** Backlog one instance is meant to take: desired = ceil(metric / target_per_instance). */
  target_per_instance: number;
  polling_interval_seconds: number;
  stabilization: { up_seconds: number; down_seconds: number };
  /** 0 ↔ 1 only across this value: active when metric > activation_threshold. */
  activation_threshold: number;
  source: AutoscalingSource;
}

/** Defaults of the optional fields of `autoscaling`. */
export const DEFAULT_AUTOSCALING = Object.freeze({
  min: 0,
  polling_interval_seconds: 15,
  stabilization: Object.freeze({ up_seconds: 0, down_seconds: 300 }),
  activation_threshold: 0,
});

/** One raw recommendation, kept for the stabilization windows. */
export interface Recommendation {
  at: number;
  desired: number;
}

/** The metric as fetched: a value, or why there is none. */
export type MetricReading = { value: number } | { error: string };

/** What `decideAutoscale` looks at. */
export interface AutoscaleInput {
  policy: PipelineAutoscaling;
  /** The instance count the pipeline has now (its spec's `instances`). */
  current: number;
  metric: MetricReading;
  now: number;
  /** Recommendations answered before (any age; older than the windows are dropped). */
  history: readonly Recommendation[];
}

/** The decision: the count to keep, why, and the recommendations to keep for next time. */
export interface AutoscaleDecision {
  desired: number;
  /** The recommendation of this metric alone (before stabilization); null when the metric failed. */
  raw: number | null;
  reason: string;
  history: Recommendation[];
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

/** The recommendation of one metric value: proportional, clamped, with the activation rule. */
export function recommend(policy: PipelineAutoscaling, value: number): { desired: number; why: string } {
  const { min, max, target_per_instance: target, activation_threshold: threshold } = policy;
  const proportional = clamp(Math.ceil(value / target - 1e-9), min, max);
  const base = `metric ${value} / target ${target} per instance → ${proportional}`;
  const bounds = proportional === min || proportional === max ? ` (within [${min}, ${max}])` : '';
  if (value <= threshold && min === 0)
    return { desired: 0, why: `metric ${value} ≤ activation threshold ${threshold}: inactive → 0` };
  if (value > threshold && proportional < 1 && max >= 1)
    return { desired: 1, why: `metric ${value} > activation threshold ${threshold}: active → 1` };
  return { desired: proportional, why: `${base}${bounds}` };
}

/** Decides the count to keep now (see the module comment). */
export function decideAutoscale(input: AutoscaleInput): AutoscaleDecision {
  const { policy, current, metric, now } = input;
  const { up_seconds: up, down_seconds: down } = policy.stabilization;
  const keepMs = Math.max(up, down) * 1000;
  const kept = input.history.filter((r) => r.at > now - keepMs && r.at <= now);
  if ('error' in metric) {
    // Bounds still hold: a count outside [min, max] (the policy changed) is moved into them.
    const bounded = clamp(current, policy.min, policy.max);
    const why =
      bounded === current ? `size left at ${current}` : `size moved into [${policy.min}, ${policy.max}]`;
    return {
      desired: bounded,
      raw: null,
      reason: `metric unavailable: ${metric.error}; ${why}`,
      history: kept,
    };
  }
  const { desired: raw, why } = recommend(policy, metric.value);
  const history = [...kept, { at: now, desired: raw }];
  let upTo = raw;
  let downTo = raw;
  for (const r of history) {
    if (r.at > now - up * 1000) upTo = Math.min(upTo, r.desired);
    if (r.at > now - down * 1000) downTo = Math.max(downTo, r.desired);
  }
  let desired = current;
  let held = '';
  if (desired < upTo) desired = upTo;
  if (desired > downTo) desired = downTo;
  if (raw > current && desired < raw)
    held = `; scale-up held at ${desired} (lowest recommendation of the last ${up} s)`;
  if (raw < current && desired > raw)
    held = `; scale-down held at ${desired} (highest recommendation of the last ${down} s)`;
  desired = clamp(desired, policy.min, policy.max);
  const change = desired === current ? `stays at ${current}` : `${current} → ${desired}`;
  return { desired, raw, reason: `${why}${held}; ${change}`, history };
}

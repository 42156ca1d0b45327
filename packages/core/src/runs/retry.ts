/**
 * Whether a finished attempt is tried again, and after how long.
 *
 * Host failures (agent lost, task dropped, launch failed) retry by default; a program's exit code
 * does not, unless the policy lists it in `retryExitCodes` (like AWS Batch's `evaluateOnExit`).
 * `noRetryExitCodes` always wins over `retryExitCodes`. A `rejected` spec never retries: sending the
 * same spec again would be rejected again. Nor does a host failure whose reason is
 * {@link CONFIGURATION_FAILURE}: the cluster is set up so that it cannot run the attempt (a Mesos
 * agent that cannot launch the task's container), and another attempt would meet the same setup.
 */
import { backoffDelayMs } from '../backoff.js';
import { CoreInputError } from '../errors.js';
import type { AttemptOutcome } from './model.js';

/**
 * The `host-failure` reason of an attempt the cluster's configuration failed rather than a host:
 * its `message` says what to change. Never retried, whatever the policy.
 */
export const CONFIGURATION_FAILURE = 'configuration failure';

/** True for a host failure that is the cluster's configuration, not the host (see CONFIGURATION_FAILURE). */
export function isConfigurationFailure(outcome: AttemptOutcome): boolean {
  return outcome.kind === 'host-failure' && outcome.reason === CONFIGURATION_FAILURE;
}

/** How a run's attempts are retried. Delays are milliseconds. */
export interface RetryPolicy {
  /** Launches allowed in total, the first one included (≥ 1). 1 = never retry. */
  maxAttempts: number;
  /** Delay before the second attempt, before jitter. */
  initialDelayMs: number;
  /** Each further retry waits `factor` times longer (≥ 1). */
  factor: number;
  /** No delay is ever longer than this, jitter included. */
  maxDelayMs: number;
  /** ± fraction of the delay chosen at random (0.2 = between 80 % and 120 %); in [0, 1]. */
  jitter: number;
  /** Retry attempts the host failed (`host-failure` outcomes). */
  retryHostFailures: boolean;
  /** Exit codes that do retry. Empty = a program's exit never retries. */
  retryExitCodes: readonly number[];
  /** Exit codes that never retry, even if listed in `retryExitCodes`. */
  noRetryExitCodes: readonly number[];
  /**
   * Rules by exit code and reason, AWS Batch's `evaluateOnExit`: the first rule that matches an
   * outcome decides (retry or exit); when none matches, the fields above decide. Absent = none.
   */
  rules?: readonly RetryRule[];
}

/**
 * The reason of an outcome as rules name it: `exit` (the program exited), `oom` (killed for
 * exceeding its memory), `killed` (killed otherwise), `host_failure`, `rejected`, and `deadline`
 * (the attempt was stopped at the run's active deadline, see decideDeadlineRetry).
 */
export type OutcomeReason = 'exit' | 'oom' | 'killed' | 'host_failure' | 'rejected' | 'deadline';

export const OUTCOME_REASONS: readonly OutcomeReason[] = [
  'exit',
  'oom',
  'killed',
  'host_failure',
  'rejected',
  'deadline',
];

/** The stop reason the run controller gives a run past its active deadline starts with this. */
export const DEADLINE_STOP_PREFIX = 'active deadline of';

/**
 * One rule of a retry policy. `onExitCode` and `onReason` are patterns: the exact text, or a prefix
 * ending in `*` (`13*` matches 13, 130 and 137; `*` matches anything). Given both, both must match;
 * `onExitCode` matches only outcomes with an exit code.
 */
export interface RetryRule {
  onExitCode?: string;
  onReason?: string;
  action: 'retry' | 'exit';
}

/** The rule-name of an outcome's reason (see OutcomeReason). */
export function outcomeReason(outcome: AttemptOutcome): OutcomeReason {
  switch (outcome.kind) {
    case 'exited':
      return 'exit';
    case 'killed':
      return /\boom\b|out of memory|memory limit/i.test(outcome.message ?? '') ? 'oom' : 'killed';
    case 'host-failure':
      return 'host_failure';
    case 'rejected':
      return 'rejected';
  }
}

/** Whether `text` matches `pattern` (exact, or a prefix when the pattern ends in `*`). */
function globMatches(pattern: string, text: string): boolean {
  return pattern.endsWith('*') ? text.startsWith(pattern.slice(0, -1)) : pattern === text;
}

/** Whether `rule` matches `outcome` (whose reason is `reason`: its own unless said otherwise). */
export function ruleMatches(
  rule: RetryRule,
  outcome: AttemptOutcome,
  reason: OutcomeReason = outcomeReason(outcome),
): boolean {
  if (rule.onExitCode !== undefined) {
    if (outcome.kind !== 'exited' || !globMatches(rule.onExitCode, String(outcome.exitCode))) return false;
  }
  if (rule.onReason !== undefined && !globMatches(rule.onReason, reason)) return false;
  return true;
}

/** `on_exit_code 3, on_reason host_failure`: a rule as the API writes it. */
function describeRule(rule: RetryRule, index: number): string {
  const parts: string[] = [];
  if (rule.onExitCode !== undefined) parts.push(`on_exit_code ${rule.onExitCode}`);
  if (rule.onReason !== undefined) parts.push(`on_reason ${rule.onReason}`);
  return `rule ${index + 1} (${parts.join(', ') || 'any'} → ${rule.action})`;
}

/** The defaults documented in the package README. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  retryHostFailures: true,
  retryExitCodes: [],
  noRetryExitCodes: [],
});

/**
 * The defaults overlaid with `overrides` (undefined fields keep their default), validated.
 * Throws {@link CoreInputError} `INVALID_RETRY_POLICY` naming the field that is out of range.
 */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const [key, value] of Object.entries(overrides) as [keyof RetryPolicy, never][]) {
    if (value !== undefined) policy[key] = value;
  }
  const bad = (field: keyof RetryPolicy, rule: string): never => {
    throw new CoreInputError('INVALID_RETRY_POLICY', `retry policy ${field} must be ${rule}`, { field });
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) bad('maxAttempts', 'an integer ≥ 1');
  if (!(policy.initialDelayMs >= 0)) bad('initialDelayMs', '≥ 0');
  if (!(policy.factor >= 1)) bad('factor', '≥ 1');
  if (!(policy.maxDelayMs >= 0)) bad('maxDelayMs', '≥ 0');
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) bad('jitter', 'between 0 and 1');
  return policy;
}

/** The answer of {@link decideRetry}. `reason` is readable and describes the outcome either way. */
export type RetryDecision =
  { retry: true; delayMs: number; reason: string } | { retry: false; reason: string };

/** A short human description of an outcome: `exited with code 2`, `host failure: agent lost`. */
export function describeOutcome(outcome: AttemptOutcome): string {
  const detail = (message: string | undefined): string => (message ? ` (${message})` : '');
  switch (outcome.kind) {
    case 'exited':
      return `exited with code ${outcome.exitCode}${detail(outcome.message)}`;
    case 'killed':
      return `killed${detail(outcome.message)}`;
    case 'host-failure':
      if (isConfigurationFailure(outcome)) return `${CONFIGURATION_FAILURE}: ${outcome.message ?? 'unknown'}`;
      return `host failure: ${outcome.reason}${detail(outcome.message)}`;
    case 'rejected':
      return `rejected by the backend: ${outcome.message}`;
  }
}

/** Whether the policy retries this kind of outcome at all (attempts left aside), with why not. */
function isRetryable(
  policy: RetryPolicy,
  outcome: AttemptOutcome,
): { ok: true; rule?: string } | { ok: false; why: string } {
  if (outcome.kind !== 'rejected' && !isConfigurationFailure(outcome)) {
    const index = (policy.rules ?? []).findIndex((rule) => ruleMatches(rule, outcome));
    const rule = policy.rules?.[index];
    if (rule) {
      const named = describeRule(rule, index);
      return rule.action === 'retry'
        ? { ok: true, rule: named }
        : { ok: false, why: `${named}: not retried` };
    }
  }
  switch (outcome.kind) {
    case 'rejected':
      return { ok: false, why: 'a rejected spec is never retried' };
    case 'killed':
      return { ok: false, why: 'a killed attempt is not retried' };
    case 'host-failure':
      if (isConfigurationFailure(outcome))
        return { ok: false, why: 'not retried: it fails the same way until the configuration changes' };
      return policy.retryHostFailures ? { ok: true } : { ok: false, why: 'host failures are not retried' };
    case 'exited':
      if (policy.noRetryExitCodes.includes(outcome.exitCode)) {
        return { ok: false, why: `exit code ${outcome.exitCode} is never retried` };
      }
      if (policy.retryExitCodes.includes(outcome.exitCode)) return { ok: true };
      return { ok: false, why: '' };
  }
}

/**
 * The delay before the next attempt after `attemptCount` launches:
 * `min(maxDelayMs, initialDelayMs × factor^(attemptCount−1))`, then ± `jitter` of it using `random()`
 * (a number in [0, 1); 0.5 means no jitter), rounded to whole ms and capped at `maxDelayMs` again.
 */
export function retryDelayMs(policy: RetryPolicy, attemptCount: number, random: () => number): number {
  return backoffDelayMs(policy, attemptCount, policy.jitter, random);
}

/**
 * Whether to try again after an attempt ended with `outcome`, `attemptCount` being the attempts
 * launched so far (the one that just ended included). `maxAttempts` counts launches, so a retry is
 * possible only while `attemptCount < maxAttempts`. `random()` returns a number in [0, 1).
 */
export function decideRetry(
  policy: RetryPolicy,
  attemptCount: number,
  outcome: AttemptOutcome,
  random: () => number,
): RetryDecision {
  const what = describeOutcome(outcome);
  const retryable = isRetryable(policy, outcome);
  if (!retryable.ok) return { retry: false, reason: retryable.why ? `${what}; ${retryable.why}` : what };
  if (attemptCount >= policy.maxAttempts) {
    const plural = policy.maxAttempts === 1 ? 'attempt' : 'attempts';
    return {
      retry: false,
      reason: `${what}; gave up after ${attemptCount} of ${policy.maxAttempts} ${plural}`,
    };
  }
  const delayMs = retryDelayMs(policy, attemptCount, random);
  const by = retryable.rule ? ` by ${retryable.rule}` : '';
  return {
    retry: true,
    delayMs,
    reason: `${what}; retrying${by} (attempt ${attemptCount + 1} of ${policy.maxAttempts}) in ${formatDelay(delayMs)}`,
  };
}

/** `850 ms`, `2 s`, `1.5 s`, `4 min`. */
function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

/**
 * Whether a run stopped at its active deadline (`stopReason`) is tried again: only when the first
 * rule that matches the attempt with the reason `deadline` says `retry` and attempts are left.
 * Null = not retried (the run stops with its stop reason, as any stopped run).
 */
export function decideDeadlineRetry(
  policy: RetryPolicy,
  attemptCount: number,
  outcome: AttemptOutcome,
  random: () => number,
  stopReason: string,
): RetryDecision | null {
  if (!stopReason.startsWith(DEADLINE_STOP_PREFIX)) return null;
  const index = (policy.rules ?? []).findIndex((rule) => ruleMatches(rule, outcome, 'deadline'));
  const rule = policy.rules?.[index];
  if (!rule || rule.action !== 'retry' || attemptCount >= policy.maxAttempts) return null;
  const delayMs = retryDelayMs(policy, attemptCount, random);
  return {
    retry: true,
    delayMs,
    reason: `${stopReason}; retrying by ${describeRule(rule, index)} (attempt ${attemptCount + 1} of ${policy.maxAttempts}) in ${formatDelay(delayMs)}`,
  };
}

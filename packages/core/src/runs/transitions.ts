/**
 * The run state machine: one pure `transition(state, event, ctx)`.
 *
 * Guarantees (each has a test in test/runs):
 * - events for an attempt other than the current one change nothing (`changed: false`);
 * - an attempt id is launched at most once: `launching` with an id the run has already launched is
 *   a no-op, whatever the status;
 * - STOPPED is absorbing; a repeated event is a no-op, so at-least-once delivery is safe;
 * - `stop-requested` on QUEUED or NEEDS_RETRY stops at once; on PENDING/RUNNING it emits `kill` and
 *   the run stops when the attempt ends, with the stop's reason, never retried (unless the stop
 *   was its active deadline and a retry rule names `deadline`);
 * - `exitCode` is set only from an `exited` outcome of the current attempt;
 * - `attemptCount` never exceeds `ctx.policy.maxAttempts`.
 */
import type { RunEffect, RunEvent, RunState } from './model.js';
import { decideDeadlineRetry, decideRetry, describeOutcome } from './retry.js';
import type { RetryPolicy } from './retry.js';

/** What a transition needs besides the state and the event. */
export interface TransitionContext {
  policy: RetryPolicy;
  /** A number in [0, 1), used only for retry jitter. */
  random: () => number;
}

/** The result of a transition. When `changed` is false, `state` is the input state object itself. */
export interface TransitionResult {
  state: RunState;
  changed: boolean;
  effects: RunEffect[];
}

/** The default reason of a stop requested without one. */
export const DEFAULT_STOP_REASON = 'stopped by request';

const unchanged = (state: RunState): TransitionResult => ({ state, changed: false, effects: [] });
const changedTo = (state: RunState, effects: RunEffect[] = []): TransitionResult => ({
  state,
  changed: true,
  effects,
});

/** Applies one event to a run. Pure: same inputs, same answer. */
export function transition(state: RunState, event: RunEvent, ctx: TransitionContext): TransitionResult {
  switch (event.type) {
    case 'launching':
      return onLaunching(state, event, ctx);
    case 'running':
      return onRunning(state, event);
    case 'ended':
      return onEnded(state, event, ctx);
    case 'stop-requested':
      return onStopRequested(state, event);
    case 'retry-due':
      return onRetryDue(state, event);
    case 'unplaceable':
      return onUnplaceable(state, event);
  }
}

type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

function onLaunching(state: RunState, event: EventOf<'launching'>, ctx: TransitionContext): TransitionResult {
  if (state.status !== 'QUEUED') return unchanged(state);
  if (state.attemptIds.includes(event.attemptId)) return unchanged(state);
  // Only reachable if the policy shrank after the run was queued: never launch past the limit.
  if (state.attemptCount >= ctx.policy.maxAttempts) return unchanged(state);
  return changedTo({
    ...state,
    status: 'PENDING',
    attemptCount: state.attemptCount + 1,
    attemptId: event.attemptId,
    attemptIds: [...state.attemptIds, event.attemptId],
    exitCode: null,
    exitReason: null,
    startedAt: null,
    retryAt: null,
    queuedReason: null,
  });
}

function onRunning(state: RunState, event: EventOf<'running'>): TransitionResult {
  if (state.status !== 'PENDING' || event.attemptId !== state.attemptId) return unchanged(state);
  return changedTo({ ...state, status: 'RUNNING', startedAt: event.at });
}

function onEnded(state: RunState, event: EventOf<'ended'>, ctx: TransitionContext): TransitionResult {
  const inFlight = state.status === 'PENDING' || state.status === 'RUNNING';
  if (!inFlight || event.attemptId !== state.attemptId) return unchanged(state);
  const { outcome } = event;
  const exitCode = outcome.kind === 'exited' ? outcome.exitCode : null;
  if (state.stopRequestedAt !== null) {
    const stopReason = state.exitReason ?? DEFAULT_STOP_REASON;
    // A stop at the run's active deadline retries only when a retry rule names `deadline`.
    const again = decideDeadlineRetry(ctx.policy, state.attemptCount, outcome, ctx.random, stopReason);
    if (again?.retry) {
      const retryAt = event.at + again.delayMs;
      return changedTo(
        {
          ...state,
          status: 'NEEDS_RETRY',
          exitCode,
          exitReason: again.reason,
          retryAt,
          stopRequestedAt: null,
        },
        [{ type: 'schedule-retry', at: retryAt }],
      );
    }
    return changedTo({
      ...state,
      status: 'STOPPED',
      exitCode,
      exitReason: `${stopReason} (${describeOutcome(outcome)})`,
      finishedAt: event.at,
    });
  }
  const decision = decideRetry(ctx.policy, state.attemptCount, outcome, ctx.random);
  if (decision.retry) {
    const retryAt = event.at + decision.delayMs;
    return changedTo({ ...state, status: 'NEEDS_RETRY', exitCode, exitReason: decision.reason, retryAt }, [
      { type: 'schedule-retry', at: retryAt },
    ]);
  }
  return changedTo({
    ...state,
    status: 'STOPPED',
    exitCode,
    exitReason: decision.reason,
    finishedAt: event.at,
  });
}

function onStopRequested(state: RunState, event: EventOf<'stop-requested'>): TransitionResult {
  if (state.status === 'STOPPED' || state.stopRequestedAt !== null) return unchanged(state);
  const reason = event.reason ?? DEFAULT_STOP_REASON;
  if (state.status === 'QUEUED' || state.status === 'NEEDS_RETRY') {
    return changedTo({
      ...state,
      status: 'STOPPED',
      exitReason: reason,
      stopRequestedAt: event.at,
      finishedAt: event.at,
      retryAt: null,
      queuedReason: null,
    });
  }
  // PENDING or RUNNING: the attempt is on a backend; the run stops when it ends.
  const attemptId = state.attemptId as string;
  return changedTo({ ...state, stopRequestedAt: event.at, exitReason: reason }, [
    { type: 'kill', attemptId },
  ]);
}

function onRetryDue(state: RunState, event: EventOf<'retry-due'>): TransitionResult {
  if (state.status !== 'NEEDS_RETRY' || state.retryAt === null || event.at < state.retryAt) {
    return unchanged(state);
  }
  return changedTo({ ...state, status: 'QUEUED', retryAt: null, queuedReason: null });
}

function onUnplaceable(state: RunState, event: EventOf<'unplaceable'>): TransitionResult {
  if (state.status !== 'QUEUED' || state.queuedReason === event.reason) return unchanged(state);
  return changedTo({ ...state, queuedReason: event.reason });
}

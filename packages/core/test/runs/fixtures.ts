import { newRunState, resolveRetryPolicy, transition } from '@galley/core';
import type { RetryPolicy, RunEvent, RunState, TransitionContext } from '@galley/core';

/** No jitter: random() = 0.5 puts the delay exactly on its base value. */
export const noJitter = (): number => 0.5;

export function ctxWith(policy: Partial<RetryPolicy> = {}): TransitionContext {
  return { policy: resolveRetryPolicy(policy), random: noJitter };
}

export const T0 = 1_000_000;

/** The state reached from a fresh run (queued at T0) by applying `events` in order. */
export function runThrough(events: RunEvent[], ctx: TransitionContext = ctxWith()): RunState {
  return events.reduce((state, event) => transition(state, event, ctx).state, newRunState(T0));
}

export const launching = (attemptId: string, at = T0 + 10): RunEvent => ({
  type: 'launching',
  attemptId,
  at,
});
export const running = (attemptId: string, at = T0 + 20): RunEvent => ({ type: 'running', attemptId, at });
export const exited = (attemptId: string, exitCode: number, at = T0 + 30): RunEvent => ({
  type: 'ended',
  attemptId,
  at,
  outcome: { kind: 'exited', exitCode },
});
export const hostFailure = (attemptId: string, at = T0 + 30): RunEvent => ({
  type: 'ended',
  attemptId,
  at,
  outcome: { kind: 'host-failure', reason: 'agent lost' },
});
export const stop = (at = T0 + 40, reason?: string): RunEvent =>
  reason === undefined ? { type: 'stop-requested', at } : { type: 'stop-requested', at, reason };
export const retryDue = (at: number): RunEvent => ({ type: 'retry-due', at });
export const unplaceable = (reason: string, at = T0 + 5): RunEvent => ({ type: 'unplaceable', at, reason });

/** One state per status (and a re-queued one), as reached through real events. */
export const states = {
  queued: runThrough([]),
  requeued: runThrough([launching('a1'), hostFailure('a1'), retryDue(T0 + 30 + 1000)]),
  pending: runThrough([launching('a1')]),
  running: runThrough([launching('a1'), running('a1')]),
  needsRetry: runThrough([launching('a1'), hostFailure('a1')]),
  stopped: runThrough([launching('a1'), running('a1'), exited('a1', 0)]),
} satisfies Record<string, RunState>;

import { describe, expect, it } from 'vitest';
import { newRunState, transition } from '@galley/core';
import type { RunEvent } from '@galley/core';
import {
  T0,
  ctxWith,
  exited,
  hostFailure,
  launching,
  retryDue,
  runThrough,
  states,
  stop,
} from './fixtures.js';

describe('run transitions: a stop requested while an attempt is in flight', () => {
  const ctx = ctxWith();
  it.each([
    ['exits 0', exited('a1', 0, T0 + 90), 0],
    [
      'is killed',
      { type: 'ended', attemptId: 'a1', at: T0 + 90, outcome: { kind: 'killed' } } as RunEvent,
      null,
    ],
    ['fails on its host (would otherwise retry)', hostFailure('a1', T0 + 90), null],
  ])('STOPPED with the stop reason, never retried, when the attempt %s', (_what, ended, exitCode) => {
    const stopping = transition(states.running, stop(T0 + 40, 'user asked'), ctx).state;
    const result = transition(stopping, ended, ctx);
    expect(result.state.status).toBe('STOPPED');
    expect(result.state.exitReason).toMatch(/^user asked \(/);
    expect(result.state.exitCode).toBe(exitCode);
    expect(result.state.finishedAt).toBe(T0 + 90);
    expect(result.effects).toEqual([]);
  });
});

describe('run transitions: retries', () => {
  it('host failures retry until maxAttempts launches, then STOPPED with a readable reason', () => {
    const ctx = ctxWith({ maxAttempts: 3 });
    let state = newRunState(T0);
    let at = T0;
    for (const attempt of ['a1', 'a2', 'a3']) {
      state = transition(state, launching(attempt, ++at), ctx).state;
      expect(state.status).toBe('PENDING');
      state = transition(state, hostFailure(attempt, ++at), ctx).state;
      if (attempt !== 'a3') {
        expect(state.status).toBe('NEEDS_RETRY');
        state = transition(state, retryDue(state.retryAt as number), ctx).state;
        expect(state.status).toBe('QUEUED');
      }
    }
    expect(state).toMatchObject({ status: 'STOPPED', attemptCount: 3, exitCode: null });
    expect(state.exitReason).toBe('host failure: agent lost; gave up after 3 of 3 attempts');
  });

  it('maxAttempts 1 means the first host failure stops the run', () => {
    const state = runThrough([launching('a1'), hostFailure('a1')], ctxWith({ maxAttempts: 1 }));
    expect(state.status).toBe('STOPPED');
    expect(state.exitReason).toBe('host failure: agent lost; gave up after 1 of 1 attempt');
  });

  it('an exit code listed in retryExitCodes retries and records the exit code', () => {
    const state = runThrough([launching('a1'), exited('a1', 75)], ctxWith({ retryExitCodes: [75] }));
    expect(state).toMatchObject({ status: 'NEEDS_RETRY', exitCode: 75 });
    const relaunched = runThrough(
      [launching('a1'), exited('a1', 75), retryDue(T0 + 5000), launching('a2', T0 + 5001)],
      ctxWith({ retryExitCodes: [75] }),
    );
    expect(relaunched).toMatchObject({ status: 'PENDING', exitCode: null, attemptCount: 2 });
  });

  it('NEEDS_RETRY goes back to QUEUED only once retryAt has passed', () => {
    const state = states.needsRetry;
    const retryAt = state.retryAt as number;
    expect(transition(state, retryDue(retryAt - 1), ctxWith()).state.status).toBe('NEEDS_RETRY');
    expect(transition(state, retryDue(retryAt), ctxWith()).state.status).toBe('QUEUED');
    expect(transition(state, retryDue(retryAt + 10_000), ctxWith()).state.status).toBe('QUEUED');
  });

  it('a policy lowered below the attempts already made refuses further launches', () => {
    const requeued = states.requeued;
    const result = transition(requeued, launching('a2'), ctxWith({ maxAttempts: 1 }));
    expect(result.changed).toBe(false);
  });
});

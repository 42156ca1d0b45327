import { describe, expect, it } from 'vitest';
import {
  decideRetry,
  newRunState,
  outcomeReason,
  resolveRetryPolicy,
  transition,
  type AttemptOutcome,
  type RunState,
} from '@galley/core';

const half = (): number => 0.5;
const exited = (exitCode: number): AttemptOutcome => ({ kind: 'exited', exitCode });

describe('retry rules (evaluate_on_exit)', () => {
  const policy = resolveRetryPolicy({
    maxAttempts: 3,
    rules: [
      { onExitCode: '1', action: 'exit' },
      { onExitCode: '13*', action: 'retry' },
      { onExitCode: '3', action: 'retry' },
      { onReason: 'oom', action: 'retry' },
      { onReason: 'host_failure', action: 'exit' },
    ],
  });

  it('retries an exit code a rule names, and says which rule', () => {
    const d = decideRetry(policy, 1, exited(3), half);
    expect(d).toMatchObject({ retry: true });
    expect(d.reason).toContain('rule 3 (on_exit_code 3 → retry)');
    expect(decideRetry(policy, 1, exited(137), half).retry).toBe(true);
  });

  it('the first matching rule wins: exit 1 is final', () => {
    const d = decideRetry(policy, 1, exited(1), half);
    expect(d).toMatchObject({ retry: false });
    expect(d.reason).toContain('rule 1');
  });

  it('rules by reason: OOM retries, host failure (retried by default) does not', () => {
    expect(
      decideRetry(policy, 1, { kind: 'killed', message: 'OOM: memory limit exceeded' }, half).retry,
    ).toBe(true);
    expect(decideRetry(policy, 1, { kind: 'host-failure', reason: 'agent lost' }, half).retry).toBe(false);
  });

  it('no rule matching: the policy fields decide (exit 2 is final, a plain kill too)', () => {
    expect(decideRetry(policy, 1, exited(2), half).retry).toBe(false);
    expect(decideRetry(policy, 1, { kind: 'killed' }, half).retry).toBe(false);
  });

  it('max attempts bounds what rules retry', () => {
    const d = decideRetry(policy, 3, exited(3), half);
    expect(d).toMatchObject({ retry: false });
    expect(d.reason).toContain('gave up after 3 of 3 attempts');
  });

  it('names outcome reasons', () => {
    expect(outcomeReason(exited(0))).toBe('exit');
    expect(outcomeReason({ kind: 'killed', message: 'signal 9' })).toBe('killed');
    expect(outcomeReason({ kind: 'rejected', message: 'x' })).toBe('rejected');
  });
});

describe('a stop at the active deadline', () => {
  const running = (): RunState => ({
    ...newRunState(0),
    status: 'RUNNING',
    attemptCount: 1,
    attemptId: 'a1',
    attemptIds: ['a1'],
    startedAt: 10,
  });
  const stopThenEnd = (policy: ReturnType<typeof resolveRetryPolicy>, reason: string) => {
    const ctx = { policy, random: half };
    const stopping = transition(running(), { type: 'stop-requested', at: 20, reason }, ctx).state;
    return transition(
      stopping,
      { type: 'ended', attemptId: 'a1', at: 30, outcome: { kind: 'killed', message: 'signal 15' } },
      ctx,
    ).state;
  };
  const deadline = 'active deadline of 5 s exceeded';
  const retryDeadline = resolveRetryPolicy({
    maxAttempts: 2,
    rules: [{ onReason: 'deadline', action: 'retry' }],
  });

  it('retries when a rule names deadline, saying why', () => {
    const s = stopThenEnd(retryDeadline, deadline);
    expect(s).toMatchObject({ status: 'NEEDS_RETRY', stopRequestedAt: null });
    expect(s.exitReason).toContain(
      'active deadline of 5 s exceeded; retrying by rule 1 (on_reason deadline → retry)',
    );
  });

  it('stops as before without such a rule, after the last attempt, or when a person stopped it', () => {
    expect(stopThenEnd(resolveRetryPolicy({ maxAttempts: 2 }), deadline).status).toBe('STOPPED');
    expect(stopThenEnd(resolveRetryPolicy({ ...retryDeadline, maxAttempts: 1 }), deadline).status).toBe(
      'STOPPED',
    );
    expect(stopThenEnd(retryDeadline, 'stopped by request').status).toBe('STOPPED');
  });
});

import { describe, expect, it } from 'vitest';
import { decideRetry, outcomeReason, resolveRetryPolicy, type AttemptOutcome } from '@galley/core';

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

import { describe, expect, it } from 'vitest';
import {
  CONFIGURATION_FAILURE,
  CoreInputError,
  DEFAULT_RETRY_POLICY,
  describeOutcome,
  isConfigurationFailure,
  decideRetry,
  resolveRetryPolicy,
  retryDelayMs,
} from '@galley/core';
import type { AttemptOutcome } from '@galley/core';

const policy = resolveRetryPolicy();
const half = (): number => 0.5;
const hostFailure: AttemptOutcome = { kind: 'host-failure', reason: 'agent lost' };
const exited = (exitCode: number): AttemptOutcome => ({ kind: 'exited', exitCode });

describe('retry policy defaults', () => {
  it('are the documented ones', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 3,
      initialDelayMs: 1000,
      factor: 2,
      maxDelayMs: 60_000,
      jitter: 0.2,
      retryHostFailures: true,
      retryExitCodes: [],
      noRetryExitCodes: [],
    });
  });

  it.each([
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ maxAttempts: 1.5 }, 'maxAttempts'],
    [{ initialDelayMs: -1 }, 'initialDelayMs'],
    [{ factor: 0.5 }, 'factor'],
    [{ jitter: 1.5 }, 'jitter'],
    [{ maxDelayMs: Number.NaN }, 'maxDelayMs'],
  ])('rejects %o naming the field', (overrides, field) => {
    expect(() => resolveRetryPolicy(overrides)).toThrow(CoreInputError);
    try {
      resolveRetryPolicy(overrides);
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_RETRY_POLICY', field });
    }
  });

  it('undefined overrides keep the default', () => {
    expect(resolveRetryPolicy({ maxAttempts: undefined, factor: 3 })).toMatchObject({
      maxAttempts: 3,
      factor: 3,
    });
  });
});

describe('decideRetry: which outcomes retry', () => {
  const table: [string, Parameters<typeof resolveRetryPolicy>[0], number, AttemptOutcome, boolean, string][] =
    [
      [
        'host failure, attempts left',
        {},
        1,
        hostFailure,
        true,
        'host failure: agent lost; retrying (attempt 2 of 3) in 1 s',
      ],
      [
        'host failure, retryHostFailures off',
        { retryHostFailures: false },
        1,
        hostFailure,
        false,
        'host failure: agent lost; host failures are not retried',
      ],
      [
        'host failure, attempts used up',
        {},
        3,
        hostFailure,
        false,
        'host failure: agent lost; gave up after 3 of 3 attempts',
      ],
      ['exit code 1 by default', {}, 1, exited(1), false, 'exited with code 1'],
      ['exit code 0', {}, 1, exited(0), false, 'exited with code 0'],
      [
        'exit code listed in retryExitCodes',
        { retryExitCodes: [75] },
        1,
        exited(75),
        true,
        'exited with code 75; retrying (attempt 2 of 3) in 1 s',
      ],
      [
        'noRetryExitCodes wins over retryExitCodes',
        { retryExitCodes: [75], noRetryExitCodes: [75] },
        1,
        exited(75),
        false,
        'exited with code 75; exit code 75 is never retried',
      ],
      [
        'rejected, even with attempts left',
        { maxAttempts: 10 },
        1,
        { kind: 'rejected', message: 'no such image' },
        false,
        'rejected by the backend: no such image; a rejected spec is never retried',
      ],
      [
        'configuration failure, even with attempts left and host failures retried',
        { maxAttempts: 10, retryHostFailures: true },
        1,
        {
          kind: 'host-failure',
          reason: CONFIGURATION_FAILURE,
          message: 'agent S0 cannot launch containers with images: start it with --image_providers=docker',
        },
        false,
        'configuration failure: agent S0 cannot launch containers with images: start it with --image_providers=docker; not retried: it fails the same way until the configuration changes',
      ],
      [
        'killed by the host',
        {},
        1,
        { kind: 'killed', message: 'OOM' },
        false,
        'killed (OOM); a killed attempt is not retried',
      ],
    ];
  it.each(table)('%s', (_name, overrides, attemptCount, outcome, retry, reason) => {
    const decision = decideRetry(resolveRetryPolicy(overrides), attemptCount, outcome, half);
    expect(decision.retry).toBe(retry);
    expect(decision.reason).toBe(reason);
  });
});

describe('decideRetry: backoff', () => {
  it('doubles from 1 s and caps at 60 s without jitter', () => {
    const noJitter = resolveRetryPolicy({ maxAttempts: 100, jitter: 0 });
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(noJitter, n, Math.random));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('jitter stays within ± 20 % and never passes maxDelayMs', () => {
    for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
      const d2 = retryDelayMs(policy, 2, () => r);
      expect(d2).toBeGreaterThanOrEqual(1600);
      expect(d2).toBeLessThanOrEqual(2400);
      expect(retryDelayMs(policy, 20, () => r)).toBeLessThanOrEqual(60_000);
    }
    expect(retryDelayMs(policy, 2, () => 0)).toBe(1600);
    expect(retryDelayMs(policy, 2, () => 0.999999)).toBe(2400);
  });

  it('the delay returned by decideRetry is the backoff for that attempt', () => {
    const decision = decideRetry(resolveRetryPolicy({ maxAttempts: 5 }), 3, hostFailure, half);
    expect(decision).toMatchObject({ retry: true, delayMs: 4000 });
  });
});

describe('configuration failures', () => {
  it('are host failures with their own reason, described by their message alone', () => {
    const outcome: AttemptOutcome = {
      kind: 'host-failure',
      reason: CONFIGURATION_FAILURE,
      message: 'fix it',
    };
    expect(isConfigurationFailure(outcome)).toBe(true);
    expect(isConfigurationFailure(hostFailure)).toBe(false);
    expect(isConfigurationFailure({ kind: 'rejected', message: CONFIGURATION_FAILURE })).toBe(false);
    expect(describeOutcome(outcome)).toBe('configuration failure: fix it');
  });
});

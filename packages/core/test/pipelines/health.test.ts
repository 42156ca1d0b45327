import { describe, expect, it } from 'vitest';
import {
  combineHealth,
  isHealthyHttpStatus,
  newHealthState,
  nextCheckAt,
  observe,
  resolveHealthCheck,
} from '@galley/core';
import type { CheckResult, HealthState } from '@galley/core';

// interval 10 s, grace 30 s, unhealthy after 3 consecutive failures.
const check = resolveHealthCheck({
  protocol: 'HTTP',
  interval_seconds: 10,
  timeout_seconds: 2,
  grace_period_seconds: 30,
  max_consecutive_failures: 3,
});
const T0 = 1_000_000;
const ok: CheckResult = { ok: true };
const fail = (message = 'connection refused'): CheckResult => ({ ok: false, message });

/** Feeds results at the given seconds after start. */
function feed(results: [number, CheckResult][], start: HealthState = newHealthState(check, T0)): HealthState {
  return results.reduce((s, [sec, r]) => observe(s, r, T0 + sec * 1000), start);
}

describe('health: one process', () => {
  const table: [string, [number, CheckResult][], Partial<HealthState>][] = [
    ['no result yet → pending', [], { status: 'pending', consecutiveFailures: 0 }],
    ['first success → healthy', [[5, ok]], { status: 'healthy', healthySince: T0 + 5000, everHealthy: true }],
    [
      'failures inside the grace period are ignored',
      [
        [0, fail()],
        [10, fail()],
        [20, fail()],
        [29, fail()],
      ],
      { status: 'pending', consecutiveFailures: 0 },
    ],
    [
      'failures after the grace period count',
      [
        [30, fail()],
        [40, fail()],
      ],
      { status: 'pending', consecutiveFailures: 2 },
    ],
    [
      'threshold reached after the grace period → unhealthy',
      [
        [30, fail()],
        [40, fail()],
        [50, fail()],
      ],
      { status: 'unhealthy', consecutiveFailures: 3 },
    ],
    [
      'healthy then one failure → failing (even inside the grace period)',
      [
        [5, ok],
        [15, fail('HTTP 503')],
      ],
      { status: 'failing', consecutiveFailures: 1, healthySince: null },
    ],
    [
      'failing then success → healthy again, count reset',
      [
        [5, ok],
        [15, fail()],
        [25, fail()],
        [35, ok],
      ],
      { status: 'healthy', consecutiveFailures: 0, healthySince: T0 + 35_000 },
    ],
    [
      'healthy then threshold failures → unhealthy',
      [
        [5, ok],
        [15, fail()],
        [25, fail()],
        [35, fail('timed out after 2 s')],
      ],
      { status: 'unhealthy', consecutiveFailures: 3, lastResult: fail('timed out after 2 s') },
    ],
    [
      'unhealthy is absorbing',
      [
        [30, fail()],
        [40, fail()],
        [50, fail()],
        [60, ok],
      ],
      { status: 'unhealthy' },
    ],
    [
      'healthySince is kept across successes',
      [
        [5, ok],
        [15, ok],
        [25, ok],
      ],
      { healthySince: T0 + 5000 },
    ],
  ];
  it.each(table)('%s', (_name, results, expected) => {
    expect(feed(results)).toMatchObject(expected);
  });

  it('ignores a result older than the last one observed', () => {
    const state = feed([[20, ok]]);
    expect(observe(state, fail(), T0 + 10_000)).toBe(state);
  });

  it('schedules the first check at start, then every interval, and none once unhealthy', () => {
    const fresh = newHealthState(check, T0);
    expect(nextCheckAt(fresh)).toBe(T0);
    expect(nextCheckAt(feed([[5, ok]]))).toBe(T0 + 15_000);
    expect(
      nextCheckAt(
        feed([
          [30, fail()],
          [40, fail()],
          [50, fail()],
        ]),
      ),
    ).toBeNull();
  });

  it('defaults: interval 10 s, timeout 5 s, grace 60 s, 3 failures, path /', () => {
    expect(resolveHealthCheck({ protocol: 'TCP' })).toEqual({
      protocol: 'TCP',
      path: '/',
      portIndex: 0,
      command: null,
      intervalMs: 10_000,
      timeoutMs: 5000,
      gracePeriodMs: 60_000,
      maxConsecutiveFailures: 3,
    });
  });

  it.each([
    [200, true],
    [302, true],
    [399, true],
    [404, false],
    [500, false],
    [199, false],
  ])('HTTP %d healthy: %s', (status, healthy) => {
    expect(isHealthyHttpStatus(status)).toBe(healthy);
  });
});

describe('health: an instance from its processes', () => {
  it('is as bad as its worst process, and says which', () => {
    const healthy = feed([[5, ok]]);
    const failing = feed([
      [5, ok],
      [15, fail('HTTP 503')],
    ]);
    const unhealthy = feed([
      [30, fail()],
      [40, fail()],
      [50, fail('refused')],
    ]);
    expect(combineHealth({ a: healthy, b: healthy })).toEqual({
      status: 'healthy',
      message: 'all health checks pass',
    });
    expect(combineHealth({ a: healthy, b: failing })).toEqual({
      status: 'failing',
      message: 'process b is failing after 1 failed HTTP check: HTTP 503',
    });
    expect(combineHealth({ a: failing, b: unhealthy, c: newHealthState(check, T0) }).status).toBe(
      'unhealthy',
    );
    expect(combineHealth({ a: healthy, c: newHealthState(check, T0) }).status).toBe('pending');
  });
});

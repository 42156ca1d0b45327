import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTART_BACKOFF,
  describeInstance,
  instanceTransition,
  isCrashLooping,
  newInstanceState,
  restartDelayMs,
} from '@galley/core';
import type { InstanceEvent, InstanceState } from '@galley/core';

const policy = DEFAULT_RESTART_BACKOFF;
const T0 = 5_000_000;
const fresh = (healthChecked = false): InstanceState =>
  newInstanceState({ instanceId: 'p.1', number: 1, version: 1 }, T0, healthChecked);
const apply = (state: InstanceState, ...events: InstanceEvent[]): InstanceState =>
  events.reduce((s, e) => instanceTransition(s, e, policy), state);
const exit = (at: number, exitCode: number | null = 1): InstanceEvent => ({
  type: 'process-exited',
  at,
  process: 'parse',
  exitCode,
  message: 'boom',
});

/** Crashes `times` times, each `lifeMs` after its (re)start, restarting as soon as allowed. */
function crashRepeatedly(times: number, lifeMs: number, start: InstanceState = fresh()): InstanceState[] {
  const states: InstanceState[] = [];
  let s = apply(start, { type: 'running', at: start.launchedAt });
  for (let k = 0; k < times; k++) {
    s = apply(s, exit((s.runningSince as number) + lifeMs));
    states.push(s);
    const at = s.restartAt as number;
    s = apply(s, { type: 'restarting', at }, { type: 'running', at });
  }
  return states;
}

describe('instance restart backoff', () => {
  it('waits 1 s, 2 s, 4 s … doubling, capped at 5 min', () => {
    const delays = crashRepeatedly(12, 500).map(
      (s) => (s.restartAt as number) - (s.lastExit as { at: number }).at,
    );
    expect(delays).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000,
    ]);
    expect(restartDelayMs(policy, 50)).toBe(300_000);
  });

  it('starts over at 1 s once the instance stayed up for 10 minutes', () => {
    const [, second] = crashRepeatedly(2, 500);
    const longLived = crashRepeatedly(
      1,
      600_000,
      apply(second as InstanceState, { type: 'restarting', at: T0 + 60_000 }),
    );
    expect(longLived[0]?.consecutiveFailures).toBe(1);
    expect((longLived[0]?.restartAt as number) - (longLived[0]?.lastExit?.at as number)).toBe(1000);
  });

  it('a lost instance restarts at once and does not grow the backoff', () => {
    const s = apply(
      fresh(),
      { type: 'running', at: T0 + 10 },
      { type: 'lost', at: T0 + 20, reason: 'agent gone' },
    );
    expect(s).toMatchObject({ phase: 'failed', restartAt: T0 + 20, consecutiveFailures: 0 });
    expect(s.lastExit).toEqual({ process: null, exitCode: null, message: 'agent gone', at: T0 + 20 });
  });

  it('records the last exit code and message', () => {
    const s = apply(fresh(), { type: 'running', at: T0 }, exit(T0 + 10, 3));
    expect(s.lastExit).toEqual({ process: 'parse', exitCode: 3, message: 'boom', at: T0 + 10 });
  });
});

describe('instance crash loop (3 failures within 60 s)', () => {
  it('two fast failures are not a crash loop, the third is', () => {
    const states = crashRepeatedly(3, 500);
    const last = states[2] as InstanceState;
    expect(states.map((s) => s.crashLoopingSince !== null)).toEqual([false, false, true]);
    expect(isCrashLooping(last, (last.lastExit?.at as number) + 1, policy)).toBe(true);
    expect(describeInstance(last, (last.lastExit?.at as number) + 1)).toEqual({
      status: 'crash-looping',
      message: 'process parse exited with code 1 (boom); restarting in 4 s',
    });
  });

  it('failures spread wider than the window are not a crash loop', () => {
    const states = crashRepeatedly(4, 40_000);
    expect(states.every((s) => s.crashLoopingSince === null)).toBe(true);
  });

  it('stays visible while the restarted instance runs, and clears after 10 minutes available', () => {
    const looping = crashRepeatedly(3, 500)[2] as InstanceState;
    const at = looping.restartAt as number;
    const running = apply(looping, { type: 'restarting', at }, { type: 'running', at });
    expect(isCrashLooping(running, at + 30_000, policy)).toBe(true);
    expect(describeInstance(running, at + 30_000).status).toBe('crash-looping');
    expect(isCrashLooping(running, at + 600_000, policy)).toBe(false);
  });
});

describe('instance phases', () => {
  it('ignores duplicates and events that do not apply', () => {
    const running = apply(fresh(), { type: 'running', at: T0 + 1 });
    expect(instanceTransition(running, { type: 'running', at: T0 + 2 }, policy)).toBe(running);
    expect(instanceTransition(running, { type: 'restarting', at: T0 + 2 }, policy)).toBe(running);
    expect(instanceTransition(running, { type: 'stopped', at: T0 + 2 }, policy)).toBe(running);
    const failed = apply(running, exit(T0 + 3));
    expect(instanceTransition(failed, exit(T0 + 4), policy)).toBe(failed);
  });

  it('health: healthy sets healthySince once; unhealthy records why and clears it', () => {
    const s = apply(
      fresh(true),
      { type: 'running', at: T0 + 1 },
      { type: 'health', at: T0 + 5, status: 'healthy' },
    );
    expect(s.healthySince).toBe(T0 + 5);
    expect(apply(s, { type: 'health', at: T0 + 6, status: 'healthy' }).healthySince).toBe(T0 + 5);
    const bad = apply(s, {
      type: 'health',
      at: T0 + 9,
      status: 'unhealthy',
      message: 'process web is unhealthy',
    });
    expect(bad).toMatchObject({ healthySince: null, unhealthyReason: 'process web is unhealthy' });
    expect(describeInstance(bad, T0 + 10)).toEqual({
      status: 'unhealthy',
      message: 'process web is unhealthy',
    });
  });

  it('stop-requested then stopped; a stopping instance does not restart', () => {
    const failed = apply(fresh(), { type: 'running', at: T0 }, exit(T0 + 1));
    const stopping = apply(failed, {
      type: 'stop-requested',
      at: T0 + 2,
      reason: 'scaled down to 0 instances',
    });
    expect(stopping).toMatchObject({
      phase: 'stopping',
      restartAt: null,
      stopReason: 'scaled down to 0 instances',
    });
    expect(apply(stopping, { type: 'restarting', at: T0 + 3 })).toBe(stopping);
    expect(apply(stopping, { type: 'stopped', at: T0 + 4 })).toMatchObject({
      phase: 'stopped',
      stoppedAt: T0 + 4,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { transition } from '@galley/core';
import type { RunEffect, RunEvent, RunState } from '@galley/core';
import {
  T0,
  ctxWith,
  exited,
  hostFailure,
  launching,
  retryDue,
  runThrough,
  running,
  states,
  stop,
  unplaceable,
} from './fixtures.js';

type Case = {
  name: string;
  from: RunState;
  event: RunEvent;
  /** Fields expected on the new state, or 'unchanged' when the event must be a no-op. */
  expect: Partial<RunState> | 'unchanged';
  effects?: RunEffect[];
};

// Every status against every event. "a1" is the current attempt; "a0" an id the run never launched;
// in `requeued` the current attempt a1 has already ended.
const table: Case[] = [
  // QUEUED
  {
    name: 'QUEUED + launching a new attempt → PENDING',
    from: states.queued,
    event: launching('a1'),
    expect: { status: 'PENDING', attemptId: 'a1', attemptIds: ['a1'], attemptCount: 1, startedAt: null },
  },
  {
    name: 'QUEUED + running (no attempt in flight) → no-op',
    from: states.queued,
    event: running('a1'),
    expect: 'unchanged',
  },
  {
    name: 'QUEUED + ended (no attempt in flight) → no-op',
    from: states.queued,
    event: exited('a1', 0),
    expect: 'unchanged',
  },
  {
    name: 'QUEUED + stop-requested → STOPPED at once',
    from: states.queued,
    event: stop(T0 + 40, 'not needed'),
    expect: {
      status: 'STOPPED',
      exitReason: 'not needed',
      finishedAt: T0 + 40,
      stopRequestedAt: T0 + 40,
      exitCode: null,
    },
  },
  {
    name: 'QUEUED + retry-due → no-op',
    from: states.queued,
    event: retryDue(T0 + 99_999),
    expect: 'unchanged',
  },
  {
    name: 'QUEUED + unplaceable → stays QUEUED with the reason',
    from: states.queued,
    event: unplaceable('needs 4 cpus; the largest free on any node is 2'),
    expect: { status: 'QUEUED', queuedReason: 'needs 4 cpus; the largest free on any node is 2' },
  },
  // QUEUED again after a retry: the ended attempt a1 is stale now
  {
    name: 're-QUEUED + launching the already-launched a1 → no-op (never launched twice)',
    from: states.requeued,
    event: launching('a1', T0 + 2000),
    expect: 'unchanged',
  },
  {
    name: 're-QUEUED + launching a2 → PENDING, second attempt',
    from: states.requeued,
    event: launching('a2', T0 + 2000),
    expect: {
      status: 'PENDING',
      attemptId: 'a2',
      attemptIds: ['a1', 'a2'],
      attemptCount: 2,
      exitReason: null,
    },
  },
  {
    name: 're-QUEUED + running of the ended a1 → no-op',
    from: states.requeued,
    event: running('a1'),
    expect: 'unchanged',
  },
  {
    name: 're-QUEUED + ended of the ended a1 → no-op',
    from: states.requeued,
    event: exited('a1', 1),
    expect: 'unchanged',
  },
  // PENDING
  {
    name: 'PENDING + launching a1 again → no-op',
    from: states.pending,
    event: launching('a1'),
    expect: 'unchanged',
  },
  {
    name: 'PENDING + launching another attempt → no-op (one in flight)',
    from: states.pending,
    event: launching('a2'),
    expect: 'unchanged',
  },
  {
    name: 'PENDING + running a1 → RUNNING with startedAt',
    from: states.pending,
    event: running('a1', T0 + 25),
    expect: { status: 'RUNNING', startedAt: T0 + 25 },
  },
  {
    name: 'PENDING + running of a stale attempt → no-op',
    from: states.pending,
    event: running('a0'),
    expect: 'unchanged',
  },
  {
    name: 'PENDING + exited 0 → STOPPED with exit code 0',
    from: states.pending,
    event: exited('a1', 0, T0 + 50),
    expect: { status: 'STOPPED', exitCode: 0, exitReason: 'exited with code 0', finishedAt: T0 + 50 },
  },
  {
    name: 'PENDING + ended of a stale attempt → no-op',
    from: states.pending,
    event: exited('a0', 1),
    expect: 'unchanged',
  },
  {
    name: 'PENDING + host failure → NEEDS_RETRY after 1 s',
    from: states.pending,
    event: hostFailure('a1', T0 + 50),
    expect: { status: 'NEEDS_RETRY', retryAt: T0 + 1050, exitCode: null },
    effects: [{ type: 'schedule-retry', at: T0 + 1050 }],
  },
  {
    name: 'PENDING + stop-requested → kill, still PENDING',
    from: states.pending,
    event: stop(T0 + 40, 'user stop'),
    expect: { status: 'PENDING', stopRequestedAt: T0 + 40, exitReason: 'user stop' },
    effects: [{ type: 'kill', attemptId: 'a1' }],
  },
  {
    name: 'PENDING + retry-due → no-op',
    from: states.pending,
    event: retryDue(T0 + 99_999),
    expect: 'unchanged',
  },
  {
    name: 'PENDING + unplaceable → no-op (already placed)',
    from: states.pending,
    event: unplaceable('x'),
    expect: 'unchanged',
  },
  // RUNNING
  {
    name: 'RUNNING + launching a1 again → no-op',
    from: states.running,
    event: launching('a1'),
    expect: 'unchanged',
  },
  {
    name: 'RUNNING + launching another attempt → no-op',
    from: states.running,
    event: launching('a2'),
    expect: 'unchanged',
  },
  {
    name: 'RUNNING + running a1 again → no-op (startedAt kept)',
    from: states.running,
    event: running('a1', T0 + 99),
    expect: 'unchanged',
  },
  {
    name: 'RUNNING + exited 3 → STOPPED with exit code 3, not retried',
    from: states.running,
    event: exited('a1', 3, T0 + 60),
    expect: { status: 'STOPPED', exitCode: 3, exitReason: 'exited with code 3', finishedAt: T0 + 60 },
  },
  {
    name: 'RUNNING + ended of a stale attempt → no-op',
    from: states.running,
    event: exited('a0', 3),
    expect: 'unchanged',
  },
  {
    name: 'RUNNING + host failure → NEEDS_RETRY',
    from: states.running,
    event: hostFailure('a1', T0 + 60),
    expect: { status: 'NEEDS_RETRY', retryAt: T0 + 1060 },
    effects: [{ type: 'schedule-retry', at: T0 + 1060 }],
  },
  {
    name: 'RUNNING + rejected → STOPPED, never retried',
    from: states.running,
    event: {
      type: 'ended',
      attemptId: 'a1',
      at: T0 + 60,
      outcome: { kind: 'rejected', message: 'bad image' },
    },
    expect: {
      status: 'STOPPED',
      exitCode: null,
      exitReason: 'rejected by the backend: bad image; a rejected spec is never retried',
    },
  },
  {
    name: 'RUNNING + stop-requested → kill',
    from: states.running,
    event: stop(T0 + 40),
    expect: { status: 'RUNNING', exitReason: 'stopped by request' },
    effects: [{ type: 'kill', attemptId: 'a1' }],
  },
  {
    name: 'RUNNING + retry-due → no-op',
    from: states.running,
    event: retryDue(T0 + 99_999),
    expect: 'unchanged',
  },
  {
    name: 'RUNNING + unplaceable → no-op',
    from: states.running,
    event: unplaceable('x'),
    expect: 'unchanged',
  },
  // NEEDS_RETRY (retryAt = T0 + 1030)
  {
    name: 'NEEDS_RETRY + launching → no-op (must be QUEUED first)',
    from: states.needsRetry,
    event: launching('a2'),
    expect: 'unchanged',
  },
  {
    name: 'NEEDS_RETRY + running of the ended a1 → no-op',
    from: states.needsRetry,
    event: running('a1'),
    expect: 'unchanged',
  },
  {
    name: 'NEEDS_RETRY + ended of the ended a1 again → no-op',
    from: states.needsRetry,
    event: hostFailure('a1', T0 + 31),
    expect: 'unchanged',
  },
  {
    name: 'NEEDS_RETRY + stop-requested → STOPPED at once',
    from: states.needsRetry,
    event: stop(T0 + 500, 'cancel'),
    expect: { status: 'STOPPED', exitReason: 'cancel', retryAt: null, finishedAt: T0 + 500 },
  },
  {
    name: 'NEEDS_RETRY + retry-due before retryAt → no-op',
    from: states.needsRetry,
    event: retryDue(T0 + 1029),
    expect: 'unchanged',
  },
  {
    name: 'NEEDS_RETRY + retry-due at retryAt → QUEUED',
    from: states.needsRetry,
    event: retryDue(T0 + 1030),
    expect: { status: 'QUEUED', retryAt: null, attemptCount: 1 },
  },
  {
    name: 'NEEDS_RETRY + unplaceable → no-op',
    from: states.needsRetry,
    event: unplaceable('x'),
    expect: 'unchanged',
  },
  // STOPPED is absorbing
  ...[
    launching('a2'),
    running('a1'),
    exited('a1', 1),
    hostFailure('a1'),
    stop(),
    retryDue(T0 + 99_999),
    unplaceable('x'),
  ].map((event): Case => ({
    name: `STOPPED + ${event.type} → no-op`,
    from: states.stopped,
    event,
    expect: 'unchanged',
  })),
];

describe('run transitions: every (status, event) pair', () => {
  const ctx = ctxWith();
  it.each(table)('$name', ({ from, event, expect: expected, effects = [] }) => {
    const result = transition(from, event, ctx);
    if (expected === 'unchanged') {
      expect(result.changed).toBe(false);
      expect(result.state).toBe(from);
      expect(result.effects).toEqual([]);
      return;
    }
    expect(result.changed).toBe(true);
    expect(result.state).toMatchObject(expected);
    expect(result.effects).toEqual(effects);
  });
});

describe('run transitions: duplicates and at-least-once delivery', () => {
  const ctx = ctxWith();
  it('delivering every event of a run twice gives the same state as delivering it once', () => {
    const events = [
      launching('a1'),
      running('a1'),
      hostFailure('a1'),
      retryDue(T0 + 2000),
      launching('a2'),
      running('a2'),
      exited('a2', 0, T0 + 3000),
    ];
    const once = runThrough(events, ctx);
    const twice = runThrough(
      events.flatMap((e) => [e, e]),
      ctx,
    );
    expect(twice).toEqual(once);
    expect(once).toMatchObject({ status: 'STOPPED', attemptCount: 2, exitCode: 0, attemptIds: ['a1', 'a2'] });
  });

  it('a second stop request is a no-op and does not change the reason', () => {
    const first = transition(states.running, stop(T0 + 40, 'first'), ctx).state;
    const second = transition(first, stop(T0 + 41, 'second'), ctx);
    expect(second.changed).toBe(false);
    expect(second.state.exitReason).toBe('first');
  });

  it('late events of attempt a1 do not touch attempt a2', () => {
    const state = runThrough(
      [launching('a1'), hostFailure('a1'), retryDue(T0 + 2000), launching('a2', T0 + 2001)],
      ctx,
    );
    for (const stale of [running('a1'), exited('a1', 9), hostFailure('a1'), launching('a1')]) {
      expect(transition(state, stale, ctx).changed).toBe(false);
    }
  });
});

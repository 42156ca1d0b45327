import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConnectionEvent,
  type ConnectionState,
  DEFAULT_BACKOFF,
  INITIAL_CONNECTION_STATE,
  backoffDelay,
  classifyErrorEvent,
  transition,
} from '@galley/mesos';

const subscribed: ConnectionEvent = {
  type: 'subscribed',
  streamId: 's1',
  frameworkId: 'f1',
  heartbeatIntervalSeconds: 15,
};

describe('connection phases (spec §1.8)', () => {
  it('walks DISCONNECTED → CONNECTING → SUBSCRIBING → SUBSCRIBED', () => {
    let s: ConnectionState = INITIAL_CONNECTION_STATE;
    s = transition(s, { type: 'connect' });
    expect(s).toEqual({ phase: 'CONNECTING', attempt: 0 });
    s = transition(s, { type: 'leader-found', master: 'http://m1:5050/' });
    expect(s).toEqual({ phase: 'SUBSCRIBING', attempt: 0, master: 'http://m1:5050/', hops: 0 });
    s = transition(s, { type: 'redirected', master: 'http://m2:5050/' });
    expect(s).toMatchObject({ phase: 'SUBSCRIBING', master: 'http://m2:5050/', hops: 1 });
    s = transition(s, subscribed);
    expect(s).toEqual({
      phase: 'SUBSCRIBED',
      master: 'http://m2:5050/',
      streamId: 's1',
      frameworkId: 'f1',
      heartbeatIntervalSeconds: 15,
    });
  });

  it('counts consecutive failures and resets the count after a subscription worked', () => {
    let s: ConnectionState = INITIAL_CONNECTION_STATE;
    for (let i = 1; i <= 3; i++) {
      s = transition(transition(s, { type: 'connect' }), { type: 'lost', reason: 'no-leader' });
      expect(s).toEqual({ phase: 'DISCONNECTED', reason: 'no-leader', attempt: i });
    }
    s = transition(
      transition(transition(s, { type: 'connect' }), { type: 'leader-found', master: 'm' }),
      subscribed,
    );
    s = transition(s, { type: 'lost', reason: 'heartbeat-timeout' });
    expect(s).toEqual({ phase: 'DISCONNECTED', reason: 'heartbeat-timeout', attempt: 0 });
  });

  it('ignores events that make no sense in a phase', () => {
    expect(transition(INITIAL_CONNECTION_STATE, subscribed)).toBe(INITIAL_CONNECTION_STATE);
    const connecting = transition(INITIAL_CONNECTION_STATE, { type: 'connect' });
    expect(transition(connecting, subscribed)).toBe(connecting);
  });

  it('STOPPED is final, whatever happens next', () => {
    const events = fc.constantFrom<ConnectionEvent>(
      { type: 'connect' },
      { type: 'leader-found', master: 'm' },
      { type: 'redirected', master: 'n' },
      subscribed,
      { type: 'lost', reason: 'stream-ended' },
      { type: 'stop', reason: 'failed-over' },
    );
    fc.assert(
      fc.property(fc.array(events), fc.array(events), (before, after) => {
        let s = before.reduce(transition, INITIAL_CONNECTION_STATE);
        s = transition(s, { type: 'stop', reason: 'stopped' });
        const stopped = s;
        expect(after.reduce(transition, s)).toBe(stopped);
      }),
    );
  });

  it('classifies ERROR events: failed over and removed stop, anything else is a rejection', () => {
    expect(classifyErrorEvent('Framework failed over')).toBe('failed-over');
    expect(classifyErrorEvent('Framework has been removed')).toBe('removed');
    expect(classifyErrorEvent('The framework failover_timeout (1e+300) is invalid')).toBe('rejected');
  });
});

describe('truncated exponential backoff with jitter', () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
  it('grows by the factor from min and is capped at max', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, noJitter, () => 0.5))).toEqual([
      500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000,
    ]);
  });

  it('jitter draws from [d × (1 − jitter), d], using the random source passed in', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(2000);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999999)).toBe(1000);
    fc.assert(
      fc.property(fc.nat(50), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        const full = backoffDelay(attempt, noJitter, () => r);
        expect(d).toBeLessThanOrEqual(full);
        expect(d).toBeGreaterThanOrEqual(Math.floor(full * 0.5));
        expect(full).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
      }),
    );
  });
});

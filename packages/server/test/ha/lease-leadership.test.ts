import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LeaseClient, LeaseLeadership } from '../../src/control/lease-leadership.js';
import type { AcquireOptions } from '../../src/store/store.js';

// LeaseLeadership against a scripted lease store, on fake timers and a fake monotonic clock.

const LEASE_MS = 3_000;

/** A lease store whose answers the test decides; records what was asked. */
class ScriptedLeases implements LeaseClient {
  readonly asked: AcquireOptions[] = [];
  readonly released: number[] = [];
  /** The next answers; when empty, `fallback`. */
  answers: (number | null | 'hang' | 'fail')[] = [];
  fallback: number | null = null;

  acquireLease(_name: string, _holder: string, _ttl: number, _now: number, options?: AcquireOptions) {
    this.asked.push(options ?? {});
    const answer = this.answers.length > 0 ? this.answers.shift()! : this.fallback;
    if (answer === 'hang') return new Promise<number | null>(() => {});
    if (answer === 'fail') return Promise.reject(new Error('database unreachable'));
    return Promise.resolve(answer);
  }

  releaseLease(_name: string, _holder: string, epoch: number) {
    this.released.push(epoch);
    return Promise.resolve();
  }
}

describe('lease leadership', () => {
  let mono = 0;
  let leases: ScriptedLeases;
  let changes: boolean[];
  let leadership: LeaseLeadership;

  beforeEach(() => {
    vi.useFakeTimers();
    mono = 0;
    leases = new ScriptedLeases();
    changes = [];
    leadership = new LeaseLeadership({
      leases,
      id: 'me',
      leaseMs: LEASE_MS,
      clock: { now: () => 1_000_000 + mono },
      monotonic: () => mono,
      logger: pino({ level: 'silent' }),
    });
    leadership.onChange((leader) => changes.push(leader));
  });
  afterEach(async () => {
    await leadership.close();
    vi.useRealTimers();
  });

  /** Advances the fake monotonic clock and the timers together. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 10) {
      mono += Math.min(10, left);
      await vi.advanceTimersByTimeAsync(Math.min(10, left));
    }
  };

  it('leads once it took the lease, renews it in its own epoch every third of it', async () => {
    leases.answers = [7];
    leases.fallback = 7;
    await leadership.start();
    expect(leadership.isLeader()).toBe(true);
    expect(leadership.epoch()).toBe(7);
    expect(leadership.fence()).toEqual({ name: 'scheduler', epoch: 7 });
    expect(changes).toEqual([true]);
    expect(leases.asked[0]).toEqual({ fresh: true });
    await advance(LEASE_MS);
    expect(leases.asked.slice(1).every((a) => a.renew === 7)).toBe(true);
    expect(leases.asked.length).toBeGreaterThanOrEqual(3);
    expect(leadership.isLeader()).toBe(true);
  });

  it('stops leading before the lease could expire when renewals do not come back, by its own clock', async () => {
    leases.answers = [3];
    leases.fallback = null;
    await leadership.start();
    leases.answers = ['hang', 'hang', 'hang', 'hang'];
    // Valid until the renewal sent at 0 + lease − margin (lease/6), however the timers ran.
    mono = LEASE_MS - LEASE_MS / 6 - 1;
    expect(leadership.isLeader()).toBe(true);
    mono += 1;
    expect(leadership.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([true, false]);
    expect(leases.released).toEqual([3]);
  });

  it('steps down when another replica holds the lease, and when its lease session ends', async () => {
    leases.answers = [4, null];
    leases.fallback = null;
    await leadership.start();
    await advance(LEASE_MS / 3);
    expect(leadership.isLeader()).toBe(false);
    expect(changes).toEqual([true, false]);

    leases.fallback = 5; // free again: taken at a follower's pace, in a new epoch
    await advance(300);
    expect(leadership.epoch()).toBe(5);
    leadership.sessionLost(new Error('connection reset'));
    expect(leadership.isLeader()).toBe(false);
    expect(changes).toEqual([true, false, true, false]);
  });

  it('keeps leading through a failed renewal while its lease surely lasts', async () => {
    leases.answers = [9, 'fail'];
    leases.fallback = 9;
    await leadership.start();
    await advance(LEASE_MS / 3);
    expect(leadership.isLeader()).toBe(true);
    await advance(LEASE_MS / 3);
    expect(leadership.isLeader()).toBe(true);
    expect(changes).toEqual([true]);
  });

  it('releases the lease when it closes, and when it resigns', async () => {
    leases.answers = [11];
    leases.fallback = 11;
    await leadership.start();
    leadership.resign('its takeover failed');
    expect(changes).toEqual([true, false]);
    expect(leases.released).toEqual([11]);
    leases.fallback = 12;
    await advance(250);
    expect(leadership.epoch()).toBe(12);
    await leadership.close();
    expect(leases.released).toEqual([11, 12]);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { Acknowledger, BackgroundAcks, OrderedQueue, QueueClosedError } from '@galley/mesos';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('OrderedQueue: one at a time, in order, bounded', () => {
  it('processes items strictly one after another in push order', async () => {
    const log: string[] = [];
    let active = 0;
    const queue = new OrderedQueue<number>({
      capacity: 100,
      process: async (n) => {
        active++;
        expect(active).toBe(1);
        log.push(`start ${n}`);
        await new Promise((r) => setTimeout(r, n % 3));
        log.push(`end ${n}`);
        active--;
      },
      onError: () => {},
    });
    for (let i = 0; i < 20; i++) await queue.push(i);
    await queue.drained();
    expect(log).toEqual(Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
  });

  it('makes push wait while full (backpressure) and releases it when the consumer takes an item', async () => {
    const gate = deferred();
    const seen: number[] = [];
    const queue = new OrderedQueue<number>({
      capacity: 2,
      process: async (n) => {
        seen.push(n);
        if (n === 0) await gate.promise;
      },
      onError: () => {},
    });
    await queue.push(0); // taken by the consumer at once, which blocks on the gate
    await queue.push(1);
    await queue.push(2);
    expect(queue.size).toBe(2);
    expect(queue.full).toBe(true);
    let pushed = false;
    const third = queue.push(3).then(() => (pushed = true));
    // The queue has no timers: once every pending promise job has run, a push that would go
    // through has gone through.
    await new Promise((r) => setImmediate(r));
    expect(pushed).toBe(false);
    gate.resolve();
    await third;
    await queue.drained();
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('reports a throwing item and continues with the next one', async () => {
    const failures: [unknown, number][] = [];
    const done: number[] = [];
    const queue = new OrderedQueue<number>({
      capacity: 10,
      process: async (n) => {
        if (n === 1) throw new Error('boom');
        if (n === 2) return Promise.reject(new Error('rejected'));
        done.push(n);
      },
      onError: (error, n) => failures.push([error, n]),
    });
    for (const n of [0, 1, 2, 3]) await queue.push(n);
    await queue.drained();
    expect(done).toEqual([0, 3]);
    expect(failures.map(([e, n]) => [(e as Error).message, n])).toEqual([
      ['boom', 1],
      ['rejected', 2],
    ]);
  });

  it('removeWhere drops waiting items only; close rejects pending and later pushes', async () => {
    const gate = deferred();
    const seen: string[] = [];
    const queue = new OrderedQueue<string>({
      capacity: 3,
      process: async (s) => {
        seen.push(s);
        if (s === 'first') await gate.promise;
      },
      onError: () => {},
    });
    await queue.push('first');
    await queue.push('offer-1');
    await queue.push('update-1');
    await queue.push('offer-2');
    const blocked = queue.push('update-2');
    expect(queue.removeWhere((s) => s.startsWith('offer'))).toBe(2);
    await blocked;
    gate.resolve();
    await queue.drained();
    expect(seen).toEqual(['first', 'update-1', 'update-2']);
    await queue.close();
    await expect(queue.push('late')).rejects.toBeInstanceOf(QueueClosedError);
  });

  it('queues waiting pushes in the order they were made, ahead of a push made when room appears', async () => {
    const gate = deferred();
    const seen: string[] = [];
    const queue = new OrderedQueue<string>({
      capacity: 1,
      process: async (s) => {
        seen.push(s);
        if (s === 'first') await gate.promise;
        // Pushed the moment room appears, while 'waiting-1' and 'waiting-2' still wait.
        if (s === 'second') void queue.push('pushed by a handler');
      },
      onError: () => {},
    });
    await queue.push('first');
    await queue.push('second');
    const waiting = [queue.push('waiting-1'), queue.push('waiting-2')];
    gate.resolve();
    await Promise.all(waiting);
    await vi.waitFor(() => expect(seen).toHaveLength(5));
    expect(seen).toEqual(['first', 'second', 'waiting-1', 'waiting-2', 'pushed by a handler']);
  });
});

describe('Acknowledger: once per uuid per delivery (spec §4.2)', () => {
  it('never acks updates without uuid', () => {
    expect(new Acknowledger(() => 0).begin(undefined)).toBe('no-uuid');
  });

  it('suppresses a duplicate while in flight and within the window after success, not after', () => {
    let now = 0;
    const acks = new Acknowledger(() => now, 10_000);
    expect(acks.begin('u1')).toBe('send');
    expect(acks.begin('u1')).toBe('duplicate');
    acks.finish('u1', true);
    now = 9_999;
    expect(acks.begin('u1')).toBe('duplicate');
    now = 10_000;
    expect(acks.begin('u1')).toBe('send');
  });

  it('forgets a failed ack so the re-sent update is acknowledged again', () => {
    const acks = new Acknowledger(() => 0);
    expect(acks.begin('u2')).toBe('send');
    acks.finish('u2', false);
    expect(acks.begin('u2')).toBe('send');
  });
});

describe('BackgroundAcks: every acknowledgement, in order, a bounded number at a time', () => {
  it('sends each item once, in push order, never more than the limit at once, even when sends fail', async () => {
    const started: number[] = [];
    const pending = new Map<number, () => void>();
    let inFlight = 0;
    let most = 0;
    const acks = new BackgroundAcks<number>(3, (n) => {
      started.push(n);
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise<void>((resolve, reject) =>
        pending.set(n, () => {
          inFlight--;
          if (n === 4) reject(new Error('this send failed'));
          else resolve();
        }),
      );
    });
    for (let n = 0; n < 10; n++) acks.push(n);
    expect(started).toEqual([0, 1, 2]);
    expect(acks.backlog).toBe(7);
    // Finish them out of order; each finished send lets the next waiting one go.
    for (const n of [1, 0, 2, 4, 3, 5, 6, 7, 8, 9]) {
      await new Promise((r) => setImmediate(r));
      pending.get(n)?.();
      await Promise.resolve();
    }
    const deadline = Date.now() + 5000;
    while (started.length < 10 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
    expect(acks.backlog).toBe(0);
  });
});

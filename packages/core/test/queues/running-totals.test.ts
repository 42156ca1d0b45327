import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue, RunningTotals } from '@galley/core';
import type { QueuedWork, QueueSpec, WorkShape } from '@galley/core';

const shapeArb: fc.Arbitrary<WorkShape> = fc.record({
  queue: fc.constantFrom('default', 'batch', 'urgent'),
  owner: fc.constantFrom('alice', 'bob', 'carol', 'dave'),
  group: fc.constantFrom('', 'g1', 'g2'),
  array: fc.option(fc.constantFrom('arr1', 'arr2'), { nil: undefined }),
  // Fractions whose float sums drift (0.1 + 0.2 !== 0.3): the kept sums must not.
  cpus: fc.constantFrom(0.1, 0.2, 0.3, 0.5, 1.7, 2),
  memMb: fc.constantFrom(0.5, 32, 128.25, 1024),
});

/** Runs starting and ending in any order: `start` a new run, or `end` the i-th one holding capacity. */
const stepsArb = fc.array(fc.oneof(fc.record({ start: shapeArb }), fc.record({ end: fc.nat() })), {
  maxLength: 200,
});

describe('running totals (kept as runs start and end)', () => {
  it('equal the totals recomputed from the runs holding capacity, after any starts and ends', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const kept = new RunningTotals();
        const holding: WorkShape[] = [];
        for (const step of steps) {
          if ('start' in step) {
            holding.push(step.start);
            kept.add(step.start);
          } else if (holding.length > 0) {
            const [ended] = holding.splice(step.end % holding.length, 1);
            kept.remove(ended!);
          }
          expect(kept.snapshot()).toEqual(RunningTotals.of(holding).snapshot());
        }
        expect(kept.runs).toBe(holding.length);
      }),
    );
  });

  it('forget owners, groups and arrays whose runs all ended', () => {
    const a: WorkShape = { queue: 'batch', owner: 'alice', group: 'g', array: 'p1', cpus: 0.1, memMb: 1 };
    const b: WorkShape = { ...a, cpus: 0.2 };
    const t = new RunningTotals();
    t.add(a);
    t.add(b);
    expect(t.owner('batch\u0000alice')).toEqual({ runs: 2, cpus: 0.3, memMb: 2 });
    t.remove(a);
    t.remove(b);
    expect(t.snapshot()).toEqual(new RunningTotals().snapshot());
    expect(t.ownersIn('batch').size).toBe(0);
    expect([...t.arrayIds()]).toEqual([]);
  });

  it('kept through starts and ends, order the queue as the runs still holding capacity do', () => {
    const queues: QueueSpec[] = [
      { name: 'batch', priority: 0, ownerConcurrency: 3, groupConcurrency: 4, ownerCpus: 3 },
      { name: 'default', priority: 0 },
      { name: 'urgent', priority: 1, ownerMemMb: 2048 },
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(shapeArb, fc.boolean()), { maxLength: 30 }),
        fc.array(fc.tuple(shapeArb, fc.nat({ max: 100 })), { maxLength: 30 }),
        (started, queued) => {
          // Every run started; those marked ended again, the others hold capacity.
          const kept = new RunningTotals();
          for (const [w] of started) kept.add(w);
          for (const [w, ended] of started) if (ended) kept.remove(w);
          const holding = started.filter(([, ended]) => !ended).map(([w]) => w);
          const q = new FairQueue();
          queued.forEach(([w, at], i) => q.add({ ...w, id: `r${i}`, queuedAt: at } satisfies QueuedWork));
          const base = { queues, arrays: new Map([['arr1', 2]]), total: { cpus: 20, memMb: 8192 } };
          expect(q.order({ ...base, totals: kept })).toEqual(q.order({ ...base, running: holding }));
        },
      ),
    );
  });
});

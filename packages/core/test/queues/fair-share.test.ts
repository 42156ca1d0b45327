import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue, orderQueued, ownerKey } from '@galley/core';
import type { OrderContext, QueuedWork, QueueSpec, WorkShape } from '@galley/core';

const QUEUES = ['default', 'batch', 'urgent'] as const;
const OWNERS = ['alice', 'bob', 'carol', 'dave'] as const;

const specArb = (name: string): fc.Arbitrary<QueueSpec> =>
  fc.record(
    {
      name: fc.constant(name),
      priority: fc.integer({ min: -2, max: 2 }),
      ownerConcurrency: fc.integer({ min: 1, max: 4 }),
      groupConcurrency: fc.integer({ min: 1, max: 5 }),
      ownerCpus: fc.integer({ min: 1, max: 8 }),
      ownerMemMb: fc.integer({ min: 512, max: 8192 }),
    },
    { requiredKeys: ['name', 'priority'] },
  );

const shapeArb: fc.Arbitrary<WorkShape> = fc.record({
  queue: fc.constantFrom(...QUEUES),
  owner: fc.constantFrom(...OWNERS),
  group: fc.constantFrom('', 'g1', 'g2'),
  array: fc.option(fc.constantFrom('arr1', 'arr2'), { nil: undefined }),
  cpus: fc.constantFrom(0.5, 1, 1.5, 2),
  memMb: fc.constantFrom(128, 512, 1024),
});

const inputArb = fc.record({
  queues: fc.tuple(...QUEUES.map(specArb)),
  queued: fc.array(fc.tuple(shapeArb, fc.integer({ min: 0, max: 1000 })), { maxLength: 40 }),
  running: fc.array(shapeArb, { maxLength: 12 }),
  arrays: fc.record({ arr1: fc.integer({ min: 1, max: 4 }), arr2: fc.integer({ min: 1, max: 4 }) }),
});

type Input = typeof inputArb extends fc.Arbitrary<infer T> ? T : never;

function build(input: Input): {
  queued: QueuedWork[];
  ctx: OrderContext & { running: readonly WorkShape[] };
} {
  const queued = input.queued.map(([shape, queuedAt], i) => ({ ...shape, id: `r${i}`, queuedAt }));
  const ctx = {
    queues: input.queues,
    running: input.running,
    arrays: new Map(Object.entries(input.arrays)),
    total: { cpus: 16, memMb: 16_384 },
  };
  return { queued, ctx };
}

/** Sums of running work plus `extra`, by a key. */
function usage(work: readonly WorkShape[], key: (w: WorkShape) => string | undefined) {
  const m = new Map<string, { runs: number; cpus: number; memMb: number }>();
  for (const w of work) {
    const k = key(w);
    if (k === undefined) continue;
    const u = m.get(k) ?? { runs: 0, cpus: 0, memMb: 0 };
    m.set(k, { runs: u.runs + 1, cpus: u.cpus + w.cpus, memMb: u.memMb + w.memMb });
  }
  return m;
}

describe('fair share ordering (properties)', () => {
  it('answers every queued run once: ordered or held with a reason', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { queued, ctx } = build(input);
        const r = orderQueued(queued, ctx);
        const ids = [...r.order, ...r.held.map((h) => h.id)].sort();
        expect(ids).toEqual(queued.map((w) => w.id).sort());
        for (const h of r.held) expect(h.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('never exceeds a concurrency, quota or parallelism when everything ordered runs', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { queued, ctx } = build(input);
        const r = orderQueued(queued, ctx);
        const byId = new Map(queued.map((w) => [w.id, w]));
        const ordered = r.order.map((id) => byId.get(id)!);
        const spec = new Map(input.queues.map((q) => [q.name, q]));
        const before = usage(ctx.running, (w) => ownerKey(w.queue, w.owner));
        const after = usage([...ctx.running, ...ordered], (w) => ownerKey(w.queue, w.owner));
        for (const w of ordered) {
          const q = spec.get(w.queue)!;
          const k = ownerKey(w.queue, w.owner);
          const a = after.get(k)!;
          const b = before.get(k) ?? { runs: 0, cpus: 0, memMb: 0 };
          // A limit already passed by running work (config lowered) admits nothing more.
          if (q.ownerConcurrency !== undefined)
            expect(a.runs).toBeLessThanOrEqual(Math.max(q.ownerConcurrency, b.runs));
          if (q.ownerCpus !== undefined)
            expect(a.cpus).toBeLessThanOrEqual(Math.max(q.ownerCpus, b.cpus) + 1e-9);
          if (q.ownerMemMb !== undefined)
            expect(a.memMb).toBeLessThanOrEqual(Math.max(q.ownerMemMb, b.memMb));
        }
        const groupsBefore = usage(ctx.running, (w) =>
          w.group === '' ? undefined : ownerKey(w.queue, w.group),
        );
        const groupsAfter = usage([...ctx.running, ...ordered], (w) =>
          w.group === '' ? undefined : ownerKey(w.queue, w.group),
        );
        for (const w of ordered) {
          if (w.group === '') continue;
          const limit = spec.get(w.queue)!.groupConcurrency;
          if (limit === undefined) continue;
          const k = ownerKey(w.queue, w.group);
          expect(groupsAfter.get(k)!.runs).toBeLessThanOrEqual(
            Math.max(limit, groupsBefore.get(k)?.runs ?? 0),
          );
        }
        const arraysBefore = usage(ctx.running, (w) => w.array);
        const arraysAfter = usage([...ctx.running, ...ordered], (w) => w.array);
        for (const w of ordered) {
          if (w.array === undefined) continue;
          const p = ctx.arrays!.get(w.array)!;
          expect(arraysAfter.get(w.array)!.runs).toBeLessThanOrEqual(
            Math.max(p, arraysBefore.get(w.array)?.runs ?? 0),
          );
        }
      }),
    );
  });

  it('respects queue priority, and each owner goes oldest first', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { queued, ctx } = build(input);
        const r = orderQueued(queued, ctx);
        const byId = new Map(queued.map((w) => [w.id, w]));
        const prio = new Map(input.queues.map((q) => [q.name, q.priority]));
        const ordered = r.order.map((id) => byId.get(id)!);
        for (let i = 1; i < ordered.length; i++)
          expect(prio.get(ordered[i]!.queue)!).toBeLessThanOrEqual(prio.get(ordered[i - 1]!.queue)!);
        const last = new Map<string, QueuedWork>();
        for (const w of ordered) {
          const k = ownerKey(w.queue, w.owner);
          const prev = last.get(k);
          // Same-owner runs come oldest first unless a limit held the older one back.
          if (
            prev &&
            prev.cpus === w.cpus &&
            prev.memMb === w.memMb &&
            prev.array === w.array &&
            prev.group === w.group
          )
            expect(prev.queuedAt).toBeLessThanOrEqual(w.queuedAt);
          last.set(k, w);
        }
      }),
    );
  });

  it('does not depend on the order of its input', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (input, seed) => {
        const { queued, ctx } = build(input);
        const shuffled = [...queued].sort(
          (a, b) => ((a.id.length * seed + a.queuedAt) % 7) - ((b.id.length * seed + b.queuedAt) % 7),
        );
        expect(orderQueued(shuffled, ctx).order).toEqual(orderQueued(queued, ctx).order);
      }),
    );
  });

  it('starves no owner: while capacity frees one run at a time, DRF serves the owner holding least, and an owner holding nothing is served within as many dispatches as there are owners', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (backlogs, slots, picks) => {
          const owners = backlogs.map((_, i) => `o${i}`);
          const q = new FairQueue();
          let t = 0;
          // The largest backlogs were queued first: the flood is older than everyone else.
          backlogs.forEach((n, i) => {
            for (let j = 0; j < n; j++)
              q.add({
                id: `o${i}-${j}`,
                queue: 'default',
                owner: owners[i]!,
                group: '',
                cpus: 1,
                memMb: 1,
                queuedAt: t++,
              });
          });
          const running: (WorkShape & { id: string })[] = [];
          const lastServed = new Map<string, number>();
          const waitingSince = new Map<string, number>();
          const waitsFor = (o: string) =>
            [...Array(backlogs[owners.indexOf(o)]).keys()].some((j) => q.has(`${o}-${j}`));
          for (let dispatch = 0; dispatch < picks.length && q.size > 0; dispatch++) {
            // Capacity frees: one running run ends when the cluster is full.
            if (running.length >= slots) running.splice(picks[dispatch]! % running.length, 1);
            const r = q.order({ queues: [], running, total: { cpus: slots, memMb: slots }, lastServed }, 1);
            const id = r.order[0]!;
            const owner = id.split('-')[0]!;
            q.remove(id);
            running.push({ id, queue: 'default', owner, group: '', cpus: 1, memMb: 1 });
            lastServed.set(ownerKey('default', owner), dispatch);
            // DRF with equal runs: the owner served holds the fewest runs of those that wait.
            const holds = (o: string) => running.filter((w) => w.owner === o).length - (o === owner ? 1 : 0);
            for (const o of owners)
              if (o !== owner && waitsFor(o)) expect(holds(owner)).toBeLessThanOrEqual(holds(o));
            waitingSince.delete(owner);
            // An owner holding nothing while its runs wait (a flood's victim) is served within as
            // many dispatches as there are owners.
            for (const o of owners) {
              if (!waitsFor(o) || running.some((w) => w.owner === o)) waitingSince.delete(o);
              else if (!waitingSince.has(o)) waitingSince.set(o, dispatch);
              else expect(dispatch - waitingSince.get(o)!).toBeLessThan(owners.length);
            }
          }
        },
      ),
    );
  });

  it('says why: owner concurrency, quota, array parallelism and share', () => {
    const queued: QueuedWork[] = [1, 2, 3].map((i) => ({
      id: `a${i}`,
      queue: 'batch',
      owner: 'alice',
      group: '',
      cpus: 1,
      memMb: 100,
      queuedAt: i,
    }));
    const held = orderQueued(queued, {
      queues: [{ name: 'batch', priority: 0, ownerConcurrency: 4 }],
      running: [1, 2, 3].map(() => ({ queue: 'batch', owner: 'alice', group: '', cpus: 1, memMb: 100 })),
      total: { cpus: 8, memMb: 8000 },
    });
    expect(held.order).toEqual(['a1']);
    expect(held.held).toEqual([
      { id: 'a2', reason: 'queue batch: owner alice concurrency 4 reached' },
      { id: 'a3', reason: 'queue batch: owner alice concurrency 4 reached' },
    ]);
    const quota = orderQueued(queued, {
      queues: [{ name: 'batch', priority: 0, ownerCpus: 2 }],
      running: [{ queue: 'batch', owner: 'alice', group: '', cpus: 2, memMb: 100 }],
      total: { cpus: 8, memMb: 8000 },
    });
    expect(quota.held[0]!.reason).toBe(
      'queue batch: owner alice uses 2 of 2 CPUs (its quota); this run needs 1',
    );
    const array = orderQueued(
      queued.map((w) => ({ ...w, array: 'p1' })),
      {
        queues: [],
        running: [{ queue: 'batch', owner: 'alice', group: '', array: 'p1', cpus: 1, memMb: 1 }],
        arrays: new Map([['p1', 2]]),
        total: { cpus: 8, memMb: 8000 },
      },
    );
    expect(array.order).toEqual(['a1']);
    expect(array.held.map((h) => h.reason)).toEqual([
      'array p1: parallelism 2 reached (2 running)',
      'array p1: parallelism 2 reached (2 running)',
    ]);
    const share = orderQueued(
      [...queued, { id: 'b1', queue: 'batch', owner: 'bob', group: '', cpus: 1, memMb: 100, queuedAt: 9 }],
      {
        queues: [],
        running: [{ queue: 'batch', owner: 'alice', group: '', cpus: 2, memMb: 100 }],
        total: { cpus: 2, memMb: 8000 },
      },
    );
    expect(share.order[0]).toBe('b1');
    expect(share.shareNotes.get('a1')).toBe(
      'waiting for its share: owner alice uses 2 of 2 CPUs, 2 owners share queue batch',
    );
  });
});

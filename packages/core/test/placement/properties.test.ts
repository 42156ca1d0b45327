import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDemands, isEligible, place } from '@galley/core';
import type { Demand, Node } from '@galley/core';
import { capacityOf, compareFit, fit, fitScore, needOf, SCALARS, subtract } from '../../src/placement/fit.js';
import type { Capacity, Scalar } from '../../src/placement/fit.js';

const thousandths = (x: number): number => Math.round(x * 1000);
const amountArb = (max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: max * 10 }).map((n) => n / 10);

const nodeArb: fc.Arbitrary<Omit<Node, 'id'>> = fc.record({
  hostname: fc.constant('h'),
  role: fc.option(fc.constantFrom('batch', 'gpu'), { nil: undefined }),
  attributes: fc.record({ zone: fc.constantFrom('a', 'b') }),
  free: fc.record({
    cpus: amountArb(8),
    memMb: fc.integer({ min: 0, max: 8192 }),
    diskMb: fc.integer({ min: 0, max: 1000 }),
    gpus: fc.integer({ min: 0, max: 2 }),
    portRanges: fc.array(
      fc
        .tuple(fc.integer({ min: 31000, max: 31020 }), fc.integer({ min: 0, max: 5 }))
        .map(([lo, n]): [number, number] => [lo, lo + n]),
      { maxLength: 3 },
    ),
  }),
});
const demandArb: fc.Arbitrary<Omit<Demand, 'id'>> = fc.record({
  cpus: amountArb(4),
  memMb: fc.integer({ min: 0, max: 4096 }),
  diskMb: fc.integer({ min: 0, max: 500 }),
  gpus: fc.integer({ min: 0, max: 1 }),
  ports: fc.integer({ min: 0, max: 3 }),
  fixedPorts: fc.option(fc.array(fc.integer({ min: 31000, max: 31025 }), { maxLength: 2 }), {
    nil: undefined,
  }),
  role: fc.option(fc.constantFrom('batch', 'gpu'), { nil: undefined }),
  constraints: fc.option(
    fc.constantFrom(
      [{ attribute: 'zone', op: 'eq' as const, value: 'a' }],
      [{ attribute: 'zone', op: 'in' as const, value: ['a', 'b'] }],
    ),
    { nil: undefined },
  ),
  queuedAt: fc.integer({ min: 0, max: 20 }),
  priority: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
});
const worldArb = fc.record({
  nodes: fc.array(nodeArb, { maxLength: 5 }).map((ns) => ns.map((n, i) => ({ ...n, id: `n${i}` }))),
  demands: fc.array(demandArb, { maxLength: 25 }).map((ds) => ds.map((d, i) => ({ ...d, id: `d${i}` }))),
});

const inRanges = (ranges: [number, number][], port: number): boolean =>
  ranges.some(([lo, hi]) => port >= lo && port <= hi);

describe('place: properties over random nodes and demands', () => {
  it('never exceeds any node on any resource, and never gives a port twice or outside its ranges', () => {
    fc.assert(
      fc.property(worldArb, ({ nodes, demands }) => {
        const { placements } = place(demands, nodes);
        for (const n of nodes) {
          const here = placements.filter((p) => p.nodeId === n.id);
          const used = (key: 'cpus' | 'memMb' | 'diskMb' | 'gpus'): number =>
            here.reduce((sum, p) => sum + thousandths(demands.find((d) => d.id === p.demandId)![key]), 0);
          for (const key of ['cpus', 'memMb', 'diskMb', 'gpus'] as const) {
            expect(used(key)).toBeLessThanOrEqual(thousandths(n.free[key]));
          }
          const ports = here.flatMap((p) => p.ports);
          expect(new Set(ports).size).toBe(ports.length);
          for (const port of ports) expect(inRanges(n.free.portRanges, port)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('honours role, constraints, fixed ports and the port count of each placed demand', () => {
    fc.assert(
      fc.property(worldArb, ({ nodes, demands }) => {
        for (const p of place(demands, nodes).placements) {
          const d = demands.find((x) => x.id === p.demandId)!;
          const n = nodes.find((x) => x.id === p.nodeId)!;
          if (d.role !== undefined) expect(n.role).toBe(d.role);
          for (const c of d.constraints ?? []) {
            const v = n.attributes[c.attribute];
            expect(c.op === 'eq' ? v === c.value : (c.value as string[]).includes(v as string)).toBe(true);
          }
          const fixed = [...new Set(d.fixedPorts ?? [])];
          expect(p.ports.slice(0, fixed.length)).toEqual(fixed);
          expect(p.ports).toHaveLength(fixed.length + d.ports);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('places no demand twice, and every demand is either placed or has a reason', () => {
    fc.assert(
      fc.property(worldArb, ({ nodes, demands }) => {
        const { placements, unplaced } = place(demands, nodes);
        const ids = [...placements.map((p) => p.demandId), ...unplaced.map((u) => u.demandId)];
        expect([...ids].sort()).toEqual(demands.map((d) => d.id).sort());
        for (const u of unplaced) expect(u.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });

  it('is deterministic: the same input, in any order, gives the same answer', () => {
    fc.assert(
      fc.property(
        worldArb.chain((w) =>
          fc.record({
            world: fc.constant(w),
            demands: fc.shuffledSubarray(w.demands, { minLength: w.demands.length }),
            nodes: fc.shuffledSubarray(w.nodes, { minLength: w.nodes.length }),
          }),
        ),
        ({ world, demands, nodes }) => {
          const first = place(world.demands, world.nodes);
          expect(place(world.demands, world.nodes)).toEqual(first);
          expect(place(demands, nodes)).toEqual(first);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves a demand unplaced only if it fits on no node given what was placed before it', () => {
    fc.assert(
      fc.property(worldArb, ({ nodes, demands }) => {
        const { unplaced } = place(demands, nodes);
        const alone = unplaced.filter((u) => u.reason.startsWith('waiting behind'));
        // A demand "waiting behind" older runs must be placeable when it is the only demand.
        for (const u of alone) {
          const d = demands.find((x) => x.id === u.demandId)!;
          expect(place([d], nodes).placements).toHaveLength(1);
        }
        // Any other reason means it does not fit even alone.
        for (const u of unplaced.filter((x) => !alone.includes(x))) {
          const d = demands.find((x) => x.id === u.demandId)!;
          expect(place([d], nodes).placements).toHaveLength(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('puts each demand on the tightest node it fits on then (ties: the lowest node id), with its lowest free ports', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), ({ nodes: distinct, demands }, twins) => {
        // Twins (each node twice) make ties, which go to the lowest node id.
        const nodes = twins ? distinct.flatMap((n) => [n, { ...n, id: `${n.id}-twin` }]) : distinct;
        // The reference: score every eligible node where the demand fits, take the tightest.
        const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : 1));
        const current = new Map<string, Capacity>(sorted.map((n) => [n.id, capacityOf(n)]));
        const scale = Object.fromEntries(
          SCALARS.map((k) => [k, Math.max(0, ...[...current.values()].map((c) => c[k]))]),
        ) as Record<Scalar, number>;
        const expected = new Map<string, { nodeId: string; ports: number[] }>();
        const shapesUnfit = new Set<string>();
        for (const d of [...demands].sort(compareDemands)) {
          const need = needOf(d);
          let best: { nodeId: string; ports: number[]; score: [number, number] } | undefined;
          for (const n of sorted) {
            if (!isEligible(d, n)) continue;
            const c = current.get(n.id)!;
            const ports = fit(need, c);
            if (ports === null) continue;
            const score = fitScore(c, need, scale);
            if (best === undefined || compareFit(score, best.score) < 0)
              best = { nodeId: n.id, ports, score };
          }
          const shape = JSON.stringify([need, d.role, d.constraints]);
          if (!best || shapesUnfit.has(shape)) {
            shapesUnfit.add(shape);
            continue;
          }
          expected.set(d.id, { nodeId: best.nodeId, ports: best.ports });
          current.set(best.nodeId, subtract(current.get(best.nodeId)!, need, best.ports));
        }
        const { placements } = place(demands, nodes);
        expect(new Map(placements.map((p) => [p.demandId, { nodeId: p.nodeId, ports: p.ports }]))).toEqual(
          expected,
        );
      }),
      { numRuns: 400 },
    );
  });
});

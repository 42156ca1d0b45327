import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addResources,
  containsResources,
  resourceKindKey,
  ResourcePool,
  subtractResources,
  type Resource,
  type ResourceNeeds,
} from '@galley/mesos';
import { offer } from './resource-fixtures.js';

const metaArb = fc.constantFrom<Partial<Resource>>(
  {},
  { role: 'eng', reservation: { principal: 'p' } },
  { reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'p' }] },
  { allocation_info: { role: 'eng' } },
);

const scalarArb = fc
  .record({
    name: fc.constantFrom('cpus', 'mem', 'disk'),
    millis: fc.integer({ min: 0, max: 100_000 }),
    meta: metaArb,
  })
  .map(({ name, millis, meta }): Resource => ({
    name,
    type: 'SCALAR',
    scalar: { value: millis / 1000 },
    ...meta,
  }));

const rangesArb = fc
  .record({
    list: fc.array(fc.tuple(fc.integer({ min: 1000, max: 1200 }), fc.integer({ min: 0, max: 20 })), {
      maxLength: 4,
    }),
    meta: metaArb,
  })
  .map(({ list, meta }): Resource => ({
    name: 'ports',
    type: 'RANGES',
    ranges: { range: list.map(([b, len]) => ({ begin: b, end: b + len })) },
    ...meta,
  }));

const resourcesArb = fc.array(fc.oneof(scalarArb, rangesArb), { maxLength: 8 });

/**
 * The resources as one agent can offer them: a port number belongs to one resource only (it is
 * reserved or not, allocated to one role), so later resources lose the ports earlier ones hold.
 */
function agentPorts(resources: readonly Resource[]): Resource[] {
  const seen = new Set<number>();
  const out: Resource[] = [];
  for (const r of resources) {
    if (r.type !== 'RANGES') {
      out.push(r);
      continue;
    }
    const range: { begin: number; end: number }[] = [];
    for (const x of r.ranges?.range ?? [])
      for (let port = Number(x.begin); port <= Number(x.end); port++) {
        if (seen.has(port)) continue;
        seen.add(port);
        const last = range.at(-1);
        if (last && last.end === port - 1) last.end = port;
        else range.push({ begin: port, end: port });
      }
    if (range.length > 0) out.push({ ...r, ranges: { range } });
  }
  return out;
}

const needsArb: fc.Arbitrary<ResourceNeeds> = fc.record(
  {
    cpus: fc.integer({ min: 0, max: 4000 }).map((m) => m / 1000),
    mem: fc.integer({ min: 0, max: 4096 }),
    ports: fc.integer({ min: 0, max: 5 }),
    fixedPorts: fc.uniqueArray(fc.integer({ min: 1000, max: 1230 }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

function quantities(resources: readonly Resource[]): { scalars: Map<string, number>; ports: number[] } {
  const scalars = new Map<string, number>();
  const ports: number[] = [];
  for (const r of resources) {
    if (r.type === 'SCALAR')
      scalars.set(r.name, (scalars.get(r.name) ?? 0) + Math.round((r.scalar?.value ?? 0) * 1000));
    for (const range of r.ranges?.range ?? [])
      for (let p = Number(range.begin); p <= Number(range.end); p++) ports.push(p);
  }
  return { scalars, ports };
}

describe('resource invariants (property tests)', () => {
  it('subtraction never yields negative or empty quantities, and a - b is contained in a', () => {
    fc.assert(
      fc.property(resourcesArb, resourcesArb, (a, b) => {
        const diff = subtractResources(a, b);
        for (const r of diff) {
          if (r.type === 'SCALAR') expect(r.scalar?.value ?? 0).toBeGreaterThan(0);
          if (r.type === 'RANGES') for (const x of r.ranges?.range ?? []) expect(x.end >= x.begin).toBe(true);
        }
        expect(containsResources(a, diff)).toBe(true);
      }),
    );
  });

  it('(a + b) - b contains exactly a’s quantities back', () => {
    fc.assert(
      fc.property(resourcesArb, resourcesArb, (a, b) => {
        const sum = addResources(a, b);
        expect(containsResources(sum, a)).toBe(true);
        expect(containsResources(sum, b)).toBe(true);
        const back = subtractResources(sum, b);
        expect(containsResources(back, subtractResources(a, b))).toBe(true);
      }),
    );
  });

  it('tasks cut from a pool never exceed the offers, never share a port, and carry the source metadata', () => {
    fc.assert(
      fc.property(
        resourcesArb.map(agentPorts),
        fc.array(needsArb, { maxLength: 12 }),
        fc.integer(),
        (resources, needsList, seed) => {
          let s = seed;
          const random = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
          const offered = offer('A', resources).resources ?? [];
          const pool = new ResourcePool([offer('A', resources)], { random });
          const kinds = new Set(offered.map(resourceKindKey));
          const taken: Resource[] = [];
          const allPorts: number[] = [];
          for (const needs of needsList) {
            const fit = pool.allocate(needs);
            if (!fit.ok) continue;
            for (const r of fit.resources) expect(kinds.has(resourceKindKey(r))).toBe(true);
            const got = quantities(fit.resources);
            expect([...got.ports].sort((x, y) => x - y)).toEqual([...fit.ports].sort((x, y) => x - y));
            expect(fit.ports.slice(0, needs.fixedPorts?.length ?? 0)).toEqual(needs.fixedPorts ?? []);
            expect(fit.ports).toHaveLength((needs.fixedPorts?.length ?? 0) + (needs.ports ?? 0));
            expect(got.scalars.get('cpus') ?? 0).toBe(Math.round((needs.cpus ?? 0) * 1000));
            allPorts.push(...fit.ports);
            taken.push(...fit.resources);
          }
          expect(new Set(allPorts).size).toBe(allPorts.length);
          expect(containsResources(offered, taken)).toBe(true);
          const back = addResources(pool.remaining(), taken);
          expect(containsResources(back, offered) && containsResources(offered, back)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

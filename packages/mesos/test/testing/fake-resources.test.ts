import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Resources, type Range } from '../../src/testing/model/resources.js';

// The fake master's port arithmetic (agents' used and offered ports, what an ACCEPT takes from an
// offer) against plain sets of port numbers.

const rangesArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 12 })), { maxLength: 12 })
  .map((pairs) => pairs.map(([begin, length]): Range => [begin, begin + length]));

const portsOf = (ranges: readonly Range[]): Set<number> => {
  const out = new Set<number>();
  for (const [begin, end] of ranges) for (let p = begin; p <= end; p++) out.add(p);
  return out;
};

/** The bag's ports as a sorted list of numbers, and its text (which shows the ranges it keeps). */
const ports = (r: Resources) => {
  const entry = r.list().find((e) => e.name === 'ports');
  return { numbers: [...portsOf(entry?.ranges ?? [])].sort((a, b) => a - b), ranges: entry?.ranges ?? [] };
};

/** Ranges as Mesos keeps them: sorted, disjoint, none touching the next. */
const isNormalized = (ranges: readonly Range[]) =>
  ranges.every(([b, e], i) => b <= e && (i === 0 || b > ranges[i - 1]![1] + 1));

describe('the fake master’s port ranges', () => {
  it('adds as the union of the ports, kept as sorted disjoint ranges, and leaves both operands as they were', () => {
    fc.assert(
      fc.property(rangesArb, rangesArb, (a, b) => {
        const left = Resources.ranges('ports', a);
        const right = Resources.ranges('ports', b);
        const before = [ports(left).numbers, ports(right).numbers];
        const sum = left.clone().add(right);
        const expected = [...new Set([...portsOf(a), ...portsOf(b)])].sort((x, y) => x - y);
        expect(ports(sum).numbers).toEqual(expected);
        expect(isNormalized(ports(sum).ranges)).toBe(true);
        expect([ports(left).numbers, ports(right).numbers]).toEqual(before);
      }),
    );
  });

  it('subtracts as the difference of the ports, kept as sorted disjoint ranges, and leaves the operand as it was', () => {
    fc.assert(
      fc.property(rangesArb, rangesArb, (a, b) => {
        const from = Resources.ranges('ports', a);
        const removed = Resources.ranges('ports', b);
        const kept = ports(from).numbers;
        const difference = from.clone().subtract(removed);
        const gone = portsOf(b);
        expect(ports(difference).numbers).toEqual(kept.filter((p) => !gone.has(p)));
        expect(isNormalized(ports(difference).ranges)).toBe(true);
        expect(ports(from).numbers).toEqual(kept);
        // What is left of an offer contains what it had less a task's ports, and not the task's.
        if (ports(difference).numbers.length > 0) expect(from.contains(difference)).toBe(true);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  addRanges,
  countRanges,
  normalizeRanges,
  rangesContain,
  subtractRanges,
  type Interval,
} from '@galley/mesos';

const r = (...pairs: [number, number][]): Interval[] => pairs.map(([begin, end]) => ({ begin, end }));

describe('ranges', () => {
  it.each([
    { name: 'sorts and coalesces overlaps', input: r([10, 20], [1, 5], [4, 8]), out: r([1, 8], [10, 20]) },
    { name: 'coalesces adjacent ranges', input: r([1, 2], [3, 4]), out: r([1, 4]) },
    { name: 'keeps gaps', input: r([1, 2], [4, 5]), out: r([1, 2], [4, 5]) },
    { name: 'drops inverted ranges', input: r([5, 4], [1, 1]), out: r([1, 1]) },
    { name: 'swallows contained ranges', input: r([1, 100], [5, 6]), out: r([1, 100]) },
  ])('normalize $name', ({ input, out }) => {
    expect(normalizeRanges(input)).toEqual(out);
  });

  it.each([
    { name: 'splits a range around a cut', a: r([1, 10]), b: r([4, 5]), out: r([1, 3], [6, 10]) },
    { name: 'cuts the low end', a: r([1, 10]), b: r([1, 3]), out: r([4, 10]) },
    { name: 'cuts the high end', a: r([1, 10]), b: r([8, 12]), out: r([1, 7]) },
    { name: 'removes a whole range', a: r([1, 3], [5, 9]), b: r([5, 9]), out: r([1, 3]) },
    { name: 'one cut spans two ranges', a: r([1, 3], [5, 9]), b: r([2, 6]), out: r([1, 1], [7, 9]) },
    { name: 'ignores values not present', a: r([1, 3]), b: r([10, 20]), out: r([1, 3]) },
    {
      name: 'several cuts in one range',
      a: r([1, 10]),
      b: r([2, 2], [4, 4], [10, 10]),
      out: r([1, 1], [3, 3], [5, 9]),
    },
    { name: 'everything', a: r([1, 10]), b: r([0, 11]), out: [] },
  ])('subtract: $name', ({ a, b, out }) => {
    expect(subtractRanges(a, b)).toEqual(out);
  });

  it.each([
    { a: r([1, 10]), b: r([2, 3], [9, 10]), out: true },
    { a: r([1, 5], [7, 10]), b: r([4, 8]), out: false },
    { a: r([1, 5], [6, 10]), b: r([4, 8]), out: true },
    { a: r([1, 5]), b: [], out: true },
    { a: [], b: r([1, 1]), out: false },
  ])('contains %#', ({ a, b, out }) => {
    expect(rangesContain(a, b)).toBe(out);
  });

  it('adds and counts', () => {
    const sum = addRanges(r([1, 5]), r([3, 9], [20, 20]));
    expect(sum).toEqual(r([1, 9], [20, 20]));
    expect(countRanges(sum)).toBe(10);
  });
});

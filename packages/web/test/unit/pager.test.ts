import { describe, expect, it } from 'vitest';
import { hasNextPage, pageSummary } from '../../src/components/page-summary.js';

// The history's pager line: the total as the server answered it, with "+" when the server counted
// only up to a bound (`total_exact: false` on a large history).

describe('pager summary', () => {
  it('shows an exact total as it is', () => {
    expect(pageSummary(340, true, 25, 25, 'runs')).toBe('26–50 of 340 runs');
    expect(pageSummary(0, true, 25, 0)).toBe('0–0 of 0');
    expect(pageSummary(3, true, 1, 2)).toBe('3–3 of 3');
  });

  it('marks a bounded total with "+", formatted as the other numbers', () => {
    const bound = (10_000).toLocaleString();
    expect(pageSummary(10_000, false, 50, 0, 'runs')).toBe(`1–50 of ${bound}+ runs`);
    expect(pageSummary(10_050, false, 50, 50, 'runs')).toBe(`51–100 of ${(10_050).toLocaleString()}+ runs`);
  });

  it('offers the next page while the total is a bound, even at the bound', () => {
    expect(hasNextPage(10_000, false, 50, 0)).toBe(true);
    expect(hasNextPage(10_000, false, 10_000, 0)).toBe(true);
    expect(hasNextPage(10_000, true, 10_000, 0)).toBe(false);
    expect(hasNextPage(340, true, 25, 300)).toBe(true);
    expect(hasNextPage(340, true, 25, 325)).toBe(false);
  });
});

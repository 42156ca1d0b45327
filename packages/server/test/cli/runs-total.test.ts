import { describe, expect, it } from 'vitest';
import { historyTotal } from '../../src/cli/history-total.js';

// `galley runs` prints how many runs matched under its table ("50 of 10000+ runs"): with "+" when
// the server counted only up to its bound (`total_exact: false` on a large history).

describe('galley runs: the total', () => {
  it('marks a bounded total with "+"', () => {
    expect(historyTotal({ total: 10_000, total_exact: false })).toBe('10000+');
  });

  it('prints an exact total, or one from a server that does not say, as it is', () => {
    expect(historyTotal({ total: 340, total_exact: true })).toBe('340');
    expect(historyTotal({ total: 340 })).toBe('340');
  });
});

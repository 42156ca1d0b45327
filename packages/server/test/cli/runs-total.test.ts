import { describe, expect, it, vi } from 'vitest';
import type { GalleyClient } from '../../src/cli/client.js';
import { runsCommand } from '../../src/cli/commands/runs.js';

// `galley runs` prints how many runs matched under its table: with "+" when the server counted
// only up to its bound (`total_exact: false` on a large history), as the number it was otherwise.

/** The stderr line of `galley runs` against a server answering `page`. */
async function summary(page: { total: number; total_exact?: boolean }): Promise<string> {
  const client = { json: async () => ({ ...page, history: [], limit: 50, offset: 0 }) };
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await runsCommand(() => client as unknown as GalleyClient).parseAsync([], { from: 'user' });
    return stderr.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    vi.restoreAllMocks();
  }
}

describe('galley runs: the total', () => {
  it('marks a bounded total with "+"', async () => {
    expect(await summary({ total: 10_000, total_exact: false })).toBe('0 of 10000+ runs\n');
  });

  it('prints an exact total, or one from a server that does not say, as it is', async () => {
    expect(await summary({ total: 340, total_exact: true })).toBe('0 of 340 runs\n');
    expect(await summary({ total: 340 })).toBe('0 of 340 runs\n');
  });
});

import { describe, expect, it } from 'vitest';
import type { HistoryQuery } from '../../src/api/runs.js';
import type { Run } from '../../src/api/types.js';
import {
  DEFAULT_HISTORY,
  historyFromParams,
  historyToParams,
  runMatches,
} from '../../src/runs/history-params.js';

describe('runs page URL', () => {
  it('round-trips every filter, sort and page through the URL', () => {
    const query: HistoryQuery = {
      statuses: ['RUNNING', 'QUEUED'],
      alias: 'hello',
      group: 'examples',
      owner: 'ana',
      cluster: 'default',
      queuedFrom: 1_700_000_000_000,
      queuedUntil: 1_700_000_360_000,
      sortBy: 'started_at',
      order: 'asc',
      limit: 50,
      offset: 100,
    };
    expect(historyFromParams(new URLSearchParams(historyToParams(query).toString()))).toEqual(query);
  });

  it('keeps the defaults out of the URL and ignores bad values', () => {
    expect(historyToParams({ ...DEFAULT_HISTORY, statuses: [] }).toString()).toBe('');
    const q = historyFromParams(new URLSearchParams('status=BOGUS,RUNNING&sort=rm -rf&limit=-3&offset=x'));
    expect(q).toMatchObject({ statuses: ['RUNNING'], sortBy: 'queued_at', limit: 25, offset: 0 });
  });
});

describe('whether a streamed run belongs on the page', () => {
  const run: Run = {
    run_id: 'r',
    definition_id: 'd',
    alias: 'hello',
    group_name: 'g',
    status: 'RUNNING',
    owner_id: 'ana',
    queued_at: 5000,
  };
  it.each([
    [{}, true],
    [{ statuses: ['RUNNING'] }, true],
    [{ statuses: ['STOPPED'] }, false],
    [{ alias: 'other' }, false],
    [{ owner: 'ana', group: 'g' }, true],
    [{ queuedFrom: 6000 }, false],
    [{ queuedUntil: 5000 }, true],
    [{ queuedUntil: 4999 }, false],
  ] as [Partial<HistoryQuery>, boolean][])('%o → %s', (filters, expected) => {
    expect(runMatches(run, { ...DEFAULT_HISTORY, ...filters })).toBe(expected);
  });
});

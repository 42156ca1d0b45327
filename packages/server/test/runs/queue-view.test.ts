import type { Node } from '@galley/core';
import { describe, expect, it } from 'vitest';
import { QueueView } from '../../src/runs/queue-view.js';
import type { RunRecord } from '../../src/model/records.js';
import { newRun } from '../store/fixtures.js';

const node = (cpus: number, memMb = 1000): Node => ({
  id: 'n1',
  hostname: 'h',
  attributes: {},
  free: { cpus, memMb, diskMb: 0, gpus: 0, portRanges: [] },
});
const run = (id: string, queuedAt: number) =>
  ({ ...newRun(id, {}, queuedAt), version: 1, updatedAt: queuedAt }) as RunRecord;

describe('QueueView: when a dispatch round may skip the runs already considered', () => {
  it('reads from the head first, then only after the runs left waiting while capacity does not grow', () => {
    const view = new QueueView();
    expect(view.readFrom([node(1)], 0)).toBeUndefined();
    view.afterRound([run('a', 10), run('b', 20)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 100)).toEqual({ queuedAt: 20, runId: 'b' });
    expect(view.readFrom([node(0.2)], 200)).toEqual({ queuedAt: 20, runId: 'b' }); // shrank: still skip
  });

  it('reads from the head again when capacity grows, after an invalidation, once a second, or when nothing waits', () => {
    const view = new QueueView();
    view.readFrom([node(1)], 0);
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    expect(view.readFrom([node(0.6)], 10)).toBeUndefined(); // a run ended: room grew
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    view.invalidate();
    expect(view.readFrom([node(0.5)], 20)).toBeUndefined();
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 500)).toEqual({ queuedAt: 10, runId: 'a' });
    expect(view.readFrom([node(0.5)], 1_100)).toBeUndefined(); // the periodic head read
    view.afterRound([run('a', 10)], false, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 1_200)).toBeUndefined(); // nothing was left waiting
  });

  it('keeps an invalidation made while a round ran (its own write conflicted) for the next round', () => {
    const view = new QueueView();
    view.readFrom([node(1)], 0);
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 100)).toEqual({ queuedAt: 10, runId: 'a' });
    view.invalidate(); // during the round, before it records what it read
    view.afterRound([run('b', 20)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 200)).toBeUndefined();
    view.afterRound([run('a', 10), run('b', 20)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 300)).toEqual({ queuedAt: 20, runId: 'b' });
  });

  it('reads from the head at the time a held-back reason is due, and then skips again', () => {
    const view = new QueueView();
    view.readFrom([node(1)], 0);
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    view.readHeadAt(600);
    expect(view.readFrom([node(0.5)], 300)).toEqual({ queuedAt: 10, runId: 'a' });
    expect(view.readFrom([node(0.5)], 600)).toBeUndefined();
    view.afterRound([run('a', 10)], true, [node(0.5)]);
    expect(view.readFrom([node(0.5)], 700)).toEqual({ queuedAt: 10, runId: 'a' });
  });

  it('reads from the head after a run is queued at or before the cursor (committed out of queue order)', () => {
    const view = new QueueView();
    view.readFrom([node(1)], 0);
    view.afterRound([run('a', 10), run('c', 30)], true, [node(0.5)]);
    view.noteQueued(40); // after the cursor: the next round reads it anyway
    expect(view.readFrom([node(0.5)], 100)).toEqual({ queuedAt: 30, runId: 'c' });
    view.afterRound([], true, [node(0.5)]);
    view.noteQueued(20); // b, queued before c, committed after the round that read c
    expect(view.readFrom([node(0.5)], 200)).toBeUndefined();
  });

  it('treats a new node as more room', () => {
    const view = new QueueView();
    view.readFrom([node(1)], 0);
    view.afterRound([run('a', 10)], true, [node(0)]);
    expect(view.readFrom([node(0), { ...node(1), id: 'n2' }], 10)).toBeUndefined();
  });
});

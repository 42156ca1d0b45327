import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoscalingRecords } from '../../src/autoscaling/decisions.js';
import { openStore } from '../../src/store/open.js';
import type { SqlBackedStore } from '../../src/store/sql-store.js';
import { newRun } from '../store/fixtures.js';

// The autoscaler's records on the embedded store (migration 009): the galley_queue source's count
// of QUEUED runs, the decisions kept per pipeline, and the stabilization windows.

describe('autoscaling records (embedded store)', () => {
  let dir: string;
  let store: SqlBackedStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-autoscaling-records-'));
    store = await openStore({ dataDir: dir });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("counts a definition's (by id or alias) or a group's QUEUED runs", async () => {
    for (const id of ['r1', 'r2', 'r3']) await store.insertRun(newRun(id));
    await store.insertRun(newRun('r4', { definitionId: 'def-2', alias: 'other', groupName: 'batch' }));
    const running = newRun('r5');
    await store.insertRun({ ...running, state: { ...running.state, status: 'RUNNING' } });
    const records = new AutoscalingRecords(store.sql);
    expect(await records.queuedRuns({ definition: 'def-1' })).toBe(3);
    expect(await records.queuedRuns({ definition: 'hello' })).toBe(3);
    expect(await records.queuedRuns({ group: 'batch' })).toBe(1);
    expect(await records.queuedRuns({ definition: 'nothing' })).toBe(0);
  });

  it('keeps the last decisions per pipeline, newest first, and the windows; forgets a deleted pipeline', async () => {
    const records = new AutoscalingRecords(store.sql, 3);
    for (let k = 1; k <= 5; k++)
      await records.record(
        { pipelineId: 'p', at: k, metric: k, error: null, current: k - 1, desired: k, reason: `step ${k}` },
        [{ at: k, desired: k }],
      );
    await records.record(
      {
        pipelineId: 'q',
        at: 9,
        metric: null,
        error: 'down',
        current: 2,
        desired: 2,
        reason: 'metric unavailable',
      },
      [],
    );
    expect((await records.decisions('p')).map((d) => d.reason)).toEqual(['step 5', 'step 4', 'step 3']);
    expect(await records.recommendations('p')).toEqual([{ at: 5, desired: 5 }]);
    expect(await records.decisions('q')).toEqual([
      {
        pipelineId: 'q',
        at: 9,
        metric: null,
        error: 'down',
        current: 2,
        desired: 2,
        reason: 'metric unavailable',
      },
    ]);
    await records.forget('p');
    expect(await records.decisions('p')).toEqual([]);
    expect(await records.recommendations('p')).toEqual([]);
    expect(await records.decisions('q')).toHaveLength(1);
  });
});

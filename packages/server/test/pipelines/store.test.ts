import { newInstanceState, parsePipelineSpec, type PipelineSpec } from '@galley/core';
import { storeMatrix } from '@galley/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { newLaunch } from '../../src/pipelines/sync.js';
import { openStore } from '../../src/store/open.js';
import type { InstanceRecord, PipelineRecord } from '../../src/model/pipeline-records.js';
import { DuplicatePipelineError } from '../../src/store/pipelines-sql.js';
import { seedPipeline } from './harness.js';

// The pipelines part of the store, against embedded PGlite and a real PostgreSQL: what the
// controller relies on to survive a restart (versions, instances with their launches, history).

const matrix = await storeMatrix({ tempPrefix: 'galley-pstore-' });
afterAll(() => matrix.stop());
const backends = matrix.stores;

function spec(id: string, over: Record<string, unknown> = {}): PipelineSpec {
  const parsed = parsePipelineSpec(seedPipeline(id, over));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

function pipeline(id: string): PipelineRecord {
  return {
    pipelineId: id,
    uid: 'ab12c',
    cluster: 'local',
    spec: spec(id),
    version: 1,
    instanceSeq: 0,
    update: null,
    updateSeq: 0,
    deletingAt: null,
    createdAt: 1_000,
    updatedAt: 1_000,
  };
}

for (const backend of backends) {
  describe.runIf(backend.available)(`pipelines store (${backend.name})`, () => {
    it('keeps a pipeline, its versions, instances with their launches and its update history across a reopen', async () => {
      const location = await backend.location();
      let store = await openStore(location);
      const p = pipeline('faust');
      await store.createPipeline(p);
      await expect(store.createPipeline(p)).rejects.toBeInstanceOf(DuplicatePipelineError);

      const state = newInstanceState({ instanceId: 'faust.1', number: 1, version: 1 }, 2_000, true);
      const instance: InstanceRecord = {
        pipelineId: 'faust',
        state,
        launch: newLaunch({ ...p, instanceSeq: 1 }, state, p.spec, 1, 7, 2_000),
        updatedAt: 2_000,
      };
      const v2 = spec('faust', { environment: { APP_ENV: 'v2' } });
      const update = {
        fromVersion: 1,
        toVersion: 2,
        failedVersion: null,
        phase: 'rolling' as const,
        startedAt: 3_000,
        lastProgressAt: 3_000,
        availableNew: 0,
        batches: 1,
        reason: null,
        stalledAt: null,
        finishedAt: null,
      };
      const next = { ...p, version: 2, spec: v2, instanceSeq: 1, update, updateSeq: 1, updatedAt: 3_000 };
      expect(
        await store.savePipeline({
          pipeline: next,
          newVersion: { version: 2, spec: v2 },
          instances: [instance],
          history: { seq: 1, update },
        }),
      ).toBe(true);
      await store.close();

      store = await openStore(location);
      expect(await store.getPipeline('faust')).toEqual(next);
      expect([...(await store.pipelineVersions('faust')).entries()]).toEqual([
        [1, p.spec],
        [2, v2],
      ]);
      expect(await store.pipelineInstances('faust')).toEqual([instance]);
      expect(await store.pipelineInstances()).toEqual([instance]);
      expect(await store.pipelineUpdates('faust')).toEqual([{ seq: 1, update }]);
      expect(instance.launch?.launchId).toBe('faust$1.1.ab12c');
      expect(instance.launch?.processes['parse']?.taskId).toBe('faust$1.1.ab12c:parse');

      // Events update instances that still exist; a removed one stays removed.
      const running = {
        ...instance,
        state: { ...state, phase: 'running' as const, runningSince: 4_000 },
        updatedAt: 4_000,
      };
      await store.saveInstances([running]);
      expect((await store.pipelineInstances('faust'))[0]?.state.phase).toBe('running');
      await store.savePipeline({ pipeline: next, removeInstances: ['faust.1'] });
      await store.saveInstances([running]);
      expect(await store.pipelineInstances('faust')).toEqual([]);

      // Deleted: everything of it is gone, and a late change does not bring it back.
      expect(await store.deletePipeline('faust')).toBe(true);
      expect(await store.deletePipeline('faust')).toBe(false);
      expect(await store.getPipeline('faust')).toBeNull();
      expect(await store.savePipeline({ pipeline: next, instances: [instance] })).toBe(false);
      expect(await store.pipelineInstances()).toEqual([]);
      expect((await store.pipelineVersions('faust')).size).toBe(0);
      // The id is free again.
      await store.createPipeline(pipeline('faust'));
      expect((await store.listPipelines()).map((x) => x.pipelineId)).toEqual(['faust']);
      await store.close();
    });
  });
}

import { DEFAULT_RESTART_BACKOFF, parsePipelineSpec, type PipelineSpec } from '@galley/core';
import { describe, expect, it } from 'vitest';
import type { GroupEvent } from '../../src/backends/group-runner.js';
import { applyGroupEvent } from '../../src/pipelines/instance-events.js';
import { planSync, type SyncInput } from '../../src/pipelines/sync.js';
import type { InstanceRecord, PipelineRecord } from '../../src/model/pipeline-records.js';
import { seedPipeline, unchecked } from './harness.js';

// One controller pass (planSync) and the events on instances, as pure functions: what is stored
// before anything is launched, what is killed, what a deleted pipeline goes through.

function parse(raw: Record<string, unknown>): PipelineSpec {
  const parsed = parsePipelineSpec(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

const spec = parse(
  unchecked(seedPipeline('p', { instances: 2, update_strategy: { min_healthy_seconds: 0 } })),
);
const pipeline: PipelineRecord = {
  pipelineId: 'p',
  uid: 'u1',
  cluster: 'local',
  spec,
  version: 1,
  instanceSeq: 0,
  update: null,
  updateSeq: 0,
  deletingAt: null,
  createdAt: 0,
  updatedAt: 0,
};
const input = (over: Partial<SyncInput>): SyncInput => ({
  pipeline,
  instances: [],
  versions: new Map([[1, spec]]),
  now: 1_000,
  epoch: 3,
  backoff: DEFAULT_RESTART_BACKOFF,
  ...over,
});

/** Applies events in order to the record. */
function feed(record: InstanceRecord, events: GroupEvent[]): InstanceRecord {
  let r = record;
  for (const e of events) r = applyGroupEvent(r, e, spec, DEFAULT_RESTART_BACKOFF).record;
  return r;
}

const running = (launchId: string, at: number): GroupEvent[] =>
  ['parse', 'sidecar'].map((process) => ({
    type: 'process-state',
    launchId,
    process,
    at,
    state: 'TASK_RUNNING',
  }));

describe('planSync', () => {
  it('stores new instances with their launch (id, epoch, staged processes) before handing the launches over', () => {
    const plan = planSync(input({}));
    expect(plan.change?.pipeline.instanceSeq).toBe(2);
    expect(
      plan.change?.instances?.map((i) => [i.state.instanceId, i.launch?.launchId, i.launch?.epoch]),
    ).toEqual([
      ['p.1', 'p$1.1.u1', 3],
      ['p.2', 'p$2.1.u1', 3],
    ]);
    expect(plan.change?.instances?.[0]?.launch?.processes['parse']).toMatchObject({
      taskId: 'p$1.1.u1:parse',
      state: 'TASK_STAGING',
      exit: null,
    });
    expect(plan.launch.map((l) => l.launchId)).toEqual(['p$1.1.u1', 'p$2.1.u1']);
    expect(plan.kill).toEqual([]);
  });

  it('kills what is left of a failed launch and restarts the instance (a new launch of it) only once it is over', () => {
    const first = planSync(input({})).change!.instances!;
    let one = feed(first[0]!, running('p$1.1.u1', 1_100));
    const two = feed(first[1]!, running('p$2.1.u1', 1_100));
    const exited = applyGroupEvent(
      one,
      {
        type: 'process-ended',
        launchId: 'p$1.1.u1',
        process: 'parse',
        at: 2_000,
        end: { state: 'TASK_FAILED', exitCode: 3, message: 'exited with code 3', hostFailure: false },
      },
      spec,
      DEFAULT_RESTART_BACKOFF,
    );
    expect(exited.kill).toBe('p$1.1.u1'); // the sidecar still runs
    one = exited.record;
    expect(one.state).toMatchObject({ phase: 'failed', restartAt: 3_000 });
    const p = { ...pipeline, instanceSeq: 2 };
    // Backoff passed, but the sidecar has not ended yet: no restart.
    const waiting = planSync(input({ pipeline: p, instances: [one, two], now: 3_000 }));
    expect(waiting.launch).toEqual([]);
    one = feed(one, [
      {
        type: 'process-ended',
        launchId: 'p$1.1.u1',
        process: 'sidecar',
        at: 3_100,
        end: { state: 'TASK_KILLED', exitCode: null, message: 'killed', hostFailure: false },
      },
    ]);
    const restart = planSync(input({ pipeline: p, instances: [one, two], now: 3_200 }));
    expect(restart.launch.map((l) => [l.instanceId, l.launchId])).toEqual([['p.1', 'p$1.2.u1']]);
    expect(restart.change?.instances?.[0]?.state).toMatchObject({ phase: 'starting', restarts: 1 });
  });

  it('ignores events of a launch the instance moved past, and asks to kill it if it still runs', () => {
    const [one] = planSync(input({})).change!.instances!;
    const effect = applyGroupEvent(one!, running('p$1.0.old', 1_100)[0]!, spec, DEFAULT_RESTART_BACKOFF);
    expect(effect.record).toBe(one);
    expect(effect.kill).toBe('p$1.0.old');
  });

  it('winds a deleted pipeline down: every instance stopping and killed once, removed when over, then the pipeline', () => {
    const instances = planSync(input({})).change!.instances!.map((r, i) =>
      feed(r, running(`p$${i + 1}.1.u1`, 1_100)),
    );
    const deleting = { ...pipeline, instanceSeq: 2, deletingAt: 5_000 };
    const plan = planSync(input({ pipeline: deleting, instances, now: 5_000 }));
    expect(plan.kill).toEqual(['p$1.1.u1', 'p$2.1.u1']);
    expect(plan.deletePipeline).toBe(false);
    const stopping = plan.change!.instances!;
    expect(stopping.map((r) => [r.state.phase, r.launch?.killRequestedAt])).toEqual([
      ['stopping', 5_000],
      ['stopping', 5_000],
    ]);
    // Asked again before anything ended: no second kill.
    expect(planSync(input({ pipeline: deleting, instances: stopping, now: 5_100 })).kill).toEqual([]);
    const over = stopping.map((r) =>
      feed(
        r,
        ['parse', 'sidecar'].map((process) => ({
          type: 'process-ended' as const,
          launchId: r.launch!.launchId,
          process,
          at: 5_200,
          end: { state: 'TASK_KILLED' as const, exitCode: null, message: 'killed', hostFailure: false },
        })),
      ),
    );
    expect(
      planSync(input({ pipeline: deleting, instances: [over[0]!, stopping[1]!], now: 5_300 })).change
        ?.removeInstances,
    ).toEqual(['p.1']);
    expect(planSync(input({ pipeline: deleting, instances: [], now: 5_400 })).deletePipeline).toBe(true);
  });
});

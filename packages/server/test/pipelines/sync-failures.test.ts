import { DEFAULT_RESTART_BACKOFF, parsePipelineSpec, type PipelineSpec } from '@galley/core';
import { describe, expect, it } from 'vitest';
import type { GroupEvent } from '../../src/backends/group-runner.js';
import type { InstanceRecord, PipelineRecord } from '../../src/model/pipeline-records.js';
import { applyGroupEvent } from '../../src/pipelines/instance-events.js';
import { planSync, type SyncInput } from '../../src/pipelines/sync.js';
import { seedPipeline, unchecked } from './harness.js';

// Launch failures and specs that cannot be served, in one controller pass (planSync) and in the
// events on instances: pure, no server (issue 12 item 3).

function parse(raw: Record<string, unknown>): PipelineSpec {
  const parsed = parsePipelineSpec(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

const spec = parse(unchecked(seedPipeline('p', { instances: 2 })));
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

function feed(record: InstanceRecord, events: GroupEvent[], mayRelaunch = true): InstanceRecord {
  let r = record;
  for (const e of events) r = applyGroupEvent(r, e, spec, DEFAULT_RESTART_BACKOFF, mayRelaunch).record;
  return r;
}

/** The two instances the first pass of `p` records. */
function firstInstances(): InstanceRecord[] {
  return planSync(input({})).change!.instances!;
}

const ended = (
  launchId: string,
  end: Partial<Extract<GroupEvent, { type: 'process-ended' }>['end']>,
): GroupEvent => ({
  type: 'process-ended',
  launchId,
  process: 'parse',
  at: 2_000,
  end: { state: 'TASK_LOST', exitCode: null, message: 'lost', hostFailure: true, ...end },
});

describe('launch failures', () => {
  it('a host failure before the launch ran is a launch failure: backed off, its host paths left out', () => {
    const [first] = firstInstances();
    const launchId = first!.launch!.launchId;
    const failed = feed(first!, [
      ended(launchId, {
        message:
          "launch failed: ENAMETOOLONG: name too long, mkdir '/srv/galley/data/pipelines/p/1.1.u1/parse'",
      }),
    ]);
    expect(failed.state.phase).toBe('failed');
    expect(failed.state.restartAt).toBe(3_000);
    expect(failed.state.lastExit).toEqual({
      process: 'parse',
      exitCode: null,
      message: "ENAMETOOLONG: name too long, mkdir '…/parse'",
      at: 2_000,
      launchFailed: true,
    });
    expect(failed.launch!.processes['parse']!.exit?.message).toBe(
      "launch failed: ENAMETOOLONG: name too long, mkdir '…/parse'",
    );
    // The pass before its backoff ends restarts nothing and asks to be called at its end.
    const early = planSync(
      input({
        instances: [failed, firstInstances()[1]!],
        pipeline: { ...pipeline, instanceSeq: 2 },
        now: 2_500,
      }),
    );
    expect(early.launch.filter((l) => l.instanceId === 'p.1')).toEqual([]);
    expect(early.followUpAt).toBe(3_000);
  });

  it('a rejected task (TASK_ERROR) is a launch failure; a host lost under a running instance is not', () => {
    const [first] = firstInstances();
    const launchId = first!.launch!.launchId;
    const rejected = feed(first!, [
      ended(launchId, { state: 'TASK_ERROR', hostFailure: false, message: 'invalid task' }),
    ]);
    expect(rejected.state.lastExit?.launchFailed).toBe(true);
    const runningThenLost = feed(first!, [
      ...['parse', 'sidecar'].map((process): GroupEvent => ({
        type: 'process-state',
        launchId,
        process,
        at: 1_500,
        state: 'TASK_RUNNING',
      })),
      ended(launchId, { message: 'agent failure' }),
    ]);
    expect(runningThenLost.state.lastExit?.launchFailed).toBeUndefined();
    expect(runningThenLost.state.restartAt).toBe(2_000);
  });
});

describe('specs that cannot be served', () => {
  it('a pipeline beyond the bounds plans nothing and stops what it has; it is kept until deleted', () => {
    const huge = { ...pipeline, spec: { ...spec, instances: 1e9 }, instanceSeq: 2 };
    const plan = planSync(input({ pipeline: huge, instances: firstInstances() }));
    expect(plan.launch).toEqual([]);
    expect(plan.deletePipeline).toBe(false);
    expect(plan.kill).toHaveLength(2);
    expect(plan.change!.instances!.map((i) => [i.state.phase, i.state.stopReason])).toEqual([
      [
        'stopping',
        "the pipeline's stored spec cannot be served: instances: 1000000000 is beyond what the server can serve: a whole number from 0 to 1000",
      ],
      ['stopping', expect.stringContaining('instances: 1000000000') as unknown as string],
    ]);
    expect(plan.followUpAt).toBeNull();
    // Deleting it still works.
    const deleting = planSync(input({ pipeline: { ...huge, deletingAt: 1_000 }, instances: [] }));
    expect(deleting.deletePipeline).toBe(true);
  });

  it('instances of a version that cannot be served are stopped, never restarted; new ones take the current version', () => {
    const [first, second] = firstInstances();
    const old = {
      ...spec,
      processes: { ...spec.processes, parse: { ...spec.processes['parse']!, kill_grace_period: 1e300 } },
    };
    const v1Failed = feed(first!, [
      ended(first!.launch!.launchId, {
        state: 'TASK_FAILED',
        exitCode: 1,
        hostFailure: false,
        message: 'boom',
      }),
    ]);
    const plan = planSync(
      input({
        pipeline: { ...pipeline, version: 2, instanceSeq: 2 },
        versions: new Map([
          [1, old],
          [2, spec],
        ]),
        instances: [v1Failed, second!],
        now: 600_000,
      }),
    );
    const stopped = plan.change!.instances!.filter((i) => i.state.phase === 'stopping');
    expect(stopped.map((i) => i.state.instanceId).sort()).toEqual(['p.1', 'p.2']);
    expect(stopped[0]!.state.stopReason).toMatch(
      /^version 1 cannot be served: processes\.parse\.kill_grace_period: 1e\+300 is beyond what the server can serve/,
    );
    expect(plan.launch.every((l) => l.spec === spec)).toBe(true);
    expect(plan.launch.length).toBeGreaterThan(0);
  });

  it('a launch of such a spec that the backend says never started is not launched again', () => {
    const [first] = firstInstances();
    const absent: GroupEvent = { type: 'absent', launchId: first!.launch!.launchId, at: 1_500 };
    expect(applyGroupEvent(first!, absent, spec, DEFAULT_RESTART_BACKOFF).relaunch).toBe(true);
    const effect = applyGroupEvent(first!, absent, spec, DEFAULT_RESTART_BACKOFF, false);
    expect(effect.relaunch).toBe(false);
    expect(Object.values(effect.record.launch!.processes).every((p) => p.exit !== null)).toBe(true);
  });
});

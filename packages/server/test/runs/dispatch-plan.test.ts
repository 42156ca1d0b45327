import { type Node, parsePipelineSpec, resolveRetryPolicy } from '@galley/core';
import { describe, expect, it } from 'vitest';
import type { GroupLaunch } from '../../src/backends/group-runner.js';
import type { RunRecord } from '../../src/model/records.js';
import { type DispatchTarget, planDispatch } from '../../src/runs/dispatch-plan.js';
import { newRun } from '../store/fixtures.js';

const node = (id: string, cpus: number, portRanges: [number, number][] = []): Node => ({
  id,
  hostname: id,
  attributes: {},
  free: { cpus, memMb: 4096, diskMb: 10_000, gpus: 0, portRanges },
});

const run = (id: string, queuedAt: number, cpu = 1000): RunRecord =>
  ({ ...newRun(id, { cpu, memory: 64 }, queuedAt), version: 1, updatedAt: queuedAt }) as RunRecord;

function launch(id: string, queuedAt: number, cpu = 1, ports = 0): GroupLaunch {
  const parsed = parsePipelineSpec({
    id: 'p',
    processes: {
      web: {
        id: 'web',
        command: 'serve',
        resources: { cpu, mem: 64 },
        port_mappings: Array.from({ length: ports }, (_, i) => ({ host_port: 0, container_port: 8000 + i })),
      },
    },
    executor_resources: { cpu: 0.1, mem: 32 },
    instances: 1,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { launchId: `p$${id}.1.abcde`, pipelineId: 'p', instanceId: `p.${id}`, spec: parsed.spec, queuedAt };
}

const local: DispatchTarget = {
  cluster: 'default',
  placement: { groupExecutor: false, portsFromNodes: false },
};
const mesos: DispatchTarget = {
  cluster: 'default',
  roles: ['*'],
  placement: { groupExecutor: true, portsFromNodes: true },
};
const ctx = (target: DispatchTarget) => ({
  policy: resolveRetryPolicy(),
  random: () => 0.5,
  now: 1_000,
  epoch: 1,
  target,
});

describe('planDispatch: one placement for queued runs and pipeline launches', () => {
  it('places a pipeline launch before an older queued run when only one fits (the written priority rule)', () => {
    const plan = planDispatch(
      [run('old-run', 10)],
      [launch('1', 900)],
      [node('local', 1)],
      ctx(local),
      () => true,
    );
    expect(plan.groups.map((g) => g.launch.launchId)).toEqual(['p$1.1.abcde']);
    expect(plan.launches).toEqual([]);
    // The run waits, and says why.
    expect(plan.steps.map((s) => [s.change.run.runId, s.change.run.state.queuedReason])).toEqual([
      ['old-run', 'waiting behind 1 older run'],
    ]);
  });

  it('places both on one node while it has room, the run with a write-ahead attempt', () => {
    const plan = planDispatch([run('r', 10)], [launch('1', 20)], [node('local', 2)], ctx(local), () => true);
    expect(plan.groups).toHaveLength(1);
    expect(plan.launches.map((l) => [l.runId, l.attemptId, l.nodeId])).toEqual([['r', 'r.1', 'local']]);
    expect(plan.steps[0]!.change.attempt).toMatchObject({
      insert: { attemptId: 'r.1', epoch: 1, state: 'launching' },
    });
  });

  it('shapes a launch for the backend: locally no executor and ports left to the OS; on Mesos the executor and ports from the offer', () => {
    const onLocal = planDispatch([], [launch('1', 1, 1, 1)], [node('local', 1)], ctx(local), () => true);
    expect(onLocal.groups).toEqual([expect.objectContaining({ nodeId: 'local', ports: {} })]);
    // 1 cpu + the executor's 0.1 does not fit a 1-cpu agent on Mesos.
    const tight = planDispatch(
      [],
      [launch('1', 1, 1, 1)],
      [node('a1 *', 1, [[31000, 31010]])],
      ctx(mesos),
      () => true,
    );
    expect(tight.groups).toEqual([]);
    expect(tight.groupsWaiting).toEqual([
      { launchId: 'p$1.1.abcde', reason: expect.stringContaining('cpu') },
    ]);
    const roomy = planDispatch(
      [],
      [launch('1', 1, 1, 1)],
      [node('a1 *', 2, [[31000, 31010]])],
      ctx(mesos),
      () => true,
    );
    expect(roomy.groups).toEqual([expect.objectContaining({ nodeId: 'a1 *', ports: { web: [31000] } })]);
  });
});

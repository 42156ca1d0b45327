import { CONFIGURATION_FAILURE, decideRetry, resolveRetryPolicy, type Node } from '@galley/core';
import type { Attribute, TaskStatus } from '@galley/mesos';
import { describe, expect, it } from 'vitest';
import type { LaunchSpec } from '../../src/backends/backend.js';
import { AttemptTable, type TrackedTask } from '../../src/backends/mesos/attempts.js';
import { containerFailureOf } from '../../src/backends/mesos/container-failures.js';
import { declaredKinds, ImageSupport } from '../../src/backends/mesos/images.js';
import { taskInfoOf, type TaskShape } from '../../src/backends/mesos/task-info.js';
import { applyUpdate } from '../../src/backends/mesos/task-updates.js';
import type { RunRecord } from '../../src/model/records.js';
import { type DispatchTarget, hasImage, planDispatch } from '../../src/runs/dispatch-plan.js';
import { newRun } from '../store/fixtures.js';

// Which agents run images (`--mesos-containerizer auto`, the `galley-images` agent attribute, what
// launch failures teach), and a container launch failure as a configuration failure: the pure parts.

const text = (name: string, value: string): Attribute => ({ name, type: 'TEXT', text: { value } });

describe('agents that run images', () => {
  it('reads the galley-images attribute: mesos, docker, both, none, or nothing', () => {
    expect(declaredKinds([text('galley-images', 'mesos')])).toEqual(['mesos']);
    expect(declaredKinds([text('galley-images', 'docker')])).toEqual(['docker']);
    expect(declaredKinds([text('galley-images', 'mesos.docker')])).toEqual(['mesos', 'docker']);
    expect(declaredKinds([text('galley-images', 'none')])).toEqual([]);
    expect(declaredKinds([text('zone', 'a')])).toBeUndefined();
    expect(declaredKinds(undefined)).toBeUndefined();
  });

  it('auto, no agent declares images: every agent runs plain commands and no node turns image runs away', () => {
    const images = new ImageSupport('auto');
    images.note('S0', 'a1', [text('zone', 'a')]);
    images.note('S1', 'a2', undefined);
    expect([images.kindFor('S0'), images.kindFor('S1')]).toEqual([null, null]);
    expect([images.nodeAttribute('S0'), images.nodeAttribute('S1')]).toEqual([undefined, undefined]);
    expect(images.summary()).toBe(
      'no agent declares galley-images:mesos or galley-images:docker, so images are recorded, not used',
    );
  });

  it('auto, some agents declare images: images go to those only, as they declared, until one fails', () => {
    const images = new ImageSupport('auto');
    images.note('S0', 'stock', undefined);
    images.note('S1', 'mesos-images', [text('galley-images', 'mesos')]);
    images.note('S2', 'docker-images', [text('galley-images', 'docker')]);
    images.note('S3', 'no-images', [text('galley-images', 'none')]);
    expect(['S0', 'S1', 'S2', 'S3'].map((id) => images.kindFor(id))).toEqual([null, 'mesos', 'docker', null]);
    expect(['S0', 'S1', 'S2', 'S3'].map((id) => images.nodeAttribute(id))).toEqual([
      'none',
      'mesos',
      'docker',
      'none',
    ]);
    expect(images.summary()).toBe('images run on mesos-images (mesos), docker-images (docker)');
    images.failed('S1', 'mesos-images', 'Failed to launch container: Unsupported container image type: 2');
    // Offers keep coming with the attribute: the failure stays learned.
    images.note('S1', 'mesos-images', [text('galley-images', 'mesos')]);
    expect(images.kindFor('S1')).toBeNull();
    expect(images.nodeAttribute('S1')).toBe('none');
    expect(images.list().find((a) => a.agentId === 'S1')).toMatchObject({
      declared: ['mesos'],
      kind: null,
      failed: 'Failed to launch container: Unsupported container image type: 2',
    });
    expect(images.summary()).toBe(
      'images run on docker-images (docker); mesos-images failed to launch an image: Failed to launch container: Unsupported container image type: 2',
    );
  });

  it('mesos or docker: every agent is sent images that way, except those declaring none or that failed', () => {
    const images = new ImageSupport('docker');
    images.note('S0', 'a', undefined);
    images.note('S1', 'b', [text('galley-images', 'none')]);
    images.note('S2', 'c', [text('galley-images', 'mesos')]);
    expect(['S0', 'S1', 'S2'].map((id) => images.kindFor(id))).toEqual(['docker', null, 'docker']);
    images.failed('S0', 'a', 'Abnormal executor termination: unknown container');
    expect(['S0', 'S1', 'S2'].map((id) => images.nodeAttribute(id))).toEqual(['none', 'none', 'docker']);
    const none = new ImageSupport('none');
    none.note('S0', 'a', [text('galley-images', 'mesos')]);
    expect([none.kindFor('S0'), none.nodeAttribute('S0')]).toEqual([null, undefined]);
    expect(none.summary()).toBe('images are recorded, not used (--mesos-containerizer none)');
  });
});

const spec = (image: string): LaunchSpec => ({
  attemptId: 'run-1.1',
  runId: 'run-1',
  seq: 1,
  nodeId: 'S0 *',
  image,
  command: 'echo hi',
  env: [],
  cpus: 0.1,
  memMb: 32,
  gpus: 0,
});
const shape = (containerizer: TaskShape['containerizer']): TaskShape => ({
  containerizer,
  network: 'HOST',
  cniNetwork: 'mesos-bridge',
  killGraceMs: 1000,
});

describe('tasks with and without an image', () => {
  it('an empty image or `none` is a plain command task (no ContainerInfo) whatever the containerizer', () => {
    expect(hasImage('ubuntu:24.04')).toBe(true);
    for (const image of ['', '  ', 'none', 'NONE']) {
      expect(hasImage(image)).toBe(false);
      for (const c of ['mesos', 'docker', 'auto', 'none'] as const)
        expect(taskInfoOf(spec(image), 'S0', [], shape(c)).container).toBeUndefined();
    }
    // `auto` is resolved per agent before a TaskInfo is made; unresolved it sends no image.
    expect(taskInfoOf(spec('ubuntu:24.04'), 'S0', [], shape('auto')).container).toBeUndefined();
    expect(taskInfoOf(spec(' ubuntu:24.04 '), 'S0', [], shape('mesos')).container).toEqual({
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: 'ubuntu:24.04' } } },
    });
  });
});

const node = (id: string, images?: string): Node => ({
  id: `${id} *`,
  hostname: id,
  attributes: { 'galley.agent': id, ...(images ? { 'galley.images': images } : {}) },
  free: { cpus: 2, memMb: 4096, diskMb: 10_000, gpus: 0, portRanges: [[31000, 32000]] },
});
const run = (id: string, image: string, queuedAt: number, cpu = 100): RunRecord =>
  ({ ...newRun(id, { image, cpu, memory: 32 }, queuedAt), version: 1, updatedAt: queuedAt }) as RunRecord;
const mesos: DispatchTarget = {
  cluster: 'mesos',
  roles: ['*'],
  placement: { groupExecutor: true, portsFromNodes: true },
};
const ctx = { policy: resolveRetryPolicy(), random: () => 0.5, now: 5_000, epoch: 1, target: mesos };

describe('placing runs with images', () => {
  it('never places a run with an image on a node that runs none; a run without one goes anywhere', () => {
    const plan = planDispatch(
      [run('with-image', 'ubuntu:24.04', 1, 1500), run('image-none', 'none', 2, 1500)],
      [],
      [node('stock', 'none'), node('images', 'mesos')],
      ctx,
      () => true,
    );
    expect(plan.launches.map((l) => [l.runId, l.nodeId])).toEqual([
      ['with-image', 'images *'],
      ['image-none', 'stock *'],
    ]);
  });

  it('says why a run with an image waits when no node runs images', () => {
    const plan = planDispatch([run('r', 'ubuntu:24.04', 1)], [], [node('stock', 'none')], ctx, () => true);
    expect(plan.launches).toEqual([]);
    expect(plan.steps[0]?.change.run.state.queuedReason).toBe('no node matches galley.images!=none');
  });

  it('adds nothing to a demand while no node turns images away (reasons stay as they were)', () => {
    const plan = planDispatch(
      [run('big', 'ubuntu:24.04', 1, 64_000)],
      [],
      [node('a'), node('b')],
      ctx,
      () => true,
    );
    expect(plan.steps[0]?.change.run.state.queuedReason).toBe(
      'needs 64 cpus; the largest free on any node is 2',
    );
  });
});

const failedStatus = (reason: string, message: string): TaskStatus =>
  ({
    task_id: { value: 'run-1.1' },
    state: 'TASK_FAILED',
    source: 'SOURCE_AGENT',
    reason,
    message,
    agent_id: { value: 'S0' },
    uuid: 'AAAAAAAAQACAAAAAAAAAAA==',
  }) as TaskStatus;
const launched = { agentId: 'S0', hostname: 'a1', started: false };

describe('a container launch failure is a configuration failure', () => {
  it('names the agent flag or Galley flag that fixes a MESOS image on an agent without image providers', () => {
    const failure = containerFailureOf(
      failedStatus(
        'REASON_CONTAINER_LAUNCH_FAILED',
        'Failed to launch container: Unsupported container image type: 2',
      ),
      { ...launched, container: 'mesos' },
      'mesos',
    );
    expect(failure).toEqual({
      agentRunsNoImages: true,
      outcome: {
        kind: 'host-failure',
        reason: CONFIGURATION_FAILURE,
        message:
          'container launch failed on agent a1 (Failed to launch container: Unsupported container image type: 2): the agent has no Docker image provider: start it with --image_providers=docker --isolation=filesystem/linux,docker/runtime --launcher=linux, or run Galley with --mesos-containerizer auto (images only on agents that declare galley-images:mesos or galley-images:docker) or none; images are no longer sent to this agent',
      },
    });
    const decision = decideRetry(resolveRetryPolicy(), 1, failure!.outcome, () => 0.5);
    expect(decision.retry).toBe(false);
    expect(decision.reason).toMatch(
      /^configuration failure: container launch failed on agent a1 .*; not retried: it fails the same way until the configuration changes$/,
    );
  });

  it('reads a DOCKER container that never started in an unknown container as an agent without the docker containerizer', () => {
    const status = failedStatus(
      'REASON_EXECUTOR_TERMINATED',
      'Abnormal executor termination: unknown container',
    );
    const failure = containerFailureOf(status, { ...launched, container: 'docker' }, 'auto');
    expect(failure?.agentRunsNoImages).toBe(true);
    expect(failure?.outcome).toMatchObject({
      reason: CONFIGURATION_FAILURE,
      message: expect.stringContaining(
        'the agent has no Docker containerizer: start it with --containerizers=mesos,docker (Docker installed), or correct its galley-images attribute (it declares it runs docker images)',
      ),
    });
    // The same update for a plain task, or a task that ran, is an executor failure (a host failure).
    expect(containerFailureOf(status, { ...launched, container: null }, 'auto')).toBeNull();
    expect(
      containerFailureOf(status, { ...launched, container: 'docker', started: true }, 'auto'),
    ).toBeNull();
  });

  it('any other container launch failure ends the run as a configuration failure, without learning about the agent', () => {
    const failure = containerFailureOf(
      failedStatus(
        'REASON_CONTAINER_LAUNCH_FAILED',
        "Failed to launch container: Failed to fetch image 'nope'",
      ),
      { ...launched, container: 'mesos' },
      'auto',
    );
    expect(failure?.agentRunsNoImages).toBe(false);
    expect(failure?.outcome).toMatchObject({ kind: 'host-failure', reason: CONFIGURATION_FAILURE });
    expect(
      containerFailureOf(
        failedStatus('', 'Command exited with status 3'),
        { ...launched, container: 'mesos' },
        'auto',
      ),
    ).toBeNull();
  });

  it('the status update handler ends the attempt and reports the agent that runs no images', () => {
    const table = new AttemptTable();
    const tracked: TrackedTask = {
      attemptId: 'run-1.1',
      agentId: 'S0',
      hostname: 'a1',
      phase: 'launching',
      cpus: 0.1,
      memMb: 32,
      since: 0,
      lastUpdateAt: 0,
      unreachableSince: null,
      reconciledAt: null,
      killGraceMs: null,
      container: 'mesos',
      executorId: null,
    };
    table.add(tracked);
    const effect = applyUpdate(
      failedStatus(
        'REASON_CONTAINER_LAUNCH_FAILED',
        'Failed to launch container: Unsupported container image type: 2',
      ),
      { table, now: 10, agentUrl: () => null, frameworkId: 'fw', containerizer: 'auto' },
    );
    expect(effect.events).toEqual([
      {
        type: 'ended',
        attemptId: 'run-1.1',
        at: 10,
        outcome: expect.objectContaining({ kind: 'host-failure', reason: CONFIGURATION_FAILURE }),
      },
    ]);
    expect(effect.noImages).toEqual({
      agentId: 'S0',
      hostname: 'a1',
      why: 'Failed to launch container: Unsupported container image type: 2',
    });
    expect(table.get('run-1.1')).toBeUndefined();
  });
});

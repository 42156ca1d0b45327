import { describe, expect, it } from 'vitest';
import { computePipeline, DEFAULT_UPDATE_STRATEGY, instanceTransition, newInstanceState } from '@galley/core';
import type { InstanceEvent, InstanceState, PipelineDesired, PipelineUpdate } from '@galley/core';
import { DEFAULT_RESTART_BACKOFF } from '@galley/core';

const T0 = 10_000_000;
const desired = (fields: Partial<PipelineDesired> = {}): PipelineDesired => ({
  pipelineId: 'p',
  version: 1,
  instances: 3,
  strategy: { ...DEFAULT_UPDATE_STRATEGY },
  instanceSeq: 0,
  ...fields,
});
/** Instance p.<n> of `version`, created at T0 + n s, running (and healthy) since `readyAt`. */
function ready(n: number, version = 1, readyAt = T0 + n * 1000, healthChecked = false): InstanceState {
  let s = newInstanceState({ instanceId: `p.${n}`, number: n, version }, T0 + n * 1000, healthChecked);
  s = instanceTransition(s, { type: 'running', at: readyAt }, DEFAULT_RESTART_BACKOFF);
  if (healthChecked)
    s = instanceTransition(s, { type: 'health', at: readyAt, status: 'healthy' }, DEFAULT_RESTART_BACKOFF);
  return s;
}
const then = (s: InstanceState, ...events: InstanceEvent[]): InstanceState =>
  events.reduce((x, e) => instanceTransition(x, e, DEFAULT_RESTART_BACKOFF), s);
const ids = (items: { instanceId: string }[]): string[] => items.map((i) => i.instanceId);
const NOW = T0 + 3_600_000;

describe('pipeline reconciler: scaling', () => {
  it('a new pipeline launches its instances with fresh ids at the current version', () => {
    const plan = computePipeline(desired({ version: 7 }), [], null, NOW);
    expect(plan.launch).toEqual([
      { instanceId: 'p.1', number: 1, version: 7 },
      { instanceId: 'p.2', number: 2, version: 7 },
      { instanceId: 'p.3', number: 3, version: 7 },
    ]);
    expect(plan).toMatchObject({
      stop: [],
      restart: [],
      instanceSeq: 3,
      updateProgress: null,
      revertToVersion: null,
    });
  });

  it('scale up adds instances after the highest number ever issued', () => {
    const plan = computePipeline(
      desired({ instances: 5, instanceSeq: 3 }),
      [ready(1), ready(2), ready(3)],
      null,
      NOW,
    );
    expect(ids(plan.launch)).toEqual(['p.4', 'p.5']);
    expect(plan.stop).toEqual([]);
  });

  it('scale down removes the youngest first', () => {
    const instances = [ready(4), ready(1), ready(5), ready(2), ready(3)];
    const plan = computePipeline(desired({ instances: 2, instanceSeq: 5 }), instances, null, NOW);
    expect(plan.stop).toEqual([
      { instanceId: 'p.5', reason: 'scaled down to 2 instances' },
      { instanceId: 'p.4', reason: 'scaled down to 2 instances' },
      { instanceId: 'p.3', reason: 'scaled down to 2 instances' },
    ]);
    expect(plan.launch).toEqual([]);
  });

  it('ids are never reused: scaling back up after a scale-down continues the numbering', () => {
    const plan = computePipeline(desired({ instances: 3, instanceSeq: 5 }), [ready(1), ready(2)], null, NOW);
    expect(ids(plan.launch)).toEqual(['p.6']);
    expect(plan.instanceSeq).toBe(6);
  });

  it('instances being stopped do not count; the desired count is kept with new ones', () => {
    const stopping = then(ready(3), { type: 'stop-requested', at: NOW - 1, reason: 'x' });
    const plan = computePipeline(desired({ instanceSeq: 3 }), [ready(1), ready(2), stopping], null, NOW);
    expect(ids(plan.launch)).toEqual(['p.4']);
  });

  it('an unhealthy instance is stopped and replaced by a new one', () => {
    const sick = then(ready(2, 1, T0, true), {
      type: 'health',
      at: NOW - 5,
      status: 'unhealthy',
      message: 'process web is unhealthy',
    });
    const plan = computePipeline(desired({ instanceSeq: 3 }), [ready(1), sick, ready(3)], null, NOW);
    expect(plan.stop).toEqual([{ instanceId: 'p.2', reason: 'unhealthy: process web is unhealthy' }]);
    expect(plan.launch).toEqual([{ instanceId: 'p.4', number: 4, version: 1 }]);
  });

  it('an instance killed by its host for being unhealthy is restarted in place, whichever came first', () => {
    // A Mesos agent kills a task group whose process fails its checks: the verdict (unhealthy) and
    // the end may arrive in either order; both orders end the same way, as a failure.
    const unhealthy = {
      type: 'health',
      at: NOW - 6,
      status: 'unhealthy',
      message: 'parse is unhealthy',
    } as const;
    const exited = {
      type: 'process-exited',
      at: NOW - 5,
      process: 'parse',
      exitCode: null,
      message: 'killed',
    } as const;
    for (const events of [
      [unhealthy, exited],
      [exited, unhealthy],
    ] as const) {
      const killed = then(ready(2, 1, T0, true), ...events);
      expect(killed.phase).toBe('failed');
      const plan = computePipeline(
        desired({ instanceSeq: 3 }),
        [ready(1), killed, ready(3)],
        null,
        NOW + 1000,
      );
      expect(plan.stop).toEqual([]);
      expect(plan.launch).toEqual([]);
      expect(ids(plan.restart)).toEqual(['p.2']);
    }
  });
});

describe('pipeline reconciler: restarts', () => {
  const failedAt = NOW - 500;
  const failed = then(ready(2), {
    type: 'process-exited',
    at: failedAt,
    process: 'parse',
    exitCode: 2,
    message: 'oops',
  });

  it('a failed instance waits for its backoff, and the reconciler asks to be called back then', () => {
    const plan = computePipeline(desired({ instanceSeq: 3 }), [ready(1), failed, ready(3)], null, NOW);
    expect(plan.restart).toEqual([]);
    expect(plan.launch).toEqual([]);
    expect(plan.followUpAt).toBe(failedAt + 1000);
  });

  it('is restarted in place once its backoff has passed', () => {
    const plan = computePipeline(
      desired({ instanceSeq: 3 }),
      [ready(1), failed, ready(3)],
      null,
      failedAt + 1000,
    );
    expect(plan.restart).toEqual([
      { instanceId: 'p.2', reason: 'restart 1: process parse exited with code 2 (oops)' },
    ]);
    expect(plan.launch).toEqual([]);
  });
});

describe('pipeline reconciler: rolling update', () => {
  const strategy = { ...DEFAULT_UPDATE_STRATEGY }; // surge 25 % (1 of 4), unavailable 0, 10 s, 300 s
  const v1 = [ready(1), ready(2), ready(3), ready(4)];
  const d2 = desired({ version: 2, instances: 4, instanceSeq: 4, strategy });

  it('a new version starts an update with one surge instance and stops nothing yet', () => {
    const plan = computePipeline(d2, v1, null, NOW);
    expect(plan.launch).toEqual([{ instanceId: 'p.5', number: 5, version: 2 }]);
    expect(plan.stop).toEqual([]);
    expect(plan.updateProgress).toMatchObject({
      fromVersion: 1,
      toVersion: 2,
      phase: 'rolling',
      startedAt: NOW,
      batches: 1,
      availableNew: 0,
    });
    expect(plan.followUpAt).toBe(NOW + 300_000);
  });

  it('waits until the batch has been running for min_healthy_seconds before stopping an old one', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const batch = ready(5, 2, NOW + 2000);
    const early = computePipeline({ ...d2, instanceSeq: 5 }, [...v1, batch], update, NOW + 5000);
    expect(early.stop).toEqual([]);
    expect(early.launch).toEqual([]);
    expect(early.followUpAt).toBe(NOW + 12_000);
    const later = computePipeline({ ...d2, instanceSeq: 5 }, [...v1, batch], update, NOW + 12_000);
    expect(later.stop).toEqual([{ instanceId: 'p.4', reason: 'replaced by version 2' }]);
    expect(ids(later.launch)).toEqual(['p.6']);
    expect(later.updateProgress).toMatchObject({ availableNew: 1, lastProgressAt: NOW + 12_000, batches: 2 });
  });

  it('finishes when every instance runs the new version and is available', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const all = [5, 6, 7, 8].map((n) => ready(n, 2, NOW));
    const plan = computePipeline({ ...d2, instanceSeq: 8 }, all, update, NOW + 20_000);
    expect(plan.updateProgress).toMatchObject({ phase: 'succeeded', finishedAt: NOW + 20_000 });
    expect(plan.launch).toEqual([]);
    expect(plan.stop).toEqual([]);
  });

  it('rolls back when the new version makes no progress within progress_deadline_seconds', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const neverHealthy = then(newInstanceState({ instanceId: 'p.5', number: 5, version: 2 }, NOW, true), {
      type: 'running',
      at: NOW + 1000,
    });
    const plan = computePipeline({ ...d2, instanceSeq: 5 }, [...v1, neverHealthy], update, NOW + 300_000);
    expect(plan.revertToVersion).toBe(1);
    // Every old instance is available: stopping the new one ends the rollback in the same pass.
    expect(plan.updateProgress).toMatchObject({
      phase: 'rolled-back',
      fromVersion: 1,
      toVersion: 1,
      failedVersion: 2,
    });
    expect(plan.updateProgress?.reason).toBe(
      'rolled back to version 1: no progress for 300 s: 0 of 4 instances of version 2 available',
    );
    expect(plan.stop).toEqual([{ instanceId: 'p.5', reason: 'replaced by version 1 (it was not ready)' }]);
  });

  it('rolls back at once when a new instance crash-loops, saying how it exits', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    let crashing = newInstanceState({ instanceId: 'p.5', number: 5, version: 2 }, NOW, false);
    for (const at of [NOW + 1000, NOW + 3000, NOW + 7000]) {
      crashing = then(
        crashing,
        { type: 'restarting', at: at - 500 },
        { type: 'running', at: at - 500 },
        { type: 'process-exited', at, process: 'parse', exitCode: 1, message: 'ImportError' },
      );
    }
    const plan = computePipeline({ ...d2, instanceSeq: 5 }, [...v1, crashing], update, NOW + 7001);
    expect(plan.revertToVersion).toBe(1);
    expect(plan.updateProgress?.reason).toBe(
      'rolled back to version 1: instance p.5 of version 2 is crash-looping: process parse exited with code 1 (ImportError)',
    );
  });

  it('ends the rollback in the pass that stops the last instance of the failed version, not at the next deadline', () => {
    // The new instance was killed for failing its health checks and waits for its restart: stopping
    // it needs no kill, so no event will come and the next pass is the one at the progress deadline.
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const killed = then(
      newInstanceState({ instanceId: 'p.5', number: 5, version: 2 }, NOW, true),
      { type: 'running', at: NOW + 1000 },
      { type: 'process-exited', at: NOW + 299_000, process: 'parse', exitCode: null, message: 'killed' },
    );
    const atDeadline = computePipeline({ ...d2, instanceSeq: 5 }, [...v1, killed], update, NOW + 300_000);
    expect(atDeadline.stop).toEqual([
      { instanceId: 'p.5', reason: 'replaced by version 1 (it was not ready)' },
    ]);
    expect(atDeadline.revertToVersion).toBe(1);
    expect(atDeadline.updateProgress).toMatchObject({
      phase: 'rolled-back',
      fromVersion: 1,
      toVersion: 1,
      failedVersion: 2,
      availableNew: 4,
      stalledAt: null,
      finishedAt: NOW + 300_000,
      reason: 'rolled back to version 1: no progress for 300 s: 0 of 4 instances of version 2 available',
    });
    expect(atDeadline.followUpAt).toBeNull();
    // The pass after it (the server applied the revert, p.5 is gone) has no update to store: the
    // finished rollback stays as it is.
    const after = computePipeline(
      { ...d2, version: 1, instanceSeq: 5 },
      v1,
      atDeadline.updateProgress,
      NOW + 600_000,
    );
    expect(after.updateProgress).toBeNull();
    expect(after.stop).toEqual([]);
    expect(after.launch).toEqual([]);
  });

  it('a rollback that still waits for old instances ends in the pass where they are available again', () => {
    // Rolled back while one old instance had been replaced already: it comes back, and the pass
    // where it has been available for min_healthy_seconds ends the rollback (woken for it).
    const rollingBack: PipelineUpdate = {
      fromVersion: 1,
      toVersion: 1,
      failedVersion: 2,
      phase: 'rolling-back',
      startedAt: NOW,
      lastProgressAt: NOW + 300_000,
      availableNew: 3,
      batches: 2,
      reason: 'rolled back to version 1: …',
      stalledAt: null,
      finishedAt: null,
    };
    const back = ready(6, 1, NOW + 301_000);
    const d1 = { ...d2, version: 1, instanceSeq: 6 };
    const waiting = computePipeline(d1, [ready(1), ready(2), ready(3), back], rollingBack, NOW + 302_000);
    expect(waiting.updateProgress?.phase).toBe('rolling-back');
    expect(waiting.followUpAt).toBe(NOW + 311_000);
    const done = computePipeline(d1, [ready(1), ready(2), ready(3), back], rollingBack, NOW + 311_000);
    expect(done.updateProgress).toMatchObject({
      phase: 'rolled-back',
      reason: 'rolled back to version 1: …',
    });
  });

  it('keeps rolling back if the server has not applied the revert yet, and finishes as rolled-back', () => {
    const rollingBack: PipelineUpdate = {
      fromVersion: 1,
      toVersion: 1,
      failedVersion: 2,
      phase: 'rolling-back',
      startedAt: NOW,
      lastProgressAt: NOW + 300_000,
      availableNew: 4,
      batches: 1,
      reason: 'rolled back to version 1: …',
      stalledAt: null,
      finishedAt: null,
    };
    const stillV2 = computePipeline({ ...d2, instanceSeq: 5 }, v1, rollingBack, NOW + 300_100);
    expect(stillV2.revertToVersion).toBe(1);
    expect(stillV2.launch).toEqual([]);
    expect(stillV2.updateProgress).toMatchObject({ phase: 'rolled-back', finishedAt: NOW + 300_100 });
  });

  it('without auto_rollback a missed deadline is reported as stalled and the update keeps trying', () => {
    const noRollback = { ...d2, strategy: { ...strategy, auto_rollback: false } };
    const update = computePipeline(noRollback, v1, null, NOW).updateProgress as PipelineUpdate;
    const pending = newInstanceState({ instanceId: 'p.5', number: 5, version: 2 }, NOW, true);
    const plan = computePipeline({ ...noRollback, instanceSeq: 5 }, [...v1, pending], update, NOW + 300_000);
    expect(plan.revertToVersion).toBeNull();
    expect(plan.updateProgress).toMatchObject({ phase: 'rolling', stalledAt: NOW + 300_000 });
    expect(plan.updateProgress?.reason).toMatch(/^no progress for 300 s/);
  });

  it('a change during an update retargets it and keeps the version to roll back to', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const plan = computePipeline(
      { ...d2, version: 3, instanceSeq: 5 },
      [...v1, ready(5, 2, NOW + 1000)],
      update,
      NOW + 2000,
    );
    expect(plan.updateProgress).toMatchObject({
      fromVersion: 1,
      toVersion: 3,
      phase: 'rolling',
      startedAt: NOW,
    });
    // The version-2 instance is old now and not yet available: it goes first, a version-3 one comes.
    expect(plan.launch.map((l) => l.version)).toEqual([3]);
  });

  it('the next batch waits for the current one even when room frees up', () => {
    const update = computePipeline(d2, v1, null, NOW).updateProgress as PipelineUpdate;
    const brokenOld = then(ready(4), {
      type: 'process-exited',
      at: NOW + 1000,
      process: 'parse',
      exitCode: 1,
      message: '',
    });
    const pendingNew = newInstanceState({ instanceId: 'p.5', number: 5, version: 2 }, NOW, false);
    const plan = computePipeline(
      { ...d2, instanceSeq: 5 },
      [ready(1), ready(2), ready(3), brokenOld, pendingNew],
      update,
      NOW + 2000,
    );
    expect(plan.stop).toEqual([{ instanceId: 'p.4', reason: 'replaced by version 2 (it was not ready)' }]);
    expect(plan.launch).toEqual([]);
    expect(plan.restart).toEqual([]);
  });

  it('max_unavailable lets an update stop old instances before new ones are ready', () => {
    const d = { ...d2, strategy: { ...strategy, max_surge: 0, max_unavailable: 1 } };
    const plan = computePipeline(d, v1, null, NOW);
    expect(ids(plan.stop)).toEqual(['p.4']);
    expect(plan.launch).toEqual([{ instanceId: 'p.5', number: 5, version: 2 }]);
  });
});

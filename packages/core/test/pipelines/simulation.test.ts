import { describe, expect, it } from 'vitest';
import { DEFAULT_UPDATE_STRATEGY, isUpdateFinished, readySince, rollingBounds } from '@galley/core';
import type { PipelineDesired, UpdateStrategy } from '@galley/core';
import type { Behaviour, Tick } from './world.js';
import { World } from './world.js';

const T0 = 50_000_000;
const TICK = 500;
const healthyV1: Behaviour = { startMs: 1500, healthChecked: true, healthyAfterMs: 2000 };

/** A pipeline of `instances` at version 1, brought to a steady state (all ready, no work left). */
function steadyWorld(
  instances: number,
  strategy: Partial<UpdateStrategy> = {},
  v1: Behaviour = healthyV1,
): World {
  const desired: PipelineDesired = {
    pipelineId: 'p',
    version: 1,
    instances,
    strategy: { ...DEFAULT_UPDATE_STRATEGY, ...strategy },
    instanceSeq: 0,
  };
  const world = new World(desired, T0);
  world.behaviours.set(1, v1);
  for (let k = 0; k < 100 && world.ready().length < instances; k++) world.tick(TICK);
  expect(world.ready()).toHaveLength(instances);
  return world;
}

/**
 * Changes the spec to version 2 (with `v2` behaviour) and ticks until the update has finished or
 * `limitMs` passed, asserting the rolling bounds after every tick.
 */
function rollOut(world: World, v2: Behaviour, limitMs: number): Tick[] {
  world.behaviours.set(2, v2);
  world.desired = { ...world.desired, version: 2 };
  const {
    instances: n,
    surge,
    unavailable,
    minHealthyMs,
  } = rollingBounds(world.desired.strategy, world.desired.instances);
  const ticks: Tick[] = [];
  for (let t = 0; t <= limitMs; t += TICK) {
    const tick = world.tick(TICK);
    ticks.push(tick);
    expect(world.ready().length, `ready instances at +${t} ms`).toBeGreaterThanOrEqual(n - unavailable);
    expect(world.live().length, `live instances at +${t} ms`).toBeLessThanOrEqual(n + surge);
    if (tick.plan.followUpAt !== null) expect(tick.plan.followUpAt).toBeGreaterThanOrEqual(tick.now);
    // A batch starts only when every new instance launched before it is available.
    const launched = new Set(tick.plan.launch.map((l) => l.instanceId));
    if (launched.size > 0) {
      const earlier = world.live().filter((i) => i.version === tick.version && !launched.has(i.instanceId));
      for (const i of earlier)
        expect(tick.now - (readySince(i) ?? Infinity)).toBeGreaterThanOrEqual(minHealthyMs);
    }
    if (tick.update && isUpdateFinished(tick.update)) break;
  }
  return ticks;
}

const strategies: [string, Partial<UpdateStrategy>][] = [
  ['defaults (surge 25%, unavailable 0)', {}],
  ['surge 0, unavailable 1', { max_surge: 0, max_unavailable: 1 }],
  ['surge 2, unavailable 2', { max_surge: 2, max_unavailable: 2 }],
  ['surge 50%, unavailable 25%', { max_surge: '50%', max_unavailable: '25%' }],
  ['surge 0, unavailable 0 (taken as surge 1)', { max_surge: 0, max_unavailable: 0 }],
];

describe('pipeline simulation: a healthy rolling update', () => {
  for (const instances of [1, 4, 10]) {
    it.each(strategies)(
      `${instances} instances, %s: stays within bounds and finishes on version 2`,
      (_name, strategy) => {
        const world = steadyWorld(instances, { ...strategy, min_healthy_seconds: 5 });
        const ticks = rollOut(
          world,
          { startMs: 2000, healthChecked: true, healthyAfterMs: 3000 },
          30 * 60_000,
        );
        const last = ticks[ticks.length - 1] as Tick;
        expect(last.update).toMatchObject({ phase: 'succeeded', fromVersion: 1, toVersion: 2 });
        expect(world.live().map((i) => i.version)).toEqual(Array(instances).fill(2));
        expect(world.ready()).toHaveLength(instances);
        expect(new Set(world.launchedIds).size).toBe(world.launchedIds.length);
      },
    );
  }

  it('without health checks, running for min_healthy_seconds is enough', () => {
    const world = steadyWorld(4, {}, { startMs: 1000, healthChecked: false, healthyAfterMs: null });
    const ticks = rollOut(world, { startMs: 1000, healthChecked: false, healthyAfterMs: null }, 10 * 60_000);
    expect(ticks[ticks.length - 1]?.update?.phase).toBe('succeeded');
    // 4 batches of one, each ≥ 1 s start + 10 s min healthy.
    expect((ticks[ticks.length - 1] as Tick).now - T0).toBeGreaterThan(40_000);
  });

  it('each batch is available for min_healthy_seconds before an old instance is stopped', () => {
    const world = steadyWorld(4, { min_healthy_seconds: 10 });
    const ticks = rollOut(world, { startMs: 2000, healthChecked: true, healthyAfterMs: 3000 }, 10 * 60_000);
    for (const tick of ticks) {
      for (const stop of tick.plan.stop) {
        const stoppedVersion = tick.instances.find((i) => i.instanceId === stop.instanceId)?.version;
        if (stoppedVersion !== 1) continue;
        const newReady = tick.instances.filter((i) => i.version === 2 && i.healthySince !== null);
        expect(newReady.some((i) => tick.now - (i.healthySince as number) >= 10_000)).toBe(true);
      }
    }
  });
});

describe('pipeline simulation: failed updates roll back', () => {
  it.each(strategies)(
    'never healthy, %s: rolled back within the progress deadline, bounds kept',
    (_n, strategy) => {
      const world = steadyWorld(4, { ...strategy, progress_deadline_seconds: 60 });
      const ticks = rollOut(world, { startMs: 1000, healthChecked: true, healthyAfterMs: null }, 10 * 60_000);
      const start = ticks[0]?.update?.startedAt as number;
      // The tick that rolled back (it may end the rollback at once: every old instance available).
      const rollback = ticks.find((t) => t.update?.failedVersion != null) as Tick;
      expect(rollback.now - start).toBeLessThanOrEqual(60_000 + TICK);
      expect(rollback.update?.reason).toBe(
        'rolled back to version 1: no progress for 60 s: 0 of 4 instances of version 2 available',
      );
      const last = ticks[ticks.length - 1] as Tick;
      expect(last.update).toMatchObject({ phase: 'rolled-back', failedVersion: 2, toVersion: 1 });
      expect(world.desired.version).toBe(1);
      expect(world.live().map((i) => i.version)).toEqual([1, 1, 1, 1]);
      expect(world.ready()).toHaveLength(4);
    },
  );

  it('instances that turn unhealthy are replaced with new ids until the deadline rolls the update back', () => {
    const world = steadyWorld(4, { progress_deadline_seconds: 90, min_healthy_seconds: 30 });
    const ticks = rollOut(
      world,
      { startMs: 1000, healthChecked: true, healthyAfterMs: 1000, unhealthyAfterMs: 10_000 },
      10 * 60_000,
    );
    const replaced = ticks.flatMap((t) => t.plan.stop).filter((s) => s.reason.startsWith('unhealthy:'));
    expect(replaced.length).toBeGreaterThanOrEqual(2);
    expect(new Set(world.launchedIds).size).toBe(world.launchedIds.length);
    expect(ticks[ticks.length - 1]?.update).toMatchObject({ phase: 'rolled-back' });
  });

  it('a crash-looping new version is rolled back as soon as the crash loop shows, with its exit', () => {
    const world = steadyWorld(4, { progress_deadline_seconds: 300 });
    const ticks = rollOut(
      world,
      { startMs: 500, healthChecked: true, healthyAfterMs: 2000, crashAfterMs: 1000 },
      10 * 60_000,
    );
    const rollback = ticks.find((t) => t.update?.failedVersion != null) as Tick;
    // 3 failures: crash, 1 s backoff, crash, 2 s backoff, crash — well under a minute, far from the deadline.
    expect(rollback.now - T0).toBeLessThan(30_000);
    expect(rollback.update?.reason).toMatch(
      /^rolled back to version 1: instance p\.\d+ of version 2 is crash-looping: process worker exited with code 1 \(boom\)$/,
    );
    expect(ticks[ticks.length - 1]?.update?.phase).toBe('rolled-back');
    expect(world.live().every((i) => i.version === 1)).toBe(true);
  });
});

describe('pipeline simulation: restarts', () => {
  it('a crashing instance is restarted with delays that double and cap at 5 minutes, and shows a crash loop', () => {
    const world = steadyWorld(1, {}, healthyV1);
    world.behaviours.set(1, { startMs: 500, healthChecked: false, healthyAfterMs: null, crashAfterMs: 1000 });
    let crashLoopSeen = false;
    for (let t = 0; t < 45 * 60_000; t += TICK) {
      const tick = world.tick(TICK);
      const p1 = tick.instances.find((i) => i.instanceId === 'p.1');
      if (p1 && p1.crashLoopingSince !== null) crashLoopSeen = true;
      expect(tick.plan.launch).toEqual([]); // restarted in place, never replaced by a new id
    }
    const delays = world.restarts.map((r) => r.restartAt - r.exitAt);
    expect(delays.slice(0, 9)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000]);
    expect(delays.slice(9).every((d) => d === 300_000)).toBe(true);
    expect(delays.length).toBeGreaterThan(10);
    expect(crashLoopSeen).toBe(true);
    expect(world.instances.get('p.1')?.lastExit).toMatchObject({ exitCode: 1, message: 'boom' });
  });

  it('scaling during steady state removes the youngest and keeps ids unique', () => {
    const world = steadyWorld(5);
    world.desired = { ...world.desired, instances: 2 };
    const tick = world.tick(TICK);
    expect(tick.plan.stop.map((s) => s.instanceId)).toEqual(['p.5', 'p.4', 'p.3']);
    world.desired = { ...world.desired, instances: 4 };
    expect(world.tick(TICK).plan.launch.map((l) => l.instanceId)).toEqual(['p.6', 'p.7']);
  });
});

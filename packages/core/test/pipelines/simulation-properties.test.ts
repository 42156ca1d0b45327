import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UPDATE_STRATEGY, isUpdateFinished, rollingBounds } from '@galley/core';
import type { PipelineDesired, UpdateStrategy } from '@galley/core';
import type { Behaviour } from './world.js';
import { World } from './world.js';

const TICK = 1000;
const countOrPercent = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('0%', '25%', '50%', '100%'));
/**
 * A version that crashes soon after it starts must crash before min_healthy_seconds, or it would
 * (rightly) count as available for a moment: crashes are seen within 2 ticks, so at least 3 s.
 */
const strategyArb = (minHealthy: number): fc.Arbitrary<UpdateStrategy> =>
  fc.record({
    max_surge: countOrPercent,
    max_unavailable: countOrPercent,
    min_healthy_seconds: fc.integer({ min: minHealthy, max: 20 }),
    progress_deadline_seconds: fc.integer({ min: 30, max: 120 }),
    auto_rollback: fc.constant(true),
  });
/** Version 2 either works, or is broken from the start (never counts as available). */
const v2Arb: fc.Arbitrary<{ works: boolean; behaviour: Behaviour }> = fc.oneof(
  fc
    .record({
      startMs: fc.integer({ min: 0, max: 5000 }),
      healthyAfterMs: fc.integer({ min: 0, max: 5000 }),
      healthChecked: fc.boolean(),
    })
    .map((b) => ({ works: true, behaviour: b })),
  fc.record({ startMs: fc.integer({ min: 0, max: 5000 }) }).map(({ startMs }) => ({
    works: false,
    behaviour: { startMs, healthChecked: true, healthyAfterMs: null },
  })),
  fc
    .record({ startMs: fc.integer({ min: 0, max: 3000 }), crashAfterMs: fc.integer({ min: 0, max: 1500 }) })
    .map((b) => ({
      works: false,
      behaviour: { ...b, healthChecked: false, healthyAfterMs: null },
    })),
);

describe('pipeline simulation: properties over random sizes, strategies and new versions', () => {
  it('every update stays within its bounds and ends on version 2 (works) or back on version 1 (broken)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        v2Arb.chain((v2) =>
          fc.tuple(fc.constant(v2), strategyArb(v2.behaviour.crashAfterMs != null ? 3 : 0)),
        ),
        (instances, [v2, strategy]) => {
          const desired: PipelineDesired = {
            pipelineId: 'p',
            version: 1,
            instances,
            strategy,
            instanceSeq: 0,
          };
          const world = new World(desired, 1_000_000);
          world.behaviours.set(1, { startMs: 1000, healthChecked: true, healthyAfterMs: 1000 });
          for (let k = 0; k < 30 && world.ready().length < instances; k++) world.tick(TICK);
          world.behaviours.set(2, v2.behaviour);
          world.desired = { ...world.desired, version: 2 };
          const { surge, unavailable } = rollingBounds(
            { ...DEFAULT_UPDATE_STRATEGY, ...strategy },
            instances,
          );
          let finished = false;
          for (let t = 0; t < 30 * 60 && !finished; t++) {
            const tick = world.tick(TICK);
            expect(world.ready().length).toBeGreaterThanOrEqual(instances - unavailable);
            expect(world.live().length).toBeLessThanOrEqual(instances + surge);
            finished = tick.update !== null && isUpdateFinished(tick.update);
          }
          expect(finished).toBe(true);
          expect(world.update?.phase).toBe(v2.works ? 'succeeded' : 'rolled-back');
          expect(world.live().map((i) => i.version)).toEqual(Array(instances).fill(v2.works ? 2 : 1));
          expect(new Set(world.launchedIds).size).toBe(world.launchedIds.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

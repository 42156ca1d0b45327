import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computePipeline,
  decideAutoscale,
  newInstanceState,
  parsePipelineSpec,
  planScaleIn,
  type MetricReading,
  type PipelineAutoscaling,
  type Recommendation,
} from '@galley/core';

const policy = (over: Partial<PipelineAutoscaling> = {}): PipelineAutoscaling => ({
  min: 0,
  max: 10,
  target_per_instance: 3,
  polling_interval_seconds: 5,
  stabilization: { up_seconds: 0, down_seconds: 60 },
  activation_threshold: 0,
  source: { type: 'galley_queue', definition: 'd' },
  ...over,
});

/** Replays metric readings every `stepMs` on an injected clock; answers the count after each. */
function replay(p: PipelineAutoscaling, readings: MetricReading[], stepMs = 5_000, start = 0): number[] {
  let current = start;
  let history: Recommendation[] = [];
  return readings.map((metric, k) => {
    const d = decideAutoscale({ policy: p, current, metric, now: 1_000_000 + k * stepMs, history });
    current = d.desired;
    history = d.history;
    return current;
  });
}

describe('pipeline autoscaling decisions', () => {
  it('desired = ceil(backlog / target), clamped to [min, max]; 0 ↔ 1 only across the activation threshold', () => {
    const p = policy({ stabilization: { up_seconds: 0, down_seconds: 0 } });
    expect(replay(p, [{ value: 12 }])).toEqual([4]);
    expect(replay(p, [{ value: 13 }])).toEqual([5]);
    expect(replay(p, [{ value: 1000 }])).toEqual([10]);
    expect(replay(p, [{ value: 0 }], 5_000, 3)).toEqual([0]);
    const gated = policy({ activation_threshold: 2, stabilization: { up_seconds: 0, down_seconds: 0 } });
    // At 0, a backlog of 2 does not activate; 3 does (one instance per 3 jobs → 1).
    expect(replay(gated, [{ value: 2 }, { value: 3 }])).toEqual([0, 1]);
    // Active and above min: stays ≥ 1 until the metric falls to the threshold.
    expect(replay(gated, [{ value: 3 }, { value: 2 }])).toEqual([1, 0]);
    const floor = policy({ min: 2, stabilization: { up_seconds: 0, down_seconds: 0 } });
    expect(replay(floor, [{ value: 0 }], 5_000, 5)).toEqual([2]);
  });

  it('flapping metrics do not flap instances: scale-down waits for the down window, scale-up for the up window', () => {
    // The backlog flaps between 12 and 0 every poll (5 s) for two minutes.
    const flapping: MetricReading[] = Array.from({ length: 24 }, (_, k) => ({ value: k % 2 === 0 ? 12 : 0 }));
    const counts = replay(policy(), flapping);
    expect(counts[0]).toBe(4);
    expect(new Set(counts)).toEqual(new Set([4])); // never down within the 60 s window, never back up
    // Once it stays at 0 for longer than the down window, it goes to 0 — and only then.
    const settled = replay(policy(), [...flapping, ...Array.from({ length: 14 }, () => ({ value: 0 }))]);
    const firstZero = settled.indexOf(0);
    // The last 12 was read at poll 22; the count falls exactly when it leaves the 60 s window (12 polls).
    expect(firstZero).toBe(22 + 12);
    expect(settled.slice(firstZero).every((c) => c === 0)).toBe(true);
    // An up window: a single spike does not scale up; a sustained backlog does.
    const slowUp = policy({ stabilization: { up_seconds: 12, down_seconds: 60 } });
    expect(replay(slowUp, [{ value: 0 }, { value: 30 }, { value: 0 }, { value: 0 }])).toEqual([0, 0, 0, 0]);
    const sustained = [0, 0, 30, 30, 30, 30].map((value) => ({ value }));
    expect(replay(slowUp, sustained)).toEqual([0, 0, 0, 0, 10, 10]);
  });

  it('a failing metric fetch leaves the size alone and says why', () => {
    const d = decideAutoscale({
      policy: policy(),
      current: 3,
      metric: { error: 'GET http://gocd/go/api/jobs/scheduled.xml: 503' },
      now: 5,
      history: [{ at: 1, desired: 3 }],
    });
    expect(d.desired).toBe(3);
    expect(d.raw).toBeNull();
    expect(d.reason).toBe(
      'metric unavailable: GET http://gocd/go/api/jobs/scheduled.xml: 503; size left at 3',
    );
    expect(d.history).toEqual([{ at: 1, desired: 3 }]);
  });

  it('property: the count stays within [min, max] and moves only toward a recommendation of its windows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 5, max: 20 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(-1)), { maxLength: 40 }),
        (min, max, values) => {
          const p = policy({ min, max, stabilization: { up_seconds: 10, down_seconds: 30 } });
          const readings = values.map((v): MetricReading => (v < 0 ? { error: 'down' } : { value: v }));
          let current = min;
          let history: Recommendation[] = [];
          readings.forEach((metric, k) => {
            const d = decideAutoscale({ policy: p, current, metric, now: k * 5_000, history });
            expect(d.desired).toBeGreaterThanOrEqual(min);
            expect(d.desired).toBeLessThanOrEqual(max);
            if ('error' in metric) expect(d.desired).toBe(current);
            else if (d.desired !== current) expect(d.history.map((r) => r.desired)).toContain(d.desired);
            current = d.desired;
            history = d.history;
          });
        },
      ),
    );
  });

  it('the spec takes autoscaling with defaults and names a bad field', () => {
    const base = { id: 'w', processes: { w: { command: 'true', resources: { cpu: 0.1, mem: 8 } } } };
    const ok = parsePipelineSpec({
      ...base,
      autoscaling: { max: 4, target_per_instance: 3, source: { type: 'galley_queue', group: 'g' } },
    });
    expect(ok.ok && ok.spec.autoscaling).toMatchObject({
      min: 0,
      stabilization: { up_seconds: 0, down_seconds: 300 },
    });
    expect(ok.ok && ok.spec.instances).toBe(0);
    const bad = parsePipelineSpec({
      ...base,
      autoscaling: { min: 5, max: 4, target_per_instance: 3, source: { type: 'galley_queue' } },
    });
    expect(bad.ok ? [] : bad.problems.map((p) => p.field)).toEqual(['autoscaling.min', 'autoscaling.source']);
  });
});

describe('drain-safe scale-in', () => {
  it('stops idle instances first, never a busy one while an idle one exists, and waits when all are busy', () => {
    const answers = [
      { instanceId: 'w.4', answer: 'busy' as const },
      { instanceId: 'w.3', answer: 'idle' as const },
      { instanceId: 'w.2', answer: 'busy' as const },
      { instanceId: 'w.1', answer: 'idle' as const },
    ];
    expect(planScaleIn(4, 3, answers)).toMatchObject({ instances: 3, stop: ['w.3'] });
    expect(planScaleIn(4, 0, answers)).toMatchObject({
      instances: 2,
      stop: ['w.3', 'w.1'],
      reason: 'stopping 2 idle (w.3, w.1); 2 busy instances kept until idle',
    });
    const allBusy = answers.map((a) => ({ ...a, answer: 'busy' as const }));
    expect(planScaleIn(4, 0, allBusy)).toMatchObject({ instances: 4, stop: [] });
  });

  it("the reconciler stops the autoscaler's idle instances, not the youngest", () => {
    const states = [1, 2, 3].map((n) => ({
      ...newInstanceState({ instanceId: `w.${n}`, number: n, version: 1 }, n, false),
      phase: 'running' as const,
    }));
    const plan = computePipeline(
      {
        pipelineId: 'w',
        version: 1,
        instances: 2,
        strategy: {
          max_surge: 1,
          max_unavailable: 0,
          min_healthy_seconds: 0,
          progress_deadline_seconds: 60,
          auto_rollback: true,
        },
        instanceSeq: 3,
        stopFirst: ['w.1'],
      },
      states,
      null,
      10,
    );
    expect(plan.stop.map((s) => s.instanceId)).toEqual(['w.1']);
  });
});

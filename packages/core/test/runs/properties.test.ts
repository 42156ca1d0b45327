import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newRunState, resolveRetryPolicy, transition } from '@galley/core';
import type { AttemptOutcome, RunEvent, RunState, TransitionContext } from '@galley/core';

const T0 = 1_000_000;
/**
 * Attempt ids in generated events are intents, resolved against the state when the event is
 * delivered: `@current` is the run's current attempt, `@next` a fresh id; `a1`..`a3` are fixed ids,
 * which are stale or never-launched depending on the history. This makes sequences reach retries and
 * relaunches often, instead of mostly bouncing off as unknown attempts.
 */
const attemptIdArb = fc.constantFrom('@current', '@current', '@next', 'a1', 'a2', 'a3');
const outcomeArb: fc.Arbitrary<AttemptOutcome> = fc.oneof(
  fc.record({ kind: fc.constant('exited' as const), exitCode: fc.constantFrom(0, 1, 75, 137) }),
  fc.record({ kind: fc.constant('killed' as const) }),
  fc.record({ kind: fc.constant('host-failure' as const), reason: fc.constantFrom('agent lost', 'dropped') }),
  fc.record({ kind: fc.constant('host-failure' as const), reason: fc.constant('launch failed') }),
  fc.record({ kind: fc.constant('rejected' as const), message: fc.constant('bad spec') }),
);
// A time offset from the sequence's clock (which moves 1.5 s per event), so nearby events reorder
// and retry-due often lands after retryAt.
const atArb = fc.integer({ min: -3000, max: 3000 });
const eventArb: fc.Arbitrary<RunEvent> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('launching' as const), attemptId: attemptIdArb, at: atArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('running' as const), attemptId: attemptIdArb, at: atArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('ended' as const),
      attemptId: attemptIdArb,
      at: atArb,
      outcome: outcomeArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('stop-requested' as const), at: atArb }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('retry-due' as const), at: atArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('unplaceable' as const),
      at: atArb,
      reason: fc.constantFrom('r1', 'r2'),
    }),
  },
);
/** An event, and whether (and how many events later) it is delivered a second time. */
const sequenceArb = fc.array(fc.tuple(eventArb, fc.option(fc.nat({ max: 5 }))), { maxLength: 60 });
const ctxArb: fc.Arbitrary<TransitionContext> = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 4 }),
    retryExitCodes: fc.constantFrom([], [75], [1, 75]),
    retryHostFailures: fc.boolean(),
    seed: fc.double({ min: 0, max: 0.999, noNaN: true }),
  })
  .map(({ seed, ...policy }) => ({ policy: resolveRetryPolicy(policy), random: () => seed }));

function resolve(event: RunEvent, state: RunState, index: number): RunEvent {
  const at = T0 + index * 1500 + event.at;
  if (!('attemptId' in event)) return { ...event, at };
  const attemptId =
    event.attemptId === '@current'
      ? (state.attemptId ?? 'a1')
      : event.attemptId === '@next'
        ? `n${state.attemptCount + 1}`
        : event.attemptId;
  return { ...event, attemptId, at };
}

type Visit = (before: RunState, e: RunEvent, after: RunState, changed: boolean) => void;

/** Delivers the sequence (with its redeliveries) from a fresh run; returns the final state. */
function replay(
  sequence: [RunEvent, number | null][],
  ctx: TransitionContext,
  visit: Visit = () => {},
): RunState {
  let state = newRunState(T0);
  const redeliveries: { due: number; event: RunEvent }[] = [];
  const deliver = (event: RunEvent): void => {
    const result = transition(state, event, ctx);
    visit(state, event, result.state, result.changed);
    state = result.state;
  };
  sequence.forEach(([template, again], index) => {
    const event = resolve(template, state, index);
    deliver(event);
    if (again !== null) redeliveries.push({ due: index + again, event });
    for (const r of redeliveries.filter((r) => r.due === index)) deliver(r.event);
  });
  for (const r of redeliveries.filter((r) => r.due >= sequence.length)) deliver(r.event);
  return state;
}

describe('run transitions: properties over random event sequences (duplicates, reordering, stale attempts)', () => {
  it('no attempt is launched twice: a launching for an id that was ever current never re-enters PENDING', () => {
    fc.assert(
      fc.property(sequenceArb, ctxArb, (events, ctx) => {
        const everCurrent = new Set<string>();
        replay(events, ctx, (before, event, after, changed) => {
          if (event.type === 'launching' && everCurrent.has(event.attemptId)) {
            expect(changed).toBe(false);
          }
          if (changed && after.status === 'PENDING' && before.status !== 'PENDING') {
            expect(event.type).toBe('launching');
            expect(everCurrent.has(after.attemptId as string)).toBe(false);
          }
          if (after.attemptId !== null) everCurrent.add(after.attemptId);
          expect(new Set(after.attemptIds).size).toBe(after.attemptIds.length);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('STOPPED is absorbing and reached at most once', () => {
    fc.assert(
      fc.property(sequenceArb, ctxArb, (events, ctx) => {
        let entries = 0;
        replay(events, ctx, (before, _event, after, changed) => {
          if (before.status === 'STOPPED') {
            expect(changed).toBe(false);
            expect(after).toBe(before);
          } else if (after.status === 'STOPPED') {
            entries += 1;
          }
        });
        expect(entries).toBeLessThanOrEqual(1);
      }),
      { numRuns: 1000 },
    );
  });

  it('attemptCount never exceeds maxAttempts and always equals the launched ids', () => {
    fc.assert(
      fc.property(sequenceArb, ctxArb, (events, ctx) => {
        replay(events, ctx, (_before, _event, after) => {
          expect(after.attemptCount).toBeLessThanOrEqual(ctx.policy.maxAttempts);
          expect(after.attemptCount).toBe(after.attemptIds.length);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('exitCode is set only from an exited outcome of the current attempt', () => {
    fc.assert(
      fc.property(sequenceArb, ctxArb, (events, ctx) => {
        replay(events, ctx, (before, event, after) => {
          if (after.exitCode !== null && after.exitCode !== before.exitCode) {
            expect(event.type).toBe('ended');
            if (event.type !== 'ended') return;
            expect(event.attemptId).toBe(before.attemptId);
            expect(event.outcome).toMatchObject({ kind: 'exited', exitCode: after.exitCode });
          }
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('a repeated event is a no-op', () => {
    fc.assert(
      fc.property(sequenceArb, eventArb, ctxArb, (events, template, ctx) => {
        const state = replay(events, ctx);
        const event = resolve(template, state, events.length);
        const once = transition(state, event, ctx).state;
        const twice = transition(once, event, ctx);
        expect(twice.changed).toBe(false);
        expect(twice.effects).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('every NEEDS_RETRY schedules its retry, and a stop in flight always kills the current attempt', () => {
    fc.assert(
      fc.property(sequenceArb, ctxArb, (events, ctx) => {
        replay(events, ctx, (before, event, after, changed) => {
          const { effects } = transition(before, event, ctx);
          if (changed && after.status === 'NEEDS_RETRY') {
            expect(effects).toEqual([{ type: 'schedule-retry', at: after.retryAt }]);
          }
          if (event.type === 'stop-requested' && changed && after.status !== 'STOPPED') {
            expect(effects).toEqual([{ type: 'kill', attemptId: before.attemptId }]);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});

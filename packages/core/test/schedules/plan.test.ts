import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planTicks, tickAction } from '@galley/core';

const S = 1000;

describe('planTicks', () => {
  it('fires every tick that came due while the scheduler ran, however late the pass', () => {
    const due = [10 * S, 11 * S, 12 * S];
    expect(
      planTicks({ due, now: 12 * S + 5, catchUp: 0, startingDeadlineSeconds: null, liveSince: 9 * S }),
    ).toEqual({
      fire: due,
      skipped: [],
    });
  });

  it('after downtime fires at most catch_up of the missed ticks, the newest, and skips the others', () => {
    const due = [1, 2, 3, 4, 5].map((n) => n * S);
    const plan = planTicks({ due, now: 5 * S, catchUp: 1, startingDeadlineSeconds: null, liveSince: null });
    expect(plan.fire).toEqual([5 * S]);
    expect(plan.skipped.map((s) => s.tick)).toEqual([1, 2, 3, 4].map((n) => n * S));
    expect(plan.skipped[0]!.reason).toContain('catch_up 1');
    expect(
      planTicks({ due, now: 5 * S, catchUp: 0, startingDeadlineSeconds: null, liveSince: null }).fire,
    ).toEqual([]);
    expect(
      planTicks({ due, now: 5 * S, catchUp: 3, startingDeadlineSeconds: null, liveSince: 5 * S - 1 }).fire,
    ).toEqual([2 * S, 3 * S, 4 * S, 5 * S]);
  });

  it('never fires a tick older than its starting deadline', () => {
    const plan = planTicks({
      due: [1 * S],
      now: 100 * S,
      catchUp: 5,
      startingDeadlineSeconds: 10,
      liveSince: null,
    });
    expect(plan.fire).toEqual([]);
    expect(plan.skipped[0]!.reason).toContain('starting deadline of 10 s');
  });

  it('every due tick either fires or is skipped, once; missed ones fire ≤ catch_up; all within the deadline', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 10 }),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }),
        (ticks, catchUp, deadline, liveSince) => {
          const due = [...ticks].sort((a, b) => a - b);
          const now = 1_000_000;
          const plan = planTicks({ due, now, catchUp, startingDeadlineSeconds: deadline, liveSince });
          const all = [...plan.fire, ...plan.skipped.map((s) => s.tick)].sort((a, b) => a - b);
          expect(all).toEqual(due);
          expect(plan.fire).toEqual([...plan.fire].sort((a, b) => a - b));
          const firedMissed = plan.fire.filter((t) => liveSince === null || t <= liveSince);
          expect(firedMissed.length).toBeLessThanOrEqual(catchUp);
          // Ticks that came due while the scheduler ran fire unless past the deadline.
          for (const t of due)
            if (liveSince !== null && t > liveSince && (deadline === null || now - t <= deadline * S))
              expect(plan.fire).toContain(t);
          for (const t of plan.fire) if (deadline !== null) expect(now - t).toBeLessThanOrEqual(deadline * S);
          // Fired ticks are the newest of the in-time ones.
          const skippedInTime = plan.skipped.filter((s) => !s.reason.includes('deadline')).map((s) => s.tick);
          for (const s of skippedInTime) for (const f of plan.fire) expect(s).toBeLessThan(f);
        },
      ),
    );
  });
});

describe('tickAction', () => {
  it('starts when nothing runs, and by policy when the previous run is still active', () => {
    expect(tickAction('forbid', false)).toEqual({ action: 'start' });
    expect(tickAction('allow', true)).toEqual({ action: 'start' });
    expect(tickAction('forbid', true)).toMatchObject({ action: 'skip' });
    expect(tickAction('replace', true)).toEqual({ action: 'replace' });
  });
});

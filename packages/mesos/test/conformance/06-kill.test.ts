import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 06-kill (fake master vs Mesos 1.12)', () => {
  it('kills with KILLING then KILLED (Terminated / Killed after the grace period), answers stale KILLs by reconciliation', async () => {
    let killingAt = 0;
    let killedAt = 0;
    const replay = await replayScenario('06', {}, {}, (r) => {
      const updates = r.streams.get('S1')?.ofType('UPDATE') ?? [];
      // When the fake agent made each status (its `timestamp`, seconds), not when it was read here.
      const at = (state: string): number => {
        const update = updates.find((u) => {
          const status = (u.event.update as { status: { task_id: { value: string }; state: string } }).status;
          return status.task_id.value === 'sleep-300-ignores-term' && status.state === state;
        });
        return (
          Number((update?.event.update as { status: { timestamp: number } } | undefined)?.status.timestamp) *
          1000
        );
      };
      killingAt = at('TASK_KILLING');
      killedAt = at('TASK_KILLED');
    });
    expect(replay.diffs).toEqual([]);
    // Recorded: KILLED 2.10 s after KILLING with a 2 s grace period. The grace was given: a lower
    // bound on the agent's own timestamps, which load can only lengthen.
    expect(killedAt - killingAt).toBeGreaterThanOrEqual(1900);
  });
});

import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 06-kill (fake master vs Mesos 1.12)', () => {
  it('kills with KILLING then KILLED (Terminated / Killed after the grace period), answers stale KILLs by reconciliation', async () => {
    let killingAt = 0;
    let killedAt = 0;
    const replay = await replayScenario('06', {}, {}, (r) => {
      const updates = r.streams.get('S1')?.ofType('UPDATE') ?? [];
      const at = (state: string): number =>
        updates.find((u) => {
          const status = (u.event.update as { status: { task_id: { value: string }; state: string } }).status;
          return status.task_id.value === 'sleep-300-ignores-term' && status.state === state;
        })?.at ?? 0;
      killingAt = at('TASK_KILLING');
      killedAt = at('TASK_KILLED');
    });
    expect(replay.diffs).toEqual([]);
    // Recorded: KILLED 2.10 s after KILLING with a 2 s grace period.
    expect(killedAt - killingAt).toBeGreaterThanOrEqual(1900);
    expect(killedAt - killingAt).toBeLessThan(3500);
  });
});

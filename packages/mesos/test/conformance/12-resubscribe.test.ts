import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 12-resubscribe (fake master vs Mesos 1.12)', () => {
  it('answers 403 while disconnected, keeps the framework on re-SUBSCRIBE, fails the old stream over, refuses the old stream id', async () => {
    const replay = await replayScenario('12');
    expect(replay.diffs).toEqual([]);
  });
});

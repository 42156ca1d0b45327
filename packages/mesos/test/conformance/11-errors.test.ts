import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 11-errors (fake master vs Mesos 1.12)', () => {
  it('answers every protocol error with the recorded status, headers and text, and invalid ACCEPTs with the recorded updates', async () => {
    const replay = await replayScenario('11');
    expect(replay.diffs).toEqual([]);
    // It replays many seconds of recorded time: room for a loaded machine.
  }, 120_000);
});

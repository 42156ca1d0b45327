import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 07-reconcile-explicit (fake master vs Mesos 1.12)', () => {
  it('answers each explicit case, and all of them in one call in request order, as recorded', async () => {
    const replay = await replayScenario('07');
    expect(replay.diffs).toEqual([]);
  });
});

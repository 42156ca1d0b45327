import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 08-reconcile-implicit (fake master vs Mesos 1.12)', () => {
  it('answers `tasks: []` and `{}` with only the running task', async () => {
    const replay = await replayScenario('08');
    expect(replay.diffs).toEqual([]);
  });
});

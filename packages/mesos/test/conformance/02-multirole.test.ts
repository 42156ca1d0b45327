import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

/**
 * The real allocator visits agents in random order; the fake takes its random source from the
 * test, so it is set to visit them in the order the recording shows (5052 first, then 5051 first).
 */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => values[i++] ?? 0.5;
}

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 02-multirole (fake master vs Mesos 1.12)', () => {
  it('offers one role per offer and drops ACCEPTs that mix roles with the recorded message', async () => {
    const replay = await replayScenario(
      '02',
      { random: scripted([0, 0.99]) },
      // The recording ran `sleep 4`; a shorter sleep keeps the test quick without changing the flow.
      { transformBody: (seq, body) => (seq === 5 ? body.replace('sleep 4', 'sleep 0.4') : body) },
    );
    expect(replay.diffs).toEqual([]);
  });
});

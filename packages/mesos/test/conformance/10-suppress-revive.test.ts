import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 10-suppress-revive (fake master vs Mesos 1.12)', () => {
  it('keeps held offers on SUPPRESS, offers nothing while suppressed, offers both agents after REVIVE', async () => {
    let offersWhileSuppressed = -1;
    const replay = await replayScenario(
      '10',
      {},
      {
        before: {
          // The recording waited 10 s after the DECLINE; wait 1 s (ten allocation cycles) and count.
          4: async (r) => {
            const stream = r.streams.get('S1');
            const before = stream?.ofType('OFFERS').length ?? 0;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            offersWhileSuppressed = (stream?.ofType('OFFERS').length ?? 0) - before;
          },
        },
      },
    );
    expect(replay.diffs).toEqual([]);
    expect(offersWhileSuppressed).toBe(0);
    expect(replay.streams.get('S1')?.ofType('RESCIND')).toHaveLength(0);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 10-suppress-revive (fake master vs Mesos 1.12)', () => {
  it('keeps held offers on SUPPRESS, offers nothing while suppressed, offers both agents after REVIVE', async () => {
    let offersWhileSuppressed = -1;
    const replay = await replayScenario(
      '10',
      // Heartbeats every 0.5 s measure the fake's time below (and are compared for layout only).
      { heartbeatIntervalSeconds: 0.5 },
      {
        masked: ['heartbeat_interval_seconds'],
        before: {
          // The recording waited 10 s after the DECLINE; here 1 s (ten allocation cycles) of the
          // fake's own time: three more heartbeats, two intervals apart at least, then count.
          4: async (r) => {
            const stream = r.streams.get('S1');
            if (stream === undefined) throw new Error('S1 not open');
            const before = stream.ofType('OFFERS').length;
            const beats = stream.ofType('HEARTBEAT').length;
            await vi.waitFor(
              () => expect(stream.ofType('HEARTBEAT').length).toBeGreaterThanOrEqual(beats + 3),
              {
                timeout: 20_000,
                interval: 20,
              },
            );
            offersWhileSuppressed = stream.ofType('OFFERS').length - before;
          },
        },
      },
    );
    expect(replay.diffs).toEqual([]);
    expect(offersWhileSuppressed).toBe(0);
    expect(replay.streams.get('S1')?.ofType('RESCIND')).toHaveLength(0);
  });
});

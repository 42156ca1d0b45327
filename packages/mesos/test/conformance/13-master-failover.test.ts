import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

/**
 * The recording killed the master (kill -9) after exchange 4 and restarted it; agents came back
 * ~70 s later. Here `failover()` plays the kill and restart with shortened times: down 4 s
 * (connections refused), starting 3 s (404), agents re-registering 5 s after. Each window holds
 * the requests recorded in it with room to spare, so a loaded machine sends them in time.
 */
describe.runIf(CONFORMANCE_AVAILABLE)('conformance 13-master-failover (fake master vs Mesos 1.12)', () => {
  it('aborts the stream, refuses connections, answers 404 while starting, then serves the same framework; no reconciliation answers until agents are back', async () => {
    let failover: Promise<void> | undefined;
    const replay = await replayScenario(
      '13',
      { agentReregisterDelayMs: 5000 },
      {
        before: {
          5: async (r) => {
            failover = r.fake.failover({ downMs: 4000, startingMs: 3000 });
            await r.fake.waitFor((s) => s.masters[0]?.phase === 'down', { what: 'the master down' });
          },
          11: (r) =>
            r.fake
              .waitFor((s) => s.masters[0]?.phase === 'starting', { what: 'the master starting' })
              .then(() => undefined),
          12: async () => {
            await failover;
          },
          21: (r) =>
            r.fake
              .waitFor((s) => s.agents.every((a) => a.status === 'registered'), {
                what: 'agents re-registered',
              })
              .then(() => undefined),
        },
      },
    );
    expect(replay.diffs).toEqual([]);
  }, 120_000);
});

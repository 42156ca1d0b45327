import { describe, expect, it } from 'vitest';
import { CONFORMANCE_AVAILABLE, replayScenario } from './support/scenario.js';

describe.runIf(CONFORMANCE_AVAILABLE)('conformance 09-decline-filters (fake master vs Mesos 1.12)', () => {
  it('re-offers declined agents after their filters and at once after REVIVE', async () => {
    const delays: Array<{ refuse: number | undefined; afterMs: number }> = [];
    // refuse_seconds 3 and 30 are shortened tenfold (the allocation interval is too: 100 ms);
    // the default (absent) filter keeps its real 5 s.
    const replay = await replayScenario(
      '09',
      {},
      {
        transformBody: (_seq, body) =>
          body
            .replace('"refuse_seconds":30}', '"refuse_seconds":3}')
            .replace('"refuse_seconds":3}', '"refuse_seconds":0.3}'),
      },
      (r, fake) => {
        const stream = r.streams.get('S1');
        const agentId = fake.agentIds[0] as string;
        const offers = (stream?.ofType('OFFERS') ?? [])
          .map((record) => ({ text: JSON.stringify(record.event), at: (stream?.openedAt ?? 0) + record.at }))
          .filter((offer) => offer.text.includes(agentId));
        for (const call of fake.calls({ type: 'DECLINE' })) {
          const decline = call.body?.decline as {
            offer_ids: Array<{ value: string }>;
            filters?: { refuse_seconds?: number };
          };
          // The offer after the declined one. Not the first one read after the DECLINE: on a loaded
          // machine the stream can read the declined offer itself after the fake took its DECLINE.
          const declined = offers.findIndex((offer) => offer.text.includes(decline.offer_ids[0]!.value));
          const next = declined < 0 ? undefined : offers[declined + 1];
          if (next !== undefined)
            delays.push({ refuse: decline.filters?.refuse_seconds, afterMs: next.at - call.at });
        }
      },
    );
    expect(replay.diffs).toEqual([]);
    // Recorded (allocation interval 1 s): refuse 3 → 3.7 s, default → 5.8 s, 0 → 0.8 s, 3 → 3.8 s.
    // No offer came before its filter was over: lower bounds (from the DECLINE the fake received),
    // which a loaded machine can only lengthen.
    const [three, absent, zero, threeAgain] = delays;
    for (const [delay, refuseMs] of [
      [three, 300],
      [absent, 5000],
      [zero, 0],
      [threeAgain, 300],
    ] as const) {
      expect(delay?.afterMs).toBeGreaterThanOrEqual(refuseMs);
    }
    // And each filter was its own length, not the default's: the offers after refuse_seconds 0 and
    // 0.3 came sooner than the one after the default 5 s filter.
    for (const short of [three, zero, threeAgain]) expect(short!.afterMs).toBeLessThan(absent!.afterMs);
    // It replays many seconds of recorded time: room for a loaded machine.
  }, 120_000);
});

import { OfferHygiene, type MesosScheduler, type Offer } from '@galley/mesos';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AttemptTable } from '../../src/backends/mesos/attempts.js';
import { OfferSweeper, WAITING_REFUSE_SECONDS } from '../../src/backends/mesos/offer-sweeper.js';
import type { MesosSettings } from '../../src/config/mesos-settings.js';

// The sweeper's DECLINE filters: an offer no dispatch round used while work waits for its role must
// come back soon (Mesos' default 5 s filter), or a backlog that could use the agent a moment later
// waits the whole `--mesos-refuse-seconds` (120 s) for it; an idle role's offers keep the long filter.

const offer = (id: string, role: string): Offer =>
  ({
    id: { value: id },
    framework_id: { value: 'fw' },
    agent_id: { value: `agent-${id}` },
    hostname: `host-${id}`,
    allocation_info: { role },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, allocation_info: { role } }],
  }) as Offer;

describe('offer sweeper: DECLINE filters by waiting work', () => {
  let sweeper: OfferSweeper | undefined;
  afterEach(() => sweeper?.stop());

  it('declines a held offer of a role with waiting work for 5 s, and an idle role’s for --mesos-refuse-seconds', async () => {
    let now = 1_000;
    const offers = new Map([
      ['busy-1', offer('busy-1', 'batch')],
      ['idle-1', offer('idle-1', 'web')],
    ]);
    const declines: { ids: string[]; refuse: number | undefined }[] = [];
    const scheduler = {
      offers,
      decline: (ids: { value: string }[], filters?: { refuse_seconds?: number }) => {
        declines.push({ ids: ids.map((i) => i.value), refuse: filters?.refuse_seconds });
        for (const i of ids) offers.delete(i.value);
        return Promise.resolve();
      },
      suppress: () => Promise.resolve(),
      revive: () => Promise.resolve(),
      reconcileTasks: () => Promise.resolve(),
    } as unknown as MesosScheduler;
    const settings = {
      refuseSeconds: 120,
      offerHoldMs: 200,
      unreachableTimeoutMs: 60_000,
      launchTimeoutMs: 60_000,
    } as MesosSettings;
    sweeper = new OfferSweeper({
      settings,
      clock: { now: () => now },
      table: new AttemptTable(),
      waiting: (role) => (role === 'batch' ? 3 : 0),
      hygiene: new OfferHygiene({ refuseSeconds: 120 }),
      roles: ['batch', 'web'],
      scheduler: () => scheduler,
      deliver: () => undefined,
      kill: () => Promise.resolve(),
      logger: pino({ level: 'silent' }),
    });
    sweeper.start();
    sweeper.noteOffers([...offers.values()]);

    // The idle role's offer goes at once, with the long filter; the waiting role's is held.
    await vi.waitFor(() => expect(declines).toEqual([{ ids: ['idle-1'], refuse: 120 }]));
    expect(offers.has('busy-1')).toBe(true);

    // Held past offerHoldMs with nothing placed on it: declined, to come back after 5 s.
    now += settings.offerHoldMs;
    sweeper.soon();
    await vi.waitFor(() =>
      expect(declines.at(-1)).toEqual({ ids: ['busy-1'], refuse: WAITING_REFUSE_SECONDS }),
    );
    expect(WAITING_REFUSE_SECONDS).toBe(5);
  });
});

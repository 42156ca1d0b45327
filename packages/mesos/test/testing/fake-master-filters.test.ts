import { afterEach, describe, expect, it } from 'vitest';
import { filterDurationMs, startFakeMesos, type FakeMesos, type FilterSnapshot } from '@galley/mesos/testing';
import {
  commandTask,
  frameworkInfo,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from './support/test-scheduler.js';

/** Spec §1.4 "Filters", checked as the allocator applies them (allocation interval 50 ms). */

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

const INTERVAL = 50;

async function oneAgentScheduler(): Promise<{
  fake: FakeMesos;
  scheduler: TestScheduler;
  offer: Record<string, unknown>;
}> {
  mesos = await startFakeMesos({ allocationIntervalMs: INTERVAL });
  const scheduler = await subscribeScheduler(mesos.leaderUrl);
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  return { fake: mesos, scheduler, offer };
}

/**
 * Runs `call` and returns its filter with the wall-clock bracket around it: the fake set the filter
 * between `before` and `after`, so its expiry says how long it lasts without timing anything.
 */
async function filterOf(
  fake: FakeMesos,
  call: () => Promise<unknown>,
): Promise<{ before: number; after: number; expiresAt: number; resources: string }> {
  const before = Date.now();
  await call();
  const after = Date.now();
  const filters = fake.state().filters;
  expect(filters).toHaveLength(1);
  const [filter] = filters as [FilterSnapshot];
  return { before, after, expiresAt: filter.expiresAt, resources: filter.resources };
}

/** A later marker on a scheduler's stream: the answer to a RECONCILE of an unknown task (case 7). */
async function marker(scheduler: TestScheduler, id: string): Promise<void> {
  await scheduler.call('RECONCILE', { reconcile: { tasks: [{ task_id: { value: id } }] } });
  await scheduler.nextUpdate(id, 'TASK_UNKNOWN');
}

describe('fake master: offer filters (spec §1.4 table)', () => {
  it.each([
    ['absent', undefined, 5000],
    ['negative', -3, 5000],
    ['zero', 0, 0],
    ['below one allocation interval', 0.01, INTERVAL],
    ['3 s', 3, 3000],
    ['above 365 days', 1e12, 365 * 24 * 3600 * 1000],
    ['a numeric string', '7', 7000],
  ])('refuse_seconds %s lasts %s ms', (_what, refuse, expected) => {
    expect(filterDurationMs(refuse, INTERVAL)).toBe(expected);
  });

  it('DECLINE with refuse_seconds holds the agent back for that long, then offers it at the next allocation', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    const filter = await filterOf(fake, () =>
      scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0.4 } } }),
    );
    expect(filter.expiresAt).toBeGreaterThanOrEqual(filter.before + 400);
    expect(filter.expiresAt).toBeLessThanOrEqual(filter.after + 400);
    await scheduler.nextOffers();
    // Not before the filter expired (the allocator reads the same clock).
    expect(Date.now()).toBeGreaterThanOrEqual(filter.expiresAt);
  });

  it('DECLINE without filters refuses for the default 5 s; refuse_seconds 0 re-offers at the next allocation', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    const filter = await filterOf(fake, () =>
      scheduler.call('DECLINE', { decline: { offer_ids: [offer.id] } }),
    );
    expect(filter.expiresAt).toBeGreaterThanOrEqual(filter.before + 5000);
    expect(filter.expiresAt).toBeLessThanOrEqual(filter.after + 5000);
    await scheduler.call('REVIVE', { revive: {} });
    const revived = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call('DECLINE', { decline: { offer_ids: [revived.id], filters: { refuse_seconds: 0 } } });
    expect(fake.state().filters).toEqual([]);
    await scheduler.nextOffers();
  });

  it('a filter covers only the refused resources: the agent comes back when a task frees more', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    await scheduler.call(
      'ACCEPT',
      launch([offer], [commandTask(offer, 'short', 'sleep 0.3')], { refuse_seconds: 60 }),
    );
    await scheduler.ack(await scheduler.nextUpdate('short', 'TASK_STARTING'));
    await scheduler.ack(await scheduler.nextUpdate('short', 'TASK_RUNNING'));
    expect(fake.state().filters).toHaveLength(1);
    const finished = await scheduler.nextUpdate('short', 'TASK_FINISHED');
    const reoffered = (await scheduler.nextOffers(2000))[0] as Record<string, unknown>;
    expect(reoffered.agent_id).toEqual(offer.agent_id);
    const cpus = (reoffered.resources as Array<{ name: string; scalar?: { value: number } }>).find(
      (r) => r.name === 'cpus',
    );
    expect(cpus?.scalar?.value).toBe(2);
    await scheduler.ack(finished);
  });

  it('declines the unused part of an ACCEPT with the default 5 s filter', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    const filter = await filterOf(fake, () =>
      scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'long', 'sleep 300')])),
    );
    expect(filter.resources).toBe('ports:[31000-32000]; cpus:1.9; mem:4064; disk:10000');
    expect(filter.expiresAt).toBeGreaterThanOrEqual(filter.before + 5000);
    expect(filter.expiresAt).toBeLessThanOrEqual(filter.after + 5000);
  });

  it('REVIVE clears filters and offers at once', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 30 } } });
    expect(fake.state().filters).toHaveLength(1);
    await scheduler.call('REVIVE', { revive: {} });
    expect(fake.state().filters).toEqual([]);
    // Offered long before the 30 s filter would have expired (nextOffers waits 10 s at most).
    await scheduler.nextOffers();
  });

  it('SUPPRESS keeps held offers (no RESCIND) and stops new offers until REVIVE', async () => {
    const { fake, scheduler, offer } = await oneAgentScheduler();
    await scheduler.call('SUPPRESS', { suppress: {} });
    await marker(scheduler, 'after-suppress');
    expect(scheduler.stream.ofType('RESCIND')).toHaveLength(0);
    expect(fake.state().offers.map((o) => o.id)).toEqual([(offer.id as { value: string }).value]);
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } });
    // A later marker: the free, unfiltered agent goes to another framework, not the suppressed one.
    const other = await subscribeScheduler(fake.leaderUrl, frameworkInfo({ name: 'other' }));
    const taken = (await other.nextOffers())[0] as Record<string, unknown>;
    expect(taken.agent_id).toEqual(offer.agent_id);
    await marker(scheduler, 'after-other-offered');
    expect(scheduler.stream.ofType('OFFERS')).toHaveLength(1);
    await other.call('DECLINE', { decline: { offer_ids: [taken.id], filters: { refuse_seconds: 60 } } });
    await scheduler.call('REVIVE', { revive: { roles: ['*'] } });
    await scheduler.nextOffers();
  });

  it('offers one role per offer to a MULTI_ROLE framework and keeps filters per role', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: INTERVAL, agents: 2 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl, {
      user: 'root',
      name: 'roles',
      roles: ['a', 'b'],
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    });
    const offers = await scheduler.nextOffers();
    const roles = offers.map((o) => (o.allocation_info as { role: string }).role).sort();
    expect(roles).toEqual(['a', 'b']);
    for (const offer of offers) {
      const role = (offer.allocation_info as { role: string }).role;
      for (const resource of offer.resources as Array<{ allocation_info: { role: string } }>)
        expect(resource.allocation_info.role).toBe(role);
    }
    const a = offers.find((o) => (o.allocation_info as { role: string }).role === 'a') as Record<
      string,
      unknown
    >;
    await scheduler.call('DECLINE', { decline: { offer_ids: [a.id], filters: { refuse_seconds: 60 } } });
    const next = (await scheduler.nextOffers(2000))[0] as Record<string, unknown>;
    expect(next.agent_id).toEqual(a.agent_id);
    expect((next.allocation_info as { role: string }).role).toBe('b');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { filterDurationMs, startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { commandTask, launch, subscribeScheduler, type TestScheduler } from './support/test-scheduler.js';

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

/** Milliseconds from `since` until the agent is offered again (or `limit` when it is not). */
async function reofferAfter(scheduler: TestScheduler, since: number, limit: number): Promise<number> {
  try {
    await scheduler.nextOffers(limit);
    return Date.now() - since;
  } catch {
    return limit;
  }
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
    const { scheduler, offer } = await oneAgentScheduler();
    const declinedAt = Date.now();
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0.4 } } });
    const after = await reofferAfter(scheduler, declinedAt, 3000);
    expect(after).toBeGreaterThanOrEqual(390);
    expect(after).toBeLessThan(1500);
  });

  it('DECLINE without filters refuses for the default 5 s; refuse_seconds 0 re-offers at the next allocation', async () => {
    const { scheduler, offer } = await oneAgentScheduler();
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id] } });
    expect(await reofferAfter(scheduler, Date.now(), 1000)).toBe(1000);
    await scheduler.call('REVIVE', { revive: {} });
    const revived = (await scheduler.nextOffers(1000))[0] as Record<string, unknown>;
    const declinedAt = Date.now();
    await scheduler.call('DECLINE', { decline: { offer_ids: [revived.id], filters: { refuse_seconds: 0 } } });
    expect(await reofferAfter(scheduler, declinedAt, 1000)).toBeLessThan(500);
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
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'long', 'sleep 300')]));
    const filter = fake.state().filters[0];
    expect(filter?.resources).toBe('ports:[31000-32000]; cpus:1.9; mem:4064; disk:10000');
    expect((filter?.expiresAt ?? 0) - Date.now()).toBeGreaterThan(4000);
    expect((filter?.expiresAt ?? 0) - Date.now()).toBeLessThanOrEqual(5000);
  });

  it('REVIVE clears filters and offers at once', async () => {
    const { scheduler, offer } = await oneAgentScheduler();
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 30 } } });
    await new Promise((r) => setTimeout(r, 150));
    const revivedAt = Date.now();
    await scheduler.call('REVIVE', { revive: {} });
    await scheduler.nextOffers(1000);
    expect(Date.now() - revivedAt).toBeLessThan(INTERVAL + 100);
  });

  it('SUPPRESS keeps held offers (no RESCIND) and stops new offers until REVIVE', async () => {
    const { scheduler, offer } = await oneAgentScheduler();
    await scheduler.call('SUPPRESS', { suppress: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(scheduler.stream.ofType('RESCIND')).toHaveLength(0);
    await scheduler.call('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } });
    expect(await reofferAfter(scheduler, Date.now(), 600)).toBe(600);
    await scheduler.call('REVIVE', { revive: { roles: ['*'] } });
    await scheduler.nextOffers(1000);
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

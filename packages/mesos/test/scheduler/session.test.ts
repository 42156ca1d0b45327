/**
 * The scheduler session against the fake master (spec §1.2–1.8): subscription, defaults, the
 * framework id persisted first, redirects, heartbeats, resubscription with backoff, leader
 * failover, ERROR handling and the offer cache. Runs on a real cluster (MESOS_MASTER) where the
 * test needs no fault injection.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type FrameworkIdStore,
  type SchedulerLifecycleEvents,
  type SchedulerOptions,
  createMemoryFrameworkIdStore,
  createScheduler,
} from '@galley/mesos';
import { type TestCluster, fakeOf, faultInjection, startTestCluster } from '../support/master.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(options: Parameters<typeof startTestCluster>[0] = {}): Promise<TestCluster> {
  const c = await startTestCluster({ allocationIntervalMs: 50, ...options });
  cleanups.push(() => c.stop());
  return c;
}

type Log = { [K in keyof SchedulerLifecycleEvents]?: SchedulerLifecycleEvents[K][] };

function scheduler(c: TestCluster, extra: Partial<SchedulerOptions> = {}) {
  const s = createScheduler({
    master: c.master,
    framework: {
      user: c.user,
      name: 'session-test',
      roles: [c.role],
      capabilities: [{ type: 'MULTI_ROLE' }],
    },
    credentials: c.credentials,
    backoff: { minMs: 50, maxMs: 400, factor: 2, jitter: 0 },
    reconciliation: { tasks: () => [], periodMs: 0 },
    ...extra,
  });
  const log: Log = {};
  for (const name of ['disconnected', 'reconnecting', 'subscribed', 'stopped', 'error', 'state'] as const) {
    s.on(name, (payload) => ((log[name] ??= []) as unknown[]).push(payload));
  }
  cleanups.push(() => s.stop());
  return { s, log };
}

describe('scheduler session (fake master, or MESOS_MASTER)', () => {
  it('subscribes with failover_timeout one week and checkpointing by default, and persists the id before anything else', async () => {
    const c = await cluster({ agents: 1 });
    const order: string[] = [];
    const inner = createMemoryFrameworkIdStore();
    // The save holds until the test has seen that nothing went on meanwhile.
    let releaseSave!: () => void;
    const saveHeld = new Promise<void>((resolve) => (releaseSave = resolve));
    const store: FrameworkIdStore = {
      load: () => inner.load(),
      clear: () => inner.clear(),
      save: async (id) => {
        order.push('save started');
        await saveHeld;
        await inner.save(id);
        saveDoneAt = Date.now();
        order.push('save done');
      },
    };
    let firstCallSeenAt = Infinity;
    let saveDoneAt = Infinity;
    const { s, log } = scheduler(c, {
      frameworkIdStore: store,
      handlers: {
        SUBSCRIBED: () => void order.push('SUBSCRIBED handled'),
        OFFERS: () => void order.push('OFFERS handled'),
      },
    });
    s.start();
    await waitFor('the save to start', () => order.includes('save started'));
    if (c.fake) {
      // While the id is being saved the master has subscribed the framework and sent it offers:
      // none is handled, and no call goes out, before the save is done.
      const fake = c.fake;
      await waitFor('offers sent', () => fake.state().offers.length > 0);
      expect(order).toEqual(['save started']);
      expect(fake.calls({ api: 'scheduler' }).map((x) => x.type)).toEqual(['SUBSCRIBE']);
    }
    releaseSave();
    const state = await s.subscribed();
    await waitFor('offers', () => order.includes('OFFERS handled'));
    expect(order.slice(0, 3)).toEqual(['save started', 'save done', 'SUBSCRIBED handled']);
    expect(await inner.load()).toBe(state.frameworkId);
    expect(log.subscribed?.[0]).toMatchObject({ frameworkId: state.frameworkId, resubscribed: false });
    expect(log.state?.map((e) => e.state.phase)).toEqual(['CONNECTING', 'SUBSCRIBING', 'SUBSCRIBED']);
    if (c.fake) {
      const framework = c.fake.state().frameworks.find((f) => f.id === state.frameworkId);
      expect(framework).toMatchObject({
        failoverTimeoutSeconds: 604800,
        connected: true,
        streamId: state.streamId,
      });
      const subscribe = c.fake.calls({ type: 'SUBSCRIBE' })[0]?.body as {
        subscribe: { framework_info: Record<string, unknown> };
      };
      expect(subscribe.subscribe.framework_info).toMatchObject({
        checkpoint: true,
        failover_timeout: 604800,
      });
      // The first call on the new subscription (reconciliation's RECONCILE) waits for the save.
      const fake = c.fake;
      const otherCalls = () => fake.calls({ api: 'scheduler' }).filter((x) => x.type !== 'SUBSCRIBE');
      await waitFor('a call after SUBSCRIBE', () => otherCalls().length > 0);
      firstCallSeenAt = Math.min(...otherCalls().map((x) => x.at));
      expect(firstCallSeenAt).toBeGreaterThanOrEqual(saveDoneAt);
    }
  });

  it('keeps the offers it was sent, and forgets them when they are used', async () => {
    const c = await cluster({ agents: 2 });
    const { s } = scheduler(c);
    s.start();
    await s.subscribed();
    await waitFor('offers held', () => s.offers.size > 0);
    const held = [...s.offers.values()];
    await s.decline(
      held.map((o) => o.id),
      { refuse_seconds: 60 },
    );
    expect(s.offers.size).toBe(0);
  });
});

describe.runIf(faultInjection('session fault-injection tests'))(
  'scheduler session faults (fake master)',
  () => {
    it('follows a 307 from a non-leading master to the leader', async () => {
      const c = await cluster({ masters: 3 });
      const fake = fakeOf(c);
      const follower = fake.masterUrls[2] as string;
      const { s } = scheduler(c, { master: follower.replace('http://', '') });
      s.start();
      const state = await s.subscribed();
      expect(state.master).toBe(`${fake.leaderUrl}/`);
    });

    it('drops a silent subscription after N missed heartbeats and resubscribes', async () => {
      // Heartbeats every 200 ms, but only 0.5 intervals of silence are tolerated: the watchdog fires.
      const c = await cluster({ heartbeatIntervalSeconds: 0.2 });
      const { s, log } = scheduler(c, { heartbeatMissLimit: 0.5 });
      s.start();
      await waitFor('a heartbeat timeout', () =>
        log.disconnected?.find((d) => d.reason === 'heartbeat-timeout'),
      );
      await waitFor('resubscribed', () => (log.subscribed?.length ?? 0) >= 2);
      expect(log.subscribed?.[1]?.resubscribed).toBe(true);
      expect(s.state.phase).not.toBe('STOPPED');
    });

    it('does not drop a subscription whose heartbeats arrive within N intervals', async () => {
      // Both sides run on clocks the test moves: the fake's heartbeat timer (vitest's fake
      // setInterval) and the scheduler's watchdog (a ManualClock). Twenty heartbeats 100 ms apart
      // cover 2 s, four times the 5 × 100 ms limit, and none may be missed.
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      try {
        const c = await cluster({ heartbeatIntervalSeconds: 0.1 });
        const clock = new ManualClock();
        let heartbeats = 0;
        const { s, log } = scheduler(c, {
          heartbeatMissLimit: 5,
          clock,
          handlers: { HEARTBEAT: () => void heartbeats++ },
        });
        s.start();
        await s.subscribed();
        for (let i = 0; i < 20; i++) {
          const seen = heartbeats;
          vi.advanceTimersByTime(100);
          await waitFor('a heartbeat', () => heartbeats > seen);
          clock.advance(100);
        }
        expect(log.disconnected ?? []).toEqual([]);
        expect(s.state.phase).toBe('SUBSCRIBED');
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      } finally {
        vi.useRealTimers();
      }
    });

    it('resubscribes after the stream drops: same framework id, new stream id, backoff from min', async () => {
      const c = await cluster({ agents: 1 });
      const fake = fakeOf(c);
      const { s, log } = scheduler(c, { random: () => 0 });
      s.start();
      const first = await s.subscribed();
      await waitFor('offers held', () => s.offers.size > 0);
      let offersAtDisconnect = -1;
      let callWhileDisconnected: unknown;
      s.on('disconnected', () => {
        offersAtDisconnect = s.offers.size;
        callWhileDisconnected = s.revive().catch((e: unknown) => e);
      });
      expect(fake.dropSubscription(first.frameworkId)).toBe(true);
      await waitFor('resubscribed', () => (log.subscribed?.length ?? 0) >= 2);
      const second = s.state;
      expect(second).toMatchObject({ phase: 'SUBSCRIBED', frameworkId: first.frameworkId });
      expect(second.phase === 'SUBSCRIBED' && second.streamId).not.toBe(first.streamId);
      expect(log.disconnected?.[0]?.reason).toBe('stream-error');
      expect(log.reconnecting?.[0]).toEqual({ delayMs: 50, attempt: 0 });
      // Offers die with the subscription (spec §9.13); calls need one.
      expect(offersAtDisconnect).toBe(0);
      expect(await callWhileDisconnected).toMatchObject({ code: 'MESOS_NOT_SUBSCRIBED' });
      const resubscribe = fake.calls({ type: 'SUBSCRIBE' })[1]?.body as Record<string, unknown>;
      expect(resubscribe).toMatchObject({
        framework_id: { value: first.frameworkId },
        subscribe: { framework_info: { id: { value: first.frameworkId } } },
      });
    });

    it('backs off exponentially (truncated) while the master is unreachable, and never gives up', async () => {
      const c = await cluster();
      const fake = fakeOf(c);
      const { s, log } = scheduler(c, { random: () => 0 });
      s.start();
      await s.subscribed();
      // The only master goes down for 1.5 s: every attempt in between fails.
      const failover = fake.failover({ downMs: 1500, startingMs: 0 });
      await waitFor('resubscribed', () => (log.subscribed?.length ?? 0) >= 2, 15_000);
      await failover;
      const delays = (log.reconnecting ?? []).map((r) => r.delayMs);
      expect(delays.length).toBeGreaterThanOrEqual(4);
      expect(delays.slice(0, 4)).toEqual([50, 50, 100, 200]);
      expect(Math.max(...delays)).toBeLessThanOrEqual(400);
      expect(
        log.disconnected?.slice(1).every((d) => d.reason === 'no-leader' || d.reason === 'subscribe-failed'),
      ).toBe(true);
    });

    it('follows a leader failover to the new master with the same framework id', async () => {
      const c = await cluster({ masters: 2, agents: 1 });
      const fake = fakeOf(c);
      const { s, log } = scheduler(c);
      s.start();
      const before = await s.subscribed();
      await fake.failover({ to: 1 });
      await waitFor('subscribed to the new leader', () => {
        const st = s.state;
        return st.phase === 'SUBSCRIBED' && st.master === `${fake.masterUrls[1]}/` ? st : undefined;
      });
      expect(s.id).toBe(before.frameworkId);
      expect(log.subscribed?.at(-1)).toMatchObject({ frameworkId: before.frameworkId, resubscribed: true });
    });

    it('stops for good when another instance subscribes with its framework id (ERROR "Framework failed over")', async () => {
      const c = await cluster();
      const first = scheduler(c);
      first.s.start();
      const state = await first.s.subscribed();
      const second = scheduler(c, { frameworkIdStore: createMemoryFrameworkIdStore(state.frameworkId) });
      second.s.start();
      await second.s.subscribed();
      await waitFor('the first one stopped', () => first.log.stopped?.length);
      expect(first.s.state).toEqual({ phase: 'STOPPED', reason: 'failed-over' });
      expect(first.log.error?.[0]?.error).toMatchObject({ code: 'MESOS_ERROR_EVENT' });
      // Its loop is over for good; a reconnect would have come before that.
      await first.s.ended;
      expect(fakeOf(c).calls({ type: 'SUBSCRIBE' })).toHaveLength(2);
      expect(second.s.state.phase).toBe('SUBSCRIBED');
    });

    it('a deposed instance whose stream broke stops (not-leading) instead of failing the new leader over', async () => {
      const c = await cluster();
      let firstLeads = true;
      const first = scheduler(c, { leading: () => firstLeads });
      first.s.start();
      const state = await first.s.subscribed();
      // Another instance leads now; the first one's stream breaks before it heard of it.
      firstLeads = false;
      const second = scheduler(c, {
        frameworkIdStore: createMemoryFrameworkIdStore(state.frameworkId),
        leading: () => !firstLeads,
      });
      expect(fakeOf(c).dropSubscription(state.frameworkId)).toBe(true);
      await waitFor('the first one stopped', () => first.log.stopped?.length);
      expect(first.s.state).toEqual({ phase: 'STOPPED', reason: 'not-leading' });
      await first.s.ended;
      expect(fakeOf(c).calls({ type: 'SUBSCRIBE' })).toHaveLength(1);
      second.s.start();
      await second.s.subscribed();
      expect(second.log.stopped).toBeUndefined();
      expect(fakeOf(c).calls({ type: 'SUBSCRIBE' })).toHaveLength(2);
    });

    it('an instance that does not lead never subscribes', async () => {
      const c = await cluster();
      const { s, log } = scheduler(c, { leading: () => false });
      s.start();
      await waitFor('it stopped', () => log.stopped?.length);
      expect(log.stopped).toEqual([{ reason: 'not-leading' }]);
      expect(fakeOf(c).calls({ type: 'SUBSCRIBE' })).toHaveLength(0);
    });

    it('teardown removes the framework and clears the stored id', async () => {
      const c = await cluster();
      const store = createMemoryFrameworkIdStore();
      const { s } = scheduler(c, { frameworkIdStore: store });
      s.start();
      const state = await s.subscribed();
      expect(await store.load()).toBe(state.frameworkId);
      await s.teardown();
      expect(s.state).toEqual({ phase: 'STOPPED', reason: 'teardown' });
      expect(await store.load()).toBeUndefined();
      expect(fakeOf(c).state().removedFrameworks).toContain(state.frameworkId);
    });
  },
);

/**
 * Ordered processing and acknowledgements against the fake master: one queue for Mesos events
 * and user messages, one handler at a time, bounded with backpressure; a throwing handler is
 * reported and the loop goes on; UPDATEs with a uuid are acknowledged after their handler,
 * exactly once per uuid, and never without a uuid (spec §4.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type MesosScheduler,
  type SchedulerLifecycleEvents,
  type SchedulerOptions,
  type TaskStatus,
  createScheduler,
} from '@galley/mesos';
import type { FakeMesosOptions } from '@galley/mesos/testing';
import { type TestCluster, fakeOf, faultInjection, startTestCluster } from '../support/master.js';
import { commandTask } from '../support/tasks.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(options: FakeMesosOptions = {}): Promise<TestCluster> {
  const c = await startTestCluster({ allocationIntervalMs: 50, ...options });
  cleanups.push(() => c.stop());
  return c;
}

type Log = { [K in keyof SchedulerLifecycleEvents<string>]?: SchedulerLifecycleEvents<string>[K][] };

/** A scheduler that launches one command task per listed id on the first offers it gets. */
function launcher(
  c: TestCluster,
  tasks: Record<string, string>,
  extra: Partial<SchedulerOptions<string>> = {},
) {
  const pending = new Map(Object.entries(tasks));
  const s: MesosScheduler<string> = createScheduler<string>({
    master: c.master,
    framework: {
      user: c.user,
      name: 'ordered-test',
      roles: [c.role],
      capabilities: [{ type: 'MULTI_ROLE' }],
    },
    credentials: c.credentials,
    backoff: { minMs: 50, maxMs: 400, factor: 2, jitter: 0 },
    reconciliation: { tasks: () => [], periodMs: 0 },
    ...extra,
    handlers: {
      OFFERS: async (event, { scheduler }) => {
        for (const offer of event.offers.offers ?? []) {
          const batch = [...pending].slice(0, 5);
          if (batch.length === 0) {
            await scheduler.decline([offer.id], { refuse_seconds: 60 });
            continue;
          }
          for (const [id] of batch) pending.delete(id);
          await scheduler.accept(
            [offer.id],
            [
              {
                type: 'LAUNCH',
                launch: { task_infos: batch.map(([id, command]) => commandTask(offer, id, command)) },
              },
            ],
          );
        }
      },
      ...extra.handlers,
    },
  });
  const log: Log = {};
  for (const name of ['disconnected', 'handler-failed', 'error'] as const) {
    s.on(name, (payload) => ((log[name] ??= []) as unknown[]).push(payload));
  }
  cleanups.push(() => s.stop());
  return { s, log };
}

function acksByUuid(c: TestCluster): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of fakeOf(c).calls({ type: 'ACKNOWLEDGE' })) {
    const uuid = (call.body?.['acknowledge'] as { uuid: string }).uuid;
    counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  }
  return counts;
}

describe.runIf(faultInjection('ordered processing tests'))(
  'ordered processing and acknowledgements (fake master)',
  () => {
    it('handles events and user messages one at a time, in order, and acks each uuid once after its handler', async () => {
      const c = await cluster({ agents: 2 });
      const log: string[] = [];
      const handledAt = new Map<string, number>();
      let active = 0;
      let maxActive = 0;
      const tasks = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`t${i}`, 'sleep 0.2']));
      const { s } = launcher(c, tasks, {
        handlers: {
          UPDATE: async (event, { scheduler }) => {
            active++;
            maxActive = Math.max(maxActive, active);
            const status = event.update.status;
            log.push(`${status.task_id.value} ${status.state}`);
            await new Promise((r) => setTimeout(r, 5));
            if (status.uuid) handledAt.set(status.uuid, Date.now());
            if (status.state === 'TASK_RUNNING') void scheduler.send(`after ${status.task_id.value} running`);
            active--;
          },
          user: async (message) => {
            active++;
            maxActive = Math.max(maxActive, active);
            log.push(message);
            active--;
          },
        },
      });
      s.start();
      await waitFor(
        'all tasks finished and acknowledged',
        () =>
          fakeOf(c).state().tasks.length === 6 &&
          fakeOf(c)
            .state()
            .tasks.every((t) => t.completed),
      );
      expect(maxActive).toBe(1);
      for (let i = 0; i < 6; i++) {
        const mine = log.filter((l) => l.startsWith(`t${i} `) || l === `after t${i} running`);
        expect(mine).toEqual(
          [`t${i} TASK_STARTING`, `t${i} TASK_RUNNING`, `after t${i} running`, `t${i} TASK_FINISHED`].filter(
            (l) => mine.includes(l),
          ),
        );
        expect(mine.indexOf(`after t${i} running`)).toBeGreaterThan(mine.indexOf(`t${i} TASK_RUNNING`));
      }
      const acks = acksByUuid(c);
      expect(acks.size).toBe(handledAt.size);
      expect([...acks.values()].every((n) => n === 1)).toBe(true);
      for (const call of fakeOf(c).calls({ type: 'ACKNOWLEDGE' })) {
        const uuid = (call.body?.['acknowledge'] as { uuid: string }).uuid;
        expect(call.at).toBeGreaterThanOrEqual(handledAt.get(uuid) as number);
      }
    });

    it('reports a throwing handler, goes on with the next item, and acks the update once when it is re-sent', async () => {
      const c = await cluster({ agents: 1, statusUpdateRetryMs: { initial: 150, max: 300 } });
      const seen: string[] = [];
      let failedOnce = false;
      const { s, log } = launcher(
        c,
        { boom: 'sleep 0.2' },
        {
          handlers: {
            UPDATE: (event) => {
              const status = event.update.status;
              seen.push(status.state);
              if (status.state === 'TASK_RUNNING' && !failedOnce) {
                failedOnce = true;
                throw new Error('handler bug');
              }
            },
          },
        },
      );
      s.start();
      await waitFor('finished and acknowledged', () => fakeOf(c).state().tasks[0]?.completed);
      expect(log['handler-failed']).toHaveLength(1);
      expect(log['handler-failed']?.[0]).toMatchObject({
        error: { message: 'handler bug' },
        item: { source: 'mesos', event: { type: 'UPDATE' } },
      });
      // The failed RUNNING was not acknowledged, so Mesos re-sent it; the second delivery was acked.
      expect(seen.filter((st) => st === 'TASK_RUNNING')).toHaveLength(2);
      expect(seen.at(-1)).toBe('TASK_FINISHED');
      expect([...acksByUuid(c).values()]).toEqual([1, 1, 1]);
    });

    it('never acks updates without a uuid (reconciliation answers)', async () => {
      const c = await cluster({ agents: 1 });
      const statuses: TaskStatus[] = [];
      const { s } = launcher(
        c,
        { long: 'sleep 30' },
        {
          handlers: { UPDATE: (event) => void statuses.push(event.update.status) },
          reconciliation: {
            tasks: () => [{ task_id: { value: 'long' } }, { task_id: { value: 'ghost' } }],
            periodMs: 0,
            initialDelayMs: 50,
          },
        },
      );
      s.start();
      await waitFor('running', () => statuses.find((st) => st.state === 'TASK_RUNNING' && st.uuid));
      const result = await s.reconcile();
      expect(result.unanswered).toEqual([]);
      const answers = statuses.filter((st) => st.reason === 'REASON_RECONCILIATION');
      expect(answers.length).toBeGreaterThanOrEqual(2);
      expect(answers.every((st) => st.uuid === undefined)).toBe(true);
      const acked = new Set(acksByUuid(c).keys());
      expect(acked.size).toBe(statuses.filter((st) => st.uuid).length);
      expect(acks(c).every((uuid) => typeof uuid === 'string')).toBe(true);
    });

    it('manual mode: nothing is acked until the handler asks, and a re-sent duplicate is acked once', async () => {
      const c = await cluster({ agents: 1, statusUpdateRetryMs: { initial: 100, max: 200 } });
      const deliveries = new Map<string, number>();
      let heldBack: (() => Promise<void>) | undefined;
      const { s } = launcher(
        c,
        { manual: 'sleep 0.1' },
        {
          acknowledge: 'manual',
          handlers: {
            UPDATE: async (event, context) => {
              const uuid = event.update.status.uuid as string;
              deliveries.set(uuid, (deliveries.get(uuid) ?? 0) + 1);
              // Hold the first delivery of STARTING back until Mesos re-sends it (nothing was acked).
              if (event.update.status.state === 'TASK_STARTING' && deliveries.get(uuid) === 1) {
                heldBack = () => context.acknowledge();
                return;
              }
              // The re-sent one: the held acknowledgement goes now, then this one (the same uuid).
              const first = heldBack;
              heldBack = undefined;
              await first?.();
              await context.acknowledge();
            },
          },
        },
      );
      s.start();
      await waitFor('finished and acknowledged', () => fakeOf(c).state().tasks[0]?.completed, 15_000);
      expect(Math.max(...deliveries.values())).toBeGreaterThanOrEqual(2);
      expect([...acksByUuid(c).values()]).toEqual([1, 1, 1]);
    });

    it('backpressure: a full queue stops reading the stream, send() waits, and the watchdog does not fire', async () => {
      // Heartbeats every 50 ms and only 3 missed intervals (150 ms) tolerated, counted on a clock
      // the test moves.
      const c = await cluster({ heartbeatIntervalSeconds: 0.05 });
      const clock = new ManualClock();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let heartbeats = 0;
      let maxQueued = 0;
      const { s, log } = launcher(
        c,
        {},
        {
          queueCapacity: 2,
          heartbeatMissLimit: 3,
          clock,
          handlers: {
            HEARTBEAT: async ({ type }, { scheduler }) => {
              void type;
              heartbeats++;
              maxQueued = Math.max(maxQueued, scheduler.queued);
              if (heartbeats === 1) await gate;
            },
          },
        },
      );
      s.start();
      await waitFor('the queue filled up', () => s.queued === 2);
      let sent = false;
      const sending = s.send('while full').then(() => (sent = true));
      // The next heartbeat found the queue full: reading stopped and the watchdog (the clock's
      // only timer) was paused. Ten minutes of silence on its clock then drop nothing.
      await waitFor('the watchdog paused', () => clock.pending === 0);
      clock.advance(600_000);
      await new Promise((r) => setImmediate(r));
      expect(sent).toBe(false);
      expect(s.queued).toBe(2);
      release();
      await sending;
      await waitFor('more heartbeats handled', () => heartbeats > 5);
      expect(maxQueued).toBeLessThanOrEqual(2);
      expect(log.disconnected ?? []).toEqual([]);
      expect(s.state.phase).toBe('SUBSCRIBED');
    });
  },
);

describe('the order a caller can observe', () => {
  // Issue 11: a message sent right after `subscribed()` resolved was handled before SUBSCRIBED.
  it('runs the SUBSCRIBED handler before a message sent as soon as subscribed() resolved', async () => {
    const c = await cluster();
    const handled: string[] = [];
    const { s } = launcher(
      c,
      {},
      {
        handlers: {
          SUBSCRIBED: async () => {
            handled.push('SUBSCRIBED');
          },
          user: async (message) => {
            handled.push(message);
          },
        },
      },
    );
    s.start();
    await s.subscribed();
    await s.send('sent after subscribed()');
    await waitFor(
      () => `both handled (${handled.join(', ')})`,
      () => handled.length >= 2,
    );
    expect(handled).toEqual(['SUBSCRIBED', 'sent after subscribed()']);
  });

  it('runs the SUBSCRIBED handler before messages sent from the state and subscribed listeners', async () => {
    const c = await cluster();
    const handled: string[] = [];
    const { s } = launcher(
      c,
      {},
      {
        handlers: {
          SUBSCRIBED: async () => {
            handled.push('SUBSCRIBED');
          },
          user: async (message) => {
            handled.push(message);
          },
        },
      },
    );
    s.on('state', ({ state }) => {
      if (state.phase === 'SUBSCRIBED') void s.send('from the state listener');
    });
    s.on('subscribed', () => void s.send('from the subscribed listener'));
    s.start();
    await waitFor(
      () => `all handled (${handled.join(', ')})`,
      () => handled.length >= 3,
    );
    expect(handled).toEqual(['SUBSCRIBED', 'from the state listener', 'from the subscribed listener']);
  });
});

describe.runIf(faultInjection('the re-subscription order test'))(
  'the order a caller can observe (fake master)',
  () => {
    it('runs the new SUBSCRIBED handler before a message sent once the re-subscription resolved', async () => {
      const c = await cluster();
      const handled: string[] = [];
      const { s } = launcher(
        c,
        {},
        {
          handlers: {
            SUBSCRIBED: async () => {
              handled.push('SUBSCRIBED');
            },
            user: async (message) => {
              handled.push(message);
            },
          },
        },
      );
      s.start();
      const first = await s.subscribed();
      await waitFor('the first SUBSCRIBED handled', () => handled.length === 1);
      const lost = new Promise<void>((resolve) => {
        const off = s.on('disconnected', () => {
          off();
          resolve();
        });
      });
      expect(fakeOf(c).dropSubscription(first.frameworkId)).toBe(true);
      await lost;
      await s.subscribed();
      await s.send('sent after the re-subscription');
      await waitFor(
        () => `all handled (${handled.join(', ')})`,
        () => handled.length >= 3,
      );
      expect(handled).toEqual(['SUBSCRIBED', 'SUBSCRIBED', 'sent after the re-subscription']);
    });
  },
);

function acks(c: TestCluster): unknown[] {
  return fakeOf(c)
    .calls({ type: 'ACKNOWLEDGE' })
    .map((call) => (call.body?.['acknowledge'] as { uuid?: unknown }).uuid);
}

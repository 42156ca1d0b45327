/**
 * Maintenance on the fake master, driven through the SDK (spec §6.8, operator API maintenance
 * calls): a schedule puts a machine in DRAINING — its offers carry `unavailability`, a framework
 * with a task there gets INVERSE_OFFERS through the SDK's ordered queue and its ACCEPT or DECLINE
 * shows in GET_MAINTENANCE_STATUS; START_MAINTENANCE takes it DOWN (agent removed, its task
 * GONE_BY_OPERATOR); STOP_MAINTENANCE brings it UP and out of the schedule. Invalid transitions
 * are refused with Mesos' reasons.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  MaintenanceClient,
  MesosHttpError,
  createScheduler,
  type InverseOffer,
  type MesosScheduler,
  type Offer,
  type TaskStatus,
} from '@galley/mesos';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { commandTask } from '../support/tasks.js';
import { waitFor } from '../support/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DRAINED = { hostname: 'ip-10-0-0-1.batch', ip: '127.0.0.1' };
const START_NS = 1_893_456_000_000_000_000n;
const WINDOW = { machine_ids: [DRAINED], unavailability: { start: { nanoseconds: START_NS } } };

interface Seen {
  /** Every event type handled, in queue order. */
  order: string[];
  offers: Offer[];
  inverse: InverseOffer[];
  rescindedInverse: string[];
  updates: TaskStatus[];
}

/** A fake cluster of two agents (one on the machine to drain) and the operator client. */
async function cluster(): Promise<{ mesos: FakeMesos; operator: MaintenanceClient }> {
  const mesos = await startFakeMesos({
    allocationIntervalMs: 30,
    executorStartMs: 5,
    agents: [{ hostname: DRAINED.hostname }, { hostname: 'ip-10-0-0-2.batch' }],
  });
  cleanups.push(() => mesos.stop());
  const operator = new MaintenanceClient({ master: mesos.leaderUrl });
  cleanups.push(() => operator.close());
  return { mesos, operator };
}

/** A scheduler that launches `sleep` on the draining agent's first offer and answers inverse offers with `answer`. */
function scheduler(mesos: FakeMesos, answer: 'accept' | 'decline'): { s: MesosScheduler; seen: Seen } {
  const seen: Seen = { order: [], offers: [], inverse: [], rescindedInverse: [], updates: [] };
  let launched = false;
  const s = createScheduler({
    master: mesos.leaderUrl.replace(/^http:\/\//, ''),
    framework: {
      user: 'root',
      name: 'maintenance-test',
      roles: ['*'],
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    },
    reconciliation: { tasks: () => [], periodMs: 0 },
    handlers: {
      OFFERS: async (event, { scheduler: sc }) => {
        seen.order.push('OFFERS');
        for (const offer of event.offers.offers ?? []) {
          seen.offers.push(offer);
          if (!launched && offer.hostname === DRAINED.hostname) {
            launched = true;
            await sc.accept(
              [offer.id],
              [{ type: 'LAUNCH', launch: { task_infos: [commandTask(offer, 'worker', 'sleep 300')] } }],
              { refuse_seconds: 0 },
            );
          } else {
            await sc.decline([offer.id], { refuse_seconds: 0 });
          }
        }
      },
      INVERSE_OFFERS: async (event, { scheduler: sc }) => {
        seen.order.push('INVERSE_OFFERS');
        const offers = event.inverse_offers.inverse_offers ?? [];
        seen.inverse.push(...offers);
        const ids = offers.map((o) => o.id);
        if (answer === 'accept') await sc.acceptInverseOffers(ids, { refuse_seconds: 3600 });
        else await sc.declineInverseOffers(ids, { refuse_seconds: 3600 });
      },
      RESCIND_INVERSE_OFFER: (event) => {
        seen.order.push('RESCIND_INVERSE_OFFER');
        seen.rescindedInverse.push(event.rescind_inverse_offer.inverse_offer_id.value);
      },
      UPDATE: (event) => {
        seen.order.push('UPDATE');
        seen.updates.push(event.update.status);
      },
    },
  });
  cleanups.push(() => s.stop());
  s.start();
  return { s, seen };
}

describe('fake master: maintenance and inverse offers (operator API, through the SDK)', () => {
  it('drains a scheduled machine: unavailability on offers, an inverse offer accepted, DOWN removes the agent, UP leaves the schedule', async () => {
    const { mesos, operator } = await cluster();
    const { s, seen } = scheduler(mesos, 'accept');
    await waitFor('worker running', () => seen.updates.some((u) => u.state === 'TASK_RUNNING'));
    const drainedAgent = mesos.state().agents.find((a) => a.hostname === DRAINED.hostname)!.id;

    await operator.updateSchedule([WINDOW]);
    const [window] = await operator.schedule();
    expect(window?.machine_ids).toEqual([DRAINED]);
    expect(BigInt(window!.unavailability.start.nanoseconds)).toBe(START_NS);
    await waitFor('an inverse offer', () => seen.inverse[0]);
    const inverse = seen.inverse[0]!;
    expect(inverse.agent_id?.value).toBe(drainedAgent);
    expect(inverse.framework_id.value).toBe(s.id);
    expect(BigInt(inverse.unavailability.start.nanoseconds)).toBe(START_NS);
    // Offers of the draining agent now say when it goes away; the other agent's do not.
    const drainedOffer = await waitFor('an offer with unavailability', () =>
      seen.offers.find((o) => o.unavailability !== undefined),
    );
    expect(drainedOffer.hostname).toBe(DRAINED.hostname);
    expect(seen.offers.filter((o) => o.hostname !== DRAINED.hostname).every((o) => !o.unavailability)).toBe(
      true,
    );
    const accepted = await pollStatus(
      operator,
      (st) =>
        st.draining_machines[0]?.statuses.find((x) => x.framework_id.value === s.id)?.status === 'ACCEPT',
    );
    expect(accepted.draining_machines[0]?.id).toEqual(DRAINED);
    expect(mesos.calls({ type: 'ACCEPT_INVERSE_OFFERS' })[0]?.body).toMatchObject({
      accept_inverse_offers: { inverse_offer_ids: [{ value: inverse.id.value }] },
    });

    await operator.start([DRAINED]);
    const gone = await waitFor('the worker gone', () =>
      seen.updates.find((u) => u.task_id.value === 'worker' && u.state === 'TASK_GONE_BY_OPERATOR'),
    );
    expect(gone.reason).toBe('REASON_AGENT_REMOVED_BY_OPERATOR');
    expect(mesos.state().agents.find((a) => a.id === drainedAgent)?.status).toBe('gone');
    expect(await operator.status()).toEqual({ draining_machines: [], down_machines: [DRAINED] });

    await operator.stop([DRAINED]);
    expect(await operator.status()).toEqual({ draining_machines: [], down_machines: [] });
    expect(await operator.schedule()).toEqual([]);
    // Events reached the handlers through the one ordered queue: the inverse offer after the
    // task's first updates, and the task's end after the inverse offer.
    expect(seen.order.indexOf('INVERSE_OFFERS')).toBeGreaterThan(seen.order.indexOf('UPDATE'));
    expect(seen.order.lastIndexOf('UPDATE')).toBeGreaterThan(seen.order.indexOf('INVERSE_OFFERS'));
  });

  it('notes a DECLINE, and rescinds the inverse offer when the machine leaves the schedule', async () => {
    const { mesos, operator } = await cluster();
    const { s, seen } = scheduler(mesos, 'decline');
    await waitFor('worker running', () => seen.updates.some((u) => u.state === 'TASK_RUNNING'));
    await operator.updateSchedule([WINDOW]);
    await pollStatus(operator, (st) => st.draining_machines[0]?.statuses[0]?.status === 'DECLINE');
    expect(seen.inverse).toHaveLength(1);

    // A second framework answers nothing: its inverse offer stays outstanding until the
    // machine leaves the schedule, then it is rescinded.
    const other = scheduler(mesos, 'accept');
    other.s.handle('INVERSE_OFFERS', (event) => {
      other.seen.inverse.push(...(event.inverse_offers.inverse_offers ?? []));
    });
    await waitFor('the second inverse offer', () => other.seen.inverse[0]);
    await operator.updateSchedule([]);
    await waitFor('RESCIND_INVERSE_OFFER', () =>
      other.seen.rescindedInverse.includes(other.seen.inverse[0]!.id.value),
    );
    expect(await operator.status()).toEqual({ draining_machines: [], down_machines: [] });
    expect(s.id).not.toBe(other.s.id);
  });

  it('refuses invalid transitions with the reason (400)', async () => {
    const { mesos, operator } = await cluster();
    const reason = async (p: Promise<unknown>): Promise<string> => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MesosHttpError);
      expect((err as MesosHttpError).status).toBe(400);
      return (err as MesosHttpError).message;
    };
    expect(await reason(operator.start([DRAINED]))).toContain('is not part of a maintenance schedule');
    await operator.updateSchedule([WINDOW]);
    expect(await reason(operator.stop([DRAINED]))).toContain('is not in DOWN mode');
    expect(
      await reason(operator.updateSchedule([WINDOW, { ...WINDOW, machine_ids: [{ ...DRAINED }] }])),
    ).toContain('appears more than once');
    await operator.start([DRAINED]);
    expect(await reason(operator.updateSchedule([]))).toContain('cannot be removed from the schedule');
    expect(await reason(operator.start([DRAINED]))).toContain('is not in DRAINING mode');
    expect(mesos.calls({ api: 'operator', status: 400 })).toHaveLength(5);
  });
});

/** Polls GET_MAINTENANCE_STATUS until `done` holds. */
async function pollStatus(
  operator: MaintenanceClient,
  done: (status: Awaited<ReturnType<MaintenanceClient['status']>>) => boolean,
): Promise<Awaited<ReturnType<MaintenanceClient['status']>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await operator.status();
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`maintenance status never matched: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

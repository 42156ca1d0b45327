/**
 * Reconciliation (spec §5) against the fake master: after every SUBSCRIBED, explicit RECONCILE of
 * the tasks the framework believes non-terminal (chunked), re-sent with truncated exponential
 * backoff to the tasks that have not answered, then one implicit RECONCILE; periodic runs; at
 * most one run at a time; completion reported with who answered and who never did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ReconcileTaskRef,
  type ReconciliationResult,
  type ReconciliationOptions,
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

/**
 * A scheduler that launches the given long-running tasks once and remembers the non-terminal
 * ones (what a framework's store would do); `extra` are reconciliation-task refs added to them.
 */
function framework(
  c: TestCluster,
  launch: string[],
  options: {
    extra?: () => ReconcileTaskRef[];
    reconciliation?: Partial<ReconciliationOptions>;
    scheduler?: Partial<SchedulerOptions>;
  } = {},
) {
  const known = new Map<string, ReconcileTaskRef>();
  const statuses: TaskStatus[] = [];
  const completions: ReconciliationResult[] = [];
  const pending = [...launch];
  const s = createScheduler({
    master: c.master,
    framework: {
      user: c.user,
      name: 'reconcile-test',
      roles: [c.role],
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    },
    credentials: c.credentials,
    backoff: { minMs: 50, maxMs: 400, factor: 2, jitter: 0 },
    ...options.scheduler,
    reconciliation: {
      initialDelayMs: 100,
      maxDelayMs: 400,
      periodMs: 0,
      ...options.reconciliation,
      tasks: () => [...known.values(), ...(options.extra?.() ?? [])],
    },
    handlers: {
      OFFERS: async (event, { scheduler }) => {
        for (const offer of event.offers.offers ?? []) {
          const batch = pending.splice(0, pending.length);
          if (batch.length === 0) await scheduler.decline([offer.id], { refuse_seconds: 60 });
          else
            await scheduler.accept(
              [offer.id],
              [
                {
                  type: 'LAUNCH',
                  launch: { task_infos: batch.map((id) => commandTask(offer, id, 'sleep 60')) },
                },
              ],
            );
        }
      },
      UPDATE: (event) => {
        const status = event.update.status;
        statuses.push(status);
        if (launch.includes(status.task_id.value)) {
          known.set(status.task_id.value, {
            task_id: status.task_id,
            ...(status.agent_id ? { agent_id: status.agent_id } : {}),
          });
        }
      },
    },
  });
  s.on('reconciliation-complete', (result) => completions.push(result));
  cleanups.push(() => s.stop());
  return { s, known, statuses, completions };
}

function reconcileCalls(c: TestCluster): { tasks: string[]; at: number }[] {
  return fakeOf(c)
    .calls({ type: 'RECONCILE' })
    .map((call) => ({
      tasks: ((call.body?.['reconcile'] as { tasks?: { task_id: { value: string } }[] }).tasks ?? []).map(
        (t) => t.task_id.value,
      ),
      at: call.at,
    }));
}

describe.runIf(faultInjection('reconciliation tests'))('reconciliation (fake master)', () => {
  it('after every SUBSCRIBED: explicit for the known tasks, answers through the handler, then implicit', async () => {
    const c = await cluster({ agents: 1 });
    const agentId = fakeOf(c).agentIds[0] as string;
    const f = framework(c, ['r1', 'r2'], {
      extra: () => [{ task_id: { value: 'ghost' }, agent_id: { value: agentId } }],
    });
    f.s.start();
    await waitFor('both running', () => f.statuses.filter((st) => st.state === 'TASK_RUNNING').length >= 2);
    const before = f.completions.length;
    const statusesBefore = f.statuses.length;
    // A new subscription starts a new run.
    fakeOf(c).dropSubscription(f.s.id as string);
    const result = await waitFor('a run after resubscribing', () =>
      f.completions.slice(before).find((r) => r.trigger === 'subscribed' && r.answered.length === 3),
    );
    expect(result).toMatchObject({ unanswered: [], rounds: 1, implicitSent: true, cancelled: false });
    expect(result.answered.sort()).toEqual(['ghost', 'r1', 'r2']);
    const answers = f.statuses.slice(statusesBefore).filter((st) => st.reason === 'REASON_RECONCILIATION');
    expect(answers.find((st) => st.task_id.value === 'r1')?.state).toBe('TASK_RUNNING');
    expect(answers.find((st) => st.task_id.value === 'ghost')?.state).toBe('TASK_GONE');
    const calls = reconcileCalls(c).filter((call) => call.at >= result.startedAt);
    expect(calls.map((call) => call.tasks.sort())).toEqual([['ghost', 'r1', 'r2'], []]);
  });

  it('re-sends with backoff to tasks that do not answer, gives up after maxRounds, and reports them', async () => {
    // After a failover, agents re-register only after 10 min: explicit reconciliation gets no
    // answer. The scheduler waits on a clock the test moves; the reconnect backoff (1 s) and the
    // heartbeat watchdog (minutes) ask for other delays than the reconciliation rounds.
    const c = await cluster({
      agents: 1,
      masters: 2,
      agentReregisterDelayMs: 600_000,
      heartbeatIntervalSeconds: 60,
    });
    const clock = new ManualClock();
    const f = framework(c, ['quiet'], {
      reconciliation: { maxRounds: 3 },
      scheduler: { clock, backoff: { minMs: 1000, maxMs: 1000, factor: 2, jitter: 0 } },
    });
    f.s.start();
    await waitFor(
      'running',
      () => f.known.has('quiet') && f.statuses.some((st) => st.state === 'TASK_RUNNING'),
    );
    const before = reconcileCalls(c).length;
    await fakeOf(c).failover({ to: 1 });
    clock.requested.length = 0;
    const result = await waitFor(
      'the run after the failover',
      () => {
        clock.advance(50);
        return f.completions.find((r) => r.trigger === 'subscribed' && r.unanswered.length > 0);
      },
      15_000,
    );
    expect(result).toMatchObject({
      answered: [],
      unanswered: ['quiet'],
      rounds: 3,
      implicitSent: true,
      cancelled: false,
    });
    const calls = reconcileCalls(c).slice(before);
    expect(calls.map((call) => call.tasks)).toEqual([['quiet'], ['quiet'], ['quiet'], []]);
    // Waits of 100, 200 then 400 ms for answers after the rounds (initialDelayMs 100, factor 2,
    // maxDelayMs 400): the only delays below the reconnect backoff it asked its clock for.
    expect(clock.requested.filter((ms) => ms < 1000)).toEqual([100, 200, 400]);
  });

  it('sends at most chunkSize tasks per RECONCILE call', async () => {
    const c = await cluster({ agents: 1 });
    const many = Array.from({ length: 2500 }, (_, i) => ({ task_id: { value: `unknown-${i}` } }));
    const f = framework(c, [], { extra: () => many });
    f.s.start();
    const result = await waitFor('the first run', () => f.completions[0], 20_000);
    expect(result.answered).toHaveLength(2500);
    const sizes = reconcileCalls(c).map((call) => call.tasks.length);
    expect(sizes).toEqual([1000, 1000, 500, 0]);
  });

  it('runs periodically, one run at a time; a manual call joins the run in progress', async () => {
    const c = await cluster({ agents: 1 });
    const f = framework(c, [], {
      extra: () => [{ task_id: { value: 'never' }, agent_id: { value: 'no-such-agent' } }],
      reconciliation: { periodMs: 200, initialDelayMs: 50, maxRounds: 1 },
    });
    f.s.start();
    await f.s.subscribed();
    const a = f.s.reconcile();
    const b = f.s.reconcile();
    expect(a).toBe(b);
    await waitFor(
      'two periodic runs',
      () => f.completions.filter((r) => r.trigger === 'periodic').length >= 2,
      15_000,
    );
    const runs = f.completions;
    for (let i = 1; i < runs.length; i++)
      expect(runs[i]!.startedAt).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt - 5);
  });

  it('a new subscription cancels the run in progress', async () => {
    const c = await cluster({ agents: 1, masters: 2, agentReregisterDelayMs: 10_000 });
    const f = framework(c, ['slow'], {
      reconciliation: { initialDelayMs: 5000 },
    });
    f.s.start();
    await waitFor('running', () => f.known.has('slow'));
    await fakeOf(c).failover({ to: 1 });
    await waitFor('a run waiting for answers', () =>
      reconcileCalls(c).some((call) => call.tasks.includes('slow') && call.at > 0),
    );
    // Whether it is still sending or already waiting for answers, the run ends with the stream.
    fakeOf(c).dropSubscription(f.s.id as string);
    const cancelled = await waitFor('the cancelled run', () => f.completions.find((r) => r.cancelled));
    expect(cancelled).toMatchObject({ trigger: 'subscribed', implicitSent: false, unanswered: ['slow'] });
  });
});

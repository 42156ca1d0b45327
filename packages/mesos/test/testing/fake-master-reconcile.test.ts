import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import {
  commandTask,
  frameworkInfo,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from './support/test-scheduler.js';

/**
 * Reconciliation straight from spec §5 (explicit cases 1–6, implicit) and §4.4 (PARTITION_AWARE
 * vs not), with the recorded differences 8 and 9 (acknowledged terminal tasks are unknown;
 * answers carry no uuid and, for command tasks, no executor_id).
 */

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

const CAPS_PA = [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }];
const CAPS_LEGACY = [{ type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }];

interface Cluster {
  fake: FakeMesos;
  scheduler: TestScheduler;
  agentA: string;
  agentB: string;
}

/** Two agents; "running" runs on A, "finished-acked" and "finished-unacked" finished on A. */
async function cluster(
  partitionAware: boolean,
  options: Parameters<typeof startFakeMesos>[0] = {},
): Promise<Cluster> {
  mesos = await startFakeMesos({ agents: 2, allocationIntervalMs: 50, agentPingTimeoutMs: 200, ...options });
  const scheduler = await subscribeScheduler(
    mesos.leaderUrl,
    frameworkInfo({ capabilities: partitionAware ? CAPS_PA : CAPS_LEGACY }),
  );
  const offers = await scheduler.nextOffers();
  const offer = offers[0] as Record<string, unknown>;
  const agentA = (offer.agent_id as { value: string }).value;
  const agentB = mesos.agentIds.find((id) => id !== agentA) as string;
  await scheduler.call(
    'ACCEPT',
    launch(
      [offer],
      [
        commandTask(offer, 'running', 'sleep 300'),
        commandTask(offer, 'finished-acked', 'sleep 0.05'),
        commandTask(offer, 'finished-unacked', 'sleep 0.05'),
      ],
    ),
  );
  for (const id of ['running', 'finished-acked', 'finished-unacked']) {
    await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_STARTING'));
    await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_RUNNING'));
  }
  await scheduler.ack(await scheduler.nextUpdate('finished-acked', 'TASK_FINISHED'));
  await scheduler.nextUpdate('finished-unacked', 'TASK_FINISHED');
  await mesos.waitFor((s) => s.tasks.find((t) => t.taskId === 'finished-acked')?.completed);
  return { fake: mesos, scheduler, agentA, agentB };
}

function entry(taskId: string, agentId?: string): Record<string, unknown> {
  return agentId === undefined
    ? { task_id: { value: taskId } }
    : { task_id: { value: taskId }, agent_id: { value: agentId } };
}

async function reconcileOne(c: Cluster, taskId: string, agentId?: string): Promise<Record<string, unknown>> {
  await c.scheduler.call('RECONCILE', { reconcile: { tasks: [entry(taskId, agentId)] } });
  return c.scheduler.nextUpdate(taskId, undefined, 3000);
}

function expectReconciliationShape(status: Record<string, unknown>): void {
  expect(status.source).toBe('SOURCE_MASTER');
  expect(status.reason).toBe('REASON_RECONCILIATION');
  expect(status.uuid).toBeUndefined();
  expect(typeof status.timestamp).toBe('number');
}

describe.each([
  ['PARTITION_AWARE', true],
  ['without PARTITION_AWARE', false],
])('fake master: explicit reconciliation, framework %s', (_name, partitionAware) => {
  const lost = (state: string): string => (partitionAware ? state : 'TASK_LOST');

  it('case 1: a known task answers its latest state with agent_id and container_status, without uuid or executor_id', async () => {
    const c = await cluster(partitionAware);
    for (const agentId of [c.agentA, undefined]) {
      const status = await reconcileOne(c, 'running', agentId);
      expectReconciliationShape(status);
      expect(status).toMatchObject({
        state: 'TASK_RUNNING',
        message: 'Reconciliation: Latest task state',
        agent_id: { value: c.agentA },
      });
      expect(status.executor_id).toBeUndefined();
      expect((status.container_status as { container_id: unknown }).container_id).toBeDefined();
    }
  });

  it('case 1 (recorded): a terminal task whose update was not acknowledged still answers TASK_FINISHED', async () => {
    const c = await cluster(partitionAware);
    const status = await reconcileOne(c, 'finished-unacked', c.agentA);
    expect(status).toMatchObject({ state: 'TASK_FINISHED', message: 'Reconciliation: Latest task state' });
  });

  it('case 3: unknown task on a registered agent (incl. acknowledged terminal) → TASK_GONE / TASK_LOST', async () => {
    const c = await cluster(partitionAware);
    for (const taskId of ['finished-acked', 'never-existed']) {
      const status = await reconcileOne(c, taskId, c.agentA);
      expectReconciliationShape(status);
      expect(status).toMatchObject({
        state: lost('TASK_GONE'),
        message: 'Reconciliation: Task is unknown to the agent',
        agent_id: { value: c.agentA },
      });
    }
  });

  it('case 4: unknown task on an unreachable agent → TASK_UNREACHABLE with unreachable_time / TASK_LOST', async () => {
    const c = await cluster(partitionAware);
    c.fake.loseAgent(c.agentB, { unreachableAfterMs: 50 });
    await c.fake.waitFor((s) => s.agents.find((a) => a.id === c.agentB)?.status === 'unreachable');
    const status = await reconcileOne(c, 'elsewhere', c.agentB);
    expect(status.state).toBe(lost('TASK_UNREACHABLE'));
    expect(status.unreachable_time).toBeDefined();
  });

  it('case 5: unknown task on an agent removed by the operator → TASK_GONE_BY_OPERATOR / TASK_LOST', async () => {
    const c = await cluster(partitionAware);
    await c.fake.removeAgent(c.agentB);
    const status = await reconcileOne(c, 'elsewhere', c.agentB);
    expect(status.state).toBe(lost('TASK_GONE_BY_OPERATOR'));
  });

  it('case 6: unknown task with an unknown agent_id or none → TASK_UNKNOWN / TASK_LOST (agent_id echoed when given)', async () => {
    const c = await cluster(partitionAware);
    const withAgent = await reconcileOne(c, 'ghost', `${c.agentA}99`);
    expect(withAgent).toMatchObject({
      state: lost('TASK_UNKNOWN'),
      message: 'Reconciliation: Task is unknown',
      agent_id: { value: `${c.agentA}99` },
    });
    const withoutAgent = await reconcileOne(c, 'ghost-2');
    expect(withoutAgent.state).toBe(lost('TASK_UNKNOWN'));
    expect(withoutAgent.agent_id).toBeUndefined();
  });

  it('answers several entries in request order', async () => {
    const c = await cluster(partitionAware);
    const ids = ['never-existed', 'running', 'finished-acked', 'finished-unacked', 'ghost'];
    await c.scheduler.call('RECONCILE', {
      reconcile: { tasks: ids.map((id) => entry(id, id === 'ghost' ? undefined : c.agentA)) },
    });
    const answers: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const record = await c.scheduler.stream.next(
        (r) =>
          r.type === 'UPDATE' &&
          (r.event.update as { status: { reason?: string } }).status.reason === 'REASON_RECONCILIATION',
      );
      answers.push((record.event.update as { status: { task_id: { value: string } } }).status.task_id.value);
    }
    expect(answers).toEqual(ids);
  });
});

describe('fake master: reconciliation while agents recover after a master failover', () => {
  it('case 2 and 6: no answer for tasks of recovering agents or without agent_id; answers once they re-registered', async () => {
    // The agents re-register only when the test says so (below), however slow the machine is.
    const c = await cluster(true, { agentReregisterDelayMs: 600_000 });
    await c.fake.failover();
    const again = await subscribeScheduler(c.fake.leaderUrl, frameworkInfo(), c.scheduler.frameworkId);
    await again.call('RECONCILE', { reconcile: { tasks: [entry('running', c.agentA), entry('nobody')] } });
    await again.call('RECONCILE', { reconcile: { tasks: [] } });
    // A later marker: a task on a fresh (registered) agent is answered at once (case 3); answers to
    // the calls above would be on the stream before it.
    const fresh = await c.fake.addAgent();
    await again.call('RECONCILE', { reconcile: { tasks: [entry('elsewhere', fresh)] } });
    const gone = await again.nextUpdate('elsewhere', 'TASK_GONE');
    expect(gone.message).toBe('Reconciliation: Task is unknown to the agent');
    expect(again.stream.ofType('UPDATE')).toHaveLength(1);
    for (const id of [c.agentA, c.agentB]) c.fake.reregisterAgent(id);
    await again.call('RECONCILE', { reconcile: { tasks: [entry('running', c.agentA)] } });
    const status = await again.nextUpdate('running', 'TASK_RUNNING');
    expect(status.message).toBe('Reconciliation: Latest task state');
  });
});

describe('fake master: implicit reconciliation', () => {
  it('answers every task the master tracks (not the acknowledged terminal one), for tasks: [] and for {}', async () => {
    const c = await cluster(true);
    const isAnswer = (r: { type: string; event: Record<string, unknown> }): boolean =>
      r.type === 'UPDATE' &&
      (r.event.update as { status: { reason?: string } }).status.reason === 'REASON_RECONCILIATION';
    const taskOf = (r: { event: Record<string, unknown> }): string =>
      (r.event.update as { status: { task_id: { value: string } } }).status.task_id.value;
    for (const payload of [{ tasks: [] }, {}]) {
      await c.scheduler.call('RECONCILE', { reconcile: payload });
      const first = await c.scheduler.stream.next(isAnswer);
      const second = await c.scheduler.stream.next(isAnswer);
      expect([first, second].map(taskOf).sort()).toEqual(['finished-unacked', 'running']);
    }
    // A later marker: an explicit answer is written after any extra implicit one.
    await c.scheduler.call('RECONCILE', { reconcile: { tasks: [entry('running', c.agentA)] } });
    const marker = await c.scheduler.stream.next(isAnswer);
    expect(taskOf(marker)).toBe('running');
    const answers = c.scheduler.stream.records.filter(isAnswer);
    expect(answers).toHaveLength(5);
    expect(answers.map(taskOf)).not.toContain('finished-acked');
  });
});

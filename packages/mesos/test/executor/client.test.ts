import { afterEach, describe, expect, it } from 'vitest';
import {
  createExecutor,
  type ExecutorClient,
  type ExecutorLifecycleEvent,
  type KillPolicy,
  type TaskInfo,
} from '@galley/mesos';
import type { FakeMesos } from '@galley/mesos/testing';
import { startExecutorHarness, type ExecutorHarness } from './support/harness.js';

/** The executor client against the fake agent's executor API (fake master, processes mode). */

let fake: FakeMesos | undefined;
let client: ExecutorClient | undefined;
afterEach(async () => {
  await client?.stop();
  await fake?.stop();
  client = undefined;
  fake = undefined;
});

interface Recorder {
  lifecycle: ExecutorLifecycleEvent[];
  launched: TaskInfo[];
  kills: Array<{ taskId: string; policy: KillPolicy | undefined }>;
  messages: string[];
  shutdowns: number;
}

async function connect(harness: ExecutorHarness): Promise<{ executor: ExecutorClient; seen: Recorder }> {
  fake = harness.fake;
  const seen: Recorder = { lifecycle: [], launched: [], kills: [], messages: [], shutdowns: 0 };
  const executor = createExecutor({
    config: harness.config,
    onLifecycle: (event) => seen.lifecycle.push(event),
    handlers: {
      launch: (task) => {
        seen.launched.push(task);
      },
      kill: (taskId, policy) => {
        seen.kills.push({ taskId, policy });
      },
      message: (data) => {
        seen.messages.push(Buffer.from(data, 'base64').toString('utf8'));
      },
      shutdown: () => {
        seen.shutdowns++;
      },
    },
  });
  client = executor;
  executor.start();
  await harness.fake.waitFor(() => seen.launched.length > 0, { what: 'LAUNCH' });
  return { executor, seen };
}

describe('executor client (fake master)', () => {
  it('subscribes, receives LAUNCH, sends UPDATEs with 16-byte v4 uuids and forgets them once ACKNOWLEDGED', async () => {
    const harness = await startExecutorHarness();
    const { executor, seen } = await connect(harness);
    expect(seen.lifecycle[0]).toEqual({ type: 'subscribed', resubscribed: false });
    expect(executor.subscription?.framework_info.id?.value).toBe(harness.config.frameworkId);
    expect(executor.supportsKillingState).toBe(true);
    expect(seen.launched[0]?.task_id.value).toBe('task-1');
    expect(executor.unacknowledgedTasks.map((t) => t.task_id.value)).toEqual(['task-1']);
    const uuid = await executor.update({
      task_id: { value: 'task-1' },
      state: 'TASK_RUNNING',
      message: 'up',
    });
    const bytes = Buffer.from(uuid, 'base64');
    expect(bytes).toHaveLength(16);
    expect(bytes[6]! >> 4).toBe(4);
    const running = await harness.scheduler.nextUpdate('task-1', 'TASK_RUNNING');
    expect(running).toMatchObject({
      uuid,
      message: 'up',
      source: 'SOURCE_EXECUTOR',
      executor_id: { value: 'test-executor' },
    });
    expect(await executor.waitForAcknowledgements(5000)).toBe(true);
    expect(executor.unacknowledgedUpdates).toEqual([]);
    expect(executor.unacknowledgedTasks).toEqual([]);
  });

  it('passes KILL with its policy; the grace period is event policy > TaskInfo policy > default', async () => {
    const harness = await startExecutorHarness({
      taskExtra: { kill_policy: { grace_period: { nanoseconds: 2_000_000_000 } } },
    });
    const { executor, seen } = await connect(harness);
    expect(executor.killGraceMs('task-1')).toBe(2000);
    expect(executor.killGraceMs('task-1', { grace_period: { nanoseconds: 50_000_000 } })).toBe(50);
    expect(executor.killGraceMs('unknown-task')).toBe(3000);
    await executor.update({ task_id: { value: 'task-1' }, state: 'TASK_RUNNING' });
    await harness.scheduler.ack(await harness.scheduler.nextUpdate('task-1', 'TASK_RUNNING'));
    await harness.scheduler.call('KILL', {
      kill: {
        task_id: { value: 'task-1' },
        agent_id: { value: harness.agentId },
        kill_policy: { grace_period: { nanoseconds: 50_000_000 } },
      },
    });
    await harness.fake.waitFor(() => seen.kills.length > 0, { what: 'KILL' });
    expect(seen.kills[0]).toEqual({
      taskId: 'task-1',
      policy: { grace_period: { nanoseconds: 50_000_000 } },
    });
  });

  it('carries MESSAGEs both ways and hands SHUTDOWN to its handler', async () => {
    const harness = await startExecutorHarness();
    const { executor, seen } = await connect(harness);
    await executor.message('hello scheduler');
    const message = await harness.scheduler.stream.nextOfType('MESSAGE');
    expect(Buffer.from((message.event.message as { data: string }).data, 'base64').toString()).toBe(
      'hello scheduler',
    );
    await harness.scheduler.call('MESSAGE', {
      message: {
        agent_id: { value: harness.agentId },
        executor_id: { value: 'test-executor' },
        data: Buffer.from('hello executor').toString('base64'),
      },
    });
    await harness.fake.waitFor(() => seen.messages.length > 0, { what: 'MESSAGE' });
    expect(seen.messages).toEqual(['hello executor']);
    await harness.scheduler.call('SHUTDOWN', {
      shutdown: { executor_id: { value: 'test-executor' }, agent_id: { value: harness.agentId } },
    });
    await harness.fake.waitFor(() => seen.shutdowns > 0, { what: 'SHUTDOWN' });
  });

  it('re-subscribes after an agent restart and hands over the updates the agent never acknowledged', async () => {
    const harness = await startExecutorHarness();
    const { executor, seen } = await connect(harness);
    await executor.update({ task_id: { value: 'task-1' }, state: 'TASK_RUNNING' });
    await harness.scheduler.ack(await harness.scheduler.nextUpdate('task-1', 'TASK_RUNNING'));
    const restarting = harness.fake.restartAgent(harness.agentId, { downMs: 500 });
    await harness.fake.waitFor(() => seen.lifecycle.some((e) => e.type === 'disconnected'), {
      what: 'the disconnect',
    });
    const uuid = await executor.update({
      task_id: { value: 'task-1' },
      state: 'TASK_FINISHED',
      message: 'done while the agent was away',
    });
    expect(executor.unacknowledgedUpdates.map((s) => s.uuid)).toEqual([uuid]);
    await restarting;
    await harness.fake.waitFor(() => seen.lifecycle.some((e) => e.type === 'subscribed' && e.resubscribed), {
      what: 'the re-subscription',
    });
    const finished = await harness.scheduler.nextUpdate('task-1', 'TASK_FINISHED');
    expect(finished.uuid).toBe(uuid);
    const subscribes = harness.fake.calls({ api: 'executor', type: 'SUBSCRIBE' });
    const again = subscribes[subscribes.length - 1]?.body?.subscribe as {
      unacknowledged_updates?: Array<{ status: { uuid: string } }>;
    };
    expect(again.unacknowledged_updates?.map((u) => u.status.uuid)).toEqual([uuid]);
    expect(await executor.waitForAcknowledgements(5000)).toBe(true);
  });

  it('reports agent-lost without reconnecting when the framework does not checkpoint', async () => {
    const harness = await startExecutorHarness({ checkpoint: false });
    const { executor, seen } = await connect(harness);
    await harness.fake.restartAgent(harness.agentId, { downMs: 200 });
    // The agent is back; the client has ended on its own (it would still be retrying otherwise).
    await executor.ended;
    expect(seen.lifecycle.filter((e) => e.type === 'agent-lost')).toHaveLength(1);
    expect(seen.lifecycle.filter((e) => e.type === 'subscribed')).toHaveLength(1);
    expect(harness.fake.calls({ api: 'executor', type: 'SUBSCRIBE' })).toHaveLength(1);
  });

  it('gives up with recovery-timeout when the agent stays away longer than MESOS_RECOVERY_TIMEOUT', async () => {
    const harness = await startExecutorHarness({
      config: { recoveryTimeoutMs: 400, subscriptionBackoffMaxMs: 50 },
    });
    const { executor, seen } = await connect(harness);
    let agentBack = false;
    // Down far longer than the recovery timeout: the client must give up while it is still away.
    void harness.fake.restartAgent(harness.agentId, { downMs: 60_000 }).then(() => (agentBack = true));
    await executor.ended;
    expect(seen.lifecycle.filter((e) => e.type === 'recovery-timeout')).toHaveLength(1);
    expect(agentBack).toBe(false);
    // It tried again before giving up: the first failed re-subscription was not the end.
    expect(seen.lifecycle.filter((e) => e.type === 'disconnected').length).toBeGreaterThan(1);
    expect(seen.lifecycle.filter((e) => e.type === 'subscribed')).toHaveLength(1);
  });
});

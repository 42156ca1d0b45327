import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import {
  commandTask,
  frameworkInfo,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from './support/test-scheduler.js';

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

const GRACE_2S = { kill_policy: { grace_period: { nanoseconds: 400_000_000 } } };

async function runningTask(
  scheduler: TestScheduler,
  taskId: string,
  command: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  await scheduler.call(
    'ACCEPT',
    launch([offer], [commandTask(offer, taskId, command, extra)], { refuse_seconds: 0 }),
  );
  await scheduler.ack(await scheduler.nextUpdate(taskId, 'TASK_STARTING'));
  const running = await scheduler.nextUpdate(taskId, 'TASK_RUNNING');
  await scheduler.ack(running);
  return running;
}

describe('fake master: KILL (simulate mode)', () => {
  it('sends TASK_KILLING then TASK_KILLED "Command terminated with signal Terminated" with TASK_KILLING_STATE', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const running = await runningTask(scheduler, 'sleeper', 'sleep 300', GRACE_2S);
    await scheduler.call('KILL', { kill: { task_id: { value: 'sleeper' }, agent_id: running.agent_id } });
    const killing = await scheduler.nextUpdate('sleeper', 'TASK_KILLING');
    expect(killing.uuid).toBeDefined();
    await scheduler.ack(killing);
    const killed = await scheduler.nextUpdate('sleeper', 'TASK_KILLED');
    expect(killed.message).toBe('Command terminated with signal Terminated');
    expect(killed.source).toBe('SOURCE_EXECUTOR');
  });

  it('escalates to SIGKILL after the grace period for a task that ignores TERM ("signal Killed")', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const running = await runningTask(scheduler, 'stubborn', 'trap "" TERM; sleep 300', GRACE_2S);
    const stateOf = (): string | undefined =>
      mesos?.state().tasks.find((t) => t.taskId === 'stubborn')?.state;
    // From here the fake's timers run on a fake clock: the grace period is counted, not timed.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await scheduler.call('KILL', { kill: { task_id: { value: 'stubborn' }, agent_id: running.agent_id } });
      await scheduler.ack(await scheduler.nextUpdate('stubborn', 'TASK_KILLING'));
      vi.advanceTimersByTime(399);
      expect(stateOf()).toBe('TASK_KILLING'); // it ignored SIGTERM; no SIGKILL yet
      vi.advanceTimersByTime(1_000);
      expect(stateOf()).toBe('TASK_KILLED');
    } finally {
      vi.useRealTimers();
    }
    const killed = await scheduler.nextUpdate('stubborn', 'TASK_KILLED');
    expect(killed.message).toBe('Command terminated with signal Killed');
  });

  it('lets the KILL call kill_policy override the TaskInfo grace period', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const running = await runningTask(scheduler, 'override', 'trap "" TERM; sleep 300', {
      kill_policy: { grace_period: { nanoseconds: 60e9 } },
    });
    await scheduler.call('KILL', {
      kill: {
        task_id: { value: 'override' },
        agent_id: running.agent_id,
        kill_policy: { grace_period: { nanoseconds: 50_000_000 } },
      },
    });
    await scheduler.ack(await scheduler.nextUpdate('override', 'TASK_KILLING'));
    const killed = await scheduler.nextUpdate('override', 'TASK_KILLED', 3000);
    expect(killed.message).toBe('Command terminated with signal Killed');
  });

  it('sends only TASK_KILLED to a framework without TASK_KILLING_STATE', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(
      mesos.leaderUrl,
      frameworkInfo({ capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }] }),
    );
    const running = await runningTask(scheduler, 'plain', 'sleep 300');
    await scheduler.call('KILL', { kill: { task_id: { value: 'plain' }, agent_id: running.agent_id } });
    const killed = await scheduler.nextUpdate('plain', 'TASK_KILLED');
    expect(killed.message).toBe('Command terminated with signal Terminated');
    const states = scheduler.stream
      .ofType('UPDATE')
      .map((r) => (r.event.update as { status: { state: string } }).status.state);
    expect(states).not.toContain('TASK_KILLING');
  });

  it('answers KILL of a finished-and-acknowledged or unknown task by reconciliation (GONE with agent, UNKNOWN without)', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const running = await runningTask(scheduler, 'done', 'sleep 0.05');
    await scheduler.ack(await scheduler.nextUpdate('done', 'TASK_FINISHED'));
    await mesos.waitFor((s) => s.tasks.find((t) => t.taskId === 'done')?.completed);
    await scheduler.call('KILL', { kill: { task_id: { value: 'done' }, agent_id: running.agent_id } });
    const gone = await scheduler.nextUpdate('done', 'TASK_GONE');
    expect(gone).toMatchObject({
      message: 'Reconciliation: Task is unknown to the agent',
      source: 'SOURCE_MASTER',
      reason: 'REASON_RECONCILIATION',
    });
    expect(gone.uuid).toBeUndefined();
    await scheduler.call('KILL', { kill: { task_id: { value: 'never-launched' } } });
    const unknown = await scheduler.nextUpdate('never-launched', 'TASK_UNKNOWN');
    expect(unknown.message).toBe('Reconciliation: Task is unknown');
    expect(unknown.agent_id).toBeUndefined();
  });

  it('kills a task group as a whole and reports FAILURE {status: 0} when the default executor exits', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    const executor = {
      type: 'DEFAULT',
      executor_id: { value: 'group-executor' },
      framework_id: { value: scheduler.frameworkId },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
        { name: 'disk', type: 'SCALAR', scalar: { value: 32 } },
      ],
    };
    const tasks = [commandTask(offer, 'group-a', 'sleep 300'), commandTask(offer, 'group-b', 'sleep 300')];
    await scheduler.call('ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } } }],
      },
    });
    for (const id of ['group-a', 'group-b']) {
      const starting = await scheduler.nextUpdate(id, 'TASK_STARTING');
      expect(starting.executor_id).toEqual({ value: 'group-executor' });
      expect(
        (starting.container_status as { container_id: { parent?: unknown } }).container_id.parent,
      ).toBeDefined();
      await scheduler.ack(starting);
      await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_RUNNING'));
    }
    await scheduler.call('KILL', { kill: { task_id: { value: 'group-a' }, agent_id: offer.agent_id } });
    for (const id of ['group-a', 'group-b']) {
      await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_KILLING'));
      await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_KILLED'));
    }
    const failure = await scheduler.stream.nextOfType('FAILURE');
    expect(failure.event.failure).toEqual({
      agent_id: offer.agent_id,
      executor_id: { value: 'group-executor' },
      status: 0,
    });
  });
});

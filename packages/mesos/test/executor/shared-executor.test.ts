import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import {
  commandTask,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from '../testing/support/test-scheduler.js';
import { rawRequest } from '../testing/support/wire-client.js';
import { builtExecutor } from './support/build.js';

/**
 * galley-executor shared by many tasks (GALLEY_EXECUTOR_SHARED=1): one ExecutorInfo reused across
 * LAUNCHes on an agent, one executor process started once, each task in its own directory with its
 * own output, the executor up while idle until its idle timeout.
 */

let main = '';
beforeAll(() => {
  main = builtExecutor();
}, 120_000);

let fake: FakeMesos | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function sharedExecutor(idleTimeout: string): Record<string, unknown> {
  return {
    executor_id: { value: 'galley-shared' },
    type: 'CUSTOM',
    name: 'galley-executor',
    command: {
      value: `${process.execPath} ${main}`,
      environment: {
        variables: [
          { name: 'GALLEY_EXECUTOR_SHARED', value: '1' },
          { name: 'GALLEY_EXECUTOR_IDLE_TIMEOUT', value: idleTimeout },
        ],
      },
    },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
    ],
  };
}

function taskOn(offer: Record<string, unknown>, id: string, command: string, idleTimeout: string) {
  const data = Buffer.from(JSON.stringify({ shell: true, value: command })).toString('base64');
  return {
    ...commandTask(offer, id, command),
    command: undefined,
    data,
    executor: sharedExecutor(idleTimeout),
  };
}

async function ackUntilEnd(scheduler: TestScheduler, taskId: string): Promise<Record<string, unknown>> {
  for (;;) {
    const status = await scheduler.nextUpdate(taskId, undefined, 15_000);
    await scheduler.ack(status);
    if (!['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'].includes(String(status.state))) return status;
  }
}

describe('galley-executor shared by the tasks of an agent', () => {
  it('runs tasks of several LAUNCHes in one executor process, each with its own directory and output, and stops when idle', async () => {
    fake = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50, executorStartMs: 50 });
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const first = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call(
      'ACCEPT',
      launch([first], [taskOn(first, 'one', 'echo one; echo one-err >&2; pwd', '1secs')], {
        refuse_seconds: 0,
      }),
    );
    expect(await ackUntilEnd(scheduler, 'one')).toMatchObject({
      state: 'TASK_FINISHED',
      message: 'Command exited with status 0',
      executor_id: { value: 'galley-shared' },
    });
    // The executor is still up: the next offer says so, and a second LAUNCH reuses it (its
    // resources are not asked for again).
    const second = await (async () => {
      for (;;) {
        const offers = await scheduler.nextOffers();
        const withExecutor = offers.find((o) =>
          ((o.executor_ids as Array<{ value: string }> | undefined) ?? []).some(
            (e) => e.value === 'galley-shared',
          ),
        );
        if (withExecutor) return withExecutor;
      }
    })();
    await scheduler.call('ACCEPT', launch([second], [taskOn(second, 'two', 'echo two', '1secs')]));
    expect(await ackUntilEnd(scheduler, 'two')).toMatchObject({ state: 'TASK_FINISHED' });
    const state = fake.state();
    const sandboxes = new Set(state.tasks.map((t) => t.sandbox));
    expect(sandboxes.size).toBe(1); // one executor run for both tasks
    const sandbox = [...sandboxes][0] ?? '';
    const agentUrl = fake.agentUrl((first.agent_id as { value: string }).value);
    const read = async (path: string): Promise<string> => {
      const answer = await rawRequest(agentUrl, {
        method: 'GET',
        path: `/files/read?path=${encodeURIComponent(`${sandbox}/${path}`)}&offset=0`,
      });
      return (JSON.parse(answer.body) as { data: string }).data;
    };
    expect(await read('tasks/one/stdout')).toBe(`one\n${sandbox}/tasks/one\n`);
    expect(await read('tasks/one/stderr')).toBe('one-err\n');
    expect(await read('tasks/two/stdout')).toBe('two\n');
    // Idle for its timeout (1 s), it stops: FAILURE with status 0.
    const failure = await scheduler.stream.nextOfType('FAILURE', 15_000);
    expect(failure.event.failure).toMatchObject({ executor_id: { value: 'galley-shared' }, status: 0 });
  });
});

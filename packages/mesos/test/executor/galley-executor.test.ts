import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import {
  commandTask,
  frameworkInfo,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from '../testing/support/test-scheduler.js';
import { rawRequest } from '../testing/support/wire-client.js';
import { builtExecutor } from './support/build.js';

/**
 * galley-executor end to end: the built executor runs as the task's ExecutorInfo.command under the
 * fake agent (processes mode) and speaks its executor API.
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

interface Launched {
  fake: FakeMesos;
  scheduler: TestScheduler;
  agentId: string;
}

async function launchWithGalleyExecutor(
  command: string,
  options: { taskExtra?: Record<string, unknown>; capabilities?: Array<{ type: string }> } = {},
): Promise<Launched> {
  fake = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50 });
  const info =
    options.capabilities === undefined
      ? frameworkInfo()
      : frameworkInfo({ capabilities: options.capabilities });
  const scheduler = await subscribeScheduler(fake.leaderUrl, info);
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  const executor = {
    executor_id: { value: 'galley-exec' },
    type: 'CUSTOM',
    name: 'galley-executor',
    command: { value: `${process.execPath} ${main}` },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
    ],
  };
  // LAUNCH forbids a task with both an executor and a command: the command travels in `data`.
  const data = Buffer.from(JSON.stringify({ shell: true, value: command })).toString('base64');
  const task = {
    ...commandTask(offer, 'job', command),
    command: undefined,
    data,
    executor,
    ...options.taskExtra,
  };
  await scheduler.call('ACCEPT', launch([offer], [task], { refuse_seconds: 0 }));
  return { fake, scheduler, agentId: (offer.agent_id as { value: string }).value };
}

async function ackUntil(
  scheduler: TestScheduler,
  taskId: string,
  state: string,
): Promise<Record<string, unknown>> {
  for (;;) {
    const status = await scheduler.nextUpdate(taskId, undefined, 15_000);
    await scheduler.ack(status);
    if (status.state === state) return status;
  }
}

/** True when a process of the group is still running (zombies do not count: PID 1 may not reap them here). */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

describe('galley-executor (fake master)', () => {
  it('runs the shell command, reports STARTING, RUNNING, FINISHED "Command exited with status 0", then exits (FAILURE status 0)', async () => {
    const { scheduler, agentId } = await launchWithGalleyExecutor('echo hello from the task');
    const states: string[] = [];
    let last: Record<string, unknown> = {};
    while (!['TASK_FINISHED', 'TASK_FAILED'].includes(String(last.state))) {
      last = await scheduler.nextUpdate('job', undefined, 15_000);
      states.push(String(last.state));
      expect(last).toMatchObject({ source: 'SOURCE_EXECUTOR', executor_id: { value: 'galley-exec' } });
      await scheduler.ack(last);
    }
    expect(states).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(last.message).toBe('Command exited with status 0');
    const failure = await scheduler.stream.nextOfType('FAILURE', 15_000);
    expect(failure.event.failure).toEqual({
      agent_id: { value: agentId },
      executor_id: { value: 'galley-exec' },
      status: 0,
    });
    const sandbox = fake?.state().tasks.find((t) => t.taskId === 'job')?.sandbox ?? '';
    const stdout = await rawRequest(fake?.agentUrl(agentId) ?? '', {
      method: 'GET',
      path: `/files/read?path=${encodeURIComponent(`${sandbox}/stdout`)}&offset=0`,
    });
    expect((JSON.parse(stdout.body) as { data: string }).data).toContain('hello from the task\n');
  });

  it('reports a non-zero exit as TASK_FAILED with the exit code in the message', async () => {
    const { scheduler } = await launchWithGalleyExecutor('exit 3');
    const failed = await ackUntil(scheduler, 'job', 'TASK_FAILED');
    expect(failed.message).toBe('Command exited with status 3');
  });

  it('on KILL sends TASK_KILLING, SIGTERM to the process group, SIGKILL when the grace period ends (a later KILL shortens it), then TASK_KILLED', async () => {
    // The shell survives SIGTERM (its trap notes it; the `sleep` it waits for dies and is restarted).
    // The grace period is a minute, so "not yet killed" holds however slow the machine is; a second
    // KILL with a zero grace period then brings the SIGKILL forward.
    const {
      fake: cluster,
      scheduler,
      agentId,
    } = await launchWithGalleyExecutor(
      'echo $$ > pgid; trap "echo term > term" TERM; while :; do sleep 1; done',
      {
        taskExtra: { kill_policy: { grace_period: { nanoseconds: 60e9 } } },
      },
    );
    await ackUntil(scheduler, 'job', 'TASK_RUNNING');
    const sandbox = cluster.state().tasks.find((t) => t.taskId === 'job')?.sandbox ?? '';
    const read = async (name: string): Promise<string> => {
      const answer = await rawRequest(cluster.agentUrl(agentId), {
        method: 'GET',
        path: `/files/read?path=${encodeURIComponent(`${sandbox}/${name}`)}&offset=0`,
      });
      return answer.status === 200 ? (JSON.parse(answer.body) as { data: string }).data.trim() : '';
    };
    const eventually = async (name: string): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const text = await read(name);
        if (text !== '') return text;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${name} in the sandbox`);
    };
    // The task wrote its shell's pid, which is its process group id (the executor made it a group leader).
    const pgid = Number(await eventually('pgid'));
    expect(groupAlive(pgid)).toBe(true);
    await scheduler.call('KILL', { kill: { task_id: { value: 'job' }, agent_id: { value: agentId } } });
    const killing = await scheduler.nextUpdate('job', 'TASK_KILLING', 10_000);
    await scheduler.ack(killing);
    // SIGTERM reached the group and the grace period runs: the shell handled it and lives on.
    expect(await eventually('term')).toBe('term');
    expect(groupAlive(pgid)).toBe(true);
    await scheduler.call('KILL', {
      kill: {
        task_id: { value: 'job' },
        agent_id: { value: agentId },
        kill_policy: { grace_period: { nanoseconds: 0 } },
      },
    });
    // (The executor reports TASK_KILLING again for the second KILL.)
    const killed = await ackUntil(scheduler, 'job', 'TASK_KILLED');
    expect(killed.message).toBe('Command terminated with signal Killed');
    expect(groupAlive(pgid)).toBe(false);
    await scheduler.stream.nextOfType('FAILURE', 15_000);
  });

  it('sends only TASK_KILLED ("signal Terminated") to a framework without TASK_KILLING_STATE', async () => {
    const { scheduler, agentId } = await launchWithGalleyExecutor('sleep 300', {
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    });
    await ackUntil(scheduler, 'job', 'TASK_RUNNING');
    await scheduler.call('KILL', { kill: { task_id: { value: 'job' }, agent_id: { value: agentId } } });
    const killed = await scheduler.nextUpdate('job', 'TASK_KILLED', 10_000);
    expect(killed.message).toBe('Command terminated with signal Terminated');
    const states = scheduler.stream
      .ofType('UPDATE')
      .map((r) => (r.event.update as { status: { state: string } }).status.state);
    expect(states).not.toContain('TASK_KILLING');
  });

  it('re-subscribes after an agent restart and hands over the terminal update it could not deliver', async () => {
    const { fake: cluster, scheduler, agentId } = await launchWithGalleyExecutor('sleep 0.6; exit 0');
    await ackUntil(scheduler, 'job', 'TASK_RUNNING');
    await cluster.restartAgent(agentId, { downMs: 1500 });
    const finished = await scheduler.nextUpdate('job', 'TASK_FINISHED', 15_000);
    expect(finished.message).toBe('Command exited with status 0');
    const subscribes = cluster.calls({ api: 'executor', type: 'SUBSCRIBE' }).filter((c) => c.status === 200);
    expect(subscribes.length).toBeGreaterThanOrEqual(2);
    const resubscribe = subscribes[subscribes.length - 1]?.body?.subscribe as {
      unacknowledged_updates?: Array<{ status: { state: string; uuid: string } }>;
    };
    expect(resubscribe.unacknowledged_updates?.map((u) => u.status.state)).toContain('TASK_FINISHED');
    expect(
      resubscribe.unacknowledged_updates?.find((u) => u.status.state === 'TASK_FINISHED')?.status.uuid,
    ).toBe(finished.uuid);
    await scheduler.ack(finished);
    await scheduler.stream.nextOfType('FAILURE', 15_000);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeMesos, type FakeMesos, type FakeMesosOptions } from '@galley/mesos/testing';
import { commandTask, launch, subscribeScheduler, type TestScheduler } from './support/test-scheduler.js';
import { executorLogShape } from './support/executor-log.js';
import { rawRequest } from './support/wire-client.js';

/**
 * Agents as strict as stock Mesos 1.12 agents (`--containerizers=mesos`, no image providers, by
 * default): a container they cannot launch fails the task with the status, reason and message a
 * real agent sends; starting an executor costs `executorStartMs`.
 */

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
  vi.useRealTimers();
});

async function start(options: FakeMesosOptions): Promise<{
  fake: FakeMesos;
  scheduler: TestScheduler;
  offer: Record<string, unknown>;
}> {
  mesos = await startFakeMesos({ allocationIntervalMs: 50, executorStartMs: 0, ...options });
  const scheduler = await subscribeScheduler(mesos.leaderUrl);
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  return { fake: mesos, scheduler, offer };
}

/** Acknowledges the task's updates until a terminal one, and answers the states seen and the last update. */
async function runToEnd(
  scheduler: TestScheduler,
  taskId: string,
): Promise<{ states: string[]; last: Record<string, unknown> }> {
  const states: string[] = [];
  for (;;) {
    const status = await scheduler.nextUpdate(taskId, undefined, 15_000);
    await scheduler.ack(status);
    states.push(String(status.state));
    if (!['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'].includes(String(status.state)))
      return { states, last: status };
  }
}

const DOCKER_IMAGE_IN_MESOS = {
  type: 'MESOS',
  mesos: { image: { type: 'DOCKER', docker: { name: 'alpine:3' } } },
};
const DOCKER_CONTAINER = { type: 'DOCKER', docker: { image: 'alpine:3', network: 'HOST' } };

describe('fake agents: what a stock agent cannot run fails as on Mesos 1.12', () => {
  it('fails a MESOS container with a Docker image on an agent without image providers, from the agent, before STARTING', async () => {
    const { fake, scheduler, offer } = await start({});
    expect(fake.state().agents[0]).toMatchObject({
      containerizers: ['mesos'],
      imageProviders: [],
      isolation: ['posix/cpu', 'posix/mem'],
      launcher: 'posix',
    });
    await scheduler.call(
      'ACCEPT',
      launch([offer], [commandTask(offer, 'image-task', 'true', { container: DOCKER_IMAGE_IN_MESOS })]),
    );
    const { states, last } = await runToEnd(scheduler, 'image-task');
    expect(states).toEqual(['TASK_FAILED']);
    expect(last).toMatchObject({
      state: 'TASK_FAILED',
      source: 'SOURCE_AGENT',
      reason: 'REASON_CONTAINER_LAUNCH_FAILED',
      message: 'Failed to launch container: Unsupported container image type: 2',
      agent_id: offer.agent_id,
      executor_id: { value: 'image-task' },
    });
    expect(typeof last.uuid).toBe('string');
    expect(last.container_status).toBeUndefined();
    // A command executor's end is never a FAILURE event, and the agent's resources are free again.
    await fake.waitFor((s) => s.agents[0]?.used === '', { what: 'resources released' });
    expect(scheduler.stream.records.some((r) => r.type === 'FAILURE')).toBe(false);
  });

  it('fails a DOCKER container without the docker containerizer as an executor that terminated in an unknown container', async () => {
    const { scheduler, offer } = await start({});
    await scheduler.call(
      'ACCEPT',
      launch([offer], [commandTask(offer, 'docker-task', 'true', { container: DOCKER_CONTAINER })]),
    );
    const { states, last } = await runToEnd(scheduler, 'docker-task');
    expect(states).toEqual(['TASK_FAILED']);
    expect(last).toMatchObject({
      source: 'SOURCE_AGENT',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: 'Abnormal executor termination: unknown container',
    });
  });

  it('runs what its flags allow: images with --image_providers=docker, DOCKER containers with --containerizers=mesos,docker', async () => {
    const { fake, scheduler, offer } = await start({
      agents: [{ containerizers: 'mesos,docker', imageProviders: 'docker' }],
    });
    expect(fake.state().agents[0]).toMatchObject({
      containerizers: ['mesos', 'docker'],
      imageProviders: ['docker'],
      isolation: ['filesystem/linux', 'docker/runtime'],
      launcher: 'linux',
    });
    const agentState = JSON.parse(
      (await rawRequest(fake.agentUrl(fake.agentIds[0] ?? ''), { method: 'GET', path: '/state' })).body,
    ) as { flags: Record<string, string> };
    expect(agentState.flags).toMatchObject({
      containerizers: 'mesos,docker',
      image_providers: 'docker',
      isolation: 'filesystem/linux,docker/runtime',
      launcher: 'linux',
    });
    await scheduler.call(
      'ACCEPT',
      launch(
        [offer],
        [
          commandTask(offer, 'mesos-image', 'exit 0', { container: DOCKER_IMAGE_IN_MESOS }),
          commandTask(offer, 'docker', 'exit 0', { container: DOCKER_CONTAINER }),
          commandTask(offer, 'plain', 'exit 0'),
        ],
      ),
    );
    for (const id of ['mesos-image', 'docker', 'plain']) {
      expect((await runToEnd(scheduler, id)).states).toEqual([
        'TASK_STARTING',
        'TASK_RUNNING',
        'TASK_FINISHED',
      ]);
    }
  });

  it('fails even a plain command task on an agent with only the docker containerizer', async () => {
    const { scheduler, offer } = await start({ agents: [{ containerizers: 'docker' }] });
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'plain', 'true')]));
    expect((await runToEnd(scheduler, 'plain')).last).toMatchObject({
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: 'Abnormal executor termination: unknown container',
    });
  });

  it("fails a task group's task whose image the agent cannot provide from the default executor, and kills the rest of the group", async () => {
    const { scheduler, offer } = await start({});
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
    const tasks = [
      commandTask(offer, 'with-image', 'sleep 30', { container: DOCKER_IMAGE_IN_MESOS }),
      commandTask(offer, 'plain', 'sleep 30'),
    ];
    await scheduler.call('ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } } }],
      },
    });
    const failed = await runToEnd(scheduler, 'with-image');
    expect(failed.last).toMatchObject({
      state: 'TASK_FAILED',
      source: 'SOURCE_EXECUTOR',
      message: 'Unsupported container image type: 2',
    });
    expect(failed.last.reason).toBeUndefined();
    expect((await runToEnd(scheduler, 'plain')).last).toMatchObject({ state: 'TASK_KILLED' });
  });

  it('refuses to start an agent whose flags a real agent refuses', async () => {
    await expect(
      startFakeMesos({ agents: [{ imageProviders: 'docker', isolation: 'posix/cpu,posix/mem' }] }),
    ).rejects.toThrow(
      "Could not create MesosContainerizer: The 'filesystem/linux' isolator must be enabled for container image support",
    );
    await expect(
      startFakeMesos({ agents: [{ imageProviders: 'docker', launcher: 'posix' }] }),
    ).rejects.toThrow("The 'linux' launcher must be used for container image support");
    await expect(startFakeMesos({ agents: [{ containerizers: 'mesos,mesos' }] })).rejects.toThrow(
      "Duplicate entries found in --containerizer flag 'mesos,mesos'",
    );
    await expect(startFakeMesos({ agents: [{ containerizers: 'rkt' }] })).rejects.toThrow(
      'Unknown or unsupported containerizer: rkt',
    );
  });
});

describe('fake agents: starting an executor costs time', () => {
  // The fake's timers run on vitest's fake clock in these tests: start times are counted, not timed.
  const stateOf = (id: string): string | undefined =>
    mesos?.state().tasks.find((t) => t.taskId === id)?.state;

  it('holds a command task in STAGING for executorStartMs before STARTING, and a killed waiting task never starts', async () => {
    const { scheduler, offer } = await start({ executorStartMs: 300 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'slow-start', 'exit 0')]));
    vi.advanceTimersByTime(299);
    expect(stateOf('slow-start')).toBe('TASK_STAGING');
    vi.advanceTimersByTime(2); // started at 300 ms, its program spawned a tick later
    expect(stateOf('slow-start')).not.toBe('TASK_STAGING');
    await scheduler.nextUpdate('slow-start', 'TASK_STARTING');

    const offers = await scheduler.nextOffers();
    const next = offers[0] as Record<string, unknown>;
    await scheduler.call('ACCEPT', launch([next], [commandTask(next, 'never-started', 'sleep 30')]));
    expect(stateOf('never-started')).toBe('TASK_STAGING');
    await scheduler.call('KILL', { kill: { task_id: { value: 'never-started' }, agent_id: next.agent_id } });
    const { states, last } = await runToEnd(scheduler, 'never-started');
    expect(states).toEqual(['TASK_KILLED']);
    expect(last).toMatchObject({ reason: 'REASON_TASK_KILLED_DURING_LAUNCH' });
  });

  it('starts at most executorStartConcurrency executors at once on an agent; a custom executor starts once for its tasks', async () => {
    const { scheduler, offer } = await start({ executorStartMs: 200, executorStartConcurrency: 1 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await scheduler.call(
      'ACCEPT',
      launch(
        [offer],
        ['a', 'b', 'c'].map((id) => commandTask(offer, id, 'sleep 30')),
      ),
    );
    // Three command executors one after the other, 200 ms each.
    const staging = (): number => ['a', 'b', 'c'].filter((id) => stateOf(id) === 'TASK_STAGING').length;
    let now = 0;
    const advanceTo = (ms: number): void => {
      vi.advanceTimersByTime(ms - now);
      now = ms;
    };
    for (let started = 0; started < 3; started++) {
      advanceTo(200 * (started + 1) - 1);
      expect(staging()).toBe(3 - started);
      advanceTo(200 * (started + 1) + 1);
      expect(staging()).toBe(2 - started);
    }
    for (const id of ['a', 'b', 'c']) await scheduler.nextUpdate(id, 'TASK_STARTING');
    vi.useRealTimers();
    // A custom executor (simulated) pays its start once; its next task starts at once after it.
    const executor = {
      executor_id: { value: 'shared' },
      type: 'CUSTOM',
      command: { value: 'executor' },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
    };
    const onExecutor = (o: Record<string, unknown>, id: string) => ({
      ...commandTask(o, id, 'sleep 30'),
      command: undefined,
      executor,
    });
    const offers = await scheduler.nextOffers();
    const next = offers[0] as Record<string, unknown>;
    await scheduler.call('ACCEPT', launch([next], [onExecutor(next, 'x'), onExecutor(next, 'y')]));
    await scheduler.nextUpdate('x', 'TASK_STARTING', 15_000);
    await scheduler.nextUpdate('y', 'TASK_STARTING', 15_000);
    expect(
      mesos
        ?.state()
        .tasks.filter((t) => t.executorId === 'shared')
        .map((t) => t.taskId),
    ).toEqual(['x', 'y']);
  });

  it("writes the command executor's glog lines around the program's output in simulate mode too", async () => {
    const { fake, scheduler, offer } = await start({
      simulation: { behavior: () => ({ durationMs: 0, exitCode: 3, stdout: 'out\n', stderr: 'err\n' }) },
    });
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'simulated', 'anything')]));
    expect((await runToEnd(scheduler, 'simulated')).last).toMatchObject({
      message: 'Command exited with status 3',
    });
    const sandbox = fake.state().tasks.find((t) => t.taskId === 'simulated')?.sandbox ?? '';
    const read = async (file: string): Promise<string> => {
      const path = `/files/read?path=${encodeURIComponent(`${sandbox}/${file}`)}&offset=0`;
      const answer = await rawRequest(fake.agentUrl(fake.agentIds[0] ?? ''), { method: 'GET', path });
      return (JSON.parse(answer.body) as { data: string }).data;
    };
    expect(await read('stdout')).toBe('out\n');
    expect(executorLogShape(await read('stderr'))).toEqual([
      'I exec.cpp:164] Version: 1.12.0',
      'I exec.cpp:237] Executor registered on agent <agent>',
      'I executor.cpp:190] Received SUBSCRIBED event',
      'I executor.cpp:194] Subscribed executor on 127.0.0.1',
      'I executor.cpp:190] Received LAUNCH event',
      'I executor.cpp:722] Starting task simulated',
      'I executor.cpp:740] Forked command at <pid>',
      'err',
      'I executor.cpp:1041] Command exited with status 3 (pid: <pid>)',
    ]);
  });
});

import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { commandTask, launch, subscribeScheduler, type TestScheduler } from './support/test-scheduler.js';
import { executorLogShape } from './support/executor-log.js';
import { rawRequest } from './support/wire-client.js';

/** Processes mode: real local processes, real sandboxes, the agents' files API and executor API. */

const ECHO_EXECUTOR = fileURLToPath(new URL('./fixtures/echo-executor.mjs', import.meta.url));

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

async function startProcesses(): Promise<{
  fake: FakeMesos;
  scheduler: TestScheduler;
  offer: Record<string, unknown>;
}> {
  mesos = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50 });
  const scheduler = await subscribeScheduler(mesos.leaderUrl);
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  return { fake: mesos, scheduler, offer };
}

async function runToEnd(scheduler: TestScheduler, taskId: string): Promise<Record<string, unknown>> {
  for (;;) {
    const status = await scheduler.nextUpdate(taskId, undefined, 15_000);
    await scheduler.ack(status);
    if (!['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'].includes(String(status.state))) return status;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fake master: command tasks as real processes', () => {
  it('runs the shell command in a sandbox with the command-task environment and serves its files', async () => {
    const { fake, scheduler, offer } = await startProcesses();
    const command =
      'echo hi; echo to-stderr >&2; env | grep -E "^(MESOS_|PORT0|GREETING|LIBPROCESS_)" | sort';
    const env = {
      environment: {
        variables: [
          { name: 'GREETING', value: 'hello' },
          { name: 'PORT0', value: '31000' },
        ],
      },
    };
    const task = commandTask(offer, 'files-task', command);
    (task.command as Record<string, unknown>).environment = env.environment;
    await scheduler.call('ACCEPT', launch([offer], [task]));
    const finished = await runToEnd(scheduler, 'files-task');
    expect(finished).toMatchObject({ state: 'TASK_FINISHED', message: 'Command exited with status 0' });
    const agentUrl = fake.agentUrl((offer.agent_id as { value: string }).value);
    // Like the real agent, a framework without executors left is listed under completed_frameworks.
    const state = JSON.parse((await rawRequest(agentUrl, { method: 'GET', path: '/state' })).body) as {
      frameworks: unknown[];
      completed_frameworks: Array<{ completed_executors: Array<{ id: string; directory: string }> }>;
    };
    expect(state.frameworks).toEqual([]);
    const directory =
      state.completed_frameworks[0]?.completed_executors.find((e) => e.id === 'files-task')?.directory ?? '';
    expect(directory).toContain(`/frameworks/${scheduler.frameworkId}/executors/files-task/runs/`);
    const read = async (query: string) =>
      rawRequest(agentUrl, { method: 'GET', path: `/files/read?${query}` });
    const whole = JSON.parse(
      (await read(`path=${encodeURIComponent(`${directory}/stdout`)}&offset=0&length=100000`)).body,
    ) as {
      data: string;
      offset: number;
    };
    expect(whole.offset).toBe(0);
    const lines = whole.data.trim().split('\n');
    expect(lines[0]).toBe('hi');
    const vars = Object.fromEntries(lines.slice(1).map((line) => line.split(/=(.*)/s).slice(0, 2)));
    expect(vars).toMatchObject({
      GREETING: 'hello',
      PORT0: '31000',
      LIBPROCESS_IP: '127.0.0.1',
      LIBPROCESS_PORT: '0',
      MESOS_AGENT_ENDPOINT: new URL(agentUrl).host,
      MESOS_ALLOCATION_ROLE: '*',
      MESOS_CHECKPOINT: '1',
      MESOS_DIRECTORY: directory,
      MESOS_SANDBOX: directory,
      MESOS_EXECUTOR_ID: 'files-task',
      MESOS_FRAMEWORK_ID: scheduler.frameworkId,
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
    });
    expect(vars.MESOS_TASK_ID).toBeUndefined();
    const size = Buffer.byteLength(whole.data);
    expect((await read(`path=${encodeURIComponent(`${directory}/stdout`)}&offset=0&length=5`)).body).toBe(
      '{"data":"hi\\nGR","offset":0}',
    );
    expect((await read(`path=${encodeURIComponent(`${directory}/stdout`)}&offset=-1`)).body).toBe(
      `{"data":"","offset":${size}}`,
    );
    expect((await read(`path=${encodeURIComponent(`${directory}/stdout`)}`)).body).toBe(
      `{"data":"","offset":${size}}`,
    );
    expect(
      (await read(`path=${encodeURIComponent(`${directory}/stdout`)}&offset=${size + 1000}&length=10`)).body,
    ).toBe(`{"data":"","offset":${size + 1000}}`);
    // stderr: the program's line amid the command executor's own glog lines, as in transcript 15;
    // the executor says it stopped a second after the terminal update.
    const virtual = `/frameworks/${scheduler.frameworkId}/executors/files-task/runs/latest/stderr`;
    const stderr = await vi.waitFor(
      async () => {
        const page = JSON.parse((await read(`path=${encodeURIComponent(virtual)}&offset=0`)).body) as {
          data: string;
          offset: number;
        };
        expect(page.data).toContain('Stopped the socket accept loop');
        return page;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(stderr.offset).toBe(0);
    // The program may write before the executor logs the fork, as on a real agent.
    const shape = executorLogShape(stderr.data);
    expect(shape.indexOf('to-stderr')).toBeGreaterThan(
      shape.indexOf('I executor.cpp:722] Starting task files-task'),
    );
    expect(shape.filter((line) => line !== 'to-stderr')).toEqual([
      'I exec.cpp:164] Version: 1.12.0',
      'I exec.cpp:237] Executor registered on agent <agent>',
      'I executor.cpp:190] Received SUBSCRIBED event',
      'I executor.cpp:194] Subscribed executor on 127.0.0.1',
      'I executor.cpp:190] Received LAUNCH event',
      'I executor.cpp:722] Starting task files-task',
      'I executor.cpp:740] Forked command at <pid>',
      'I executor.cpp:1041] Command exited with status 0 (pid: <pid>)',
      'I process.cpp:935] Stopped the socket accept loop',
    ]);
    const missing = await read(`path=${encodeURIComponent(`${directory}/nope`)}&offset=0`);
    expect(missing).toMatchObject({ status: 404, body: '' });
    expect(await read(`path=${encodeURIComponent(directory)}&offset=0`)).toMatchObject({
      status: 400,
      body: 'Cannot read a directory.\n',
    });
    expect(await read('offset=0')).toMatchObject({ status: 400, body: "Expecting 'path=value' in query.\n" });
    const browse = JSON.parse(
      (
        await rawRequest(agentUrl, {
          method: 'GET',
          path: `/files/browse?path=${encodeURIComponent(directory)}`,
        })
      ).body,
    ) as Array<{ path: string; size: number }>;
    expect(browse.map((e) => e.path)).toEqual([`${directory}/stderr`, `${directory}/stdout`]);
    const download = await rawRequest(agentUrl, {
      method: 'GET',
      path: `/files/download?path=${encodeURIComponent(`${directory}/stdout`)}`,
    });
    expect(download.headers.map(([n]) => n)).toEqual([
      'Content-Length',
      'Date',
      'Content-Disposition',
      'Content-Type',
    ]);
    expect(download.body).toBe(whole.data);
  });

  it('reports the real exit code, and runs argv without a shell for shell: false', async () => {
    const { scheduler, offer } = await startProcesses();
    const failing = commandTask(offer, 'exit-3', 'echo oops >&2; exit 3');
    const argv = commandTask(offer, 'argv', '/bin/sh');
    argv.command = { shell: false, value: '/bin/sh', arguments: ['sh', '-c', 'exit 7'] };
    await scheduler.call('ACCEPT', launch([offer], [failing, argv]));
    expect(await runToEnd(scheduler, 'exit-3')).toMatchObject({
      state: 'TASK_FAILED',
      message: 'Command exited with status 3',
    });
    expect(await runToEnd(scheduler, 'argv')).toMatchObject({
      state: 'TASK_FAILED',
      message: 'Command exited with status 7',
    });
  });

  it('kills the process group with SIGTERM, and with SIGKILL after the grace period when TERM is ignored', async () => {
    const { fake, scheduler, offer } = await startProcesses();
    const grace = { kill_policy: { grace_period: { nanoseconds: 300_000_000 } } };
    await scheduler.call(
      'ACCEPT',
      launch(
        [offer],
        [
          commandTask(offer, 'polite', 'sleep 300', grace),
          commandTask(offer, 'stubborn', 'trap "" TERM; sleep 300', grace),
        ],
      ),
    );
    const pids: number[] = [];
    for (const id of ['polite', 'stubborn']) {
      await scheduler.ack(await scheduler.nextUpdate(id, 'TASK_STARTING', 15_000));
      const running = await scheduler.nextUpdate(id, 'TASK_RUNNING', 15_000);
      pids.push((running.container_status as { executor_pid: number }).executor_pid);
      await scheduler.ack(running);
    }
    expect(pids.every(pidAlive)).toBe(true);
    for (const id of ['polite', 'stubborn'])
      await scheduler.call('KILL', { kill: { task_id: { value: id }, agent_id: offer.agent_id } });
    expect(await runToEnd(scheduler, 'polite')).toMatchObject({
      state: 'TASK_KILLED',
      message: 'Command terminated with signal Terminated',
    });
    expect(await runToEnd(scheduler, 'stubborn')).toMatchObject({
      state: 'TASK_KILLED',
      message: 'Command terminated with signal Killed',
    });
    await fake.waitFor(() => pids.every((pid) => !pidAlive(pid)), { what: 'processes gone' });
    // The executor logs the kill: SIGTERM to the process tree, then the SIGKILL after the grace.
    const sandbox = fake.state().tasks.find((t) => t.taskId === 'stubborn')?.sandbox ?? '';
    const agentUrl = fake.agentUrl((offer.agent_id as { value: string }).value);
    const stderr = JSON.parse(
      (
        await rawRequest(agentUrl, {
          method: 'GET',
          path: `/files/read?path=${encodeURIComponent(`${sandbox}/stderr`)}&offset=0`,
        })
      ).body,
    ) as { data: string };
    expect(executorLogShape(stderr.data).slice(7, 20)).toEqual([
      'I executor.cpp:190] Received KILL event',
      'I executor.cpp:835] Received kill for task stubborn with grace period of 300ms',
      'I executor.cpp:956] Sending SIGTERM to process tree at pid <pid>',
      'I executor.cpp:969] Sent SIGTERM to the following process trees:',
      '[ ',
      `--- ${pids[1]} sh -c trap "" TERM; sleep 300 `,
      ']',
      'I executor.cpp:973] Scheduling escalation to SIGKILL in 300ms from now',
      'I executor.cpp:1082] Process <pid> did not terminate after 300ms, sending SIGKILL to process tree at <pid>',
      'I executor.cpp:1102] Killed the following process trees:',
      '[ ',
      `--- ${pids[1]} sh -c trap "" TERM; sleep 300 `,
      ']',
    ]);
  });

  it('runs a task group under the default executor with per-task sandboxes, then FAILURE {status: 0}', async () => {
    const { fake, scheduler, offer } = await startProcesses();
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
      commandTask(offer, 'group-a', 'echo a'),
      commandTask(offer, 'group-b', 'sleep 0.2; exit 0'),
    ];
    await scheduler.call('ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } } }],
      },
    });
    expect(await runToEnd(scheduler, 'group-a')).toMatchObject({
      state: 'TASK_FINISHED',
      executor_id: { value: 'group-executor' },
    });
    expect(await runToEnd(scheduler, 'group-b')).toMatchObject({ state: 'TASK_FINISHED' });
    const failure = await scheduler.stream.nextOfType('FAILURE', 5000);
    expect(failure.event.failure).toEqual({
      agent_id: offer.agent_id,
      executor_id: { value: 'group-executor' },
      status: 0,
    });
    const sandbox = fake.state().tasks.find((t) => t.taskId === 'group-a')?.sandbox ?? '';
    expect(sandbox).toMatch(/\/executors\/group-executor\/runs\/[^/]+\/tasks\/group-a$/);
    const stdout = await rawRequest(fake.agentUrl((offer.agent_id as { value: string }).value), {
      method: 'GET',
      path: `/files/read?path=${encodeURIComponent(`${sandbox}/stdout`)}&offset=0`,
    });
    expect(JSON.parse(stdout.body)).toEqual({ data: 'a\n', offset: 0 });
  });
});

describe('fake master: custom executors on the agent executor API', () => {
  it('starts the executor with its environment; LAUNCH, UPDATE/ACKNOWLEDGED, MESSAGE both ways, SHUTDOWN then FAILURE', async () => {
    const { fake, scheduler, offer } = await startProcesses();
    const agentId = (offer.agent_id as { value: string }).value;
    const executor = {
      executor_id: { value: 'echo-executor' },
      type: 'CUSTOM',
      name: 'echo executor',
      command: {
        value: `${process.execPath} ${ECHO_EXECUTOR}`,
        environment: { variables: [{ name: 'EXEC_GREETING', value: 'hello-executor' }] },
      },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
      ],
    };
    const task = { ...commandTask(offer, 'exec-task-1', ''), command: undefined, executor, data: 'ZmluaXNo' };
    await scheduler.call('ACCEPT', launch([offer], [task], { refuse_seconds: 0 }));
    expect(await runToEnd(scheduler, 'exec-task-1')).toMatchObject({
      state: 'TASK_FINISHED',
      message: 'finished by the echo executor',
    });
    const next = await scheduler.nextOffers(5000);
    expect(next.find((o) => (o.agent_id as { value: string }).value === agentId)?.executor_ids).toEqual([
      { value: 'echo-executor' },
    ]);
    const calls = fake.calls({ api: 'executor' });
    expect(calls.map((c) => c.type)).toEqual(expect.arrayContaining(['SUBSCRIBE', 'UPDATE']));
    await scheduler.call('MESSAGE', {
      message: { agent_id: offer.agent_id, executor_id: { value: 'echo-executor' }, data: 'cGluZw==' },
    });
    const echoed = await scheduler.stream.nextOfType('MESSAGE', 5000);
    expect(echoed.event.message).toEqual({
      agent_id: offer.agent_id,
      executor_id: { value: 'echo-executor' },
      data: 'cGluZw==',
    });
    const sandbox = fake.state().tasks.find((t) => t.taskId === 'exec-task-1')?.sandbox ?? '';
    const envFile = await rawRequest(fake.agentUrl(agentId), {
      method: 'GET',
      path: `/files/read?path=${encodeURIComponent(`${sandbox}/env.json`)}&offset=0&length=100000`,
    });
    const env = JSON.parse((JSON.parse(envFile.body) as { data: string }).data) as Record<string, string>;
    expect(env).toMatchObject({
      EXEC_GREETING: 'hello-executor',
      MESOS_EXECUTOR_ID: 'echo-executor',
      MESOS_FRAMEWORK_ID: scheduler.frameworkId,
      MESOS_AGENT_ENDPOINT: new URL(fake.agentUrl(agentId)).host,
      MESOS_CHECKPOINT: '1',
      MESOS_SANDBOX: sandbox,
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
    });
    await scheduler.call('SHUTDOWN', {
      shutdown: { executor_id: { value: 'echo-executor' }, agent_id: offer.agent_id },
    });
    const failure = await scheduler.stream.nextOfType('FAILURE', 5000);
    expect(failure.event.failure).toEqual({
      agent_id: offer.agent_id,
      executor_id: { value: 'echo-executor' },
      status: 0,
    });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { isTerminalState } from '../model/status.js';
import type { FakeAgent, FakeExecutor, FakeTask, World } from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';
import { encodeMesosJson, recordioText } from '../wire/mesos-json.js';
import { executorEnvironment, frameworkCheckpoints } from './environment.js';
import { taskInfoJson } from './executor-json.js';
import { agentUpdate, terminateExecutor } from './executor-lifecycle.js';
import { fetchUris } from './executor-fetch.js';
import { startExecutor } from './executor-starts.js';
import { runProcess } from './process-runner.js';
import type { RunningCommand } from './runners.js';

/**
 * Custom executors in processes mode: `ExecutorInfo.command` runs as a real process with the
 * executor environment; it SUBSCRIBEs to the agent's `/api/v1/executor`, and the agent delivers
 * LAUNCH / LAUNCH_GROUP / KILL / MESSAGE / SHUTDOWN on that stream. When the process ends, tasks
 * it left unfinished fail (REASON_EXECUTOR_TERMINATED) and the framework gets FAILURE with the
 * wait status.
 */

interface CustomRuntime {
  process: RunningCommand | undefined;
  /** Registration or re-registration deadline. */
  deadline: ReturnType<typeof setTimeout> | undefined;
  shutdownTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while the agent restarts: tasks the executor had when the agent went away. */
  recovering: boolean;
}

/** The mode-specific state of a custom executor. */
export function customRuntime(executor: FakeExecutor): CustomRuntime {
  if (executor.runtime === undefined) {
    executor.runtime = {
      process: undefined,
      deadline: undefined,
      shutdownTimer: undefined,
      recovering: false,
    } satisfies CustomRuntime;
  }
  return executor.runtime as CustomRuntime;
}

/** Writes one event on the executor's stream; false when it is not subscribed. */
export function sendToExecutor(executor: FakeExecutor, event: unknown): boolean {
  if (executor.stream === undefined || executor.stream.closed) return false;
  executor.stream.write(recordioText(encodeMesosJson(event)));
  return true;
}

/** Queues tasks for the executor (started on first use) or delivers them if it is subscribed. */
export function launchCustomTasks(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  tasks: FakeTask[],
  group: boolean,
): void {
  if (group) executor.queued.push({ task: tasks[0] as FakeTask, group: tasks });
  else for (const task of tasks) executor.queued.push({ task, group: undefined });
  if (executor.state === 'launching') startExecutorProcess(world, agent, executor);
  else if (executor.state === 'running' && executor.stream !== undefined) deliverQueued(executor);
}

/** Sends every queued task to a subscribed executor. */
export function deliverQueued(executor: FakeExecutor): void {
  for (const { task, group } of executor.queued.splice(0)) {
    if (group !== undefined) {
      const tasks = group.filter((t) => !isTerminalState(t.state)).map((t) => taskInfoJson(t, executor));
      sendToExecutor(executor, { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
    } else if (!isTerminalState(task.state)) {
      sendToExecutor(executor, { type: 'LAUNCH', launch: { task: taskInfoJson(task, executor) } });
    }
  }
}

function startExecutorProcess(world: World, agent: FakeAgent, executor: FakeExecutor): void {
  const runtime = customRuntime(executor);
  const command = objectField(executor.info, 'command') ?? {};
  executor.state = 'registering';
  runtime.deadline = world.timers.after(world.options.executorRegistrationTimeoutMs, () => {
    if (executor.state === 'registering')
      destroyExecutor(world, agent, executor, 'REASON_EXECUTOR_REGISTRATION_TIMEOUT');
  });
  // Its container is set up first (`executorStartMs`, then the fetcher gets `CommandInfo.uris`);
  // then the process starts and must SUBSCRIBE.
  startExecutor(world, agent, () => {
    if (executor.state !== 'registering') return;
    fetchUris(command, executor.directory, executor.containerId).then(
      () => {
        if (executor.state === 'registering') spawnExecutor(world, agent, executor, command);
      },
      (error: unknown) => {
        if (executor.state !== 'registering') return;
        world.timers.cancel(runtime.deadline);
        const message = error instanceof Error ? error.message : String(error);
        failLiveTasks(
          world,
          agent,
          executor,
          'REASON_CONTAINER_LAUNCH_FAILED',
          `Failed to launch container: ${message}`,
        );
        terminateExecutor(world, agent, executor, 1 << 8);
      },
    );
  });
}

function spawnExecutor(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  command: Record<string, unknown>,
): void {
  const runtime = customRuntime(executor);
  runtime.process = runProcess(
    { command, directory: executor.directory, env: executorEnvironment(world, agent, executor, command) },
    world.processes,
    {
      onSpawned: (pid) => {
        executor.pid = pid;
      },
      onExit: (result) => {
        const signal = result.signal === null ? 0 : (constants.signals[result.signal] ?? 9);
        const waitStatus = result.signal === null ? ((result.code ?? 0) & 0xff) << 8 : signal;
        executorProcessExited(world, agent, executor, waitStatus);
      },
      onSpawnError: (message) => {
        failLiveTasks(
          world,
          agent,
          executor,
          'REASON_CONTAINER_LAUNCH_FAILED',
          `Failed to launch container: ${message}`,
        );
        terminateExecutor(world, agent, executor, 1 << 8);
      },
    },
  );
}

function failLiveTasks(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  reason: string,
  message: string,
): void {
  executor.queued.length = 0;
  for (const task of [...executor.tasks.values()]) {
    if (!isTerminalState(task.state)) agentUpdate(world, agent, task, 'TASK_FAILED', reason, message);
  }
}

function executorProcessExited(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  waitStatus: number,
): void {
  const runtime = customRuntime(executor);
  world.timers.cancel(runtime.deadline);
  world.timers.cancel(runtime.shutdownTimer);
  destroyContainer(executor);
  failLiveTasks(world, agent, executor, 'REASON_EXECUTOR_TERMINATED', 'Executor terminated');
  terminateExecutor(world, agent, executor, waitStatus);
}

/**
 * The container goes with its executor: every process still in it is killed, as the agent's
 * launcher destroys the container (cgroups, or the POSIX launcher's kill of the process tree). A
 * custom executor's task processes may have left its process group and been re-parented, so they
 * are found by the sandbox they were started in (`MESOS_DIRECTORY` of their environment).
 */
function destroyContainer(executor: FakeExecutor): void {
  const mark = `MESOS_DIRECTORY=${executor.directory}\0`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (`${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(mark))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already, or not ours to read.
    }
  }
}

/**
 * Sends `signal` to a custom executor's process (fault injection): SIGKILL is an executor that
 * dies (its tasks fail, REASON_EXECUTOR_TERMINATED, and the framework gets FAILURE); SIGSTOP one
 * that hangs (after an agent restart it misses re-registration). False when it has no process.
 */
export function signalExecutorProcess(executor: FakeExecutor, signal: NodeJS.Signals): boolean {
  if (executor.kind !== 'custom' || executor.pid === undefined || executor.state === 'terminated')
    return false;
  // Its process group: the shell of `ExecutorInfo.command` and the executor it started.
  try {
    process.kill(-executor.pid, signal);
    return true;
  } catch {
    try {
      process.kill(executor.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Kills the executor's process group because it missed a deadline; its tasks fail with `reason`. */
export function destroyExecutor(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  reason: string,
): void {
  failLiveTasks(world, agent, executor, reason, 'Executor did not register in time');
  const process = customRuntime(executor).process;
  if (process === undefined) terminateExecutor(world, agent, executor, -1);
  else process.signal('SIGKILL');
}

/** KILL: queued tasks are killed by the agent; delivered ones get a KILL event. */
export function killCustomTask(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  graceFromCallMs: number | undefined,
): void {
  const queuedAt = executor.queued.findIndex(
    (entry) => entry.task === task || entry.group?.includes(task) === true,
  );
  if (queuedAt >= 0) {
    const entry = executor.queued[queuedAt];
    executor.queued.splice(queuedAt, 1);
    for (const killed of entry?.group ?? [task]) {
      agentUpdate(
        world,
        agent,
        killed,
        'TASK_KILLED',
        'REASON_TASK_KILLED_DURING_LAUNCH',
        'Task killed before delivery to the executor',
      );
    }
    return;
  }
  const kill: Record<string, unknown> = { task_id: { value: task.id } };
  if (graceFromCallMs !== undefined) {
    kill.kill_policy = { grace_period: { nanoseconds: Math.round(graceFromCallMs * 1e6) } };
  }
  task.killRequested = true;
  sendToExecutor(executor, { type: 'KILL', kill });
}

/** SHUTDOWN: the executor is told, then killed if it is still alive after the grace period. */
export function shutdownCustomExecutor(world: World, agent: FakeAgent, executor: FakeExecutor): void {
  const runtime = customRuntime(executor);
  if (executor.state === 'terminating') return;
  executor.state = 'terminating';
  if (!sendToExecutor(executor, { type: 'SHUTDOWN' })) {
    runtime.process?.signal('SIGTERM');
  }
  const graceNanos = Number(
    objectField(objectField(executor.info, 'shutdown_grace_period'), 'nanoseconds') ?? NaN,
  );
  const grace = Number.isFinite(graceNanos) ? graceNanos / 1e6 : world.options.executorShutdownGracePeriodMs;
  runtime.shutdownTimer = world.timers.after(grace, () => runtime.process?.signal('SIGKILL'));
  if (runtime.process === undefined) terminateExecutor(world, agent, executor, 0);
}

/**
 * The agent restarted: every custom executor lost its stream and must re-subscribe within the
 * re-registration timeout (`MESOS_SUBSCRIPTION_BACKOFF_MAX`) or be destroyed.
 */
export function awaitReregistration(world: World, agent: FakeAgent): void {
  for (const executor of agent.executors.values()) {
    if (
      executor.kind !== 'custom' ||
      executor.state === 'terminated' ||
      world.options.execution !== 'processes'
    )
      continue;
    const runtime = customRuntime(executor);
    runtime.recovering = true;
    world.timers.cancel(runtime.deadline);
    runtime.deadline = world.timers.after(world.options.executorReregistrationTimeoutMs, () => {
      if (runtime.recovering)
        destroyExecutor(world, agent, executor, 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT');
    });
  }
}

/** True when the executor's framework checkpoints (its executor may outlive an agent restart). */
export function executorCheckpoints(world: World, executor: FakeExecutor): boolean {
  return frameworkCheckpoints(world, executor.frameworkId);
}

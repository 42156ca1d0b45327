import { uuidBase64 } from '../model/ids.js';
import {
  buildStatus,
  isTerminalState,
  signalDescription,
  type StatusSource,
  type TaskState,
} from '../model/status.js';
import {
  nowSeconds,
  scopedKey,
  type FakeAgent,
  type FakeExecutor,
  type FakeTask,
  type World,
} from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';
import { commandTaskEnvironment } from './environment.js';
import { agentUpdate, terminateExecutor } from './executor-lifecycle.js';
import { runProcess } from './process-runner.js';
import { runSimulated, type ExitResult, type RunHooks, type RunningCommand } from './runners.js';
import { commandText, interpretCommand } from './simulated-shell.js';
import { enqueueUpdate } from './status-updates.js';
import { healthCheckOf, startHealthChecker, type HealthChecker, type HealthProbe } from './health-checks.js';
import { processProbe, simulatedProbe } from './health-probes.js';
import { killCustomTask, launchCustomTasks, shutdownCustomExecutor } from './custom-executor.js';
import { executorLaunchFailure, nestedLaunchError, type ContainerLaunchFailure } from './containerizer.js';
import { appendSandbox, CommandExecutorLog } from './executor-log.js';
import { commandInData } from './executor-data.js';
import { startExecutor } from './executor-starts.js';
import { limitationUpdate, startImageTask } from './image-tasks.js';

/**
 * The agent's executors. Command tasks get the built-in command executor (executor id = task
 * id; STARTING, RUNNING, then "Command exited with status N" or "Command terminated with signal
 * X"; no FAILURE event when it ends). Task groups get the default executor (nested containers;
 * one failed or killed task kills the group; FAILURE {status: 0} when it exits). Custom
 * executors run as real processes speaking the executor API in processes mode, and are played
 * like command executors in simulate mode. Built-in executors run the TaskInfo's `health_check`
 * (`health-checks.ts`): each verdict is a TASK_RUNNING update with `healthy` and
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; too many failures kill the task (its TASK_KILLED says
 * `healthy: false`), and with it the rest of its group.
 *
 * Starting an executor costs `executorStartMs` (its container, then its registration) before its
 * first task starts; tasks for a running executor start at once. The agent's containerizer flags
 * decide what it can start (`containerizer.ts`): a container it cannot launch fails its tasks as a
 * real agent does. The command executor writes Mesos' own log lines into the sandbox's stderr
 * (`executor-log.ts`).
 */

interface BuiltinRuntime {
  /** `new` until its first task arrives, `starting` for `executorStartMs`, then `ready`. */
  phase: 'new' | 'starting' | 'ready';
  /** Tasks that arrived while it was starting, in order. */
  readonly waiting: FakeTask[];
  /** The command executor's own log (command executors only). */
  log: CommandExecutorLog | undefined;
  readonly runs: Map<string, RunningCommand>;
  readonly spawned: Set<string>;
  readonly escalations: Map<string, { timer: ReturnType<typeof setTimeout>; at: number }>;
  readonly groups: Map<string, FakeTask[]>;
  readonly checkers: Map<string, HealthChecker>;
  /** Tasks their health check asked to kill. */
  readonly unhealthy: Set<string>;
}

function builtinRuntime(executor: FakeExecutor): BuiltinRuntime {
  if (executor.runtime === undefined) {
    executor.runtime = {
      phase: 'new',
      waiting: [],
      log: undefined,
      runs: new Map(),
      spawned: new Set(),
      escalations: new Map(),
      groups: new Map(),
      checkers: new Map(),
      unhealthy: new Set(),
    } satisfies BuiltinRuntime;
  }
  return executor.runtime as BuiltinRuntime;
}

/**
 * Starts tasks the master accepted on this agent: one command task, or the tasks of one
 * LAUNCH_GROUP (`group`), or tasks for a custom executor.
 */
export function launchTasks(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  tasks: FakeTask[],
  group: boolean,
): void {
  for (const task of tasks) executor.tasks.set(task.id, task);
  const custom = executor.kind === 'custom' && world.options.execution === 'processes';
  const fresh = custom ? executor.state === 'launching' : builtinRuntime(executor).phase === 'new';
  const failure = fresh
    ? executorLaunchFailure(agent.containerizer, executorContainer(executor, tasks))
    : undefined;
  if (failure !== undefined) {
    failExecutorLaunch(world, agent, executor, failure);
    return;
  }
  if (custom) {
    launchCustomTasks(world, agent, executor, tasks, group);
    return;
  }
  const runtime = builtinRuntime(executor);
  for (const task of tasks) if (group) runtime.groups.set(task.id, tasks);
  if (runtime.phase === 'ready') {
    for (const task of tasks) startBuiltinTask(world, agent, executor, task);
    return;
  }
  runtime.waiting.push(...tasks);
  if (runtime.phase === 'starting') return;
  runtime.phase = 'starting';
  if (executor.kind === 'command') runtime.log = new CommandExecutorLog(world, executor.directory);
  startExecutor(world, agent, () => {
    if (executor.state === 'terminated') return;
    runtime.phase = 'ready';
    runtime.log?.registered(agent.id, agent.hostname);
    for (const task of runtime.waiting.splice(0)) {
      if (!isTerminalState(task.state) && !task.killRequested) startBuiltinTask(world, agent, executor, task);
    }
  });
}

/** The container an executor runs in: a command task's own, or its ExecutorInfo's. */
function executorContainer(executor: FakeExecutor, tasks: FakeTask[]): Record<string, unknown> | undefined {
  return executor.kind === 'command'
    ? objectField(tasks[0]?.info, 'container')
    : objectField(executor.info, 'container');
}

/**
 * The agent could not launch the executor's container: each of its tasks fails from the agent
 * (TASK_FAILED with the containerizer's reason and message) and the executor ends; a default or
 * custom executor's framework hears FAILURE with the unknown wait status (-1), a command
 * executor's does not.
 */
function failExecutorLaunch(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  failure: ContainerLaunchFailure,
): void {
  executor.state = 'terminating';
  world.timers.after(0, () => {
    for (const task of [...executor.tasks.values()]) {
      if (!isTerminalState(task.state))
        agentUpdate(world, agent, task, 'TASK_FAILED', failure.reason, failure.message);
    }
    terminateExecutor(world, agent, executor, executor.kind === 'command' ? undefined : -1);
  });
}

/** Where a task's files are: `tasks/<id>/` under the default executor and galley-executor (custom). */
function taskSandbox(executor: FakeExecutor, task: FakeTask): string {
  return executor.kind === 'command' ? executor.directory : `${executor.directory}/tasks/${task.id}`;
}

function startBuiltinTask(world: World, agent: FakeAgent, executor: FakeExecutor, task: FakeTask): void {
  const runtime = builtinRuntime(executor);
  // A custom executor is played as galley-executor: the task's command, or the one in its data.
  const command =
    objectField(task.info, 'command') ??
    (executor.kind === 'custom' ? commandInData(task.info) : undefined) ??
    objectField(executor.info, 'command');
  const nestedError =
    executor.kind === 'default'
      ? nestedLaunchError(agent.containerizer, objectField(task.info, 'container'))
      : undefined;
  if (nestedError !== undefined) {
    // The default executor's LAUNCH_CONTAINER of this task failed: it reports the agent's answer.
    builtinUpdate(world, agent, executor, task, 'TASK_FAILED', { message: nestedError });
    afterTaskEnded(world, agent, executor, task, 'TASK_FAILED');
    return;
  }
  const check = healthCheckOf(task.info);
  let probe: HealthProbe | undefined;
  let simulatedOutput: { stdout: string; stderr: string } | undefined;
  runtime.log?.starting(task.id);
  const hooks: RunHooks = {
    onFork: (pid) => runtime.log?.forked(pid),
    onSpawned: (pid) => {
      if (executor.pid === undefined || executor.kind === 'command') executor.pid = pid;
      runtime.spawned.add(task.id);
      if (simulatedOutput !== undefined) {
        appendSandbox(world, taskSandbox(executor, task), 'stdout', simulatedOutput.stdout);
        appendSandbox(world, taskSandbox(executor, task), 'stderr', simulatedOutput.stderr);
      }
      builtinUpdate(world, agent, executor, task, 'TASK_STARTING');
      builtinUpdate(world, agent, executor, task, 'TASK_RUNNING', { network: true });
      if (check === undefined || probe === undefined) return;
      const report = healthReporter(world, agent, executor, task);
      runtime.checkers.set(task.id, startHealthChecker(world.timers, check, probe, report));
    },
    onExit: (result) => {
      runtime.checkers.get(task.id)?.stop();
      runtime.checkers.delete(task.id);
      runtime.runs.delete(task.id);
      world.timers.cancel(runtime.escalations.get(task.id)?.timer);
      runtime.escalations.delete(task.id);
      taskExited(world, agent, executor, task, result);
    },
    onSpawnError: (message) => {
      runtime.runs.delete(task.id);
      builtinUpdate(world, agent, executor, task, 'TASK_FAILED', {
        message: `Failed to launch container: ${message}`,
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        source: 'SOURCE_AGENT',
      });
      afterTaskEnded(world, agent, executor, task, 'TASK_FAILED');
    },
  };
  if (world.options.execution === 'processes') {
    const directory = taskSandbox(executor, task);
    const env = commandTaskEnvironment(world, agent, executor, command);
    env.MESOS_SANDBOX = directory;
    if (executor.kind === 'default') env.MESOS_DIRECTORY = directory;
    const contained = startImageTask(world, agent, executor, task, command, directory, hooks);
    if (contained !== undefined) return void runtime.runs.set(task.id, contained);
    if (check !== undefined) probe = processProbe(check, { directory, env, processes: world.processes });
    runtime.runs.set(task.id, runProcess({ command: command ?? {}, directory, env }, world.processes, hooks));
    return;
  }
  const text = commandText(command);
  const behavior =
    world.options.behavior?.({
      taskId: task.id,
      frameworkId: task.frameworkId,
      agentId: agent.id,
      info: task.info,
      command: text,
    }) ?? interpretCommand(text);
  if (check !== undefined) probe = simulatedProbe(behavior);
  // Written when the program starts; sandboxes without output or executor log are not stored
  // (the files API shows them with empty files).
  if ((behavior.stdout ?? '') !== '' || (behavior.stderr ?? '') !== '')
    simulatedOutput = { stdout: behavior.stdout ?? '', stderr: behavior.stderr ?? '' };
  const timing = { launchDelayMs: world.options.launchDelayMs, killDelayMs: world.options.killDelayMs };
  runtime.runs.set(task.id, runSimulated(behavior, timing, world.timers, hooks));
}

/**
 * What a built-in executor does with its health checker's verdicts: unless the task is being
 * killed already, a TASK_RUNNING update with `healthy`; the verdict that says so kills the task.
 */
function healthReporter(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
): (verdict: { healthy: boolean; killTask: boolean }) => void {
  return (verdict) => {
    if (task.killRequested || isTerminalState(task.state)) return;
    builtinRuntime(executor).log?.health(verdict.healthy);
    builtinUpdate(world, agent, executor, task, 'TASK_RUNNING', {
      network: true,
      healthy: verdict.healthy,
      reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
    });
    if (!verdict.killTask) return;
    builtinRuntime(executor).unhealthy.add(task.id);
    killBuiltinTask(world, agent, executor, task, undefined);
  };
}

/** Sends a status update from a built-in executor: uuid, executor id, agent id and container status. */
function builtinUpdate(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  state: TaskState,
  extra: {
    message?: string;
    reason?: string;
    source?: StatusSource;
    network?: boolean;
    healthy?: boolean;
  } = {},
): void {
  const nested = executor.kind === 'default';
  const withNetwork = !nested || extra.network === true;
  const containerStatus = {
    container_id: nested
      ? { value: task.containerId, parent: { value: executor.containerId } }
      : { value: executor.containerId },
    ...(withNetwork
      ? { network_infos: [{ ip_addresses: [{ protocol: 'IPv4' as const, ip_address: agent.ip }] }] }
      : {}),
    ...(withNetwork && executor.pid !== undefined ? { executor_pid: executor.pid } : {}),
  };
  const status = buildStatus(task.id, {
    state,
    message: extra.message,
    source: extra.source ?? 'SOURCE_EXECUTOR',
    reason: extra.reason,
    agentId: agent.id,
    executorId: executor.id,
    timestamp: nowSeconds(),
    uuid: uuidBase64(),
    healthy: extra.healthy,
    containerStatus,
  });
  if (extra.healthy !== undefined) task.healthy = extra.healthy;
  enqueueUpdate(world, task, status);
}

function taskExited(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  result: ExitResult,
): void {
  if (result.limitation !== undefined) {
    limitationUpdate(world, agent, task, result.limitation); // an isolator destroyed the container
    return afterTaskEnded(world, agent, executor, task, 'TASK_FAILED');
  }
  const description =
    result.signal !== null
      ? `Command terminated with signal ${signalDescription(result.signal)}`
      : `Command exited with status ${result.code ?? 0}`;
  let state: TaskState;
  if (task.killRequested) state = 'TASK_KILLED';
  else if (result.signal === null && result.code === 0) state = 'TASK_FINISHED';
  else state = 'TASK_FAILED';
  // A task its health check killed says so in its last update, as Mesos' executors do.
  const runtime = builtinRuntime(executor);
  const healthy = state === 'TASK_KILLED' && runtime.unhealthy.has(task.id) ? false : undefined;
  const log = runtime.log;
  log?.exited(description, executor.pid);
  builtinUpdate(world, agent, executor, task, state, { message: description, healthy });
  afterTaskEnded(world, agent, executor, task, state);
  // Mesos' command executor stops a second after its terminal update, and says so.
  if (log !== undefined) world.timers.after(1000, () => log.stopped());
}

function afterTaskEnded(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  state: TaskState,
): void {
  const runtime = builtinRuntime(executor);
  if (executor.kind === 'command') {
    terminateExecutor(world, agent, executor, undefined);
    return;
  }
  if (executor.kind === 'default' && state !== 'TASK_FINISHED') {
    for (const sibling of runtime.groups.get(task.id) ?? []) {
      if (sibling !== task && !isTerminalState(sibling.state))
        killBuiltinTask(world, agent, executor, sibling, undefined);
    }
  }
  if (executor.kind === 'default' || executor.state === 'terminating') exitWhenIdle(world, agent, executor);
}

/** The default executor (and a shut-down simulated executor) exits once it has no live task. */
function exitWhenIdle(world: World, agent: FakeAgent, executor: FakeExecutor): void {
  const runtime = builtinRuntime(executor);
  if (executor.tasks.size > 0 || runtime.runs.size > 0 || executor.state === 'terminated') return;
  executor.state = 'terminating';
  world.timers.after(20, () => terminateExecutor(world, agent, executor, 0));
}

/** The grace period for a kill: the KILL call's policy, else the TaskInfo's, else the default. */
export function killGraceMs(world: World, task: FakeTask, fromCall: number | undefined): number {
  if (fromCall !== undefined) return fromCall;
  const gracePeriod = objectField(objectField(task.info, 'kill_policy'), 'grace_period');
  const nanoseconds = Number(gracePeriod?.nanoseconds);
  return gracePeriod !== undefined && Number.isFinite(nanoseconds) && nanoseconds >= 0
    ? nanoseconds / 1e6
    : world.options.defaultKillGracePeriodMs;
}

/** Delivers a KILL to the task's executor (grace in milliseconds from the KILL call, if it had one). */
export function killTask(world: World, task: FakeTask, graceFromCallMs: number | undefined): void {
  const agent = world.agents.get(task.agentId);
  const executor = agent?.executors.get(scopedKey(task.frameworkId, task.executorId));
  if (agent === undefined || executor === undefined || isTerminalState(task.state)) return;
  if (executor.kind === 'custom' && world.options.execution === 'processes') {
    killCustomTask(world, agent, executor, task, graceFromCallMs);
    return;
  }
  const targets =
    executor.kind === 'default' ? (builtinRuntime(executor).groups.get(task.id) ?? [task]) : [task];
  for (const target of targets) {
    if (!isTerminalState(target.state)) killBuiltinTask(world, agent, executor, target, graceFromCallMs);
  }
}

function killBuiltinTask(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  graceFromCallMs: number | undefined,
): void {
  const runtime = builtinRuntime(executor);
  const run = runtime.runs.get(task.id);
  const grace = killGraceMs(world, task, graceFromCallMs);
  if (!runtime.spawned.has(task.id)) {
    run?.cancel();
    runtime.runs.delete(task.id);
    task.killRequested = true;
    builtinUpdate(world, agent, executor, task, 'TASK_KILLED', {
      message: 'Task killed before delivery to the executor',
      reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
      source: 'SOURCE_AGENT',
    });
    afterTaskEnded(world, agent, executor, task, 'TASK_KILLED');
    return;
  }
  if (run === undefined) return;
  const deadline = Date.now() + grace;
  const current = runtime.escalations.get(task.id);
  runtime.checkers.get(task.id)?.stop(); // a task being killed is no longer checked
  runtime.checkers.delete(task.id);
  const tree = processCommand(task, executor);
  if (!task.killRequested) {
    task.killRequested = true;
    runtime.log?.killing(task.id, grace, executor.pid, tree);
    if (world.frameworks.get(task.frameworkId)?.capabilities.has('TASK_KILLING_STATE') === true) {
      builtinUpdate(world, agent, executor, task, 'TASK_KILLING', { network: true });
    }
    run.signal('SIGTERM');
  } else if (current !== undefined && current.at <= deadline) {
    return; // a second KILL only ever shortens the grace period
  } else {
    runtime.log?.rescheduled(grace);
  }
  world.timers.cancel(current?.timer);
  const timer = world.timers.after(grace, () => {
    runtime.log?.escalated(grace, executor.pid, tree);
    run.signal('SIGKILL');
  });
  runtime.escalations.set(task.id, { timer, at: deadline });
}

/** The command line of a task's process as a process tree shows it (`sh -c …` for shell commands). */
function processCommand(task: FakeTask, executor: FakeExecutor): string {
  const command = objectField(task.info, 'command') ?? objectField(executor.info, 'command');
  const value = typeof command?.value === 'string' ? command.value : '';
  if (command?.shell === false) {
    const args = Array.isArray(command.arguments) ? command.arguments.map(String) : [value];
    return args.join(' ');
  }
  return `sh -c ${value}`;
}

/** SHUTDOWN of one executor: its tasks are killed; default and custom executors then report FAILURE. */
export function shutdownExecutor(world: World, agent: FakeAgent, executor: FakeExecutor): void {
  if (executor.state === 'terminated') return;
  if (executor.kind === 'custom' && world.options.execution === 'processes') {
    shutdownCustomExecutor(world, agent, executor);
    return;
  }
  const live = [...executor.tasks.values()];
  if (executor.kind !== 'command') executor.state = 'terminating';
  for (const task of live)
    killBuiltinTask(world, agent, executor, task, world.options.executorShutdownGracePeriodMs);
  if (executor.kind !== 'command') exitWhenIdle(world, agent, executor);
}

/** The framework was removed: shut down all of its executors on the agent. */
export function shutdownFrameworkOnAgent(world: World, agent: FakeAgent, frameworkId: string): void {
  for (const executor of [...agent.executors.values()]) {
    if (executor.frameworkId === frameworkId) shutdownExecutor(world, agent, executor);
  }
}

import { uuidBase64 } from '../model/ids.js';
import { buildStatus } from '../model/status.js';
import {
  nowSeconds,
  type FakeAgent,
  type FakeExecutor,
  type FakeTask,
  type JsonObject,
  type World,
} from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';
import { commandTaskEnvironment, commandVariables } from './environment.js';
import { CONTAINER_SANDBOX, runImage } from './image-runner.js';
import { COMMAND_EXECUTOR_CPUS, COMMAND_EXECUTOR_MEM_MB, imageToRun } from './image-runtime.js';
import { setStatisticsSource } from './monitor-statistics.js';
import type { ExitLimitation, RunHooks, RunningCommand } from './runners.js';
import { enqueueUpdate } from './status-updates.js';

/**
 * A built-in executor's task that runs in its image (`image-runtime.ts` says when): its container
 * gets the task's resources plus, for a command executor, Mesos' allowance for the executor itself
 * (`image-runtime.ts`), the
 * MESOS_* variables with MESOS_SANDBOX inside the container, and the CommandInfo's variables —
 * none of the agent's own environment.
 */

/** Starts the task in its image; undefined when it is not to run in one (it runs on the host). */
export function startImageTask(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  task: FakeTask,
  command: JsonObject | undefined,
  directory: string,
  hooks: RunHooks,
): RunningCommand | undefined {
  const runtime = world.options.containerRuntime;
  const image = imageToRun(agent.containerizer, runtime, objectField(task.info, 'container'));
  if (runtime === undefined || image === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(commandTaskEnvironment(world, agent, executor, command)))
    if (name.startsWith('MESOS_') || name.startsWith('LIBPROCESS_')) env[name] = value;
  Object.assign(env, commandVariables(command), { MESOS_SANDBOX: CONTAINER_SANDBOX });
  const own = executor.kind === 'command';
  const memMb = task.resources.scalar('mem') + (own ? COMMAND_EXECUTOR_MEM_MB : 0);
  const cpus = task.resources.scalar('cpus') + (own ? COMMAND_EXECUTOR_CPUS : 0);
  const name = own ? `mesos-${executor.containerId}` : `mesos-${executor.containerId}.${task.containerId}`;
  const run = runImage(
    { name, image, command: command ?? {}, directory, env, memMb, cpus },
    runtime,
    world.processes,
    hooks,
  );
  if (own)
    setStatisticsSource(executor, {
      cgroup: run.cgroup,
      cpusLimit: cpus,
      memLimitBytes: memMb * 1024 * 1024,
    });
  return run;
}

/**
 * The agent's update for a task whose container an isolator destroyed (its limitation): TASK_FAILED
 * from the agent with the isolator's reason, message and `limitation` (slave.cpp
 * `sendExecutorTerminatedStatusUpdate`).
 */
export function limitationUpdate(
  world: World,
  agent: FakeAgent,
  task: FakeTask,
  limitation: ExitLimitation,
): void {
  const status = buildStatus(task.id, {
    state: 'TASK_FAILED',
    message: limitation.message,
    source: 'SOURCE_AGENT',
    reason: limitation.reason,
    agentId: agent.id,
    executorId: task.executorId,
    timestamp: nowSeconds(),
    uuid: uuidBase64(),
    limitation: { resources: limitation.resources },
  });
  enqueueUpdate(world, task, status);
}

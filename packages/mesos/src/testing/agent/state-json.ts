import { attributesStateJson } from '../model/attributes.js';
import type { FakeAgent, FakeExecutor, FakeTask, World } from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';
import { MESOS_VERSION } from '../master/events.js';

/**
 * The agent's `/state` document in the shape of transcript 15: frameworks with their executors
 * (live in `executors`, ended in `completed_executors`), each with its sandbox `directory` and
 * tasks with their statuses; frameworks that were removed appear in `completed_frameworks`.
 */

/** One task as `/state` lists it. */
export function taskStateJson(task: FakeTask): Record<string, unknown> {
  return {
    id: task.id,
    name: task.name,
    framework_id: task.frameworkId,
    executor_id: task.executorKind === 'command' ? '' : task.executorId,
    slave_id: task.agentId,
    state: task.state,
    resources: task.resources.toStateJson(),
    role: task.role,
    statuses: task.history.map((entry) => ({ state: entry.state, timestamp: entry.timestamp })),
  };
}

export function executorName(executor: FakeExecutor): string {
  if (executor.kind !== 'command') {
    const name = executor.info?.name;
    return typeof name === 'string' ? name : '';
  }
  const task = [...executor.tasks.values(), ...executor.completedTasks][0];
  const value = String(objectField(task?.info, 'command')?.value ?? '');
  const shown = value.length > 15 ? `${value.slice(0, 12)}...` : value;
  return `Command Executor (Task: ${executor.id}) (Command: sh -c '${shown}')`;
}

function executorStateJson(executor: FakeExecutor): Record<string, unknown> {
  const live = [...executor.tasks.values()];
  const queued = executor.queued.flatMap((entry) => entry.group ?? [entry.task]);
  return {
    id: executor.id,
    name: executorName(executor),
    source: executor.id,
    container: executor.containerId,
    directory: executor.directory,
    resources: executor.resources.toStateJson(),
    role: executor.role,
    tasks: live.filter((t) => !queued.includes(t)).map(taskStateJson),
    queued_tasks: queued.map(taskStateJson),
    completed_tasks: executor.completedTasks.map(taskStateJson),
  };
}

/** The agent's flags that say what it runs (the recorded `/state` has every flag, as text). */
function flagsJson(agent: FakeAgent): Record<string, string> {
  const c = agent.containerizer;
  return {
    ...(agent.attributesSpec !== '' ? { attributes: agent.attributesSpec } : {}),
    containerizers: c.containerizers.join(','),
    hostname: agent.hostname,
    http_command_executor: 'false',
    ...(c.imageProviders.length > 0 ? { image_providers: c.imageProviders.join(',') } : {}),
    isolation: c.isolation.join(','),
    launcher: c.launcher,
    resources: agent.resourcesSpec,
  };
}

/** The whole `/state` document of an agent. */
export function agentStateJson(world: World, agent: FakeAgent): Record<string, unknown> {
  const frameworkIds = new Set<string>();
  for (const executor of [...agent.executors.values(), ...agent.completedExecutors])
    frameworkIds.add(executor.frameworkId);
  const frameworks: unknown[] = [];
  const completed: unknown[] = [];
  for (const frameworkId of frameworkIds) {
    const known =
      world.frameworks.get(frameworkId) ?? world.completedFrameworks.find((f) => f.id === frameworkId);
    const info = known?.info ?? {};
    const entry = {
      id: frameworkId,
      name: info.name ?? '',
      user: info.user ?? '',
      failover_timeout: info.failover_timeout ?? 0,
      checkpoint: info.checkpoint === true,
      hostname: info.hostname ?? '',
      roles: known?.roles ?? ['*'],
      executors: [...agent.executors.values()]
        .filter((e) => e.frameworkId === frameworkId)
        .map(executorStateJson),
      completed_executors: agent.completedExecutors
        .filter((e) => e.frameworkId === frameworkId)
        .map(executorStateJson),
    };
    // The agent keeps a framework active while it has executors there, as Mesos' agent does.
    if (entry.executors.length > 0) frameworks.push(entry);
    else completed.push(entry);
  }
  return {
    version: MESOS_VERSION,
    start_time: agent.startTime,
    id: agent.id,
    pid: `slave(1)@${agent.ip}:${agent.port}`,
    hostname: agent.hostname,
    resources: agent.total.toStateJson(),
    attributes: attributesStateJson(agent.attributes),
    flags: flagsJson(agent),
    frameworks,
    completed_frameworks: completed,
  };
}

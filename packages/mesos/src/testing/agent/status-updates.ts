import { isTerminalState, type TaskStatusJson } from '../model/status.js';
import { scopedKey, type FakeTask, type World } from '../model/world.js';
import { sendUpdate } from '../master/events.js';
import { trackUsage } from '../master/allocator.js';

/**
 * The agent's status update manager: every update that carries a uuid is kept until the framework
 * acknowledges it, and per task only the oldest unacknowledged one is sent ("strictly in order,
 * one at a time"). It is re-sent with a doubling back-off while unacknowledged, and at once when
 * the agent re-registers or the framework re-subscribes.
 */

/** Most completed tasks the master keeps per framework (Mesos' `max_completed_tasks_per_framework`). */
const MAX_COMPLETED_TASKS = 1000;

/**
 * Records a new update for a task (from an executor or the agent) and sends it if it is the only
 * one waiting. A terminal state releases the task's resources on the agent at once.
 * Returns false for a uuid already seen (a re-sent update is not queued twice).
 */
export function enqueueUpdate(world: World, task: FakeTask, status: TaskStatusJson): boolean {
  const uuid = status.uuid;
  if (uuid === undefined) throw new Error('enqueueUpdate needs an update with a uuid');
  if (task.seenUuids.has(uuid)) return false;
  task.seenUuids.add(uuid);
  const wasTerminal = isTerminalState(task.state);
  task.state = status.state;
  task.history.push({ state: status.state, timestamp: status.timestamp ?? Date.now() / 1000 });
  task.pending.push({ uuid, status });
  if (!wasTerminal && isTerminalState(status.state)) releaseTask(world, task);
  if (task.pending.length === 1) forwardHead(world, task);
  return true;
}

/** Frees the resources of a task that ended and moves it out of the agent's live set. */
export function releaseTask(world: World, task: FakeTask): void {
  const agent = world.agents.get(task.agentId);
  if (agent === undefined) return;
  if (agent.tasks.delete(scopedKey(task.frameworkId, task.id))) {
    agent.used.subtract(task.resources.unallocated());
    trackUsage(world, task.frameworkId, task.role, task.resources, -1);
  }
  const executor = agent.executors.get(scopedKey(task.frameworkId, task.executorId));
  if (executor !== undefined && executor.tasks.delete(task.id)) executor.completedTasks.push(task);
}

/** True when the agent of the task can talk to the leading master. */
function agentReachable(world: World, task: FakeTask): boolean {
  const agent = world.agents.get(task.agentId);
  return agent !== undefined && agent.status === 'registered' && world.leadership.ready;
}

/** Sends the oldest unacknowledged update of the task (if the path is up) and arms the retry. */
export function forwardHead(world: World, task: FakeTask): void {
  world.timers.cancel(task.retryTimer);
  task.retryTimer = undefined;
  const head = task.pending[0];
  if (head === undefined || world.stopping) return;
  if (agentReachable(world, task)) {
    // The master learns the state even when the framework is not connected to receive it.
    task.statusUpdateState = head.status.state;
    task.lastStatus = head.status;
    const framework = world.frameworks.get(task.frameworkId);
    if (framework !== undefined && !task.terminalAcknowledged) sendUpdate(framework, head.status);
  }
  const delay = task.retryDelayMs;
  task.retryTimer = world.timers.after(delay, () => {
    task.retryDelayMs = Math.min(task.retryDelayMs * 2, world.options.statusUpdateRetryMs.max);
    forwardHead(world, task);
  });
}

/**
 * Handles an ACKNOWLEDGE: if `uuid` is the update in flight for that task, it is done and the
 * next one is sent at once. Acknowledging the terminal update makes the master forget the task.
 * Unknown tasks and stale uuids are ignored (the master still answers 202).
 */
export function acknowledgeUpdate(world: World, frameworkId: string, taskId: string, uuid: string): void {
  const framework = world.frameworks.get(frameworkId);
  const task = framework?.tasks.get(taskId);
  if (framework === undefined || task === undefined) return;
  const head = task.pending[0];
  if (head === undefined || head.uuid !== uuid) return;
  task.pending.shift();
  world.timers.cancel(task.retryTimer);
  task.retryTimer = undefined;
  task.retryDelayMs = world.options.statusUpdateRetryMs.initial;
  if (isTerminalState(head.status.state)) {
    completeTask(world, task);
    return;
  }
  if (task.pending.length > 0) forwardHead(world, task);
}

/** The master forgets a task whose terminal update was acknowledged (it becomes "completed"). */
export function completeTask(world: World, task: FakeTask): void {
  task.terminalAcknowledged = true;
  for (const pending of task.pending.splice(0)) task.seenUuids.add(pending.uuid);
  world.timers.cancel(task.retryTimer);
  task.retryTimer = undefined;
  const framework = world.frameworks.get(task.frameworkId);
  if (framework === undefined) return;
  if (framework.tasks.get(task.id) === task) framework.tasks.delete(task.id);
  framework.completedTasks.push(task);
  if (framework.completedTasks.length > MAX_COMPLETED_TASKS) framework.completedTasks.shift();
}

/** Re-sends the head update of every task that matches (agent re-registered, framework re-subscribed). */
export function resumeUpdates(world: World, matches: (task: FakeTask) => boolean): void {
  for (const framework of world.frameworks.values()) {
    for (const task of framework.tasks.values()) {
      if (task.pending.length > 0 && matches(task)) {
        task.retryDelayMs = world.options.statusUpdateRetryMs.initial;
        forwardHead(world, task);
      }
    }
  }
}

/** Drops every pending update and timer of a task (framework removed, agent gone). */
export function dropUpdates(world: World, task: FakeTask): void {
  world.timers.cancel(task.retryTimer);
  task.retryTimer = undefined;
  task.pending.length = 0;
}

import { buildStatus, type TaskState, type TaskStatusJson } from '../model/status.js';
import { nowSeconds, type FakeFramework, type FakeTask, type World } from '../model/world.js';
import { sendUpdate } from './events.js';

/**
 * RECONCILE as the Mesos 1.12 master answers it (spec §5 with the recorded differences 8 and 9):
 * answers come from SOURCE_MASTER with REASON_RECONCILIATION, a fresh timestamp and no uuid, in
 * request order. A task whose terminal update was acknowledged is no longer known.
 *
 * Explicit, per entry:
 *  1. task known → its latest state ("Reconciliation: Latest task state"), agent_id, container_status
 *     (and executor_id for tasks of custom / default executors);
 *  2. unknown, its agent still recovering after a master failover → no answer;
 *  3. unknown, agent registered → TASK_GONE ("Reconciliation: Task is unknown to the agent");
 *  4. unknown, agent unreachable → TASK_UNREACHABLE with unreachable_time;
 *  5. unknown, agent removed by the operator → TASK_GONE_BY_OPERATOR;
 *  6. unknown, no agent_id while some agent is recovering → no answer;
 *  7. otherwise → TASK_UNKNOWN ("Reconciliation: Task is unknown"), echoing the agent_id if given.
 * Frameworks without PARTITION_AWARE get TASK_LOST for UNREACHABLE, GONE, GONE_BY_OPERATOR and UNKNOWN.
 * Implicit (no tasks): the latest state of every known task, unreachable ones included.
 */

/** True when the master can see this task: tracked, and its agent is registered or known unreachable. */
function visibleTask(world: World, framework: FakeFramework, taskId: string): FakeTask | undefined {
  const task = framework.tasks.get(taskId);
  if (task === undefined) return undefined;
  const agent = world.agents.get(task.agentId);
  if (agent === undefined || agent.status === 'recovering' || agent.status === 'gone') return undefined;
  return task;
}

/** The "latest state" answer for a known task. */
export function latestStateAnswer(task: FakeTask, unreachableTime?: bigint): TaskStatusJson {
  const state: TaskState = task.statusUpdateState ?? task.state;
  return buildStatus(task.id, {
    state,
    message: 'Reconciliation: Latest task state',
    source: 'SOURCE_MASTER',
    reason: 'REASON_RECONCILIATION',
    agentId: task.agentId,
    executorId: task.executorKind === 'command' ? undefined : task.executorId,
    timestamp: nowSeconds(),
    healthy: task.lastStatus?.healthy,
    containerStatus: task.lastStatus?.container_status,
    unreachableTime,
  });
}

function unknownAnswer(
  taskId: string,
  state: TaskState,
  message: string,
  agentId: string | undefined,
  unreachable?: bigint,
): TaskStatusJson {
  return buildStatus(taskId, {
    state,
    message,
    source: 'SOURCE_MASTER',
    reason: 'REASON_RECONCILIATION',
    agentId,
    timestamp: nowSeconds(),
    unreachableTime: unreachable,
  });
}

/** The answer to one explicit entry, or undefined when the master stays silent (cases 2 and 6). */
export function explicitAnswer(
  world: World,
  framework: FakeFramework,
  taskId: string,
  agentId: string | undefined,
): TaskStatusJson | undefined {
  const task = visibleTask(world, framework, taskId);
  if (task !== undefined && !task.unreachable) return latestStateAnswer(task);
  const agent = agentId === undefined ? undefined : world.agents.get(agentId);
  if (agent?.status === 'recovering') return undefined;
  if (agent !== undefined && (agent.status === 'registered' || agent.status === 'disconnected')) {
    return unknownAnswer(taskId, 'TASK_GONE', 'Reconciliation: Task is unknown to the agent', agentId);
  }
  if (agent?.status === 'unreachable') {
    return unknownAnswer(
      taskId,
      'TASK_UNREACHABLE',
      'Reconciliation: Task is unreachable',
      agentId,
      agent.unreachableTime,
    );
  }
  if (agent?.status === 'gone')
    return unknownAnswer(taskId, 'TASK_GONE_BY_OPERATOR', 'Reconciliation: Task is gone', agentId);
  if ([...world.agents.values()].some((a) => a.status === 'recovering')) return undefined;
  return unknownAnswer(taskId, 'TASK_UNKNOWN', 'Reconciliation: Task is unknown', agentId);
}

/** Answers a RECONCILE call: `entries` empty = implicit. */
export function reconcile(
  world: World,
  framework: FakeFramework,
  entries: Array<{ taskId: string; agentId: string | undefined }>,
): void {
  if (entries.length === 0) {
    for (const task of framework.tasks.values()) {
      const agent = world.agents.get(task.agentId);
      if (agent === undefined || agent.status === 'recovering' || agent.status === 'gone') continue;
      sendUpdate(framework, latestStateAnswer(task, task.unreachable ? agent.unreachableTime : undefined));
    }
    return;
  }
  for (const entry of entries) {
    const answer = explicitAnswer(world, framework, entry.taskId, entry.agentId);
    if (answer !== undefined) sendUpdate(framework, answer);
  }
}

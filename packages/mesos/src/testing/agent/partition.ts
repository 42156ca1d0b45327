import { buildStatus, isTerminalState, type TaskState } from '../model/status.js';
import { nowSeconds, type FakeAgent, type FakeTask, type World } from '../model/world.js';
import { rescindAgentOffers } from '../master/allocator.js';
import { broadcast, failureEvent, sendUpdate } from '../master/events.js';
import { startAgentServer, stopAgentServer } from './agent.js';
import { awaitReregistration } from './custom-executor.js';
import { killTask, shutdownExecutor } from './executors.js';
import { completeTask, dropUpdates, releaseTask, resumeUpdates } from './status-updates.js';

/**
 * What happens between an agent and the master (spec §1.8, §4.4; transcripts 13, 14): losing the
 * agent rescinds its offers at once; after the ping timeout it is marked unreachable
 * (TASK_UNREACHABLE with `unreachable_time`, or TASK_LOST without PARTITION_AWARE, then FAILURE);
 * when it comes back its tasks are re-reported (REASON_AGENT_REREGISTERED) and held updates flow.
 */

/** Tasks the master tracks on this agent, across frameworks. */
function trackedTasksOn(world: World, agent: FakeAgent): FakeTask[] {
  const out: FakeTask[] = [];
  for (const framework of world.frameworks.values()) {
    for (const task of framework.tasks.values()) if (task.agentId === agent.id) out.push(task);
  }
  return out;
}

function masterUpdate(
  world: World,
  task: FakeTask,
  state: TaskState,
  reason: string,
  message: string,
  unreachable?: bigint,
): void {
  const framework = world.frameworks.get(task.frameworkId);
  const status = buildStatus(task.id, {
    state,
    message,
    source: 'SOURCE_MASTER',
    reason,
    agentId: task.agentId,
    timestamp: nowSeconds(),
    containerStatus: unreachable === undefined ? task.lastStatus?.container_status : undefined,
    unreachableTime: unreachable,
  });
  task.statusUpdateState = state;
  if (framework !== undefined) sendUpdate(framework, status);
}

/** The agent stops talking to the master: its offers are rescinded; timers for what follows are set. */
export function loseAgent(
  world: World,
  agent: FakeAgent,
  options: { unreachableAfterMs?: number; reregisterAfterMs?: number },
): void {
  if (agent.status !== 'registered') return;
  agent.status = 'disconnected';
  rescindAgentOffers(world, agent);
  const unreachableAfter = options.unreachableAfterMs ?? world.options.agentPingTimeoutMs;
  agent.timers.add(world.timers.after(unreachableAfter, () => markUnreachable(world, agent)));
  if (options.reregisterAfterMs !== undefined) {
    agent.timers.add(world.timers.after(options.reregisterAfterMs, () => reregisterAgent(world, agent)));
  }
}

/** The ping timeout expired: tasks become unreachable (or lost), frameworks get FAILURE {agent_id}. */
export function markUnreachable(world: World, agent: FakeAgent): void {
  if (agent.status !== 'disconnected') return;
  agent.status = 'unreachable';
  const nanos = BigInt(Date.now()) * 1_000_000n;
  agent.unreachableTime = nanos;
  for (const task of trackedTasksOn(world, agent)) {
    if (isTerminalState(task.state) && task.pending.length === 0) continue;
    task.unreachable = true;
    masterUpdate(world, task, 'TASK_UNREACHABLE', 'REASON_AGENT_REMOVED', 'health check timed out', nanos);
  }
  broadcast(world, failureEvent(agent.id));
}

/** The agent talks to the master again; unreachable tasks are re-reported, held updates are sent. */
export function reregisterAgent(world: World, agent: FakeAgent): void {
  if (agent.status === 'registered' || agent.status === 'gone') return;
  for (const handle of agent.timers) world.timers.cancel(handle);
  agent.timers.clear();
  const wasUnreachable = agent.status === 'unreachable';
  agent.status = 'registered';
  agent.unreachableTime = undefined;
  for (const task of trackedTasksOn(world, agent)) {
    const framework = world.frameworks.get(task.frameworkId);
    if (framework !== undefined) framework.knownToLeader = true;
    if (wasUnreachable && task.unreachable) {
      task.unreachable = false;
      masterUpdate(world, task, task.state, 'REASON_AGENT_REREGISTERED', 'Unreachable agent re-reregistered');
    }
    if (task.pendingKill !== undefined) {
      const { graceMs } = task.pendingKill;
      task.pendingKill = undefined;
      killTask(world, task, graceMs);
    }
  }
  resumeUpdates(world, (task) => task.agentId === agent.id);
  world.allocateSoon();
}

/**
 * The agent restarts: its endpoint goes away for `downMs` (executor streams abort), its offers
 * are rescinded, then it comes back on the same port; custom executors must re-subscribe in time.
 */
export async function restartAgent(world: World, agent: FakeAgent, downMs: number): Promise<void> {
  const wasRegistered = agent.status === 'registered';
  if (wasRegistered) agent.status = 'disconnected';
  rescindAgentOffers(world, agent);
  await stopAgentServer(agent);
  await new Promise<void>((resolve) => world.timers.after(downMs, resolve));
  if (world.stopping) return;
  await startAgentServer(world, agent);
  awaitReregistration(world, agent);
  if (wasRegistered) reregisterAgent(world, agent);
}

/** The operator removed the agent for good: tasks are gone (TASK_GONE_BY_OPERATOR / TASK_LOST). */
export async function removeAgent(world: World, agent: FakeAgent): Promise<void> {
  if (agent.status === 'gone') return;
  for (const handle of agent.timers) world.timers.cancel(handle);
  agent.timers.clear();
  agent.status = 'gone';
  rescindAgentOffers(world, agent);
  for (const task of trackedTasksOn(world, agent)) {
    if (isTerminalState(task.state) && task.pending.length === 0) continue;
    dropUpdates(world, task);
    task.state = 'TASK_GONE_BY_OPERATOR';
    releaseTask(world, task);
    masterUpdate(
      world,
      task,
      'TASK_GONE_BY_OPERATOR',
      'REASON_AGENT_REMOVED_BY_OPERATOR',
      'Agent has been removed by the operator',
    );
    completeTask(world, task);
  }
  broadcast(world, failureEvent(agent.id));
  for (const executor of [...agent.executors.values()]) shutdownExecutor(world, agent, executor);
  await stopAgentServer(agent);
}

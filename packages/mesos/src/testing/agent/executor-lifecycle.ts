import { uuidBase64, uuidText } from '../model/ids.js';
import type { Resources } from '../model/resources.js';
import { buildStatus, type TaskState } from '../model/status.js';
import {
  nowSeconds,
  scopedKey,
  type ExecutorKind,
  type FakeAgent,
  type FakeExecutor,
  type FakeTask,
  type JsonObject,
  type World,
} from '../model/world.js';
import { failureEvent, sendEvent } from '../master/events.js';
import { enqueueUpdate } from './status-updates.js';

/**
 * An executor's life on the agent, whatever its kind: created with its resources reserved and
 * its sandbox path, ended (resources freed, kept as completed, FAILURE to the framework), and
 * the updates the agent itself sends for a task when no executor can.
 */

/** Completed executors an agent keeps for `/state` and the files API. */
const MAX_COMPLETED_EXECUTORS = 150;

/** The host path of an executor run's sandbox, laid out as a Mesos agent lays it out. */
export function sandboxPath(
  agent: FakeAgent,
  frameworkId: string,
  executorId: string,
  containerId: string,
): string {
  return `${agent.workDir}/slaves/${agent.id}/frameworks/${frameworkId}/executors/${executorId}/runs/${containerId}`;
}

/** Finds the live executor or creates it (reserving its resources on the agent). */
export function executorFor(
  world: World,
  agent: FakeAgent,
  spec: {
    frameworkId: string;
    id: string;
    kind: ExecutorKind;
    info: JsonObject | undefined;
    role: string;
    resources: Resources;
    containerId?: string;
  },
): FakeExecutor {
  const key = scopedKey(spec.frameworkId, spec.id);
  const existing = agent.executors.get(key);
  if (existing !== undefined && existing.state !== 'terminated') return existing;
  const containerId = spec.containerId ?? uuidText();
  const executor: FakeExecutor = {
    frameworkId: spec.frameworkId,
    id: spec.id,
    kind: spec.kind,
    info: spec.info,
    containerId,
    directory: sandboxPath(agent, spec.frameworkId, spec.id, containerId),
    resources: spec.resources,
    role: spec.role,
    state: spec.kind === 'custom' && world.options.execution === 'processes' ? 'launching' : 'running',
    tasks: new Map(),
    queued: [],
    completedTasks: [],
    pid: undefined,
    stream: undefined,
    exitStatus: undefined,
    startedAt: Math.floor(Date.now() / 1000),
    runtime: undefined,
  };
  agent.executors.set(key, executor);
  agent.used.add(spec.resources.unallocated());
  return executor;
}

/**
 * Ends an executor: frees its resources, keeps it as completed, closes its API stream and, when
 * `waitStatus` is given, tells the framework with FAILURE {agent_id, executor_id, status}.
 */
export function terminateExecutor(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  waitStatus: number | undefined,
): void {
  if (executor.state === 'terminated') return;
  executor.state = 'terminated';
  executor.exitStatus = waitStatus;
  const key = scopedKey(executor.frameworkId, executor.id);
  if (agent.executors.get(key) === executor) agent.executors.delete(key);
  agent.completedExecutors.push(executor);
  if (agent.completedExecutors.length > MAX_COMPLETED_EXECUTORS) agent.completedExecutors.shift();
  agent.used.subtract(executor.resources.unallocated());
  executor.stream?.end();
  executor.stream = undefined;
  if (waitStatus === undefined || agent.status !== 'registered') return;
  const framework = world.frameworks.get(executor.frameworkId);
  if (framework !== undefined) sendEvent(framework, failureEvent(agent.id, executor.id, waitStatus));
}

/** Ends a task right away with a status from the agent itself (no executor involved). */
export function agentUpdate(
  world: World,
  agent: FakeAgent,
  task: FakeTask,
  state: TaskState,
  reason: string,
  message: string,
): void {
  const status = buildStatus(task.id, {
    state,
    message,
    source: 'SOURCE_AGENT',
    reason,
    agentId: agent.id,
    executorId: task.executorId,
    timestamp: nowSeconds(),
    uuid: uuidBase64(),
  });
  enqueueUpdate(world, task, status);
}

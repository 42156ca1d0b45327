import { isUuidBytes } from '../model/ids.js';
import { buildStatus, type TaskState, type TaskStatusJson } from '../model/status.js';
import {
  nowSeconds,
  scopedKey,
  type FakeAgent,
  type FakeExecutor,
  type JsonObject,
  type World,
} from '../model/world.js';
import { messageEvent, sendEvent } from '../master/events.js';
import { acceptsMediaType, arrayField, idValue, objectField, readCallBody } from '../wire/call-parsing.js';
import type { HttpRequest, HttpResponder } from '../wire/http-server.js';
import { openEventStream, sendAccepted, sendMethodNotAllowed, sendText } from '../wire/responses.js';
import { EXECUTOR_CALL, EXECUTOR_CALL_TYPES } from '../wire/schemas.js';
import { customRuntime, deliverQueued, sendToExecutor } from './custom-executor.js';
import { executorSubscribedEvent } from './executor-json.js';
import { agentUpdate } from './executor-lifecycle.js';
import { enqueueUpdate } from './status-updates.js';

/**
 * The agent's v1 executor endpoint (`/api/v1/executor`, spec §3): the same checks and texts as
 * Mesos (transcript 16), SUBSCRIBE streams with SUBSCRIBED then queued LAUNCHes, UPDATE calls
 * become status updates (ACKNOWLEDGED goes back once the agent took them over), MESSAGE goes to
 * the scheduler. Every call is recorded for inspection.
 */

/** Handles one request to the executor endpoint. */
export function handleExecutorCall(
  world: World,
  agent: FakeAgent,
  request: HttpRequest,
  res: HttpResponder,
): void {
  if (request.method !== 'POST') {
    sendMethodNotAllowed(res, request.method);
    return;
  }
  const parsed = readCallBody(request, EXECUTOR_CALL);
  const record = {
    at: Date.now(),
    api: 'executor' as const,
    target: agent.id,
    type: parsed.ok && typeof parsed.call.type === 'string' ? parsed.call.type : undefined,
    frameworkId: parsed.ok ? idValue(parsed.call.framework_id) : undefined,
    body: parsed.ok ? parsed.call : undefined,
    status: 0,
  };
  world.calls.push(record);
  const answer = (status: number, body: string): void => {
    record.status = status;
    sendText(res, status, body);
  };
  if (!parsed.ok) {
    answer(parsed.status, parsed.body);
    return;
  }
  const call = parsed.call;
  const invalid = validateExecutorCall(call);
  if (invalid !== undefined) {
    answer(400, `Failed to validate Executor::Call: ${invalid}`);
    return;
  }
  if (call.type === 'HEARTBEAT') {
    record.status = 202;
    sendAccepted(res);
    return;
  }
  if (
    call.type === 'SUBSCRIBE' &&
    !acceptsMediaType(request, 'application/json') &&
    !acceptsMediaType(request, 'application/x-protobuf')
  ) {
    answer(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
    return;
  }
  const frameworkId = idValue(call.framework_id) ?? '';
  const executorId = idValue(call.executor_id) ?? '';
  const known = [...agent.executors.values()].some((e) => e.frameworkId === frameworkId);
  if (!known) {
    answer(400, 'Framework cannot be found');
    return;
  }
  const executor = agent.executors.get(scopedKey(frameworkId, executorId));
  if (executor === undefined) {
    answer(400, 'Executor cannot be found');
    return;
  }
  if (call.type === 'SUBSCRIBE') {
    record.status = 200;
    subscribeExecutor(world, agent, executor, res, objectField(call, 'subscribe') ?? {});
    return;
  }
  if (executor.stream === undefined && executor.state !== 'running') {
    answer(403, 'Executor is not subscribed');
    return;
  }
  record.status = 202;
  sendAccepted(res);
  if (call.type === 'UPDATE') {
    const status = objectField(objectField(call, 'update'), 'status') as unknown as TaskStatusJson;
    setImmediate(() => executorUpdate(world, agent, executor, status));
  } else if (call.type === 'MESSAGE') {
    const data = objectField(call, 'message')?.data;
    const framework = world.frameworks.get(frameworkId);
    if (framework !== undefined && agent.status === 'registered') {
      sendEvent(framework, messageEvent(agent.id, executor.id, typeof data === 'string' ? data : ''));
    }
  }
}

/** Mesos' `validation::executor::call::validate`; returns the reason, or undefined when valid. */
function validateExecutorCall(call: JsonObject): string | undefined {
  if (typeof call.type !== 'string' || !EXECUTOR_CALL_TYPES.has(call.type))
    return "Expecting 'type' to be present";
  const executorId = idValue(call.executor_id) ?? '';
  const frameworkId = idValue(call.framework_id) ?? '';
  if (call.type === 'SUBSCRIBE' && objectField(call, 'subscribe') === undefined)
    return "Expecting 'subscribe' to be present";
  if (call.type === 'MESSAGE' && objectField(call, 'message') === undefined)
    return "Expecting 'message' to be present";
  if (call.type !== 'UPDATE') return undefined;
  const update = objectField(call, 'update');
  if (update === undefined) return "Expecting 'update' to be present";
  const status = objectField(update, 'status') ?? {};
  if (status.uuid === undefined || status.uuid === null) return "Expecting 'uuid' to be present";
  if (!isUuidBytes(status.uuid)) return 'Not a valid UUID';
  const statusExecutor = idValue(status.executor_id);
  if (statusExecutor !== undefined && statusExecutor !== executorId) {
    return `ExecutorID in Call: ${executorId} does not match ExecutorID in TaskStatus: ${statusExecutor}`;
  }
  if (status.source !== 'SOURCE_EXECUTOR') {
    return `Received Call from executor ${executorId} of framework ${frameworkId} with invalid source, expecting 'SOURCE_EXECUTOR'`;
  }
  if (status.state === 'TASK_STAGING') {
    return `Received TASK_STAGING from executor ${executorId} of framework ${frameworkId} which is not allowed`;
  }
  return undefined;
}

function subscribeExecutor(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  res: HttpResponder,
  subscribe: JsonObject,
): void {
  const stream = openEventStream(res, undefined);
  if (executor.state === 'terminating' || executor.state === 'terminated') {
    stream.write(Buffer.from('19\n{"type":"SHUTDOWN"}'));
    stream.end();
    return;
  }
  const previous = executor.stream;
  executor.stream = stream;
  previous?.end();
  const runtime = customRuntime(executor);
  const resubscribing = runtime.recovering;
  runtime.recovering = false;
  world.timers.cancel(runtime.deadline);
  runtime.deadline = undefined;
  executor.state = 'running';
  stream.onClose(() => {
    if (executor.stream === stream) executor.stream = undefined;
  });
  sendToExecutor(executor, executorSubscribedEvent(world, agent, executor));
  for (const entry of arrayField(subscribe, 'unacknowledged_updates')) {
    const status = objectField(entry as JsonObject, 'status');
    if (status !== undefined) executorUpdate(world, agent, executor, status as unknown as TaskStatusJson);
  }
  if (resubscribing) dropUnknownStagingTasks(world, agent, executor, subscribe);
  deliverQueued(executor);
}

/** After an agent restart: tasks still STAGING that the executor does not list were never received. */
function dropUnknownStagingTasks(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  subscribe: JsonObject,
): void {
  const listed = new Set(
    arrayField(subscribe, 'unacknowledged_tasks').map((t) => idValue((t as JsonObject | null)?.task_id)),
  );
  for (const task of [...executor.tasks.values()]) {
    if (task.state !== 'TASK_STAGING' || listed.has(task.id)) continue;
    if (executor.queued.some((entry) => entry.task === task || entry.group?.includes(task) === true))
      continue;
    agentUpdate(
      world,
      agent,
      task,
      'TASK_DROPPED',
      'REASON_AGENT_RESTARTED',
      'Task launched during agent restart',
    );
  }
}

/**
 * An UPDATE from the executor: the agent fills `agent_id` and `container_status`, keeps it until
 * the framework acknowledges it, and tells the executor ACKNOWLEDGED right away (also for a
 * duplicate uuid, which is not forwarded twice).
 */
function executorUpdate(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  received: TaskStatusJson,
): void {
  const taskId = idValue(received.task_id) ?? '';
  const task = executor.tasks.get(taskId) ?? executor.completedTasks.find((t) => t.id === taskId);
  const uuid = received.uuid ?? '';
  if (task !== undefined && !task.seenUuids.has(uuid)) {
    const status = buildStatus(taskId, {
      state: received.state as TaskState,
      message: received.message,
      source: 'SOURCE_EXECUTOR',
      reason: received.reason,
      data: received.data,
      agentId: agent.id,
      executorId: executor.id,
      timestamp: typeof received.timestamp === 'number' ? received.timestamp : nowSeconds(),
      uuid,
      healthy: received.healthy,
      checkStatus: received.check_status,
      labels: received.labels,
      containerStatus: {
        container_id: { value: executor.containerId },
        network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: agent.ip }] }],
        ...(executor.pid !== undefined ? { executor_pid: executor.pid } : {}),
      },
    });
    enqueueUpdate(world, task, status);
  }
  sendToExecutor(executor, { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: taskId }, uuid } });
}

import { arrayField, objectField } from '../wire/call-parsing.js';
import type { FakeAgent, FakeExecutor, FakeTask, JsonObject, World } from '../model/world.js';

/**
 * JSON the agent sends to executors (transcript 16): messages in `.proto` field order, with
 * defaults written out (`"shell":true`, environment `"type":"VALUE"`) and resources rewritten in
 * the refinement format (`allocation_info`, no `"role":"*"`).
 */

/** Copies `source` with `order` first (in that order), then the remaining keys. */
function ordered(source: JsonObject, order: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of order) if (source[key] !== undefined && source[key] !== null) out[key] = source[key];
  for (const [key, value] of Object.entries(source))
    if (!(key in out) && value !== undefined && value !== null) out[key] = value;
  return out;
}

function resourceJson(resource: unknown): JsonObject {
  const r = { ...(resource as JsonObject) };
  if (r.role === '*') delete r.role;
  return ordered(r, [
    'name',
    'type',
    'scalar',
    'ranges',
    'set',
    'reservations',
    'disk',
    'revocable',
    'shared',
    'allocation_info',
  ]);
}

function commandJson(command: JsonObject): JsonObject {
  const out: JsonObject = { ...command };
  const environment = objectField(command, 'environment');
  if (environment !== undefined) {
    out.environment = {
      ...environment,
      variables: arrayField(environment, 'variables').map((variable) =>
        ordered({ type: 'VALUE', ...(variable as JsonObject) }, ['name', 'type', 'value', 'secret']),
      ),
    };
  }
  if (out.shell === undefined) out.shell = true;
  return ordered(out, ['uris', 'environment', 'shell', 'value', 'arguments', 'user']);
}

/** `ExecutorInfo` as the executor receives it. */
export function executorInfoJson(info: JsonObject, frameworkId: string): JsonObject {
  const out: JsonObject = { type: 'CUSTOM', ...info, framework_id: { value: frameworkId } };
  const command = objectField(info, 'command');
  if (command !== undefined) out.command = commandJson(command);
  out.resources = arrayField(info, 'resources').map(resourceJson);
  if ((out.resources as unknown[]).length === 0) delete out.resources;
  return ordered(out, [
    'type',
    'executor_id',
    'framework_id',
    'command',
    'container',
    'resources',
    'name',
    'source',
    'data',
    'discovery',
    'shutdown_grace_period',
    'labels',
  ]);
}

/** `TaskInfo` as the executor receives it in LAUNCH / LAUNCH_GROUP. */
export function taskInfoJson(task: FakeTask, executor: FakeExecutor): JsonObject {
  const out: JsonObject = { ...task.info };
  out.resources = arrayField(task.info, 'resources').map(resourceJson);
  if (executor.info !== undefined) out.executor = executorInfoJson(executor.info, executor.frameworkId);
  const command = objectField(task.info, 'command');
  if (command !== undefined) out.command = commandJson(command);
  return ordered(out, [
    'name',
    'task_id',
    'agent_id',
    'resources',
    'executor',
    'command',
    'container',
    'health_check',
    'check',
    'kill_policy',
    'data',
    'labels',
    'discovery',
    'max_completion_time',
    'limits',
  ]);
}

/** `FrameworkInfo` with its defaults written out, in declaration order. */
export function frameworkInfoJson(info: JsonObject): JsonObject {
  const out: JsonObject = { failover_timeout: 0, checkpoint: false, ...info };
  return ordered(out, [
    'user',
    'name',
    'id',
    'failover_timeout',
    'checkpoint',
    'role',
    'hostname',
    'principal',
    'webui_url',
    'roles',
    'capabilities',
    'labels',
    'offer_filters',
  ]);
}

/** `AgentInfo` of the agent (resources without roles, as the agent sends it). */
export function agentInfoJson(agent: FakeAgent): JsonObject {
  const resources = agent.total
    .list()
    .sort((a, b) => agentOrder(a.name) - agentOrder(b.name))
    .map((entry) => {
      const out: JsonObject = { name: entry.name, type: entry.type };
      if (entry.type === 'SCALAR') out.scalar = { value: entry.milli / 1000 };
      else if (entry.type === 'RANGES')
        out.ranges = { range: entry.ranges.map(([begin, end]) => ({ begin, end })) };
      else out.set = { item: [...entry.items] };
      return out;
    });
  const out: JsonObject = { hostname: agent.hostname, port: agent.port, resources };
  if (agent.attributes.length > 0) out.attributes = agent.attributes;
  out.id = { value: agent.id };
  return out;
}

function agentOrder(name: string): number {
  const index = ['cpus', 'mem', 'disk', 'ports'].indexOf(name);
  return index < 0 ? 10 : index;
}

/** The SUBSCRIBED event for an executor. */
export function executorSubscribedEvent(world: World, agent: FakeAgent, executor: FakeExecutor): unknown {
  const framework = world.frameworks.get(executor.frameworkId);
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: executorInfoJson(
        executor.info ?? { executor_id: { value: executor.id } },
        executor.frameworkId,
      ),
      framework_info: frameworkInfoJson(framework?.info ?? { id: { value: executor.frameworkId } }),
      agent_info: agentInfoJson(agent),
      container_id: { value: executor.containerId },
    },
  };
}

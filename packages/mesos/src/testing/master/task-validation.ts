import { Resources } from '../model/resources.js';
import type { FakeAgent, FakeFramework, JsonObject } from '../model/world.js';
import { arrayField, idValue, objectField } from '../wire/call-parsing.js';

/**
 * The master's checks of a TaskInfo in LAUNCH / LAUNCH_GROUP (Mesos `validation::task`), in
 * Mesos' order, and the conversion of a task's resources into the fake's resource model.
 * The messages become TASK_ERROR (REASON_TASK_INVALID / REASON_TASK_GROUP_INVALID) updates.
 */

/** Mesos' ID rules (task and executor ids); returns the problem, or undefined. */
export function idError(id: string): string | undefined {
  if (id === '') return 'ID must not be empty';
  if (id.length > 255) return 'ID must not be greater than 255 characters';
  if (id === '.' || id === '..') return `'${id}' is disallowed`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f/\\]/.test(id)) return `'${id}' contains invalid characters`;
  return undefined;
}

/** Resources of a TaskInfo / ExecutorInfo, allocated to `role` unless they name another. */
export function resourcesOf(json: unknown[], role: string): { resources: Resources; error?: string } {
  const out = new Resources();
  for (const item of json) {
    const resource = item as JsonObject | null;
    const name = resource?.name;
    const type = resource?.type;
    if (resource === null || typeof name !== 'string' || name === '')
      return { resources: out, error: 'Empty resource name' };
    const allocation = idValueOfRole(resource);
    const reservations = arrayField(resource, 'reservations');
    const reservation =
      reservations.length > 0
        ? reservations.map((r) => String((r as JsonObject).role)).join(', ')
        : typeof resource.role === 'string' && resource.role !== '*'
          ? resource.role
          : undefined;
    const allocationRole = allocation ?? role;
    if (type === 'SCALAR') {
      const value = Number(objectField(resource, 'scalar')?.value);
      if (!Number.isFinite(value) || value < 0)
        return { resources: out, error: `Invalid scalar resource ${name}` };
      out.addScalar(name, value, allocationRole, reservation);
    } else if (type === 'RANGES') {
      const ranges = arrayField(objectField(resource, 'ranges'), 'range').map((r) => {
        const range = r as JsonObject;
        return [Number(range.begin), Number(range.end)] as const;
      });
      if (ranges.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b > e)) {
        return { resources: out, error: `Invalid ranges resource ${name}` };
      }
      out.addRanges(name, ranges, allocationRole, reservation);
    } else if (type === 'SET') {
      const items = arrayField(objectField(resource, 'set'), 'item').map(String);
      out.addSet(name, items, allocationRole, reservation);
    } else {
      return { resources: out, error: `Unknown resource type for ${name}` };
    }
  }
  return { resources: out };
}

function idValueOfRole(resource: JsonObject): string | undefined {
  const role = objectField(resource, 'allocation_info')?.role;
  return typeof role === 'string' ? role : undefined;
}

/** What kind of launch the task is part of. */
export type LaunchKind = 'LAUNCH' | 'LAUNCH_GROUP';

/**
 * Checks one task; `takenIds` are ids already used by this framework (live tasks, and earlier
 * tasks of the same ACCEPT). Returns the error message, or undefined when the task is valid.
 */
export function taskError(
  framework: FakeFramework,
  agent: FakeAgent,
  task: JsonObject,
  kind: LaunchKind,
  role: string,
): string | undefined {
  const taskId = idValue(task.task_id) ?? '';
  const invalidId = idError(taskId);
  if (invalidId !== undefined) return `'TaskInfo.task_id' is invalid: ${invalidId}`;
  if (framework.tasks.has(taskId)) return `Task has duplicate ID: ${taskId}`;
  const agentId = idValue(task.agent_id) ?? '';
  if (agentId !== agent.id) return `Task uses invalid agent ${agentId} while agent ${agent.id} is expected`;
  const grace = Number(objectField(objectField(task, 'kill_policy'), 'grace_period')?.nanoseconds ?? 0);
  if (grace < 0) return "Task's 'kill_policy.grace_period' must be non-negative";
  const resources = arrayField(task, 'resources');
  if (resources.length === 0) return 'Task uses no resources';
  const converted = resourcesOf(resources, role);
  if (converted.error !== undefined) return `Task uses invalid resources: ${converted.error}`;
  const hasCommand = objectField(task, 'command') !== undefined;
  const executor = objectField(task, 'executor');
  if (kind === 'LAUNCH') {
    if (hasCommand === (executor !== undefined)) {
      return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
    }
    if (executor !== undefined) return executorError(agent, framework, executor, 'LAUNCH');
  } else if (!hasCommand && executor === undefined) {
    return `Task '${taskId}' of a task group needs a CommandInfo`;
  }
  return undefined;
}

/** Checks an ExecutorInfo of a LAUNCH (custom executor) or LAUNCH_GROUP (default or custom executor). */
export function executorError(
  agent: FakeAgent,
  framework: FakeFramework,
  executor: JsonObject,
  kind: LaunchKind,
): string | undefined {
  const executorId = idValue(executor.executor_id) ?? '';
  const invalid = idError(executorId);
  if (invalid !== undefined) return `'ExecutorInfo.executor_id' is invalid: ${invalid}`;
  const type = executor.type;
  const frameworkId = idValue(executor.framework_id);
  if (frameworkId !== undefined && frameworkId !== framework.id) {
    return `ExecutorInfo has an invalid FrameworkID (Actual: ${frameworkId} vs Expected: ${framework.id})`;
  }
  if (kind === 'LAUNCH' && type === 'DEFAULT') return "'ExecutorInfo.type' must be 'CUSTOM'";
  if (kind === 'LAUNCH_GROUP' && type === undefined) return "'ExecutorInfo.type' must be set";
  const hasCommand = objectField(executor, 'command') !== undefined;
  if (type === 'DEFAULT' && hasCommand)
    return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor";
  if (type !== 'DEFAULT' && !hasCommand) return "'ExecutorInfo.command' must be set for 'CUSTOM' executor";
  const existing = agent.executors.get(`${framework.id}/${executorId}`);
  if (existing !== undefined && existing.state !== 'terminated' && existing.kind === 'command') {
    return `Executor ${executorId} already exists as a command executor`;
  }
  return undefined;
}

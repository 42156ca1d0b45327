import { scopedKey, type FakeFramework, type JsonObject, type World } from '../model/world.js';
import { arrayField, idValue, objectField } from '../wire/call-parsing.js';
import { acknowledgeUpdate } from '../agent/status-updates.js';
import { killTask, shutdownExecutor } from '../agent/executors.js';
import { sendToExecutor } from '../agent/custom-executor.js';
import { accept, decline } from './accept.js';
import { reconcile } from './reconcile.js';
import { removeFramework } from './subscriptions.js';
import { removeOffer } from './allocator.js';
import { answerInverseOffers } from './maintenance.js';

/**
 * The effects of the asynchronous scheduler calls (all answered 202 before they run):
 * TEARDOWN, ACCEPT, DECLINE, REVIVE, SUPPRESS, KILL, SHUTDOWN, ACKNOWLEDGE, RECONCILE, MESSAGE,
 * ACCEPT_INVERSE_OFFERS and DECLINE_INVERSE_OFFERS (noted in the maintenance status).
 * REQUEST and operation calls are accepted and have no effect (the fake runs no offer operations
 * other than LAUNCH and LAUNCH_GROUP).
 */

function rolesIn(payload: JsonObject | undefined, framework: FakeFramework): string[] {
  const roles = arrayField(payload, 'roles').filter((r): r is string => typeof r === 'string');
  return roles.length === 0 ? [...framework.roles] : roles.filter((role) => framework.roles.includes(role));
}

/** Runs one asynchronous call for a subscribed framework. */
export function runCall(world: World, framework: FakeFramework, type: string, call: JsonObject): void {
  switch (type) {
    case 'TEARDOWN':
      removeFramework(world, framework);
      return;
    case 'ACCEPT':
      accept(world, framework, objectField(call, 'accept') ?? {});
      return;
    case 'DECLINE':
      decline(world, framework, objectField(call, 'decline') ?? {});
      return;
    case 'REVIVE': {
      const roles = rolesIn(objectField(call, 'revive'), framework);
      for (const role of roles) framework.suppressedRoles.delete(role);
      world.filters.clear(framework.id, roles);
      world.allocateSoon();
      return;
    }
    case 'SUPPRESS':
      for (const role of rolesIn(objectField(call, 'suppress'), framework))
        framework.suppressedRoles.add(role);
      return;
    case 'KILL':
      kill(world, framework, objectField(call, 'kill') ?? {});
      return;
    case 'SHUTDOWN': {
      const shutdown = objectField(call, 'shutdown') ?? {};
      const agent = world.agents.get(idValue(shutdown.agent_id) ?? '');
      const executor = agent?.executors.get(scopedKey(framework.id, idValue(shutdown.executor_id) ?? ''));
      if (agent !== undefined && executor !== undefined && agent.status === 'registered')
        shutdownExecutor(world, agent, executor);
      return;
    }
    case 'ACKNOWLEDGE': {
      const ack = objectField(call, 'acknowledge') ?? {};
      acknowledgeUpdate(world, framework.id, idValue(ack.task_id) ?? '', String(ack.uuid ?? ''));
      return;
    }
    case 'RECONCILE': {
      const entries = arrayField(objectField(call, 'reconcile'), 'tasks').map((entry) => ({
        taskId: idValue((entry as JsonObject).task_id) ?? '',
        agentId: idValue((entry as JsonObject).agent_id),
      }));
      reconcile(world, framework, entries);
      return;
    }
    case 'MESSAGE':
      message(world, framework, objectField(call, 'message') ?? {});
      return;
    case 'ACCEPT_INVERSE_OFFERS':
      answerInverseOffers(world, framework, objectField(call, 'accept_inverse_offers') ?? {}, 'ACCEPT');
      return;
    case 'DECLINE_INVERSE_OFFERS':
      answerInverseOffers(world, framework, objectField(call, 'decline_inverse_offers') ?? {}, 'DECLINE');
      return;
    default:
      return;
  }
}

/** KILL: a known task is killed through its executor; an unknown one is answered by reconciliation. */
function kill(world: World, framework: FakeFramework, payload: JsonObject): void {
  const taskId = idValue(payload.task_id) ?? '';
  const agentId = idValue(payload.agent_id);
  const task = framework.tasks.get(taskId);
  const agent = task === undefined ? undefined : world.agents.get(task.agentId);
  if (task === undefined || task.unreachable || agent === undefined || agent.status === 'recovering') {
    reconcile(world, framework, [{ taskId, agentId }]);
    return;
  }
  const nanos = Number(objectField(objectField(payload, 'kill_policy'), 'grace_period')?.nanoseconds);
  const graceMs = Number.isFinite(nanos) && nanos >= 0 ? nanos / 1e6 : undefined;
  if (agent.status !== 'registered') {
    task.pendingKill = { graceMs };
    return;
  }
  killTask(world, task, graceMs);
}

/** MESSAGE to an executor: delivered on its stream when it has one, else kept for inspection. */
function message(world: World, framework: FakeFramework, payload: JsonObject): void {
  const agentId = idValue(payload.agent_id) ?? '';
  const executorId = idValue(payload.executor_id) ?? '';
  const data = typeof payload.data === 'string' ? payload.data : '';
  const executor = world.agents.get(agentId)?.executors.get(scopedKey(framework.id, executorId));
  if (executor !== undefined && sendToExecutor(executor, { type: 'MESSAGE', message: { data } })) return;
  world.executorMessages.push({ frameworkId: framework.id, agentId, executorId, data });
}

/**
 * UPDATE_FRAMEWORK (synchronous): applies the new FrameworkInfo and suppressed roles. Roles that
 * were removed lose their outstanding offers; roles no longer suppressed get their filters cleared.
 */
export function updateFramework(
  world: World,
  framework: FakeFramework,
  payload: JsonObject,
  roles: string[],
  capabilities: Set<string>,
): void {
  const info = objectField(payload, 'framework_info') ?? {};
  const removedRoles = framework.roles.filter((role) => !roles.includes(role));
  framework.info = {
    ...info,
    user: framework.info.user,
    checkpoint: framework.info.checkpoint,
    id: { value: framework.id },
  };
  framework.capabilities = capabilities;
  framework.roles = roles;
  for (const offerId of [...framework.offers]) {
    const offer = world.offers.get(offerId);
    if (offer !== undefined && removedRoles.includes(offer.role))
      removeOffer(world, offer, { rescind: true });
  }
  const suppressed = new Set(
    arrayField(payload, 'suppressed_roles').filter(
      (r): r is string => typeof r === 'string' && roles.includes(r),
    ),
  );
  const unsuppressed = [...framework.suppressedRoles].filter((role) => !suppressed.has(role));
  world.filters.clear(framework.id, unsuppressed);
  framework.suppressedRoles = suppressed;
  world.allocateSoon();
}

import { uuidText, frameworkIdFor } from '../model/ids.js';
import {
  scopedKey,
  type FakeFramework,
  type JsonObject,
  type Subscription,
  type World,
} from '../model/world.js';
import { arrayField, idValue, objectField } from '../wire/call-parsing.js';
import type { HttpResponder } from '../wire/http-server.js';
import { encodeMesosJson, recordioText } from '../wire/mesos-json.js';
import { openEventStream } from '../wire/responses.js';
import { removeFrameworkOffers } from './allocator.js';
import { errorEvent, HEARTBEAT_EVENT, sendEvent, subscribedEvent } from './events.js';
import { capabilitiesOf, failoverTimeoutMs, frameworkInfoError, rolesOf } from './framework-info.js';
import { resumeUpdates } from '../agent/status-updates.js';
import { shutdownFrameworkOnAgent } from '../agent/executors.js';

/**
 * SUBSCRIBE and the life of a subscription (spec §1.2, §1.8): SUBSCRIBED then HEARTBEATs on a
 * RecordIO stream; a second SUBSCRIBE fails the old stream over ("Framework failed over", EOF);
 * a dropped stream leaves the framework disconnected (403 on calls) until it re-subscribes or its
 * failover timeout expires, which removes it like TEARDOWN does.
 */

/** Opens the stream and subscribes (the HTTP-level checks are done by the caller). */
export function subscribe(world: World, masterPort: number, res: HttpResponder, call: JsonObject): void {
  const subscribeField = objectField(call, 'subscribe') ?? {};
  const info = { ...(objectField(subscribeField, 'framework_info') ?? {}) };
  const streamId = uuidText();
  const stream = openEventStream(res, streamId);
  const requestedId = idValue(info.id);
  if (requestedId !== undefined && world.removedFrameworks.has(requestedId)) {
    failStream(stream, 'Framework has been removed');
    return;
  }
  const capabilities = capabilitiesOf(info);
  const invalid = frameworkInfoError(info, capabilities);
  if (invalid !== undefined) {
    failStream(stream, invalid);
    return;
  }
  const framework = registerFramework(world, requestedId, info, capabilities);
  const suppressed = arrayField(subscribeField, 'suppressed_roles').filter(
    (r): r is string => typeof r === 'string',
  );
  framework.suppressedRoles = new Set(suppressed.filter((role) => framework.roles.includes(role)));
  const previous = framework.subscription;
  const subscription: Subscription = { streamId, stream, heartbeat: undefined };
  framework.subscription = subscription;
  if (previous !== undefined) {
    world.timers.cancel(previous.heartbeat);
    failStream(previous.stream, 'Framework failed over');
  }
  world.timers.cancel(framework.failoverTimer);
  framework.failoverTimer = undefined;
  framework.knownToLeader = true;
  removeFrameworkOffers(world, framework);
  stream.onClose(() => disconnected(world, framework, subscription));
  sendEvent(framework, subscribedEvent(world, framework.id, masterPort));
  sendEvent(framework, HEARTBEAT_EVENT);
  subscription.heartbeat = world.timers.every(world.options.heartbeatIntervalSeconds * 1000, () =>
    sendEvent(framework, HEARTBEAT_EVENT),
  );
  resumeUpdates(world, (task) => task.frameworkId === framework.id);
  world.allocateSoon();
}

function failStream(stream: ReturnType<typeof openEventStream>, message: string): void {
  stream.write(recordioText(encodeMesosJson(errorEvent(message))));
  stream.end();
}

function registerFramework(
  world: World,
  requestedId: string | undefined,
  info: JsonObject,
  capabilities: Set<string>,
): FakeFramework {
  const existing = requestedId === undefined ? undefined : world.frameworks.get(requestedId);
  if (existing !== undefined) {
    // user and checkpoint cannot change after registration; everything else follows the new info.
    existing.info = {
      ...info,
      user: existing.info.user,
      checkpoint: existing.info.checkpoint,
      id: { value: existing.id },
    };
    existing.capabilities = capabilities;
    existing.roles = rolesOf(info, capabilities);
    return existing;
  }
  const id = requestedId ?? frameworkIdFor(world.leadership.masterId, world.leadership.frameworkSequence++);
  const framework: FakeFramework = {
    id,
    info: { ...info, id: { value: id } },
    roles: rolesOf(info, capabilities),
    capabilities,
    suppressedRoles: new Set(),
    subscription: undefined,
    knownToLeader: true,
    failoverTimer: undefined,
    tasks: new Map(),
    completedTasks: [],
    offers: new Set(),
    registeredTime: Date.now() / 1000,
  };
  world.frameworks.set(id, framework);
  return framework;
}

/** The stream of `subscription` closed: unless it was replaced or removed on purpose, the framework is now disconnected. */
function disconnected(world: World, framework: FakeFramework, subscription: Subscription): void {
  world.timers.cancel(subscription.heartbeat);
  if (framework.subscription !== subscription) return;
  framework.subscription = undefined;
  removeFrameworkOffers(world, framework);
  // The allocator deactivates the framework and drops its filters (transcript 12: the leftover
  // of an ACCEPT is offered again right after the re-SUBSCRIBE, before its 5 s filter ran out).
  world.filters.clear(framework.id);
  if (world.stopping || world.removedFrameworks.has(framework.id)) return;
  world.timers.cancel(framework.failoverTimer);
  framework.failoverTimer = world.timers.after(failoverTimeoutMs(framework.info), () => {
    framework.failoverTimer = undefined;
    if (framework.subscription === undefined) removeFramework(world, framework);
  });
}

/**
 * Removes a framework for good (TEARDOWN, or failover timeout): its stream ends with a clean EOF
 * and no ERROR, its offers go back, its executors are shut down and tasks killed, and its id can
 * never subscribe again ("Framework has been removed").
 */
export function removeFramework(world: World, framework: FakeFramework): void {
  world.removedFrameworks.add(framework.id);
  world.frameworks.delete(framework.id);
  world.timers.cancel(framework.failoverTimer);
  framework.failoverTimer = undefined;
  const subscription = framework.subscription;
  framework.subscription = undefined;
  if (subscription !== undefined) {
    world.timers.cancel(subscription.heartbeat);
    subscription.stream.end();
  }
  removeFrameworkOffers(world, framework);
  world.filters.clear(framework.id);
  for (const agent of world.agents.values()) shutdownFrameworkOnAgent(world, agent, framework.id);
  world.completedFrameworks.push(framework);
}

/** Drops a framework's stream as a network failure would (the client sees an aborted response). */
export function abortSubscription(framework: FakeFramework): boolean {
  const subscription = framework.subscription;
  if (subscription === undefined) return false;
  subscription.stream.abort();
  return true;
}

/** Task key helper re-exported for modules that look tasks up across frameworks. */
export { scopedKey };

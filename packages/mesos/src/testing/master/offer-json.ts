import type { Resources } from '../model/resources.js';
import type { FakeAgent, FakeFramework, FakeOffer, World } from '../model/world.js';

import { machineOf } from '../model/machines.js';

/**
 * Offers and resources in the JSON layout the recorded master used:
 * resources in the order ports, cpus, mem, disk; with MULTI_ROLE every resource and the offer
 * carry `allocation_info`; without RESERVATION_REFINEMENT resources carry `"role":"*"`;
 * `url.path` is `/slave(1)`; attributes keep their parsed type (TEXT, SCALAR, …).
 */

/** How a framework wants resources written. */
export interface ResourceStyle {
  readonly multiRole: boolean;
  readonly refinement: boolean;
}

/** The style for a framework, from its capabilities. */
export function styleOf(framework: FakeFramework): ResourceStyle {
  return {
    multiRole: framework.capabilities.has('MULTI_ROLE'),
    refinement: framework.capabilities.has('RESERVATION_REFINEMENT'),
  };
}

/** `Resource[]` JSON for resources allocated to `role`. */
export function resourcesJson(resources: Resources, role: string, style: ResourceStyle): unknown[] {
  return resources.list().map((entry) => {
    const out: Record<string, unknown> = { name: entry.name, type: entry.type };
    if (entry.type === 'SCALAR') out.scalar = { value: entry.milli / 1000 };
    else if (entry.type === 'RANGES')
      out.ranges = { range: entry.ranges.map(([begin, end]) => ({ begin, end })) };
    else out.set = { item: [...entry.items] };
    if (!style.refinement) out.role = '*';
    if (style.multiRole) out.allocation_info = { role: entry.allocationRole ?? role };
    return out;
  });
}

/** The agent's URL block of an offer. */
export function agentUrlJson(agent: FakeAgent): unknown {
  return {
    scheme: 'http',
    address: { hostname: agent.hostname, ip: agent.ip, port: agent.port },
    path: '/slave(1)',
  };
}

/** Ids of the framework's executors running on the agent (custom and default executors only). */
export function executorIdsOn(agent: FakeAgent, frameworkId: string): string[] {
  const ids: string[] = [];
  for (const executor of agent.executors.values()) {
    if (
      executor.frameworkId === frameworkId &&
      executor.kind !== 'command' &&
      executor.state !== 'terminated'
    ) {
      ids.push(executor.id);
    }
  }
  return ids;
}

/** One `Offer` JSON object. */
export function offerJson(world: World, offer: FakeOffer, framework: FakeFramework): unknown {
  const agent = world.agents.get(offer.agentId);
  if (agent === undefined) throw new Error(`offer ${offer.id} names an unknown agent`);
  const style = styleOf(framework);
  const out: Record<string, unknown> = {
    id: { value: offer.id },
    framework_id: { value: framework.id },
    agent_id: { value: agent.id },
    hostname: agent.hostname,
    url: agentUrlJson(agent),
    resources: resourcesJson(offer.resources, offer.role, style),
    attributes: agent.attributes,
  };
  if (agent.attributes.length === 0) delete out.attributes;
  const executorIds = executorIdsOn(agent, framework.id);
  if (executorIds.length > 0) out.executor_ids = executorIds.map((value) => ({ value }));
  if (style.multiRole) out.allocation_info = { role: offer.role };
  // While its machine is scheduled for maintenance, an agent's offers say when it goes away.
  const unavailability = machineOf(world, agent)?.unavailability;
  if (unavailability !== undefined) out.unavailability = unavailability;
  return out;
}

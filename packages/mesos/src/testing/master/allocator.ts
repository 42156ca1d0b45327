import type { Resources } from '../model/resources.js';
import type { FakeAgent, FakeFramework, FakeOffer, World } from '../model/world.js';
import { rescindEvent, sendEvent } from './events.js';
import { offerJson } from './offer-json.js';

/**
 * The allocator: every allocation interval (and at once after SUBSCRIBE, REVIVE or a new agent),
 * each registered agent's free resources go, as one offer, to the (framework, role) with the
 * lowest dominant share that neither suppressed that role nor filtered those resources. So with
 * MULTI_ROLE each offer carries one role, and one OFFERS event per framework holds the cycle's
 * offers. Agents are visited in random order, as Mesos does.
 */

/** Mesos' default `--min_allocatable_resources`: cpus:0.01 or mem:32. */
function isAllocatable(resources: Resources): boolean {
  return resources.scalar('cpus') >= 0.01 || resources.scalar('mem') >= 32;
}

/** What an agent has that is neither used nor offered (unallocated form). */
export function freeResources(agent: FakeAgent): Resources {
  return agent.total.clone().subtract(agent.used).subtract(agent.offered);
}

/** True when the framework can receive offers: subscribed, known and not removed. */
export function isActive(world: World, framework: FakeFramework): boolean {
  return (
    framework.subscription !== undefined &&
    !framework.subscription.stream.closed &&
    framework.knownToLeader &&
    !world.removedFrameworks.has(framework.id)
  );
}

interface Candidate {
  readonly framework: FakeFramework;
  readonly role: string;
  cpus: number;
  mem: number;
  share: number;
}

/** Runs one allocation cycle. */
export function allocate(world: World): void {
  if (world.stopping || world.leadership.leaderIndex === undefined || !world.leadership.ready) return;
  const totals = clusterTotals(world);
  const candidates = collectCandidates(world, totals);
  if (candidates.length === 0) return;
  const now = Date.now();
  // Only agents with something to offer are shuffled (one random draw per cycle that offers).
  const agents: Array<{ agent: FakeAgent; free: Resources }> = [];
  for (const agent of world.agents.values()) {
    if (agent.status !== 'registered' || !agent.httpUp) continue;
    const free = freeResources(agent);
    if (isAllocatable(free)) agents.push({ agent, free });
  }
  if (agents.length === 0) return;
  shuffle(agents, world.options.random);
  const created = new Map<FakeFramework, FakeOffer[]>();
  for (const { agent, free } of agents) {
    candidates.sort((a, b) => a.share - b.share);
    const chosen = candidates.find(
      (c) => !world.filters.isFiltered(c.framework.id, c.role, agent.id, free, now),
    );
    if (chosen === undefined) continue;
    const offer = createOffer(world, agent, chosen.framework, chosen.role, free);
    const list = created.get(chosen.framework) ?? [];
    list.push(offer);
    created.set(chosen.framework, list);
    chosen.cpus += free.scalar('cpus');
    chosen.mem += free.scalar('mem');
    chosen.share = shareOf(chosen.cpus, chosen.mem, totals);
  }
  for (const [framework, offers] of created) {
    sendEvent(framework, {
      type: 'OFFERS',
      offers: { offers: offers.map((offer) => offerJson(world, offer, framework)) },
    });
  }
}

/** Adds (`sign` 1) or removes (-1) resources held by a framework's role, for the dominant-share order. */
export function trackUsage(
  world: World,
  frameworkId: string,
  role: string,
  resources: Resources,
  sign: 1 | -1,
): void {
  const key = `${frameworkId}\u0000${role}`;
  const entry = world.usage.get(key) ?? { cpus: 0, mem: 0 };
  entry.cpus += sign * resources.scalar('cpus');
  entry.mem += sign * resources.scalar('mem');
  world.usage.set(key, entry);
}

function collectCandidates(world: World, totals: { cpus: number; mem: number }): Candidate[] {
  const out: Candidate[] = [];
  for (const framework of world.frameworks.values()) {
    if (!isActive(world, framework)) continue;
    for (const role of framework.roles) {
      if (framework.suppressedRoles.has(role)) continue;
      const used = world.usage.get(`${framework.id}\u0000${role}`) ?? { cpus: 0, mem: 0 };
      out.push({
        framework,
        role,
        cpus: used.cpus,
        mem: used.mem,
        share: shareOf(used.cpus, used.mem, totals),
      });
    }
  }
  return out;
}

function clusterTotals(world: World): { cpus: number; mem: number } {
  let cpus = 0;
  let mem = 0;
  for (const agent of world.agents.values()) {
    cpus += agent.total.scalar('cpus');
    mem += agent.total.scalar('mem');
  }
  return { cpus, mem };
}

function shareOf(cpus: number, mem: number, totals: { cpus: number; mem: number }): number {
  return Math.max(totals.cpus > 0 ? cpus / totals.cpus : 0, totals.mem > 0 ? mem / totals.mem : 0);
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
}

function createOffer(
  world: World,
  agent: FakeAgent,
  framework: FakeFramework,
  role: string,
  free: Resources,
): FakeOffer {
  const id = `${world.leadership.masterId}-O${world.leadership.offerSequence++}`;
  const offer: FakeOffer = {
    id,
    frameworkId: framework.id,
    agentId: agent.id,
    role,
    resources: free.withAllocationRole(role),
  };
  world.offers.set(id, offer);
  framework.offers.add(id);
  agent.offered.add(free);
  trackUsage(world, framework.id, role, free, 1);
  return offer;
}

/**
 * Takes an offer out of circulation and gives its resources back to the agent. With
 * `filterMs` > 0 the returned resources are refused to that framework and role for that long;
 * with `rescind` the framework gets a RESCIND event.
 */
export function removeOffer(world: World, offer: FakeOffer, how: { rescind?: boolean } = {}): void {
  if (!world.offers.delete(offer.id)) return;
  world.frameworks.get(offer.frameworkId)?.offers.delete(offer.id);
  trackUsage(world, offer.frameworkId, offer.role, offer.resources, -1);
  const agent = world.agents.get(offer.agentId);
  if (agent !== undefined) agent.offered.subtract(offer.resources.unallocated());
  if (how.rescind === true) {
    const framework = world.frameworks.get(offer.frameworkId);
    if (framework !== undefined) sendEvent(framework, rescindEvent(offer.id));
  }
}

/** Removes every offer of a framework (on disconnect, failover, teardown) without RESCIND. */
export function removeFrameworkOffers(world: World, framework: FakeFramework): void {
  // Inverse offers die with the subscription too (master/maintenance.ts makes new ones).
  for (const inverse of [...world.maintenance.inverseOffers.values()])
    if (inverse.frameworkId === framework.id) world.maintenance.inverseOffers.delete(inverse.id);
  for (const offerId of [...framework.offers]) {
    const offer = world.offers.get(offerId);
    if (offer !== undefined) removeOffer(world, offer);
  }
}

/** Rescinds every offer of an agent (it disconnected or was removed). */
export function rescindAgentOffers(world: World, agent: FakeAgent): void {
  for (const offer of [...world.offers.values()]) {
    if (offer.agentId === agent.id) removeOffer(world, offer, { rescind: true });
  }
}

/**
 * Cluster capacity per Mesos role (what Faustian did with one AWS Auto Scaling group per role):
 * from the demand of the role — resources its running tasks use plus what its queued runs and
 * pipeline launches ask for — and the size of one node of the role's group, the number of nodes
 * to keep. Pure: the server's capacity loop gathers the inputs (the master's agents, the queue,
 * the provider's group), calls `decideClusterCapacity`, records input and decision, and carries
 * it out (scale up: set the desired capacity; scale down: drain the chosen agent through Mesos
 * maintenance, then terminate its instance). No I/O, no clock: `now` is given.
 *
 * The rule:
 * - needed = the nodes the demand fills (cpus and memory, each rounded up), and never fewer than
 *   the agents that run tasks (those are not removed);
 * - target = needed clamped to [min, max];
 * - nodes going away (agents being drained) do not count: a scale-up adds what is missing on top
 *   of them, at once;
 * - a scale-down removes ONE node, an agent with no running task chosen here, and then none
 *   until `cooldownMs` has passed since the last one and the drain in flight has finished; while
 *   the group has instances that are not agents yet (booting), nothing is removed (which one the
 *   provider would pick is not ours to choose).
 */

/** A role's capacity settings. */
export interface ClusterRoleSettings {
  /** Fewest nodes, ≥ 0. */
  min: number;
  /** Most nodes, ≥ min. */
  max: number;
  /** What one node of the role's group offers. */
  node: { cpus: number; memMb: number };
  /** Least time between two scale-downs, ms. */
  cooldownMs: number;
}

/** An agent of the role's group as the master and the scheduler see it. */
export interface CapacityAgent {
  agentId: string;
  hostname: string;
  /** Tasks running on it (any framework). */
  tasks: number;
  /** True while it is being drained (scheduled for maintenance, not yet terminated). */
  draining: boolean;
}

/** Resources asked for. */
export interface CapacityDemand {
  cpus: number;
  memMb: number;
}

/** Everything a decision looks at; recorded beside it. */
export interface ClusterCapacityInput {
  role: string;
  settings: ClusterRoleSettings;
  now: number;
  /** The group's instances that are registered Mesos agents. */
  agents: CapacityAgent[];
  /** What running tasks of the role use. */
  running: CapacityDemand;
  /** What queued runs and waiting pipeline launches of the role ask for. */
  queued: CapacityDemand & { count: number };
  /** The group's desired capacity now. */
  desired: number;
  /** The group's instances (booting ones included). */
  instances: number;
  /** When the last scale-down began (ms), or null. */
  lastScaleDownAt: number | null;
}

/** What to do. `desired` is the capacity to ask for; `drain` the agent to remove first (≤ 1). */
export interface ClusterCapacityDecision {
  role: string;
  action: 'up' | 'down' | 'hold';
  /** The desired capacity after the decision (after the drain, for `down`). */
  desired: number;
  /** The nodes the demand needs (before clamping). */
  needed: number;
  /** Agents to drain and remove, idle ones only; one at most. */
  drain: string[];
  reason: string;
}

/** Nodes needed for `demand` on nodes of `node`'s size (0 demand → 0 nodes). */
export function nodesFor(demand: CapacityDemand, node: { cpus: number; memMb: number }): number {
  const byCpu = node.cpus > 0 ? demand.cpus / node.cpus : 0;
  const byMem = node.memMb > 0 ? demand.memMb / node.memMb : 0;
  // Rounding noise (0.1 + 0.2 cpus) must not ask for an extra node.
  return Math.max(0, Math.ceil(Math.max(byCpu, byMem) - 1e-9));
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

function fmt(d: CapacityDemand): string {
  return `${Math.round(d.cpus * 1000) / 1000} cpus, ${Math.round(d.memMb)} MB`;
}

/** The decision for one role (see the module comment). */
export function decideClusterCapacity(input: ClusterCapacityInput): ClusterCapacityDecision {
  const { role, settings, agents, now } = input;
  const total = {
    cpus: input.running.cpus + input.queued.cpus,
    memMb: input.running.memMb + input.queued.memMb,
  };
  const busy = agents.filter((a) => a.tasks > 0).length;
  const byDemand = nodesFor(total, settings.node);
  const needed = Math.max(byDemand, busy);
  const target = clamp(needed, settings.min, settings.max);
  const draining = agents.filter((a) => a.draining);
  const staying = input.desired - draining.length;
  const why =
    `demand ${fmt(total)} (running ${fmt(input.running)}, queued ${input.queued.count}: ${fmt(input.queued)}) ` +
    `needs ${byDemand} node(s) of ${fmt(settings.node)}` +
    (busy > byDemand ? `, ${busy} agent(s) run tasks` : '') +
    `; kept within [${settings.min}, ${settings.max}] → ${target}`;
  const hold = (reason: string): ClusterCapacityDecision => ({
    role,
    action: 'hold',
    desired: input.desired,
    needed,
    drain: [],
    reason: `${why}; ${reason}`,
  });
  if (target > staying) {
    const desired = target + draining.length;
    return {
      role,
      action: 'up',
      desired,
      needed,
      drain: [],
      reason: `${why}; desired ${input.desired} → ${desired}${draining.length > 0 ? ` (${draining.length} draining)` : ''}`,
    };
  }
  if (target === staying) return hold(`desired ${input.desired} is right`);
  if (draining.length > 0)
    return hold(`agent ${draining[0]!.hostname} is still being drained; one scale-down at a time`);
  if (input.instances > agents.length)
    return hold(`${input.instances - agents.length} instance(s) of the group are not Mesos agents yet`);
  if (input.lastScaleDownAt !== null && now - input.lastScaleDownAt < settings.cooldownMs) {
    const next = new Date(input.lastScaleDownAt + settings.cooldownMs).toISOString();
    return hold(`the last scale-down was less than the cooldown ago (the next one from ${next})`);
  }
  const idle = agents
    .filter((a) => a.tasks === 0 && !a.draining)
    .sort((a, b) =>
      a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.agentId < b.agentId ? -1 : 1,
    );
  const chosen = idle[0];
  if (chosen === undefined) return hold('every agent runs tasks: none is removed');
  return {
    role,
    action: 'down',
    desired: input.desired - 1,
    needed,
    drain: [chosen.agentId],
    reason: `${why}; desired ${input.desired} → ${input.desired - 1}: drain idle agent ${chosen.hostname}, then remove it`,
  };
}

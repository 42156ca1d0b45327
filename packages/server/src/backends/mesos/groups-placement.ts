import { place } from '@galley/core';
import { AcceptPlan, type Offer } from '@galley/mesos';
import { launchDemand, portsByProcess } from '../../pipelines/launch-shape.js';
import type { GroupLaunch } from '../group-runner.js';
import { addLaunchGroup } from './groups-task-info.js';
import { groupOffers, nodeOf, parseNodeId } from './nodes.js';
import type { TaskShape } from './task-info.js';

/**
 * Where waiting pipeline launches go on the held offers: core `place()` over the same nodes runs
 * are placed on (one node = one agent's offers for one role; each launch's demand is its processes
 * plus its executor), oldest first, then one ACCEPT plan per agent with each placed launch's
 * LAUNCH_GROUP. Pure but for AcceptPlan's random port start.
 */

/** One ACCEPT to send: the agent's offers and the launches in it. */
export interface NodeAccept {
  nodeId: string;
  agentId: string;
  role: string;
  offers: Offer[];
  plan: AcceptPlan;
  placed: { launchId: string; hostname: string; ports: Record<string, number[]> }[];
}

/** What placement decided: launches that wait (with why), and the ACCEPTs to send. */
export interface GroupPlacementPlan {
  waiting: { launchId: string; reason: string }[];
  accepts: NodeAccept[];
}

/** What placement needs besides launches and offers. */
export interface GroupPlacementContext {
  frameworkId: string;
  shape: TaskShape;
  /** The role of a pipeline that names none; undefined = any node. */
  defaultRole: string | undefined;
  random?: () => number;
}

/** Places `pending` (any order; oldest go first) on `offers`. */
export function planGroupPlacement(
  pending: readonly GroupLaunch[],
  offers: readonly Offer[],
  ctx: GroupPlacementContext,
): GroupPlacementPlan {
  const byNode = groupOffers(offers);
  const nodes = [...byNode].map(([id, group]) => nodeOf(id, group));
  const byId = new Map(pending.map((l) => [l.launchId, l]));
  const demands = pending.map((l) =>
    launchDemand(l.spec, l.launchId, l.queuedAt, true, l.spec.roles[0] ?? ctx.defaultRole),
  );
  const { placements, unplaced } = place(demands, nodes);
  const waiting = unplaced.map((u) => ({ launchId: u.demandId, reason: u.reason }));
  const perNode = new Map<string, { launch: GroupLaunch; ports: number[] }[]>();
  for (const p of placements) {
    const list = perNode.get(p.nodeId) ?? [];
    list.push({ launch: byId.get(p.demandId)!, ports: p.ports });
    perNode.set(p.nodeId, list);
  }
  const accepts: NodeAccept[] = [];
  for (const [nodeId, list] of perNode) {
    const node = parseNodeId(nodeId)!;
    const nodeOffers = byNode.get(nodeId)!;
    const plan = new AcceptPlan(nodeOffers, ctx.random ? { random: ctx.random } : {});
    const hostname = nodeOffers[0]!.hostname;
    const accept: NodeAccept = {
      nodeId,
      agentId: node.agentId,
      role: node.role,
      offers: nodeOffers,
      plan,
      placed: [],
    };
    for (const { launch, ports } of list) {
      const byProcess = portsByProcess(launch.spec, ports);
      const placement = { agentId: node.agentId, hostname, ports: byProcess };
      const added = addLaunchGroup(plan, launch, ctx.frameworkId, placement, ctx.shape);
      if (added.ok) accept.placed.push({ launchId: launch.launchId, hostname, ports: byProcess });
      else waiting.push({ launchId: launch.launchId, reason: added.reason });
    }
    accepts.push(accept);
  }
  return { waiting, accepts };
}

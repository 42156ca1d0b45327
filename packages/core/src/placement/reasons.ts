/**
 * Why a demand is not placed, in words a person can act on, computed from the nodes.
 *
 * The first of these that applies is the reason (one per demand):
 * 1. no nodes at all: `no capacity offered yet`;
 * 2. its role: `no node has role "gpu"`;
 * 3. its constraints: `no node matches zone:a` (or `… matches zone:a and rack:r1 together`);
 * 4. one resource no eligible node has enough of, as the round began:
 *    `needs 4 cpus; the largest free on any node is 2`, `needs 1 port; no node has a free port`,
 *    `needs port 8080; it is not free on any node`;
 * 5. resources that each exist but never together on one node:
 *    `needs 4 cpus and 8192 MB of memory on one node; no node has all of them free`;
 * 6. it fitted as the round began, but older demands took the room: `waiting behind 3 older runs`.
 */
import { formatConstraint, isEligible, matchesConstraint, matchesRole } from './constraints.js';
import { fit, fromThousandths, isPortFree, portCount, SCALARS } from './fit.js';
import type { Capacity, Need, Scalar } from './fit.js';
import type { Demand, Node } from './model.js';

/** A node as the round began, with its capacity then. */
export interface NodeAtStart {
  node: Node;
  capacity: Capacity;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `4 cpus`, `512 MB of memory`, `100 MB of disk`, `1 gpu` (amount in thousandths). */
function amount(key: Scalar, thousandths: number): string {
  const n = fromThousandths(thousandths);
  switch (key) {
    case 'cpus':
      return plural(n, 'cpu');
    case 'memMb':
      return `${n} MB of memory`;
    case 'diskMb':
      return `${n} MB of disk`;
    case 'gpus':
      return plural(n, 'gpu');
  }
}

const NOTHING_FREE: Record<Scalar, string> = {
  cpus: 'a free cpu',
  memMb: 'free memory',
  diskMb: 'free disk',
  gpus: 'a free gpu',
};

/** The largest free amount (thousandths) among the nodes in `scope`, worded after `needs …; `. */
function largest(key: Scalar, thousandths: number, scope: string): string {
  if (thousandths <= 0) return `no node${scope} has ${NOTHING_FREE[key]}`;
  const n = fromThousandths(thousandths);
  const value = key === 'memMb' || key === 'diskMb' ? `${n} MB` : `${n}`;
  return `the largest free on any node${scope} is ${value}`;
}

/** ` with role "gpu" matching zone:a` — which nodes a resource reason speaks about. */
function scopeOf(demand: Demand): string {
  const parts: string[] = [];
  if (demand.role !== undefined) parts.push(` with role "${demand.role}"`);
  if (demand.constraints?.length)
    parts.push(` matching ${demand.constraints.map(formatConstraint).join(' and ')}`);
  return parts.join('');
}

/** Reasons 2 and 3: the role or the constraints rule out every node. undefined when some node is eligible. */
function eligibilityReason(demand: Demand, nodes: Node[]): string | undefined {
  const ofRole = nodes.filter((node) => matchesRole(demand, node));
  if (ofRole.length === 0) return `no node has role "${demand.role}"`;
  const constraints = demand.constraints ?? [];
  if (ofRole.some((node) => constraints.every((c) => matchesConstraint(node.attributes, c))))
    return undefined;
  const where = demand.role === undefined ? 'no node' : `no node with role "${demand.role}"`;
  const hopeless = constraints.find((c) => !ofRole.some((node) => matchesConstraint(node.attributes, c)));
  if (hopeless) return `${where} matches ${formatConstraint(hopeless)}`;
  return `${where} matches ${constraints.map(formatConstraint).join(' and ')} together`;
}

/** Reason 4: one resource that no eligible node has enough of on its own. */
function singleResourceReason(demand: Demand, need: Need, capacities: Capacity[]): string | undefined {
  const scope = scopeOf(demand);
  for (const key of SCALARS) {
    const best = Math.max(...capacities.map((c) => c[key]));
    if (need[key] > best) return `needs ${amount(key, need[key])}; ${largest(key, best, scope)}`;
  }
  for (const port of need.fixedPorts) {
    if (!capacities.some((c) => isPortFree(c.portRanges, port))) {
      return `needs port ${port}; it is not free on any node${scope}`;
    }
  }
  // Ports left to pick from on each node once its fixed ports are taken.
  const pickable = (c: Capacity): number =>
    portCount(c.portRanges) - need.fixedPorts.filter((port) => isPortFree(c.portRanges, port)).length;
  const mostPorts = Math.max(...capacities.map(pickable));
  if (need.ports > mostPorts) {
    const free =
      mostPorts <= 0
        ? `no node${scope} has a free port`
        : `the most free on any node${scope} is ${mostPorts}`;
    return `needs ${plural(need.ports, 'port')}; ${free}`;
  }
  return undefined;
}

/** The resources a demand asks for, listed for reason 5. */
function listNeed(need: Need): string {
  const parts = SCALARS.filter((key) => need[key] > 0).map((key) => amount(key, need[key]));
  if (need.ports > 0) parts.push(plural(need.ports, 'port'));
  for (const port of need.fixedPorts) parts.push(`port ${port}`);
  return parts.length <= 1
    ? parts.join('')
    : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * The one reason a demand was not placed. `start` is every node with its capacity as the round
 * began; `olderOnItsNodes` counts the demands placed earlier this round on nodes where this one
 * would have fitted at the start (used for reason 6).
 */
export function explainUnplaced(
  demand: Demand,
  need: Need,
  start: NodeAtStart[],
  olderOnItsNodes: number,
): string {
  if (start.length === 0) return 'no capacity offered yet';
  const eligibility = eligibilityReason(
    demand,
    start.map((s) => s.node),
  );
  if (eligibility) return eligibility;
  const capacities = start.filter((s) => isEligible(demand, s.node)).map((s) => s.capacity);
  const single = singleResourceReason(demand, need, capacities);
  if (single) return single;
  if (!capacities.some((c) => fit(need, c) !== null)) {
    return `needs ${listNeed(need)} on one node; no node${scopeOf(demand)} has all of them free`;
  }
  return waitingBehind(olderOnItsNodes);
}

/** Reason 6: `waiting behind 3 older runs` (at least one: something took the room). */
export function waitingBehind(olderOnItsNodes: number): string {
  return `waiting behind ${plural(Math.max(1, olderOnItsNodes), 'older run')}`;
}

/**
 * `place(demands, nodes)`: which queued demands go where right now.
 *
 * - Order: lower `tier` first, then oldest `queuedAt`, then higher `priority`, then id (so the
 *   answer does not depend on the order of the input arrays).
 * - A demand may land only on an eligible node: of its role (if it has one) and meeting all of its
 *   constraints; it must fit there in cpus, memory, disk, gpus (fixed-point thousandths), its fixed
 *   ports and its count of ports.
 * - Packing is best fit: among the nodes where it fits, a demand goes to the one it leaves with the
 *   least free capacity (fewest idle GPUs first, then the least cpus + memory + disk left, each
 *   relative to the largest node), ties to the lowest node id. Small demands fill the tightest
 *   holes, so large holes stay whole for large demands.
 * - Several demands may land on one node; its capacity is decremented as each is placed, so no
 *   node's free capacity is ever exceeded and no port is given twice.
 * - Every demand ends in `placements` or in `unplaced` with one reason (see reasons.ts).
 */
import { CoreInputError } from '../errors.js';
import { formatConstraint, isEligible } from './constraints.js';
import { capacityOf, fit, needOf, pickPorts, SCALARS, subtract } from './fit.js';
import type { Capacity, Need, Scalar } from './fit.js';
import type { Demand, Node, PlacementResult } from './model.js';
import { explainUnplaced, waitingBehind } from './reasons.js';
import type { NodeAtStart } from './reasons.js';

/** Lower tier first, then oldest, then higher priority, then id. */
export function compareDemands(a: Demand, b: Demand): number {
  return (
    (a.tier ?? 0) - (b.tier ?? 0) ||
    a.queuedAt - b.queuedAt ||
    (b.priority ?? 0) - (a.priority ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function assertUnique(ids: string[], code: 'DUPLICATE_DEMAND' | 'DUPLICATE_NODE', what: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new CoreInputError(code, `${what} id "${id}" appears twice`, { field: 'id' });
    seen.add(id);
  }
}

/**
 * The node where the demand fits most tightly now, with its ports; undefined when none fits.
 * Called for every demand on every eligible node (1,000 agents × a round's runs): the score is
 * computed in place (as `fitScore`, compared as `compareFit`) and ports are picked only on a node
 * that would be the best so far — a node no tighter than the best cannot be chosen, whether its
 * ports fit or not, so the answer is the same as scoring and picking ports on every node.
 * `eligible` are indexes into the round's nodes (and `current`), sorted by node id, so ties go to
 * the lowest node id.
 */
function bestNode(
  need: Need,
  eligible: readonly number[],
  current: readonly Capacity[],
  scale: Record<Scalar, number>,
): { index: number; ports: number[] } | undefined {
  let best: { index: number; ports: number[]; gpus: number; rest: number } | undefined;
  const { cpus, memMb, diskMb } = scale;
  for (const i of eligible) {
    const capacity = current[i]!;
    // scalarsFit, inline: this loop is the hottest of a dispatch round.
    if (
      need.cpus > capacity.cpus ||
      need.memMb > capacity.memMb ||
      need.diskMb > capacity.diskMb ||
      need.gpus > capacity.gpus
    )
      continue;
    const gpus = capacity.gpus - need.gpus;
    let rest = 0;
    if (cpus > 0) rest += (capacity.cpus - need.cpus) / cpus;
    if (memMb > 0) rest += (capacity.memMb - need.memMb) / memMb;
    if (diskMb > 0) rest += (capacity.diskMb - need.diskMb) / diskMb;
    if (best !== undefined && !((gpus - best.gpus || rest - best.rest) < 0)) continue;
    const ports = pickPorts(capacity.portRanges, need.fixedPorts, need.ports);
    if (ports === null) continue;
    best = { index: i, ports, gpus, rest };
  }
  return best && { index: best.index, ports: best.ports };
}

/** Why demands of one shape are unplaced this round: a fixed reason, or the nodes it fitted at the start. */
type Explanation = { reason: string } | { fittedOn: string[] };

/** Demands with the same needs, role and constraints get the same explanation within a round. */
function shapeOf(demand: Demand, need: Need): string {
  const constraints = (demand.constraints ?? []).map(formatConstraint).join('&');
  const amounts = [need.cpus, need.memMb, need.diskMb, need.gpus, need.ports, need.fixedPorts.join('/')].join(
    ',',
  );
  return `${amounts}|${demand.role ?? ''}|${constraints}`;
}

/**
 * The reason for an unplaced demand. Everything but "waiting behind N older runs" depends only on
 * the demand's shape and the nodes at the start of the round, so it is computed once per shape.
 */
function whyUnplaced(
  demand: Demand,
  need: Need,
  shape: string,
  start: NodeAtStart[],
  placedOn: Map<string, number>,
  explained: Map<string, Explanation>,
): string {
  let explanation = explained.get(shape);
  if (explanation === undefined) {
    const fitted = start.filter((s) => isEligible(demand, s.node) && fit(need, s.capacity) !== null);
    explanation =
      fitted.length > 0
        ? { fittedOn: fitted.map((s) => s.node.id) }
        : { reason: explainUnplaced(demand, need, start, 0) };
    explained.set(shape, explanation);
  }
  if ('reason' in explanation) return explanation.reason;
  const older = explanation.fittedOn.reduce((sum, id) => sum + (placedOn.get(id) ?? 0), 0);
  return waitingBehind(older);
}

/**
 * Places what fits, oldest first, and explains the rest. Pure and deterministic: the same demands
 * and nodes (in any order) give the same answer. Throws {@link CoreInputError} for duplicate ids
 * (`DUPLICATE_DEMAND`, `DUPLICATE_NODE`) or impossible amounts (`INVALID_DEMAND`).
 */
export function place(demands: Demand[], nodes: Node[]): PlacementResult {
  assertUnique(
    demands.map((d) => d.id),
    'DUPLICATE_DEMAND',
    'demand',
  );
  assertUnique(
    nodes.map((n) => n.id),
    'DUPLICATE_NODE',
    'node',
  );
  const start: NodeAtStart[] = [...nodes]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((node) => ({ node, capacity: capacityOf(node) }));
  /** Each node's capacity now, by its index in `start`. */
  const current = start.map(({ capacity }) => capacity);
  /** The nodes eligible for a shape's role and constraints (indexes into `start`, ascending): fixed for the round. */
  const eligibleFor = new Map<string, number[]>();
  const scale = Object.fromEntries(
    SCALARS.map((key) => [key, Math.max(0, ...start.map((s) => s.capacity[key]))]),
  ) as Record<Scalar, number>;
  const placedOn = new Map<string, number>();
  const explained = new Map<string, Explanation>();
  const result: PlacementResult = { placements: [], unplaced: [] };

  for (const demand of [...demands].sort(compareDemands)) {
    const need = needOf(demand);
    const shape = shapeOf(demand, need);
    // Capacity only shrinks during a round: a shape that did not fit once will not fit again.
    let chosen: { index: number; ports: number[] } | undefined;
    if (!explained.has(shape)) {
      let eligible = eligibleFor.get(shape);
      if (eligible === undefined) {
        eligible = [];
        for (let i = 0; i < start.length; i++) if (isEligible(demand, start[i]!.node)) eligible.push(i);
        eligibleFor.set(shape, eligible);
      }
      chosen = bestNode(need, eligible, current, scale);
    }
    if (chosen) {
      const nodeId = start[chosen.index]!.node.id;
      result.placements.push({ demandId: demand.id, nodeId, ports: chosen.ports });
      current[chosen.index] = subtract(current[chosen.index]!, need, chosen.ports);
      placedOn.set(nodeId, (placedOn.get(nodeId) ?? 0) + 1);
      continue;
    }
    result.unplaced.push({
      demandId: demand.id,
      reason: whyUnplaced(demand, need, shape, start, placedOn, explained),
    });
  }
  return result;
}

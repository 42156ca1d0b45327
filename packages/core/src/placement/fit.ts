/**
 * Resource fit in fixed-point thousandths, port ranges, and the best-fit score.
 */
import { CoreInputError } from '../errors.js';
import type { Demand, Node } from './model.js';

/** The scalar resources, in the order reasons mention them. */
export const SCALARS = ['cpus', 'memMb', 'diskMb', 'gpus'] as const;
export type Scalar = (typeof SCALARS)[number];

/** A node's free capacity during one `place()` call: scalars in thousandths, disjoint sorted port ranges. */
export interface Capacity {
  cpus: number;
  memMb: number;
  diskMb: number;
  gpus: number;
  portRanges: [number, number][];
}

/** What a demand needs: scalars in thousandths, a count of ports to pick, distinct fixed ports. */
export interface Need {
  cpus: number;
  memMb: number;
  diskMb: number;
  gpus: number;
  ports: number;
  fixedPorts: number[];
}

/** `x` in thousandths, rounded to the nearest (Mesos keeps three decimals). */
export function toThousandths(x: number): number {
  return Math.round(x * 1000);
}

/** Thousandths back to a number for people: 2000 → 2, 1500 → 1.5. */
export function fromThousandths(x: number): number {
  return x / 1000;
}

/** Sorts, merges and drops empty ranges; the result is disjoint and ascending. */
export function normalizeRanges(ranges: readonly [number, number][]): [number, number][] {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

/** The node's free capacity as placement counts it. */
export function capacityOf(node: Node): Capacity {
  const { free } = node;
  return {
    cpus: toThousandths(free.cpus),
    memMb: toThousandths(free.memMb),
    diskMb: toThousandths(free.diskMb),
    gpus: toThousandths(free.gpus),
    portRanges: normalizeRanges(free.portRanges),
  };
}

/** The demand's need; throws `INVALID_DEMAND` for a negative or non-finite amount or a bad port. */
export function needOf(demand: Demand): Need {
  for (const key of [...SCALARS, 'ports'] as const) {
    const value = demand[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new CoreInputError('INVALID_DEMAND', `demand ${demand.id}: ${key} must be a number ≥ 0`, {
        field: key,
      });
    }
  }
  const fixedPorts = [...new Set(demand.fixedPorts ?? [])];
  if (!Number.isInteger(demand.ports) || fixedPorts.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new CoreInputError('INVALID_DEMAND', `demand ${demand.id}: ports must be whole port numbers`, {
      field: 'ports',
    });
  }
  return {
    cpus: toThousandths(demand.cpus),
    memMb: toThousandths(demand.memMb),
    diskMb: toThousandths(demand.diskMb),
    gpus: toThousandths(demand.gpus),
    ports: demand.ports,
    fixedPorts,
  };
}

/** How many ports the ranges hold. */
export function portCount(ranges: readonly [number, number][]): number {
  return ranges.reduce((sum, [lo, hi]) => sum + (hi - lo + 1), 0);
}

/** Whether `port` lies in one of the ranges. */
export function isPortFree(ranges: readonly [number, number][], port: number): boolean {
  return ranges.some(([lo, hi]) => port >= lo && port <= hi);
}

/**
 * The ports to give a demand: its fixed ports (all must be free), then the `count` lowest free
 * ports that are not among them. null when they do not fit.
 */
export function pickPorts(
  ranges: readonly [number, number][],
  fixed: number[],
  count: number,
): number[] | null {
  if (!fixed.every((port) => isPortFree(ranges, port))) return null;
  const picked: number[] = [];
  for (const [lo, hi] of ranges) {
    for (let port = lo; port <= hi && picked.length < count; port++) {
      if (!fixed.includes(port)) picked.push(port);
    }
    if (picked.length === count) break;
  }
  return picked.length === count ? [...fixed, ...picked] : null;
}

/** The ranges without the given ports. */
export function removePorts(
  ranges: readonly [number, number][],
  ports: readonly number[],
): [number, number][] {
  let result = ranges.map(([lo, hi]): [number, number] => [lo, hi]);
  for (const port of ports) {
    result = result.flatMap(([lo, hi]): [number, number][] => {
      if (port < lo || port > hi) return [[lo, hi]];
      const parts: [number, number][] = [];
      if (lo <= port - 1) parts.push([lo, port - 1]);
      if (port + 1 <= hi) parts.push([port + 1, hi]);
      return parts;
    });
  }
  return result;
}

/** Whether every scalar of the need fits in the capacity. */
export function scalarsFit(need: Need, capacity: Capacity): boolean {
  return SCALARS.every((key) => need[key] <= capacity[key]);
}

/** The ports the demand would get on this capacity, or null if its scalars or ports do not fit. */
export function fit(need: Need, capacity: Capacity): number[] | null {
  if (!scalarsFit(need, capacity)) return null;
  return pickPorts(capacity.portRanges, need.fixedPorts, need.ports);
}

/** The capacity left after giving `need` and `ports` away. */
export function subtract(capacity: Capacity, need: Need, ports: number[]): Capacity {
  return {
    cpus: capacity.cpus - need.cpus,
    memMb: capacity.memMb - need.memMb,
    diskMb: capacity.diskMb - need.diskMb,
    gpus: capacity.gpus - need.gpus,
    portRanges: removePorts(capacity.portRanges, ports),
  };
}

/**
 * Best fit: how much free capacity a node would keep after taking the need (lower is tighter).
 * First the GPUs left idle (GPUs are scarce: work without GPUs should not take a GPU node), then the
 * sum of the cpus, memory and disk left, each as a fraction of `scale` (the largest free amount of
 * that resource on any node this round), so no unit dominates. Compare with {@link compareFit}.
 */
export function fitScore(capacity: Capacity, need: Need, scale: Record<Scalar, number>): [number, number] {
  let rest = 0;
  for (const key of ['cpus', 'memMb', 'diskMb'] as const) {
    if (scale[key] > 0) rest += (capacity[key] - need[key]) / scale[key];
  }
  return [capacity.gpus - need.gpus, rest];
}

/** Orders two fit scores: negative when `a` is the tighter fit. */
export function compareFit(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

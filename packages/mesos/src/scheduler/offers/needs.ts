import type { Resource } from '../../types/index.js';

/**
 * What one task (or executor) asks for. Scalars are in Mesos units: cpus (fractions allowed, kept
 * to 0.001), mem and disk in MB, gpus as a whole count. `undefined` or 0 means "none".
 */
export interface ResourceNeeds {
  cpus?: number;
  mem?: number;
  /** Root or PATH disk in MB. MOUNT/BLOCK disks and volumes are never used for this need. */
  disk?: number;
  gpus?: number;
  /** How many host ports to pick from the offered `ports` ranges, in addition to `fixedPorts`. */
  ports?: number;
  /** Exact host ports the task must get (e.g. `[80]`); they come first in the allocation's `ports`. */
  fixedPorts?: readonly number[];
  /** Other scalar resources by name (e.g. `{ "fpgas": 1 }`), in their own units. */
  scalars?: Readonly<Record<string, number>>;
  /** SET resources by name: the items that must be present (and are taken). */
  sets?: Readonly<Record<string, readonly string[]>>;
  /**
   * `true`: use only revocable resources; `false`/`undefined`: only non-revocable ones (a task
   * must not mix both, or Mesos rejects it).
   */
  revocable?: boolean;
}

/** A successful fit: the Resource entries to put in the TaskInfo/ExecutorInfo, and the host ports. */
export interface Allocation {
  ok: true;
  /**
   * One entry per offered entry used, each a copy of the offered entry's metadata (role,
   * reservations, allocation_info, disk, …) with only the quantity changed.
   */
  resources: Resource[];
  /** The host ports taken: `fixedPorts` in their order, then the dynamic ones ascending. */
  ports: number[];
}

/** Why something does not fit, as data: one shortfall per resource that is missing. */
export interface Shortfall {
  /** Resource name (`cpus`, `mem`, `ports`, …). */
  name: string;
  /** Quantity needed (for `ports`: the number of ports). */
  needed: number;
  /** Quantity the pool has left of the usable kinds (for `ports`: free ports). */
  available: number;
  /** Fixed ports or set items that are absent (or already taken in this ACCEPT). */
  missing?: (number | string)[];
}

/** A failed fit: nothing was taken from the pool. */
export interface FitFailure {
  ok: false;
  /** A sentence a person can read, e.g. `needs 4 cpus, 2 left; fixed port 80 not offered`. */
  reason: string;
  shortfalls: Shortfall[];
}

/** The result of trying to fit a task into a pool. */
export type FitResult = Allocation | FitFailure;

/** The scalar needs of `needs` as `[name, amount]` pairs with amount > 0, in a fixed order. */
export function scalarNeeds(needs: ResourceNeeds): [string, number][] {
  const out: [string, number][] = [];
  const push = (name: string, amount: number | undefined): void => {
    if (amount !== undefined && amount > 0) out.push([name, amount]);
  };
  push('cpus', needs.cpus);
  push('mem', needs.mem);
  push('disk', needs.disk);
  push('gpus', needs.gpus);
  for (const [name, amount] of Object.entries(needs.scalars ?? {})) push(name, amount);
  return out;
}

/** Describes shortfalls as one readable sentence. */
export function describeShortfalls(shortfalls: readonly Shortfall[]): string {
  return shortfalls
    .map((s) => {
      if (s.missing !== undefined && s.missing.length > 0) {
        return `${s.name} ${s.missing.join(', ')} not offered or already taken`;
      }
      return `needs ${s.needed} ${s.name}, ${s.available} left`;
    })
    .join('; ');
}

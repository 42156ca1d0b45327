/**
 * The data of placement: what demands need, what nodes offer, and the answer.
 *
 * Scalars are given in natural units (cpus, MB, gpus) and compared in fixed-point thousandths, as
 * Mesos does, so 0.1 + 0.2 cpus fit exactly in 0.3.
 */

/**
 * An attribute constraint: `zone:a` (eq), `zone!=b` (neq, also met by a node without the
 * attribute), `zone in a,b` (in; the node must have the attribute with one of the values).
 */
export type Constraint =
  { attribute: string; op: 'eq' | 'neq'; value: string } | { attribute: string; op: 'in'; value: string[] };

/** What one queued run (or pipeline instance) needs. */
export interface Demand {
  /** Unique within one `place()` call. */
  id: string;
  cpus: number;
  memMb: number;
  diskMb: number;
  gpus: number;
  /** How many ports to pick from the node's free ranges (besides `fixedPorts`). */
  ports: number;
  /** Ports that must be free on the node, exactly these numbers. undefined = none. */
  fixedPorts?: number[];
  /** Only nodes of this role; undefined = any node. */
  role?: string;
  /** Every constraint must hold on the node; undefined = none. */
  constraints?: Constraint[];
  /** When it was queued (ms since epoch): older demands are placed first. */
  queuedAt: number;
  /** Among demands queued at the same time, higher goes first; undefined = 0. */
  priority?: number;
  /**
   * Demands of a lower tier are placed before any demand of a higher tier, whatever their age;
   * undefined = 0. Galley places pipeline launches at tier 0 and runs at tier 1 (see the server's
   * dispatch plan for why).
   */
  tier?: number;
}

/** Free capacity in one place right now (the local machine; on Mesos, one agent's offers for one role). */
export interface Node {
  id: string;
  hostname: string;
  /** The role its resources are reserved for; undefined = unreserved (only role-less demands land here). */
  role?: string;
  attributes: Record<string, string>;
  free: { cpus: number; memMb: number; diskMb: number; gpus: number; portRanges: [number, number][] };
}

/** A demand assigned to a node. `ports` = the fixed ports in the demand's order, then the picked ones ascending. */
export interface Placement {
  demandId: string;
  nodeId: string;
  ports: number[];
}

/** A demand that could not be placed now, with one reason a person can read. */
export interface Unplaced {
  demandId: string;
  reason: string;
}

/** The answer of `place()`: every demand appears exactly once, in one of the two lists. */
export interface PlacementResult {
  placements: Placement[];
  unplaced: Unplaced[];
}

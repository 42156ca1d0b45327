/**
 * What fair share and the limits count of the runs holding capacity (PENDING or RUNNING): per
 * owner, group and array of each queue, how many runs and how much CPU and memory, and the
 * owners running in each queue. Kept as runs start and end ({@link RunningTotals.add},
 * {@link RunningTotals.remove}) so a dispatch round reads them instead of summing every run in
 * flight: at 100,000 in flight that sum was the first JavaScript function of a profile, and the
 * dispatch rate fell as the runs in flight grew.
 *
 * Sums are kept in integer micro-units (1e-6 CPU, 1e-6 MB) so that removing what was added leaves
 * exactly what was there: incremental sums equal the sums recomputed from the runs, in any order
 * (floating-point sums of 0.1 CPUs would drift). The caller counts each run once and removes it
 * once, with the shape it was added with.
 */

/** The shape of a run for ordering and limits: who, where, how big. */
export interface WorkShape {
  queue: string;
  owner: string;
  /** The definition's group ('' = none). */
  group: string;
  /** The array parent of an array child; undefined for other runs. */
  array?: string | undefined;
  cpus: number;
  memMb: number;
}

/** Usage of one owner, group or array: runs, CPUs and memory (MB). */
export interface Usage {
  runs: number;
  cpus: number;
  memMb: number;
}

/** One sum in integer micro-units. */
interface Sum {
  runs: number;
  microCpus: number;
  microMemMb: number;
}

const MICRO = 1_000_000;
const micro = (n: number) => Math.round(n * MICRO);

/** The key of an owner (or a group) within a queue: `ownerKey` of fair-share.ts (not imported: no cycle). */
const keyOf = (queue: string, name: string) => `${queue}\u0000${name}`;

function change(map: Map<string, Sum>, key: string, w: WorkShape, sign: 1 | -1): void {
  let s = map.get(key);
  if (!s) map.set(key, (s = { runs: 0, microCpus: 0, microMemMb: 0 }));
  s.runs += sign;
  s.microCpus += sign * micro(w.cpus);
  s.microMemMb += sign * micro(w.memMb);
  if (s.runs === 0) map.delete(key);
}

const usageOf = (s: Sum | undefined): Usage | undefined =>
  s === undefined ? undefined : { runs: s.runs, cpus: s.microCpus / MICRO, memMb: s.microMemMb / MICRO };

/** Per-owner, per-group, per-array and total sums of the runs holding capacity (see the module doc). */
export class RunningTotals {
  private readonly owners = new Map<string, Sum>();
  private readonly groups = new Map<string, Sum>();
  private readonly arrays = new Map<string, Sum>();
  /** Per queue: its owners holding capacity, with how many runs each. */
  private readonly queueOwners = new Map<string, Map<string, number>>();
  private readonly all: Sum = { runs: 0, microCpus: 0, microMemMb: 0 };

  /** The totals of `running` (recomputed: at a new leadership term, after recovery, in tests). */
  static of(running: Iterable<WorkShape>): RunningTotals {
    const t = new RunningTotals();
    for (const w of running) t.add(w);
    return t;
  }

  /** A run started holding capacity. */
  add(w: WorkShape): void {
    this.change(w, 1);
  }

  /** A run stopped holding capacity: `w` is the shape it was added with. */
  remove(w: WorkShape): void {
    this.change(w, -1);
  }

  /** How many runs hold capacity. */
  get runs(): number {
    return this.all.runs;
  }

  /** What all of them hold. */
  get total(): Usage {
    return usageOf(this.all)!;
  }

  /** What an owner holds in a queue (`key`: `ownerKey(queue, owner)`); undefined = nothing. */
  owner(key: string): Usage | undefined {
    return usageOf(this.owners.get(key));
  }

  /** What a group's runs hold in a queue (`key`: `ownerKey(queue, group)`); undefined = nothing. */
  group(key: string): Usage | undefined {
    return usageOf(this.groups.get(key));
  }

  /** What an array's children hold; undefined = nothing. */
  array(array: string): Usage | undefined {
    return usageOf(this.arrays.get(array));
  }

  /** The arrays with children holding capacity. */
  arrayIds(): IterableIterator<string> {
    return this.arrays.keys();
  }

  /** The owners holding capacity in a queue. */
  ownersIn(queue: string): ReadonlyMap<string, number> {
    return this.queueOwners.get(queue) ?? EMPTY;
  }

  /** Every sum, as plain data in a canonical order (to compare two totals). */
  snapshot(): {
    total: Usage;
    owners: [string, Usage][];
    groups: [string, Usage][];
    arrays: [string, Usage][];
    queueOwners: [string, [string, number][]][];
  } {
    const sorted = <V>(m: ReadonlyMap<string, V>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const usages = (m: Map<string, Sum>): [string, Usage][] => sorted(m).map(([k, s]) => [k, usageOf(s)!]);
    return {
      total: this.total,
      owners: usages(this.owners),
      groups: usages(this.groups),
      arrays: usages(this.arrays),
      queueOwners: sorted(this.queueOwners).map(([q, m]) => [q, sorted(m)]),
    };
  }

  private change(w: WorkShape, sign: 1 | -1): void {
    change(this.owners, keyOf(w.queue, w.owner), w, sign);
    change(this.groups, keyOf(w.queue, w.group), w, sign);
    if (w.array !== undefined) change(this.arrays, w.array, w, sign);
    this.all.runs += sign;
    this.all.microCpus += sign * micro(w.cpus);
    this.all.microMemMb += sign * micro(w.memMb);
    let owners = this.queueOwners.get(w.queue);
    if (!owners) this.queueOwners.set(w.queue, (owners = new Map()));
    const n = (owners.get(w.owner) ?? 0) + sign;
    if (n === 0) owners.delete(w.owner);
    else owners.set(w.owner, n);
    if (owners.size === 0) this.queueOwners.delete(w.queue);
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();

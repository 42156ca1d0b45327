import {
  cloneEntry,
  entriesEqual,
  fromMillis,
  isEntryEmpty,
  resourceOf,
  toEntries,
  type ResourceEntry,
} from './entries.js';
import { isReserved } from './kind.js';
import type { Resource } from '../../types/index.js';
import { rangesContain, subtractRanges } from './ranges.js';

/**
 * Arithmetic over lists of Mesos resources, kind by kind (spec §6.2). None of these functions
 * mutates its arguments; results are new lists with one entry per kind (indivisible resources —
 * MOUNT/BLOCK disks, persistent volumes, shared resources — stay one entry each). Scalars are
 * computed in thousandths, so sums are exact to Mesos' precision.
 */

/** `a + b`: every kind of either, quantities summed (ranges and sets united). */
export function addResources(a: readonly Resource[], b: readonly Resource[]): Resource[] {
  return toEntries([...a, ...b]).map(resourceOf);
}

/**
 * `a - b`, never negative: for each kind of `b`, as much as `a` has of it is removed (a scalar
 * stops at zero, ranges and set items absent from `a` are ignored). An indivisible resource of `a`
 * is removed only by an equal one in `b`. Kinds that end up empty disappear.
 */
export function subtractResources(a: readonly Resource[], b: readonly Resource[]): Resource[] {
  const left = toEntries(a).map(cloneEntry);
  for (const cut of toEntries(b)) subtractEntry(left, cut);
  return left.filter((e) => !isEntryEmpty(e)).map(resourceOf);
}

/** True when `a` holds at least everything in `b`, kind by kind. An empty `b` is always contained. */
export function containsResources(a: readonly Resource[], b: readonly Resource[]): boolean {
  const left = toEntries(a).map(cloneEntry);
  for (const need of toEntries(b)) {
    if (need.indivisible) {
      const i = left.findIndex((e) => entriesEqual(e, need));
      if (i < 0) return false;
      left.splice(i, 1);
      continue;
    }
    const have = left.find((e) => !e.indivisible && e.key === need.key);
    if (have === undefined || !entryContains(have, need)) return false;
  }
  return true;
}

/** True when the list holds no quantity at all (no entries, or only zero scalars/empty ranges/sets). */
export function isEmptyResources(resources: readonly Resource[]): boolean {
  return toEntries(resources).length === 0;
}

/**
 * The resources with their allocation and reservation state removed (as if all were unreserved
 * and unallocated), merged by kind: "how much is there in total". Disk, revocable, shared and
 * provider metadata are kept.
 */
export function flattenResources(resources: readonly Resource[]): Resource[] {
  return addResources(
    resources.map((r) => {
      const { allocation_info: _a, role: _r, reservation: _v, reservations: _s, ...rest } = r;
      return rest as Resource;
    }),
    [],
  );
}

/**
 * The resources grouped by the role they were allocated to (`allocation_info.role`); resources
 * without allocation info are under `"*"`. Each group is merged by kind.
 */
export function resourcesByAllocationRole(resources: readonly Resource[]): Map<string, Resource[]> {
  const groups = new Map<string, Resource[]>();
  for (const r of resources) {
    const role = r.allocation_info?.role ?? '*';
    let list = groups.get(role);
    if (list === undefined) groups.set(role, (list = []));
    list.push(r);
  }
  for (const [role, list] of groups) groups.set(role, addResources(list, []));
  return groups;
}

/**
 * The resources in the order a task should consume them: reserved resources first (they exist for
 * this role and are wasted otherwise), then unreserved ones. Stable: the input order is kept
 * within each group. Returns a new list; the entries themselves are not copied.
 */
export function sortByPreference<T extends Resource>(resources: readonly T[]): T[] {
  return [...resources.filter((r) => isReserved(r)), ...resources.filter((r) => !isReserved(r))];
}

/**
 * The total scalar quantity of resources named `name` (all kinds summed), in Mesos units
 * (cpus, MB, count). Returns 0 when there is none.
 */
export function scalarTotal(resources: readonly Resource[], name: string): number {
  let millis = 0;
  for (const e of toEntries(resources))
    if (e.type === 'SCALAR' && e.template.name === name) millis += e.millis;
  return fromMillis(millis);
}

function subtractEntry(left: ResourceEntry[], cut: ResourceEntry): void {
  if (cut.indivisible) {
    const i = left.findIndex((e) => entriesEqual(e, cut));
    if (i >= 0) left.splice(i, 1);
    return;
  }
  const have = left.find((e) => !e.indivisible && e.key === cut.key);
  if (have === undefined) return;
  have.millis = Math.max(0, have.millis - cut.millis);
  if (cut.ranges.length > 0) have.ranges = subtractRanges(have.ranges, cut.ranges);
  if (cut.items.length > 0) {
    const removed = new Set(cut.items);
    have.items = have.items.filter((i) => !removed.has(i));
  }
}

function entryContains(have: ResourceEntry, need: ResourceEntry): boolean {
  if (have.millis < need.millis) return false;
  if (!rangesContain(have.ranges, need.ranges)) return false;
  const items = new Set(have.items);
  return need.items.every((i) => items.has(i));
}

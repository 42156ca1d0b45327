import { isIndivisible, resourceKindKey, resourceTemplate } from './kind.js';
import type { Resource } from '../../types/index.js';
import { normalizeRanges, type Interval } from './ranges.js';

/**
 * The working form of resources inside this module: one entry per kind (spec §6.2), with scalar
 * quantities in fixed-point thousandths so that `0.1 + 0.2` is exactly `0.3`.
 */

/** Converts a Mesos scalar (e.g. cpus `0.1`) to integer thousandths, the precision Mesos keeps. */
export function toMillis(value: number): number {
  return Math.round(value * 1000);
}

/** Converts integer thousandths back to the Mesos scalar value. */
export function fromMillis(millis: number): number {
  return millis / 1000;
}

/** One kind of resource and how much of it there is. Mutable: owned by whoever built it. */
export interface ResourceEntry {
  /** `resourceKindKey` of the template. */
  readonly key: string;
  /** The metadata every Resource cut from this entry carries (no quantity fields). */
  readonly template: Resource;
  readonly type: Resource['type'];
  /** Cannot be split: handed out, added and removed only whole (`isIndivisible`). */
  readonly indivisible: boolean;
  /** SCALAR quantity in thousandths (0 for other types). */
  millis: number;
  /** RANGES quantity, normalized (empty for other types). */
  ranges: Interval[];
  /** SET quantity, without duplicates (empty for other types). */
  items: string[];
}

/** Builds one entry from one Resource (no merging). */
export function entryOf(resource: Resource): ResourceEntry {
  return {
    key: resourceKindKey(resource),
    template: resourceTemplate(resource),
    type: resource.type,
    indivisible: isIndivisible(resource),
    millis: resource.type === 'SCALAR' ? toMillis(resource.scalar?.value ?? 0) : 0,
    ranges: resource.type === 'RANGES' ? normalizeRanges((resource.ranges?.range ?? []).map(toInterval)) : [],
    items: resource.type === 'SET' ? [...new Set(resource.set?.item ?? [])] : [],
  };
}

/**
 * Builds entries from resources, merging entries of the same kind (indivisible ones stay
 * separate). The order of first appearance is kept. Empty entries are dropped.
 */
export function toEntries(resources: readonly Resource[]): ResourceEntry[] {
  const out: ResourceEntry[] = [];
  const byKey = new Map<string, ResourceEntry>();
  for (const resource of resources) {
    const entry = entryOf(resource);
    const existing = entry.indivisible ? undefined : byKey.get(entry.key);
    if (existing === undefined) {
      if (!entry.indivisible) byKey.set(entry.key, entry);
      out.push(entry);
    } else {
      mergeInto(existing, entry);
    }
  }
  return out.filter((e) => !isEntryEmpty(e));
}

/** A wire `Range` (int64 bounds, possibly bigint) as a number interval. */
function toInterval(range: { begin: number | bigint; end: number | bigint }): Interval {
  return { begin: Number(range.begin), end: Number(range.end) };
}

/** Adds the quantity of `other` (same kind) into `target`. */
export function mergeInto(target: ResourceEntry, other: ResourceEntry): void {
  target.millis += other.millis;
  if (other.ranges.length > 0) target.ranges = normalizeRanges([...target.ranges, ...other.ranges]);
  if (other.items.length > 0) target.items = [...new Set([...target.items, ...other.items])];
}

/** True when the entry holds nothing (a zero or negative scalar, no ranges, no items). */
export function isEntryEmpty(entry: ResourceEntry): boolean {
  switch (entry.type) {
    case 'SCALAR':
      return entry.millis <= 0;
    case 'RANGES':
      return entry.ranges.length === 0;
    case 'SET':
      return entry.items.length === 0;
    default:
      return false;
  }
}

/** The Mesos Resource for an entry: its template plus its current quantity. */
export function resourceOf(entry: ResourceEntry): Resource {
  return withQuantity(entry.template, entry);
}

/** A Resource with `template`'s metadata and the given quantity of `entry.type`. */
export function withQuantity(
  template: Resource,
  quantity: { type: Resource['type']; millis?: number; ranges?: Interval[]; items?: string[] },
): Resource {
  switch (quantity.type) {
    case 'SCALAR':
      return { ...template, scalar: { value: fromMillis(quantity.millis ?? 0) } };
    case 'RANGES':
      return { ...template, ranges: { range: (quantity.ranges ?? []).map((r) => ({ ...r })) } };
    case 'SET':
      return { ...template, set: { item: [...(quantity.items ?? [])] } };
    default:
      return { ...template };
  }
}

/** A deep-enough copy of an entry (its quantity arrays are copied; the template is shared). */
export function cloneEntry(entry: ResourceEntry): ResourceEntry {
  return { ...entry, ranges: entry.ranges.map((r) => ({ ...r })), items: [...entry.items] };
}

/** True when two entries are equal in kind and quantity (used for indivisible resources). */
export function entriesEqual(a: ResourceEntry, b: ResourceEntry): boolean {
  if (a.key !== b.key || a.millis !== b.millis) return false;
  if (a.ranges.length !== b.ranges.length || a.items.length !== b.items.length) return false;
  for (let i = 0; i < a.ranges.length; i++) {
    const x = a.ranges[i] as Interval;
    const y = b.ranges[i] as Interval;
    if (x.begin !== y.begin || x.end !== y.end) return false;
  }
  const items = new Set(a.items);
  return b.items.every((i) => items.has(i));
}

import { formatCppDouble } from '../wire/mesos-json.js';

/**
 * Resource arithmetic for the fake: scalars in Mesos' fixed point (thousandths), ranges as sorted
 * disjoint inclusive intervals, sets as items. The fake only models unreserved resources; an entry
 * that names another allocation role or a reservation is kept apart under its own key, so it is
 * never "contained" in what an offer holds (the master then answers "more than available").
 */

/** An inclusive range of integers. */
export type Range = readonly [begin: number, end: number];

/** One resource entry; `milli` for scalars, `ranges` for RANGES, `items` for SET. */
export interface ResourceEntry {
  readonly name: string;
  readonly type: 'SCALAR' | 'RANGES' | 'SET';
  milli: number;
  ranges: Range[];
  items: string[];
  /** The role the entry is allocated to (`undefined` = not stated by the sender). */
  readonly allocationRole: string | undefined;
  /** Text describing a reservation (`undefined` = unreserved). */
  readonly reservation: string | undefined;
}

const NAME_ORDER = ['ports', 'cpus', 'mem', 'disk', 'gpus'];

function keyOf(name: string, allocationRole: string | undefined, reservation: string | undefined): string {
  return reservation === undefined && allocationRole === undefined
    ? name
    : `${name}|${allocationRole ?? ''}|${reservation ?? ''}`;
}

function rank(entry: ResourceEntry): number {
  const index = NAME_ORDER.indexOf(entry.name);
  if (index >= 0) return index;
  return entry.type === 'SCALAR' ? 10 : entry.type === 'RANGES' ? 11 : 12;
}

/** A mutable bag of resources. */
export class Resources {
  private readonly entries = new Map<string, ResourceEntry>();

  /** Parses the agent flag syntax: `cpus:2;mem:4096;disk:10000;ports:[31000-32000];tags:{a,b}`. */
  static parse(spec: string): Resources {
    const out = new Resources();
    for (const part of spec.split(';')) {
      const text = part.trim();
      if (text === '') continue;
      const colon = text.indexOf(':');
      if (colon <= 0) throw new Error(`invalid resource "${text}": expected name:value`);
      const name = text
        .slice(0, colon)
        .replace(/\(\*\)$/, '')
        .trim();
      const value = text.slice(colon + 1).trim();
      if (value.startsWith('[')) out.addRanges(name, parseRanges(value));
      else if (value.startsWith('{')) out.addSet(name, parseItems(value));
      else {
        const number = Number(value);
        if (!Number.isFinite(number) || number < 0) throw new Error(`invalid scalar resource "${text}"`);
        out.addScalar(name, number);
      }
    }
    return out;
  }

  /** One scalar entry (value in natural units, e.g. cpus 0.1). */
  static scalar(name: string, value: number, allocationRole?: string, reservation?: string): Resources {
    return new Resources().addScalar(name, value, allocationRole, reservation);
  }

  static ranges(name: string, ranges: Range[], allocationRole?: string, reservation?: string): Resources {
    return new Resources().addRanges(name, ranges, allocationRole, reservation);
  }

  static set(name: string, items: string[], allocationRole?: string, reservation?: string): Resources {
    return new Resources().addSet(name, items, allocationRole, reservation);
  }

  /** Adds a scalar in place (value in natural units) and returns this. */
  addScalar(name: string, value: number, allocationRole?: string, reservation?: string): this {
    const milli = Math.round(value * 1000);
    return this.addFresh({ name, type: 'SCALAR', milli, ranges: [], items: [], allocationRole, reservation });
  }

  /** Adds ranges in place and returns this. */
  addRanges(name: string, ranges: readonly Range[], allocationRole?: string, reservation?: string): this {
    const normalized = normalizeRanges(ranges);
    return this.addFresh({
      name,
      type: 'RANGES',
      milli: 0,
      ranges: normalized,
      items: [],
      allocationRole,
      reservation,
    });
  }

  /** Adds set items in place and returns this. */
  addSet(name: string, items: readonly string[], allocationRole?: string, reservation?: string): this {
    const unique = [...new Set(items)].sort();
    return this.addFresh({
      name,
      type: 'SET',
      milli: 0,
      ranges: [],
      items: unique,
      allocationRole,
      reservation,
    });
  }

  /** Adds an entry made for this bag: kept as it is when its key is new. */
  private addFresh(entry: ResourceEntry): this {
    const key = keyOf(entry.name, entry.allocationRole, entry.reservation);
    const mine = this.entries.get(key);
    if (mine === undefined) this.entries.set(key, entry);
    else merge(mine, entry);
    return this;
  }

  private put(entry: ResourceEntry): void {
    this.entries.set(keyOf(entry.name, entry.allocationRole, entry.reservation), entry);
  }

  clone(): Resources {
    const out = new Resources();
    for (const entry of this.entries.values())
      out.put({ ...entry, ranges: [...entry.ranges], items: [...entry.items] });
    return out;
  }

  /** Entries in the order Mesos' allocator writes them in offers: ports, cpus, mem, disk, others. */
  list(): ResourceEntry[] {
    return [...this.entries.values()].filter((e) => !isEmptyEntry(e)).sort((a, b) => rank(a) - rank(b));
  }

  isEmpty(): boolean {
    for (const entry of this.entries.values()) if (!isEmptyEntry(entry)) return false;
    return true;
  }

  /** The scalar total of `name` over all its entries, in natural units. */
  scalar(name: string): number {
    let milli = 0;
    for (const entry of this.entries.values())
      if (entry.name === name && entry.type === 'SCALAR') milli += entry.milli;
    return milli / 1000;
  }

  /** Adds `other` in place and returns this. */
  add(other: Resources): this {
    for (const entry of other.entries.values()) this.addEntry(entry, entry.allocationRole, entry.reservation);
    return this;
  }

  /** Adds a copy of one entry, stated with `allocationRole` and `reservation`. */
  private addEntry(
    entry: ResourceEntry,
    allocationRole: string | undefined,
    reservation: string | undefined,
  ): void {
    this.addFresh({
      ...entry,
      ranges: [...entry.ranges],
      items: [...entry.items],
      allocationRole,
      reservation,
    });
  }

  /** Subtracts `other` in place (clamped at zero) and returns this. */
  subtract(other: Resources): this {
    for (const [key, entry] of other.entries) {
      const mine = this.entries.get(key);
      if (mine === undefined) continue;
      mine.milli = Math.max(0, mine.milli - entry.milli);
      if (entry.ranges.length > 0) mine.ranges = subtractRanges(mine.ranges, entry.ranges);
      if (entry.items.length > 0) mine.items = mine.items.filter((item) => !entry.items.includes(item));
      if (isEmptyEntry(mine)) this.entries.delete(key);
    }
    return this;
  }

  /** True when every entry of `other` fits in this bag. */
  contains(other: Resources): boolean {
    for (const [key, entry] of other.entries) {
      if (isEmptyEntry(entry)) continue;
      const mine = this.entries.get(key);
      if (mine === undefined || mine.type !== entry.type) return false;
      if (entry.milli > mine.milli) return false;
      if (!rangesContain(mine.ranges, entry.ranges)) return false;
      for (const item of entry.items) if (!mine.items.includes(item)) return false;
    }
    return true;
  }

  /** The same resources stated as allocated to `role` (entries without a role take it). */
  withAllocationRole(role: string): Resources {
    const out = new Resources();
    for (const entry of this.entries.values())
      out.addEntry(entry, entry.allocationRole ?? role, entry.reservation);
    return out;
  }

  /** The same quantities with allocation roles dropped (the agent's own accounting). */
  unallocated(): Resources {
    const out = new Resources();
    for (const entry of this.entries.values())
      if (entry.reservation === undefined) out.addEntry(entry, undefined, undefined);
    return out;
  }

  /** Mesos' text form, e.g. `cpus(allocated: *):2; ports(allocated: *):[31000-32000]`. */
  toMesosString(): string {
    return this.list()
      .map((entry) => {
        let text = entry.name;
        if (entry.allocationRole !== undefined) text += `(allocated: ${entry.allocationRole})`;
        if (entry.reservation !== undefined) text += `(reservations: [${entry.reservation}])`;
        return `${text}:${formatValue(entry)}`;
      })
      .join('; ');
  }

  /** The `/state` form: `{"disk":10000.0,"mem":4096.0,"gpus":0.0,"cpus":2.0,"ports":"[31000-32000]"}`. */
  toStateJson(): Record<string, number | string> {
    const out: Record<string, number | string> = { disk: 0, mem: 0, gpus: 0, cpus: 0 };
    for (const entry of this.list()) {
      if (entry.type === 'SCALAR')
        out[entry.name] = (Number(out[entry.name] ?? 0) * 1000 + entry.milli) / 1000;
      else out[entry.name] = formatValue(entry);
    }
    return out;
  }
}

/** Adds `entry`'s quantities to `mine`, an entry of the same key. */
function merge(mine: ResourceEntry, entry: ResourceEntry): void {
  mine.milli += entry.milli;
  if (entry.ranges.length > 0) mine.ranges = mergeRanges(mine.ranges, entry.ranges);
  if (entry.items.length > 0) mine.items = [...new Set([...mine.items, ...entry.items])].sort();
}

function isEmptyEntry(entry: ResourceEntry): boolean {
  if (entry.type === 'SCALAR') return entry.milli <= 0;
  if (entry.type === 'RANGES') return entry.ranges.length === 0;
  return entry.items.length === 0;
}

function formatValue(entry: ResourceEntry): string {
  if (entry.type === 'SCALAR') return formatCppDouble(entry.milli / 1000);
  if (entry.type === 'RANGES') return `[${entry.ranges.map(([b, e]) => `${b}-${e}`).join(', ')}]`;
  return `{${entry.items.join(', ')}}`;
}

/** Sorts and merges ranges that overlap or touch. */
export function normalizeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].filter(([b, e]) => b <= e).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [begin, end] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && begin <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([begin, end]);
  }
  return out;
}

/**
 * The union of two normalized range lists (as `normalizeRanges` of both would give), in one
 * linear merge: an agent's used ports grow by one range per task launched. A range that merges
 * with none is kept as it is (ranges are never changed in place), so a merge allocates only the
 * list and the ranges it joins.
 */
function mergeRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const next = (y === undefined || (x !== undefined && x[0] <= y[0]) ? a[i++] : b[j++]) as Range;
    const last = out[out.length - 1];
    if (last === undefined || next[0] > last[1] + 1) out.push(next);
    else if (next[1] > last[1]) out[out.length - 1] = [last[0], next[1]];
  }
  return out;
}

/**
 * `from` less `remove`, both normalized, in one sweep: each offer's ports lose one range per task
 * launched from it. Ranges that lose nothing are kept as they are.
 */
function subtractRanges(from: readonly Range[], remove: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const range of from) {
    const [begin, end] = range;
    while (j < remove.length && (remove[j] as Range)[1] < begin) j++;
    let at = begin;
    for (let k = j; k < remove.length && (remove[k] as Range)[0] <= end && at <= end; k++) {
      const [removeBegin, removeEnd] = remove[k] as Range;
      if (removeBegin > at) out.push([at, removeBegin - 1]);
      at = Math.max(at, removeEnd + 1);
    }
    if (at === begin) out.push(range);
    else if (at <= end) out.push([at, end]);
  }
  return out;
}

function rangesContain(outer: readonly Range[], inner: readonly Range[]): boolean {
  return inner.every(([b, e]) => outer.some(([ob, oe]) => ob <= b && e <= oe));
}

function parseRanges(text: string): Range[] {
  const body = text.replace(/^\[/, '').replace(/\]$/, '');
  return body
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const [b, e] = part.split('-').map((n) => Number(n.trim()));
      if (b === undefined || e === undefined || !Number.isInteger(b) || !Number.isInteger(e) || b > e) {
        throw new Error(`invalid range "${part}"`);
      }
      return [b, e] as Range;
    });
}

function parseItems(text: string): string[] {
  return text
    .replace(/^\{/, '')
    .replace(/\}$/, '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

import type { ResourceEntry } from './entries.js';
import type { Interval } from './ranges.js';

/**
 * Picking host ports from offered `ports` ranges (spec §6.4). The entries' ranges are normalized
 * and owned by the pool; these functions read them, and `removeRun` cuts what was taken, so a port
 * is never handed out twice from one pool.
 */

/** Consecutive ports taken from one entry. */
export interface PortRun {
  entry: ResourceEntry;
  begin: number;
  end: number;
}

/** The number of free ports in the entries. */
export function freePorts(entries: readonly ResourceEntry[]): number {
  let n = 0;
  for (const e of entries) for (const r of e.ranges) n += r.end - r.begin + 1;
  return n;
}

/** The first entry (in the given preference order) that has `port` free, or `undefined`. */
export function entryWithPort(entries: readonly ResourceEntry[], port: number): ResourceEntry | undefined {
  for (const e of entries) for (const r of e.ranges) if (r.begin <= port && port <= r.end) return e;
  return undefined;
}

/**
 * Chooses `count` free ports (0 < count ≤ free ports; the caller checks). The free ports of all
 * entries are seen as one sequence (entries in preference order, ranges ascending); a start is
 * chosen with `random()` and `count` consecutive ports of the sequence are taken from there,
 * wrapping around at the end. Random starts make consecutive launches on one agent unlikely to
 * reuse a just-freed port. Returns the runs; nothing is removed yet.
 */
export function chooseDynamicPorts(
  entries: readonly ResourceEntry[],
  count: number,
  random: () => number,
  available: number,
): PortRun[] {
  let skip = Math.min(available - 1, Math.max(0, Math.floor(random() * available)));
  let ei = 0;
  let ri = 0;
  // Find the range holding the start.
  outer: for (; ei < entries.length; ei++) {
    const ranges = (entries[ei] as ResourceEntry).ranges;
    for (ri = 0; ri < ranges.length; ri++) {
      const r = ranges[ri] as Interval;
      const size = r.end - r.begin + 1;
      if (skip < size) break outer;
      skip -= size;
    }
  }
  const runs: PortRun[] = [];
  let left = count;
  let offset = skip;
  while (left > 0) {
    const entry = entries[ei % entries.length] as ResourceEntry;
    const r = entry.ranges[ri];
    if (r === undefined) {
      ei += 1;
      ri = 0;
      continue;
    }
    const begin = r.begin + offset;
    const take = Math.min(left, r.end - begin + 1);
    if (take > 0) runs.push({ entry, begin, end: begin + take - 1 });
    left -= take;
    offset = 0;
    ri += 1;
  }
  return runs;
}

/** Removes `[begin, end]` (which must lie inside one range) from a normalized range list, in place. */
export function removeRun(ranges: Interval[], begin: number, end: number): void {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i] as Interval;
    if (r.begin > begin || end > r.end) continue;
    if (r.begin === begin && r.end === end) ranges.splice(i, 1);
    else if (r.begin === begin) ranges[i] = { begin: end + 1, end: r.end };
    else if (r.end === end) ranges[i] = { begin: r.begin, end: begin - 1 };
    else ranges.splice(i, 1, { begin: r.begin, end: begin - 1 }, { begin: end + 1, end: r.end });
    return;
  }
}

/** Merges runs of one entry into a normalized list of ranges. */
export function runsToRanges(runs: readonly { begin: number; end: number }[]): Interval[] {
  const sorted = [...runs].sort((a, b) => a.begin - b.begin);
  const out: Interval[] = [];
  for (const run of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && run.begin <= last.end + 1) last.end = Math.max(last.end, run.end);
    else out.push({ begin: run.begin, end: run.end });
  }
  return out;
}

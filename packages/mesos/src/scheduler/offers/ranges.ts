/**
 * Arithmetic over Mesos `Value.Ranges`: lists of inclusive `{begin, end}` intervals.
 *
 * Every function here takes and returns *normalized* lists (sorted by `begin`, non-overlapping,
 * non-adjacent: `[1-2, 3-4]` is coalesced to `[1-4]`) unless it says otherwise, and never mutates
 * its arguments. Bounds are plain numbers (ports and other uint64 values below 2^53).
 */

/** One inclusive interval, exactly the shape of Mesos' `Value.Range`. */
export interface Interval {
  begin: number;
  end: number;
}

/**
 * Sorts, drops inverted intervals (`end < begin`) and coalesces overlapping or adjacent ones.
 * Accepts any list (unsorted, overlapping); returns a new normalized list.
 */
export function normalizeRanges(ranges: readonly Interval[]): Interval[] {
  const valid = ranges.filter((r) => r.end >= r.begin).map((r) => ({ begin: r.begin, end: r.end }));
  valid.sort((a, b) => a.begin - b.begin);
  const out: Interval[] = [];
  for (const r of valid) {
    const last = out[out.length - 1];
    if (last !== undefined && r.begin <= last.end + 1) {
      if (r.end > last.end) last.end = r.end;
    } else {
      out.push(r);
    }
  }
  return out;
}

/** The union of two lists (inputs need not be normalized; the result is). */
export function addRanges(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return normalizeRanges([...a, ...b]);
}

/**
 * `a` minus `b`: every value of `a` that is not in `b`, splitting intervals where `b` cuts them.
 * Values of `b` that are not in `a` are ignored (the result is never "negative").
 */
export function subtractRanges(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const left = normalizeRanges(a);
  const cut = normalizeRanges(b);
  const out: Interval[] = [];
  let j = 0;
  for (const r of left) {
    let begin = r.begin;
    const end = r.end;
    while (j < cut.length && (cut[j] as Interval).end < begin) j++;
    let k = j;
    while (k < cut.length && begin <= end) {
      const c = cut[k] as Interval;
      if (c.begin > end) break;
      if (c.begin > begin) out.push({ begin, end: c.begin - 1 });
      begin = Math.max(begin, c.end + 1);
      k++;
    }
    if (begin <= end) out.push({ begin, end });
  }
  return out;
}

/** True when every value of `b` is in `a`. */
export function rangesContain(a: readonly Interval[], b: readonly Interval[]): boolean {
  const outer = normalizeRanges(a);
  for (const r of normalizeRanges(b)) {
    if (!outer.some((o) => o.begin <= r.begin && r.end <= o.end)) return false;
  }
  return true;
}

/** The number of values in a list (which must be normalized, or the overlaps are counted twice). */
export function countRanges(ranges: readonly Interval[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

/** True when `value` lies in one of the intervals. */
export function rangesHave(ranges: readonly Interval[], value: number): boolean {
  return ranges.some((r) => r.begin <= value && value <= r.end);
}

/** Coalesces a list of single values (in any order, duplicates allowed) into a normalized list. */
export function rangesFromValues(values: readonly number[]): Interval[] {
  return normalizeRanges(values.map((v) => ({ begin: v, end: v })));
}

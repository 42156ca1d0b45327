/**
 * A tiny JSON path for the `http` metric source: dotted names and bracketed indexes or quoted
 * names (`$.queues[0].depth`, `stats["waiting jobs"]`). Enough to point at one number; no
 * wildcards or filters (a metric is one value).
 */

/** The steps of a path, or an error naming what is wrong with it. */
export function parseJsonPath(path: string): (string | number)[] {
  let rest = path.startsWith('$') ? path.slice(1) : path;
  const steps: (string | number)[] = [];
  const step = /^(?:\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[(?:"([^"]*)"|'([^']*)')\])/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m || m[0] === '') throw new Error(`json_path ${JSON.stringify(path)} is not a path like a.b[0].c`);
    if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push((m[1] ?? m[3] ?? m[4]) as string);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/** The number at `path` in `doc` (a numeric string counts); throws saying where it is missing. */
export function numberAt(doc: unknown, path: string): number {
  let here: unknown = doc;
  for (const s of parseJsonPath(path)) {
    if (here === null || typeof here !== 'object' || !(s in (here as object)))
      throw new Error(`json_path ${JSON.stringify(path)}: nothing at ${JSON.stringify(s)}`);
    here = (here as Record<string | number, unknown>)[s];
  }
  const n = typeof here === 'string' && here.trim() !== '' ? Number(here) : here;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new Error(`json_path ${JSON.stringify(path)} is not a finite number`);
  return n;
}

/** The result of a load run. */
export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  failures: number;
  bodies: unknown[];
}

/**
 * Sends `count` requests from `connections` concurrent clients (fetch keeps connections alive)
 * and measures the throughput.
 */
export async function load(
  count: number,
  connections: number,
  send: () => Promise<Response>,
): Promise<LoadResult> {
  let next = 0;
  let failures = 0;
  const bodies: unknown[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        next++;
        const res = await send();
        if (!res.ok) failures++;
        bodies.push(await res.json());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { count, seconds, perSecond: count / seconds, failures, bodies };
}

/** The p-th percentile (0–100) of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

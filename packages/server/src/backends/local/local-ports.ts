/**
 * The host ports the local backend hands out (`--local-ports`): the local node offers its ranges
 * minus the ports in use, so placement gives runs their `PORT0…` as it does on Mesos, and a run
 * never waits for a port that exists nowhere.
 */

/** `ranges` without the ports in `used`, as sorted inclusive ranges. */
export function freeRanges(
  ranges: readonly [number, number][],
  used: ReadonlySet<number>,
): [number, number][] {
  const out: [number, number][] = [];
  const taken = [...used].sort((a, b) => a - b);
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    let start = lo;
    for (const port of taken) {
      if (port < start || port > hi) continue;
      if (port > start) out.push([start, port - 1]);
      start = port + 1;
    }
    if (start <= hi) out.push([start, hi]);
  }
  return out;
}

/** How many ports the ranges hold. */
export function rangeSize(ranges: readonly [number, number][]): number {
  return ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
}

/** The first `count` ports of `ranges`; fewer when they hold fewer. */
export function takePorts(ranges: readonly [number, number][], count: number): number[] {
  const out: number[] = [];
  for (const [lo, hi] of ranges) for (let p = lo; p <= hi && out.length < count; p++) out.push(p);
  return out;
}

/** The port variables of a program: `PORT0…PORTn` (host ports), `PORTS`, `PORT_<container port>`. */
export function portEnv(
  hostPorts: readonly number[],
  containerPorts: readonly number[],
): Record<string, string> {
  const env: Record<string, string> = {};
  hostPorts.forEach((port, i) => {
    env[`PORT${i}`] = String(port);
    const container = containerPorts[i];
    if (container !== undefined) env[`PORT_${container}`] = String(port);
  });
  if (hostPorts.length > 0) env['PORTS'] = hostPorts.join(',');
  return env;
}

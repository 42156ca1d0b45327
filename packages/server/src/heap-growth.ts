import { setFlagsFromString } from 'node:v8';

/**
 * How far the server's JavaScript heap grows between full garbage collections (`--heap-growing-percent`).
 *
 * V8 sets the next full collection's limit at the live heap times a factor it picks from how fast
 * it collects against how fast the program allocates: up to 4 for a busy server. With 100,000 runs
 * in flight the server holds ~150 MB of live data and allocates fast (status updates, usage
 * rounds, the dispatch rounds' reads), so its heap grew to 390–450 MB and its RSS to 540–610 MB, most
 * of it garbage waiting to be collected. A fixed factor of 1.5 collects sooner: 250–275 MB of heap,
 * 370–420 MB RSS, for a few percent of the dispatch rate (bench:scale; packages/server/README.md).
 *
 * The flag is read at each full collection, so setting it after start takes effect from the next one.
 */

/** True when node itself was given the flag (on its command line or in NODE_OPTIONS): that one wins. */
export function nodeSetsHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) =>
    /^--(no-)?heap[-_]growing[-_]percent(=|$)/.test(arg),
  );
}

/**
 * Sets V8's heap growing factor to 1 + `percent`/100 for this process (0 = leave V8's own policy),
 * unless node was given its own. Answers what holds now.
 */
export function applyHeapGrowth(percent: number): 'set' | 'node' | 'v8' {
  if (nodeSetsHeapGrowth()) return 'node';
  if (percent === 0) return 'v8';
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return 'set';
}

/**
 * How long `place()` takes for queues and clusters of a few sizes (the engine calls it on each
 * dispatch with every queued run). Run: `npx tsx packages/core/bench/place.ts`.
 * Prints one JSON object as its last line: milliseconds per call, `<demands>x<nodes>`. With
 * BENCH_BASE=<another checkout> (e.g. a git worktree of an older commit), that checkout's `place`
 * runs too, each size taking turns, and the line adds `base_…` figures and `speedup_…` ratios.
 */
import { join } from 'node:path';
import { place as ours } from '../src/index.js';
import type { Demand, Node, PlacementResult } from '../src/index.js';

type Place = (demands: Demand[], nodes: Node[]) => PlacementResult;
const BASE = process.env['BENCH_BASE'];
const base: Place | undefined = BASE
  ? ((await import(join(BASE, 'packages/core/src/index.ts'))) as { place: Place }).place
  : undefined;

function world(demandCount: number, nodeCount: number): { demands: Demand[]; nodes: Node[] } {
  const nodes: Node[] = Array.from({ length: nodeCount }, (_, i) => ({
    id: `n${i}`,
    hostname: `agent-${i}`,
    attributes: { zone: i % 2 ? 'a' : 'b' },
    free: { cpus: 8, memMb: 16_384, diskMb: 100_000, gpus: 0, portRanges: [[31000, 32000]] },
  }));
  const demands: Demand[] = Array.from({ length: demandCount }, (_, i) => ({
    id: `d${i}`,
    cpus: 0.5 + (i % 4) * 0.25,
    memMb: 256 + (i % 8) * 128,
    diskMb: 10,
    gpus: 0,
    ports: i % 3,
    queuedAt: i,
  }));
  return { demands, nodes };
}

function msPerCall(place: Place, demandCount: number, nodeCount: number, reps: number): number {
  const { demands, nodes } = world(demandCount, nodeCount);
  for (let k = 0; k < 3; k++) place(demands, nodes);
  const started = performance.now();
  for (let k = 0; k < reps; k++) place(demands, nodes);
  return Number(((performance.now() - started) / reps).toFixed(3));
}

const SIZES: [number, number, number][] = [
  [1, 1, 2000],
  [100, 1, 200],
  [2000, 1, 50],
  [2000, 50, 20],
  [10_000, 100, 5],
  // bench:scale's cluster: 1,000 agents.
  [2000, 1000, 5],
];
const result: Record<string, number> = {};
for (const [demands, nodes, reps] of SIZES) {
  const key = `place_${demands}x${nodes}_ms`;
  result[key] = msPerCall(ours, demands, nodes, reps);
  if (!base) continue;
  result[`base_${key}`] = msPerCall(base, demands, nodes, reps);
  result[`speedup_${demands}x${nodes}`] = Number((result[`base_${key}`]! / result[key]!).toFixed(2));
}
console.log(JSON.stringify(result));

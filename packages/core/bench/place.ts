/**
 * How long `place()` takes for queues and clusters of a few sizes (the engine calls it on each
 * dispatch with every queued run). Run: `npx tsx packages/core/bench/place.ts`.
 * Prints one JSON object as its last line: milliseconds per call, `<demands>x<nodes>`.
 */
import { place } from '../src/index.js';
import type { Demand, Node } from '../src/index.js';

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

function msPerCall(demandCount: number, nodeCount: number, reps: number): number {
  const { demands, nodes } = world(demandCount, nodeCount);
  for (let k = 0; k < 3; k++) place(demands, nodes);
  const started = performance.now();
  for (let k = 0; k < reps; k++) place(demands, nodes);
  return Number(((performance.now() - started) / reps).toFixed(3));
}

const result = {
  place_1x1_ms: msPerCall(1, 1, 2000),
  place_100x1_ms: msPerCall(100, 1, 200),
  place_2000x1_ms: msPerCall(2000, 1, 50),
  place_2000x50_ms: msPerCall(2000, 50, 20),
  place_10000x100_ms: msPerCall(10_000, 100, 5),
};
console.log(JSON.stringify(result));

// Summarises a V8 heap snapshot by what holds each object: `npx tsx
// packages/server/bench/heap-summary.ts FILE.heapsnapshot [TOP]`. Every object is counted once,
// under the nearest object on its shortest path from the root that is an instance of a class
// (`class AttemptTable`) or, failing that, a plain object (named by its first keys, `{runId,queue,…}`).
// Prints the TOP owners (default 30) by the bytes they hold, then one JSON line. A snapshot of the
// server under load: `SCALE_SNAPSHOT=1 SCALE_NODE_ARGS=--heapsnapshot-signal=SIGUSR2 npx tsx
// packages/server/bench/scale.ts` (written in the working directory).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [TOP]');
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const {
  node_fields: nf,
  node_types: [nodeTypes],
  edge_fields: ef,
  edge_types: [edgeTypes],
} = snap.snapshot.meta;
const { nodes, edges, strings } = snap;
const N = nf.length;
const E = ef.length;
const [TYPE, NAME, SIZE, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [
  number,
  number,
  number,
  number,
];
const [E_TYPE, E_NAME, E_TO] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [
  number,
  number,
  number,
];
const count = nodes.length / N;
const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += nodes[i * N + EDGES]! * E;
}
firstEdge[count] = edges.length;

// The shortest path from the root (breadth first), without weak edges.
const parent = new Int32Array(count).fill(-1);
const queue = new Int32Array(count);
let head = 0;
let tail = 0;
queue[tail++] = 0;
parent[0] = 0;
while (head < tail) {
  const i = queue[head++]!;
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += E) {
    if (edgeTypes[edges[e + E_TYPE]!] === 'weak') continue;
    const to = edges[e + E_TO]! / N;
    if (parent[to] !== -1) continue;
    parent[to] = i;
    queue[tail++] = to;
  }
}

const typeOf = (i: number) => nodeTypes[nodes[i * N + TYPE]!]!;
const nameOf = (i: number) => strings[nodes[i * N + NAME]!]!;
const GENERIC = new Set(['Object', 'Array', 'Map', 'Set', 'system / Context']);
function keysOf(i: number): string {
  const keys: string[] = [];
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]! && keys.length < 4; e += E)
    if (edgeTypes[edges[e + E_TYPE]!] === 'property') keys.push(strings[edges[e + E_NAME]!]!);
  return `{${keys.join(',')}}`;
}
function ownerOf(i: number): string {
  let cur = i;
  for (let depth = 0; depth < 12 && cur > 0; depth++) {
    if (typeOf(cur) === 'object' && !GENERIC.has(nameOf(cur))) return `class ${nameOf(cur)}`;
    if (depth > 0 && typeOf(cur) === 'object' && nameOf(cur) === 'Object') return keysOf(cur);
    cur = parent[cur]!;
  }
  return '(other)';
}

const held = new Map<string, { bytes: number; objects: number }>();
let total = 0;
for (let i = 1; i < count; i++) {
  if (parent[i] === -1) continue;
  const size = nodes[i * N + SIZE]!;
  total += size;
  const owner = ownerOf(i);
  const h = held.get(owner) ?? { bytes: 0, objects: 0 };
  h.bytes += size;
  h.objects++;
  held.set(owner, h);
}
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const top = [...held].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(topArg ?? 30));
for (const [owner, h] of top)
  console.log(`${String(mb(h.bytes)).padStart(7)} MB ${String(h.objects).padStart(9)}  ${owner}`);
console.log(
  JSON.stringify({ live_mb: mb(total), owners: Object.fromEntries(top.map(([o, h]) => [o, mb(h.bytes)])) }),
);

// `npm run bench:queue`: 100,000 queued runs from 100 owners in 5 queues, dispatched onto a
// simulated cluster (50 nodes of 16 CPUs and 64 GB) directly through the dispatch-plan path —
// core ordering, then planDispatch (core place(), the write-ahead attempt steps) in rounds of
// 256 candidates, as the run controller's rounds are — no store and no processes. The same input
// runs twice: oldest first (plain FIFO: the next 256 by queued_at) and fair share (core FairQueue:
// queues by priority, DRF between owners). Owners submit their runs in bursts, so the FIFO order
// serves one owner's burst after another.
// Time is simulated: each round, runs whose simulated end passed free their capacity; only the
// wall time of ordering + planning counts for dispatch_per_s, and each round's ordering time for
// order_ms_p99. max_share_deviation: see deviation() — how far, on average over the rounds it
// waited, an owner's dominant share of the cluster was from that of the owners waiting with it.
// Prints one JSON line last: {"runs","dispatch_per_s","order_ms_p99","max_share_deviation",
// "fifo":{…same…},"dispatch_ratio"}.
import { performance } from 'node:perf_hooks';
import {
  FairQueue,
  newRunState,
  ownerKey,
  resolveRetryPolicy,
  type Node,
  type QueueSpec,
  type WorkShape,
} from '@galley/core';
import type { RunRecord } from '../src/model/records.js';
import { planDispatch } from '../src/runs/dispatch-plan.js';
import { percentile } from './load.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 100_000);
const OWNERS = 100;
const QUEUES: QueueSpec[] = [0, 1, 2, 3, 4].map((i) => ({ name: `q${i}`, priority: i === 0 ? 1 : 0 }));
const NODES = 50;
const BATCH = 256;

/** A deterministic random sequence (mulberry32), so both orders see the same input. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Input {
  runs: RunRecord[];
  duration: Map<string, number>;
}

function makeInput(): Input {
  const random = rng(42);
  const runs: RunRecord[] = [];
  const duration = new Map<string, number>();
  const perOwner = Math.ceil(RUNS / OWNERS);
  // Each owner: one shape (cpu-heavy or memory-heavy) and 4 bursts at random times in the first minute.
  for (let o = 0; o < OWNERS && runs.length < RUNS; o++) {
    const cpu = [500, 1000, 2000, 4000][o % 4]!;
    const memory = [4096, 2048, 1024, 512][(o >> 2) % 4]!;
    for (let burst = 0; burst < 4; burst++) {
      const at = Math.floor(random() * 60_000);
      for (let i = 0; i < perOwner / 4 && runs.length < RUNS; i++) {
        const runId = `o${String(o).padStart(3, '0')}-${burst}-${String(i).padStart(5, '0')}`;
        runs.push({
          runId,
          definitionId: 'bench',
          alias: 'bench',
          groupName: '',
          image: '',
          command: 'true',
          cluster: 'sim',
          engine: 'local',
          ownerId: `owner${o}`,
          env: [],
          memory,
          cpu,
          gpu: 0,
          description: null,
          idempotenceKey: null,
          activeDeadlineSeconds: null,
          pipelineId: null,
          state: newRunState(at),
          host: null,
          runExceptions: null,
          maxMemoryUsed: null,
          maxCpuUsed: null,
          batch: { queue: `q${o % QUEUES.length}` },
          version: 1,
          updatedAt: at,
        });
        duration.set(runId, 5_000 + Math.floor(random() * 25_000));
      }
    }
  }
  runs.sort((a, b) => a.state.queuedAt - b.state.queuedAt || (a.runId < b.runId ? -1 : 1));
  return { runs, duration };
}

interface Result {
  runs: number;
  dispatch_per_s: number;
  order_ms_p50: number;
  order_ms_p99: number;
  max_share_deviation: number;
}

const TOTAL = { cpus: NODES * 16, memMb: NODES * 65_536 };

function simulate(input: Input, fair: boolean): Result {
  const policy = resolveRetryPolicy({});
  const target = { cluster: 'sim', placement: { groupExecutor: false, portsFromNodes: false } } as never;
  const free = new Map<string, { cpus: number; memMb: number }>();
  for (let n = 0; n < NODES; n++) free.set(`n${n}`, { cpus: 16, memMb: 65_536 });
  const running = new Map<string, WorkShape & { node: string; endsAt: number }>();
  const byId = new Map(input.runs.map((r) => [r.runId, r]));
  const q = new FairQueue();
  const fifo: RunRecord[] = [];
  let head = 0;
  const taken = new Set<string>();
  let arrived = 0;
  let now = 0;
  let dispatched = 0;
  let planMs = 0;
  const orderMs: number[] = [];
  const lastServed = new Map<string, number>();
  const shares = new Map<string, { sum: number; rounds: number }>();
  const waiting = new Map<string, Map<string, number>>();
  const count = (r: RunRecord, by: number) => {
    let m = waiting.get(r.batch!.queue);
    if (!m) waiting.set(r.batch!.queue, (m = new Map()));
    const n = (m.get(r.ownerId) ?? 0) + by;
    if (n === 0) m.delete(r.ownerId);
    else m.set(r.ownerId, n);
  };
  while (dispatched < input.runs.length) {
    // Arrivals and ends up to now.
    for (; arrived < input.runs.length && input.runs[arrived]!.state.queuedAt <= now; arrived++) {
      const r = input.runs[arrived]!;
      count(r, 1);
      if (fair) q.add(work(r));
      else fifo.push(r);
    }
    for (const [id, r] of running)
      if (r.endsAt <= now) {
        running.delete(id);
        const f = free.get(r.node)!;
        f.cpus += r.cpus;
        f.memMb += r.memMb;
      }
    const nodes: Node[] = [...free].map(([id, f]) => ({
      id,
      hostname: id,
      attributes: {},
      free: { cpus: f.cpus, memMb: f.memMb, diskMb: 0, gpus: 0, portRanges: [] },
    }));
    // The dispatch path: order, then plan.
    const t0 = performance.now();
    let batch: RunRecord[];
    let order;
    if (fair) {
      const fill = { cpus: 0, memMb: 0 };
      for (const f of free.values()) {
        fill.cpus += f.cpus;
        fill.memMb += f.memMb;
      }
      const o = q.order(
        { queues: QUEUES, running: [...running.values()], total: TOTAL, lastServed, fill },
        BATCH,
      );
      batch = o.order.map((id) => byId.get(id)!);
      order = { runs: batch, held: [], shareNotes: o.shareNotes, steps: [] };
    } else {
      while (head < fifo.length && taken.has(fifo[head]!.runId)) head++;
      batch = [];
      for (let i = head; i < fifo.length && batch.length < BATCH; i++)
        if (!taken.has(fifo[i]!.runId)) batch.push(fifo[i]!);
    }
    const t1 = performance.now();
    const plan = planDispatch(
      batch,
      [],
      nodes,
      { policy, random: Math.random, now, epoch: 1, target },
      () => true,
      order,
    );
    const t2 = performance.now();
    orderMs.push(t1 - t0);
    planMs += t2 - t0;
    for (const spec of plan.launches) {
      const r = byId.get(spec.runId)!;
      taken.add(r.runId);
      count(r, -1);
      if (fair) q.remove(r.runId);
      const f = free.get(spec.nodeId)!;
      f.cpus -= r.cpu / 1000;
      f.memMb -= r.memory;
      running.set(r.runId, { ...work(r), node: spec.nodeId, endsAt: now + input.duration.get(r.runId)! });
      lastServed.set(ownerKey(r.batch!.queue, r.ownerId), dispatched++);
    }
    sample(running, waiting, shares);
    now += 1_000;
  }
  return {
    runs: dispatched,
    dispatch_per_s: Math.round(dispatched / (planMs / 1000)),
    order_ms_p50: Math.round(percentile(orderMs, 50) * 1000) / 1000,
    order_ms_p99: Math.round(percentile(orderMs, 99) * 1000) / 1000,
    max_share_deviation: Math.round(deviation(shares) * 10_000) / 10_000,
  };
}

function work(r: RunRecord): WorkShape & { id: string; queuedAt: number } {
  return {
    id: r.runId,
    queue: r.batch!.queue,
    owner: r.ownerId,
    group: '',
    cpus: r.cpu / 1000,
    memMb: r.memory,
    queuedAt: r.state.queuedAt,
  };
}

/**
 * One round's sample: in the highest priority with runs waiting, each owner with runs waiting
 * there adds its dominant share of the cluster (what it runs in those queues) to its sum.
 */
function sample(
  running: ReadonlyMap<string, WorkShape>,
  waiting: ReadonlyMap<string, ReadonlyMap<string, number>>,
  shares: Map<string, { sum: number; rounds: number }>,
): void {
  const top = Math.max(...QUEUES.filter((q) => (waiting.get(q.name)?.size ?? 0) > 0).map((q) => q.priority));
  const level = new Set(QUEUES.filter((q) => q.priority === top).map((q) => q.name));
  const use = new Map<string, { cpus: number; memMb: number }>();
  for (const name of level)
    for (const owner of waiting.get(name)?.keys() ?? [])
      use.set(ownerKey(name, owner), { cpus: 0, memMb: 0 });
  if (use.size < 2) return;
  for (const r of running.values()) {
    const u = use.get(ownerKey(r.queue, r.owner));
    if (!u) continue;
    u.cpus += r.cpus;
    u.memMb += r.memMb;
  }
  const now = [...use].map(
    ([key, u]) => [key, Math.max(u.cpus / TOTAL.cpus, u.memMb / TOTAL.memMb)] as const,
  );
  const mean = now.reduce((a, [, x]) => a + x, 0) / now.length;
  for (const [key, x] of now) {
    const s = shares.get(key) ?? { sum: 0, rounds: 0 };
    s.sum += x - mean;
    s.rounds++;
    shares.set(key, s);
  }
}

/**
 * How unequal the owners' shares were while they waited: for each owner, the mean over the rounds
 * it had runs waiting (in the priority being served) of its dominant share minus the mean share of
 * the owners waiting with it then; the largest of these in absolute value, as a fraction of the
 * cluster. 0 = every owner always held what the others held.
 */
function deviation(shares: ReadonlyMap<string, { sum: number; rounds: number }>): number {
  return Math.max(...[...shares.values()].map((s) => Math.abs(s.sum / s.rounds)));
}

const input = makeInput();
const fifo = simulate(input, false);
const fair = simulate(input, true);
console.log(`fifo: ${JSON.stringify(fifo)}`);
console.log(`fair: ${JSON.stringify(fair)}`);
console.log(
  JSON.stringify({
    ...fair,
    fifo,
    dispatch_ratio: Math.round((fair.dispatch_per_s / fifo.dispatch_per_s) * 1000) / 1000,
  }),
);

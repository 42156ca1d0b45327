// `npm run bench:autoscale`: a pure simulation (no server) of a worker pipeline fed by a backlog
// trace — bursts, a steady trickle, idle hours — replayed in 1 s steps against three policies:
// - galley: @galley/core's decideAutoscale (target 1 job per worker, HPA stabilization) and the
//   drain-safe scale-in (planScaleIn: only idle workers stop, busy ones finish their job);
// - fixed_max: `max` workers all the time (the baseline a person sizes by hand);
// - keda_like: the same proportional decision, but scale-in stops the youngest workers whatever
//   they run (a busy one's job is killed and queued again: KEDA's users' complaint).
// The metric is the backlog in flight: jobs waiting plus jobs running (as a queue that counts
// unacknowledged messages, or GoCD's scheduled jobs plus its building agents). A new worker
// takes STARTUP_S (default 2 s: a host process) before it takes jobs. Jobs run 45 to 180 s (seeded, so every run is the same).
// Prints one line per policy, then one JSON line last:
// {"jobs","mean_wait_s","worker_seconds","busy_killed", …, "fixed_max": {…}, "keda_like": {…}}.
import { decideAutoscale, type PipelineAutoscaling, planScaleIn, type Recommendation } from '@galley/core';

const MAX = 20;
/** Seconds a new worker needs before it takes jobs (BENCH_STARTUP_S). */
const STARTUP_S = Number(process.env['BENCH_STARTUP_S'] ?? 2);
/** The polling interval (BENCH_POLL_S). */
const POLL_S = Number(process.env['BENCH_POLL_S'] ?? 2);
/** The down stabilization window (BENCH_DOWN_S). */
const DOWN_S = Number(process.env['BENCH_DOWN_S'] ?? 120);
const HOURS = 6;

const POLICY: PipelineAutoscaling = {
  min: 0,
  max: MAX,
  target_per_instance: 1,
  polling_interval_seconds: POLL_S,
  stabilization: { up_seconds: 0, down_seconds: DOWN_S },
  activation_threshold: 0,
  source: { type: 'galley_queue', group: 'bench' },
};

/** A small seeded PRNG (mulberry32): the same trace every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  id: number;
  arrival: number;
  duration: number;
}

/**
 * The trace: per hour, a burst of 30 to 60 jobs at once, a steady quarter hour (a job every 20 s
 * on average), and idle time; one whole idle hour in the middle.
 */
function trace(): Job[] {
  const rand = prng(1424);
  const jobs: Job[] = [];
  const add = (at: number) =>
    jobs.push({ id: jobs.length, arrival: at, duration: 45 + Math.floor(rand() * 136) });
  for (let h = 0; h < HOURS; h++) {
    if (h === 3) continue; // an idle hour
    const start = h * 3600;
    const burstAt = start + Math.floor(rand() * 600);
    const burst = 30 + Math.floor(rand() * 31);
    for (let k = 0; k < burst; k++) add(burstAt + Math.floor(k / 10)); // 10 a second
    const steadyFrom = start + 1800;
    for (let t = steadyFrom; t < steadyFrom + 900; t++) if (rand() < 1 / 20) add(t);
  }
  return jobs.sort((a, b) => a.arrival - b.arrival || a.id - b.id);
}

interface Worker {
  id: string;
  createdAt: number;
  readyAt: number;
  job: { job: Job; endsAt: number } | null;
}

type Kind = 'galley' | 'fixed_max' | 'keda_like';

interface Result {
  jobs: number;
  mean_wait_s: number;
  p95_wait_s: number;
  worker_seconds: number;
  busy_killed: number;
}

function simulate(kind: Kind, jobs: readonly Job[]): Result {
  const queue: Job[] = [];
  let workers: Worker[] = [];
  let seq = 0;
  let next = 0;
  let done = 0;
  let workerSeconds = 0;
  let busyKilled = 0;
  let history: Recommendation[] = [];
  const waits: number[] = [];
  const launch = (now: number, ready: number) => {
    seq += 1;
    workers.push({ id: `w.${seq}`, createdAt: now, readyAt: ready, job: null });
  };
  if (kind === 'fixed_max') for (let k = 0; k < MAX; k++) launch(0, 0);
  for (let now = 0; done < jobs.length; now++) {
    while (next < jobs.length && jobs[next]!.arrival <= now) queue.push(jobs[next++]!);
    for (const w of workers)
      if (w.job && w.job.endsAt <= now) {
        w.job = null;
        done += 1;
      }
    if (kind !== 'fixed_max' && now % POLL_S === 0) {
      const current = workers.length;
      const backlog = queue.length + workers.filter((w) => w.job).length;
      const d = decideAutoscale({
        policy: POLICY,
        current,
        metric: { value: backlog },
        now: now * 1000,
        history,
      });
      history = d.history;
      if (d.desired > current) for (let k = current; k < d.desired; k++) launch(now, now + STARTUP_S);
      else if (d.desired < current) {
        const youngestFirst = [...workers].sort(
          (a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id),
        );
        let stop: Set<string>;
        if (kind === 'galley') {
          const answers = youngestFirst.map((w) => ({
            instanceId: w.id,
            answer: w.job ? ('busy' as const) : ('idle' as const),
          }));
          stop = new Set(planScaleIn(current, d.desired, answers).stop);
        } else {
          stop = new Set(youngestFirst.slice(0, current - d.desired).map((w) => w.id));
        }
        for (const w of workers)
          if (stop.has(w.id) && w.job) {
            busyKilled += 1;
            queue.unshift(w.job.job); // killed: its job waits again, at the front
            waits.pop(); // its wait is counted again when it runs again
          }
        workers = workers.filter((w) => !stop.has(w.id));
      }
    }
    for (const w of workers) {
      if (w.job || w.readyAt > now || queue.length === 0) continue;
      const job = queue.shift()!;
      waits.push(now - job.arrival);
      w.job = { job, endsAt: now + job.duration };
    }
    workerSeconds += workers.length;
  }
  const sorted = [...waits].sort((a, b) => a - b);
  return {
    jobs: done,
    mean_wait_s: Math.round((waits.reduce((s, w) => s + w, 0) / waits.length) * 10) / 10,
    p95_wait_s: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
    worker_seconds: workerSeconds,
    busy_killed: busyKilled,
  };
}

const jobs = trace();
const galley = simulate('galley', jobs);
const fixed = simulate('fixed_max', jobs);
const keda = simulate('keda_like', jobs);
for (const [name, r] of [
  ['galley', galley],
  ['fixed_max', fixed],
  ['keda_like', keda],
] as const)
  console.log(
    `${name.padEnd(10)} jobs ${r.jobs}  mean wait ${r.mean_wait_s} s  p95 wait ${r.p95_wait_s} s  ` +
      `worker-seconds ${r.worker_seconds}  busy killed ${r.busy_killed}`,
  );
console.log(
  JSON.stringify({
    ...galley,
    wait_vs_fixed: Math.round((galley.mean_wait_s / fixed.mean_wait_s) * 1000) / 1000,
    worker_seconds_vs_fixed: Math.round((galley.worker_seconds / fixed.worker_seconds) * 1000) / 1000,
    fixed_max: fixed,
    keda_like: keda,
    settings: { max: MAX, startup_s: STARTUP_S, poll_s: POLL_S, down_s: DOWN_S },
  }),
);

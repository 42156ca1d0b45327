// `npm run bench:spawn`: the ceiling the local backend puts on runs per second, with no server,
// no database and no HTTP: the spawner launches `true` under the attempt supervisor (what every
// local run costs in processes), BENCH_SPAWNS times with BENCH_SPAWN_WINDOW launches in flight.
// CPU is read from /proc/stat over the whole machine, so it counts the spawner, the shells and
// the kernel alike. Prints one JSON line last: {"spawns","seconds","spawns_per_s","cpu_ms_per_spawn",…}.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spawner, type SpawnerEvent } from '../src/backends/local/spawner.js';

const SPAWNS = Number(process.env['BENCH_SPAWNS'] ?? 2000);
const WINDOW = Number(process.env['BENCH_SPAWN_WINDOW'] ?? 64);

/** Busy and total CPU time of the machine so far, in clock ticks (/proc/stat's first line). */
function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU time (user + system, clock ticks) a process has used so far; 0 when it is gone. */
function processTicks(pid: number | null): number {
  if (pid === null) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

const dir = await mkdtemp(join(tmpdir(), 'galley-bench-spawn-'));
let ended = 0;
let failed = 0;
let inFlight = 0;
let next = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const launch = (): void => {
  while (inFlight < WINDOW && next < SPAWNS) {
    const id = `a${next++}`;
    inFlight++;
    spawner.spawn({ id, dir: join(dir, id, '1'), command: 'true', env });
  }
};
const spawner = new Spawner(
  (e: SpawnerEvent) => {
    if (e.ev === 'spawned' || e.ev === 'cgroup-failed') return;
    if (e.ev === 'error' || e.code !== 0) failed++;
    inFlight--;
    if (++ended === SPAWNS) done();
    else launch();
  },
  (reason) => {
    throw new Error(`spawner lost: ${reason}`);
  },
);
const before = cpuTicks();
const started = performance.now();
launch();
await finished;
const seconds = (performance.now() - started) / 1000;
const after = cpuTicks();
const spawnerTicks = processTicks(spawner.pid);
spawner.close();
await rm(dir, { recursive: true, force: true });
// /proc/stat counts in USER_HZ (100 per second on Linux) summed over all CPUs.
const busyMs = (after.busy - before.busy) * 10;
console.log(
  JSON.stringify({
    spawns: SPAWNS,
    window: WINDOW,
    failures: failed,
    cpus: cpus().length,
    seconds: Math.round(seconds * 100) / 100,
    spawns_per_s: Math.round(SPAWNS / seconds),
    machine_busy_pct: Math.round((100 * (after.busy - before.busy)) / (after.total - before.total)),
    cpu_ms_per_spawn: Math.round((busyMs / SPAWNS) * 100) / 100,
    spawner_cpu_ms_per_spawn: Math.round(((spawnerTicks * 10) / SPAWNS) * 100) / 100,
  }),
);

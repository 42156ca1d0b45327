// `npm run bench:api`: executes per second of the built server, side by side with a bare fastify
// route doing one INSERT into the same kind of database (the baseline), and the dispatch latency
// (execute accepted → launch stored) from the runs' timelines.
//
// Per store, both servers run at once and take turns: BENCH_ROUNDS rounds of baseline then
// Galley (and the peer, the two taking turns to go first), BENCH_EXECUTES requests each from
// BENCH_CONNECTIONS keep-alive clients; the figures are
// the medians of the rounds, so a burst of load from other work on the machine moves one round,
// not the result. Each Galley round waits until all its runs are STOPPED (`completed_per_s`).
// CPU used per request is read from /proc: the server's own, and the spawner's with every
// process it launched (what running `true` costs), so the figures stay comparable on a busy
// machine where wall-clock rates swing.
//
// Stores: PGlite always, and first PostgreSQL when DATABASE_URL is set (both servers use that
// database; BENCH_STORE=pglite skips it) or BENCH_STORE=postgres (a throw-away server from
// @galley/testkit, fsync off). BENCH_PROFILE=DIR writes Galley's CPU profiles there. BENCH_PEER:
// another build run beside Galley in every round (see PEER).
// Prints a line per round, then one JSON object per store, PGlite's last.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '@galley/testkit';
import { load, percentile } from './load.js';
import {
  childPids,
  machineBusyMs,
  median,
  processCpuMs,
  startProcess,
  stopProcess,
  type Started,
} from './processes.js';

const EXECUTES = Number(process.env['BENCH_EXECUTES'] ?? 2000);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAIN = fileURLToPath(new URL('../dist/bundle/galley.js', import.meta.url));
/**
 * Another build of Galley measured beside this one in the same rounds (its dist/cli/main.js, e.g.
 * a git worktree of an older commit, built): `peer_…` figures. Not on a shared DATABASE_URL.
 */
const PEER = process.env['BENCH_PEER'];
const BASELINE = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));
// The baseline runs in ONE node process (tsx as a loader, not its CLI, which forks) so its CPU is
// read from its pid.
const TSX_LOADER = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

const json = (body: unknown) => ({
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function waitAllStopped(url: string, total: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/history?status=STOPPED&limit=0&exact_total=true`);
    const { total: stopped } = (await res.json()) as { total: number };
    if (stopped >= total) return;
    if (Date.now() > deadline) throw new Error(`only ${stopped} of ${total} runs stopped`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** launching.at − queued.at of each run, read from the timelines 8 at a time. */
async function dispatchLatencies(url: string, runIds: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < runIds.length) {
        const id = runIds[next++]!;
        const res = await fetch(`${url}/api/v1/${id}/events`);
        const { events } = (await res.json()) as { events: { type: string; at: string }[] };
        const queued = events.find((e) => e.type === 'queued');
        const launching = events.find((e) => e.type === 'launching');
        if (queued && launching) out.push(Date.parse(launching.at) - Date.parse(queued.at));
      }
    }),
  );
  return out;
}

/** One Galley server's part of a round. */
interface GalleyRound {
  executesPerS: number;
  completedPerS: number;
  /** CPU ms per execute: the Galley server process alone. */
  serverCpuMs: number;
  /** CPU ms per execute: the spawner and every process it launched (supervisor, shell). */
  launchCpuMs: number;
  /** Busy CPU ms of the whole machine per execute (includes the load clients and other work). */
  machineCpuMs: number;
  failures: number;
  runIds: string[];
}

interface Round extends GalleyRound {
  baselinePerS: number;
  /** CPU ms per request of the baseline server. */
  baselineCpuMs: number;
  /** The same of the peer build (BENCH_PEER), when one runs. */
  peer?: GalleyRound;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function runGalley(galley: Started): Promise<GalleyRound> {
  const execute = () =>
    fetch(`${galley.url}/api/v1/task/alias/bench-true/execute`, json({ run_tags: { owner_id: 'bench' } }));
  const { total: before } = (await (
    await fetch(`${galley.url}/api/v1/history?limit=0&exact_total=true`)
  ).json()) as {
    total: number;
  };
  const spawners = () => childPids(galley.proc.pid);
  const cpu = () => ({
    server: processCpuMs(galley.proc.pid),
    launch: spawners().reduce((sum, pid) => sum + processCpuMs(pid, true), 0),
    machine: machineBusyMs(),
  });
  const start = cpu();
  const started = performance.now();
  const result = await load(EXECUTES, CONNECTIONS, execute);
  await waitAllStopped(galley.url, before + EXECUTES);
  const completedS = (performance.now() - started) / 1000;
  const end = cpu();
  return {
    executesPerS: result.perSecond,
    completedPerS: EXECUTES / completedS,
    serverCpuMs: (end.server - start.server) / EXECUTES,
    launchCpuMs: (end.launch - start.launch) / EXECUTES,
    machineCpuMs: (end.machine - start.machine) / EXECUTES,
    failures: result.failures,
    runIds: result.bodies.map((b) => (b as { run_id: string }).run_id),
  };
}

/**
 * Baseline, then Galley and the peer build (when one runs), one after the other. The one right
 * after the baseline fares worse (the same build measured as both: 46 vs 39 ms dispatch p50), so
 * Galley and the peer take turns going first: Galley in odd rounds, the peer in even ones.
 */
async function runRound(
  galley: Started,
  baseline: Started,
  peer: Started | undefined,
  round: number,
): Promise<Round> {
  const insert = () => fetch(`${baseline.url}/insert`, json({ run_tags: { owner_id: 'bench' } }));
  const baseCpu = processCpuMs(baseline.proc.pid);
  const base = await load(EXECUTES, CONNECTIONS, insert);
  const baselineCpuMs = (processCpuMs(baseline.proc.pid) - baseCpu) / EXECUTES;
  const peerFirst = peer !== undefined && round % 2 === 0;
  const early = peerFirst ? await runGalley(peer) : undefined;
  const own = await runGalley(galley);
  const theirs = peer ? (early ?? (await runGalley(peer))) : undefined;
  return {
    ...own,
    baselinePerS: base.perSecond,
    baselineCpuMs,
    failures: own.failures + base.failures + (theirs?.failures ?? 0),
    ...(theirs ? { peer: theirs } : {}),
  };
}

/** Starts a built Galley (`main`: its dist/cli/main.js) on a new data directory under `dir`. */
async function startGalley(main: string, dir: string, env: NodeJS.ProcessEnv, node: string[]) {
  const galley = await startProcess(
    process.execPath,
    [...node, main, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dir, '--log-level', 'warn'],
    env,
    /listening on (http:\/\/[\d.:]+)/,
  );
  const define = await fetch(`${galley.url}/api/v1/task`, {
    ...json({ alias: 'bench-true', command: 'true', cpu: 1, memory: 1 }),
    method: 'POST',
  });
  if (!define.ok) throw new Error(`define: ${define.status} ${await define.text()}`);
  // Warm-up (JIT, connections, caches).
  await load(100, 4, () =>
    fetch(`${galley.url}/api/v1/task/alias/bench-true/execute`, json({ run_tags: { owner_id: 'w' } })),
  );
  await waitAllStopped(galley.url, 100);
  return galley;
}

/** The figures of one Galley server over the rounds (medians), and its ratio to the baseline. */
async function summary(url: string, rounds: readonly GalleyRound[], baselinePerS: number) {
  const latencies = await dispatchLatencies(
    url,
    rounds.flatMap((r) => r.runIds),
  );
  const executesPerS = median(rounds.map((r) => r.executesPerS));
  return {
    executes_per_s: Math.round(executesPerS),
    completed_per_s: Math.round(median(rounds.map((r) => r.completedPerS))),
    dispatch_p50_ms: percentile(latencies, 50),
    dispatch_p99_ms: percentile(latencies, 99),
    ratio: round2(executesPerS / baselinePerS),
    server_cpu_ms_per_execute: round2(median(rounds.map((r) => r.serverCpuMs))),
    launch_cpu_ms_per_execute: round2(median(rounds.map((r) => r.launchCpuMs))),
    machine_cpu_ms_per_execute: round2(median(rounds.map((r) => r.machineCpuMs))),
  };
}

/** A round's line of figures (`peer_…` for the peer build's). */
function roundLine(store: string, i: number, r: Round) {
  const figures = (g: GalleyRound, prefix: string) => ({
    [`${prefix}executes_per_s`]: Math.round(g.executesPerS),
    [`${prefix}completed_per_s`]: Math.round(g.completedPerS),
    [`${prefix}server_cpu_ms_per_execute`]: round2(g.serverCpuMs),
    [`${prefix}launch_cpu_ms_per_execute`]: round2(g.launchCpuMs),
    [`${prefix}machine_cpu_ms_per_execute`]: round2(g.machineCpuMs),
  });
  return {
    store,
    round: i,
    ...figures(r, ''),
    baseline_per_s: Math.round(r.baselinePerS),
    baseline_cpu_ms_per_insert: round2(r.baselineCpuMs),
    ...(r.peer ? figures(r.peer, 'peer_') : {}),
  };
}

/** Database URLs per server (PostgreSQL), or none (PGlite in a temp directory each). */
interface StoreUrls {
  galley?: string;
  baseline?: string;
  peer?: string;
}

async function benchStore(store: 'pglite' | 'postgres', urls: StoreUrls) {
  const dir = await mkdtemp(join(tmpdir(), 'galley-bench-'));
  const { DATABASE_URL: _ignored, ...env } = process.env;
  void _ignored;
  const profile = process.env['BENCH_PROFILE'];
  const node = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const withUrl = (url: string | undefined) => ({ ...env, ...(url ? { DATABASE_URL: url } : {}) });
  const started: Started[] = [];
  try {
    const galley = await startGalley(MAIN, join(dir, 'data'), withUrl(urls.galley), node);
    started.push(galley);
    // The peer shares no database with Galley: on PostgreSQL it needs its own (BENCH_STORE=postgres).
    const peer =
      PEER && (store === 'pglite' || urls.peer)
        ? await startGalley(PEER, join(dir, 'peer'), withUrl(urls.peer), [])
        : undefined;
    if (peer) started.push(peer);
    const baseline = await startProcess(
      process.execPath,
      ['--import', TSX_LOADER, BASELINE],
      withUrl(urls.baseline),
      /listening (http:\/\/[\d.:]+)/,
    );
    started.push(baseline);
    await load(100, 4, () => fetch(`${baseline.url}/insert`, json({ run_tags: { owner_id: 'w' } })));

    const rounds: Round[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await runRound(galley, baseline, peer, i);
      rounds.push(r);
      console.log(JSON.stringify(roundLine(store, i, r)));
    }
    const baselinePerS = median(rounds.map((r) => r.baselinePerS));
    const peerRounds = rounds.flatMap((r) => (r.peer ? [r.peer] : []));
    const theirs = peer ? await summary(peer.url, peerRounds, baselinePerS) : undefined;
    return {
      store,
      executes: EXECUTES,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      failures: rounds.reduce((n, r) => n + r.failures, 0),
      ...(await summary(galley.url, rounds, baselinePerS)),
      baseline_per_s: Math.round(baselinePerS),
      baseline_cpu_ms_per_insert: round2(median(rounds.map((r) => r.baselineCpuMs))),
      ...(theirs
        ? { peer: PEER, ...Object.fromEntries(Object.entries(theirs).map(([k, v]) => [`peer_${k}`, v])) }
        : {}),
    };
  } finally {
    for (const p of started.reverse()) await stopProcess(p.proc);
    await rm(dir, { recursive: true, force: true });
  }
}

const wanted = process.env['BENCH_STORE'];
const given = process.env['DATABASE_URL'];
const results = [];
if (given && wanted !== 'pglite') {
  results.push(await benchStore('postgres', { galley: given, baseline: given }));
} else if (wanted === 'postgres') {
  const pg = await startPostgres();
  if (!pg.available) throw new Error(`BENCH_STORE=postgres: ${pg.reason}`);
  try {
    results.push(
      await benchStore('postgres', {
        galley: await pg.service.createDatabase(),
        baseline: await pg.service.createDatabase(),
        ...(PEER ? { peer: await pg.service.createDatabase() } : {}),
      }),
    );
  } finally {
    await pg.service.stop();
  }
}
results.push(await benchStore('pglite', {}));
for (const r of results) console.log(JSON.stringify(r));

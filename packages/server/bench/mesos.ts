// `npm run bench:mesos`: 5,000 runs executed through the API of the built server onto 100 agents
// of the fake Mesos master (simulate mode: no processes, real HTTP and RecordIO), from the first
// execute until every run is STOPPED. Also the p99 of queue → RUNNING (started_at − queued_at).
// Prints one JSON line last: {"runs","seconds","runs_per_s","p99_queue_to_running_ms", …}, with
// the CPU the server used per run and the CPU of this process (fake master and clients) per run.
// BENCH_PEER=<dist/cli/main.js of another build>: that build runs the same bench in the same
// invocation, BENCH_ROUNDS times each (default 1), alternating which goes first, each with its
// own fake master, data dir and database; the last line then holds the medians of both (`peer_…`)
// and `runs_per_s_ratio` (ours / the peer's).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeMesos } from '@galley/mesos/testing';
import { startPostgres } from '@galley/testkit';
import { load, percentile } from './load.js';
import { median, processCpuMs } from './processes.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5000);
const AGENTS = Number(process.env['BENCH_AGENTS'] ?? 100);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const MAIN = fileURLToPath(new URL('../dist/bundle/galley.js', import.meta.url));
const PEER = process.env['BENCH_PEER'];
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);

async function startServer(
  main: string,
  dataDir: string,
  master: string,
  databaseUrl: string | null,
): Promise<{ url: string; proc: ChildProcess }> {
  const args = [
    main,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dataDir,
    '--backend',
    'mesos',
    '--mesos-master',
    master,
    '--mesos-containerizer',
    'none',
    '--mesos-revive-interval-ms',
    '200',
    '--log-level',
    'warn',
  ];
  // BENCH_PROFILE=<dir> writes a CPU profile of the server there (node --cpu-prof).
  const profile = process.env['BENCH_PROFILE'];
  const node = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const env = { ...process.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const proc = spawn(process.execPath, [...node, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1]!, proc });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`galley exited with ${code}:\n${out}`)));
  });
}

interface Run {
  run_id: string;
  status: string;
  exit_code: number | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
}

async function allRuns(url: string): Promise<Run[]> {
  const out: Run[] = [];
  for (let offset = 0; ; offset += 5000) {
    const res = await fetch(`${url}/api/v1/history?alias=bench&limit=5000&offset=${offset}`);
    const page = (await res.json()) as { history: Run[] };
    out.push(...page.history);
    if (page.history.length < 5000) return out;
  }
}

type Figures = Record<string, number | string>;

/** One bench of the build whose CLI is `main`: its own fake master, data dir and database. */
async function benchOne(main: string): Promise<Figures> {
  const mesos = await startFakeMesos({ agents: AGENTS, allocationIntervalMs: 100, execution: 'simulate' });
  const dir = await mkdtemp(join(tmpdir(), 'galley-bench-mesos-'));
  const master = mesos.masterUrls[0]!.replace(/^http:\/\//, '');
  // BENCH_STORE=postgres: a throw-away PostgreSQL (testkit) instead of the embedded PGlite.
  const pg = process.env['BENCH_STORE'] === 'postgres' ? await startPostgres() : null;
  if (pg && !pg.available) throw new Error(`BENCH_STORE=postgres: ${pg.reason}`);
  const databaseUrl = pg?.available ? await pg.service.createDatabase() : null;
  const { url, proc } = await startServer(main, join(dir, 'data'), master, databaseUrl);
  try {
    const define = await fetch(`${url}/api/v1/task`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'bench', image: 'busybox', command: 'true', cpu: 100, memory: 32 }),
    });
    if (!define.ok) throw new Error(`define: ${define.status} ${await define.text()}`);
    const body = JSON.stringify({ run_tags: { owner_id: 'bench' } });
    // CPU used: the server's, and this process's (the fake master and the load clients) — figures
    // that stay comparable on a machine where other work moves the wall-clock rates.
    const serverCpu = processCpuMs(proc.pid);
    const benchCpu = process.cpuUsage();
    const started = performance.now();
    const executes = await load(RUNS, CONNECTIONS, () =>
      fetch(`${url}/api/v1/task/alias/bench/execute`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    if (executes.failures > 0) throw new Error(`${executes.failures} executes failed`);
    const deadline = Date.now() + 300_000;
    for (;;) {
      const res = await fetch(`${url}/api/v1/history?alias=bench&status=STOPPED&limit=0&exact_total=true`);
      const { total } = (await res.json()) as { total: number };
      if (total >= RUNS) break;
      if (Date.now() > deadline) throw new Error(`only ${total} of ${RUNS} runs stopped`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const serverCpuMs = processCpuMs(proc.pid) - serverCpu;
    const { user, system } = process.cpuUsage(benchCpu);
    const runs = await allRuns(url);
    const bad = runs.filter((r) => r.status !== 'STOPPED' || r.exit_code !== 0);
    if (runs.length !== RUNS || bad.length > 0) throw new Error(`${bad.length} runs did not exit 0`);
    const queueToRunning = runs.map((r) => Date.parse(r.started_at!) - Date.parse(r.queued_at));
    const accepts = mesos.calls({ type: 'ACCEPT' }).length;
    // Timeline entries per run (a sample): what each run cost in stored changes.
    const sample = runs.slice(0, 100);
    const timelines = await Promise.all(
      sample.map(async (r) => {
        const res = await fetch(`${url}/api/v1/${r.run_id}/events`);
        return ((await res.json()) as { events: { type: string }[] }).events;
      }),
    );
    const changesPerRun = timelines.reduce((n, t) => n + t.length, 0) / sample.length;
    const reasonsPerRun =
      timelines.reduce((n, t) => n + t.filter((e) => e.type === 'unplaceable').length, 0) / sample.length;
    return {
      runs: RUNS,
      store: databaseUrl ? 'postgres' : 'pglite',
      agents: AGENTS,
      seconds: Math.round(seconds * 100) / 100,
      runs_per_s: Math.round(RUNS / seconds),
      executes_per_s: Math.round(executes.perSecond),
      server_cpu_ms_per_run: Math.round((serverCpuMs / RUNS) * 100) / 100,
      master_and_clients_cpu_ms_per_run: Math.round(((user + system) / 1000 / RUNS) * 100) / 100,
      p50_queue_to_running_ms: percentile(queueToRunning, 50),
      p99_queue_to_running_ms: percentile(queueToRunning, 99),
      accepts,
      tasks_per_accept: Math.round((RUNS / accepts) * 10) / 10,
      timeline_entries_per_run: changesPerRun,
      queued_reasons_per_run: reasonsPerRun,
    };
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    await mesos.stop();
    if (pg?.available) await pg.service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Our build, and the peer's (BENCH_PEER) beside it, alternating; medians of the rounds. */
async function main(): Promise<void> {
  const ours: Figures[] = [];
  const theirs: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const peerFirst = PEER !== undefined && round % 2 === 1;
    if (peerFirst) theirs.push(await benchOne(PEER));
    ours.push(await benchOne(MAIN));
    if (PEER !== undefined && !peerFirst) theirs.push(await benchOne(PEER));
    console.log(JSON.stringify({ round, ours: ours.at(-1), ...(PEER ? { peer: theirs.at(-1) } : {}) }));
  }
  const summary = (rounds: Figures[]): Figures =>
    Object.fromEntries(
      Object.entries(rounds[0]!).map(([k, v]) => [
        k,
        typeof v === 'number' ? Math.round(median(rounds.map((r) => r[k] as number)) * 100) / 100 : v,
      ]),
    );
  const our = summary(ours);
  const peer = PEER ? summary(theirs) : undefined;
  console.log(
    JSON.stringify({
      ...our,
      rounds: ROUNDS,
      ...(peer
        ? {
            peer: PEER,
            ...Object.fromEntries(Object.entries(peer).map(([k, v]) => [`peer_${k}`, v])),
            runs_per_s_ratio:
              Math.round(((our['runs_per_s'] as number) / (peer['runs_per_s'] as number)) * 100) / 100,
          }
        : {}),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

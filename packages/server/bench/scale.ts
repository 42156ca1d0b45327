// `npm run bench:scale`: the built server on PostgreSQL at the scale issue 17 asks for — 1,000,000
// finished runs in the store (seeded with SQL, not through the API) and 100,000 runs in flight on
// 1,000 agents of the fake Mesos master (simulate mode: `sleep 3600` is a timer, not a process).
//
// It prints, each beside its peer in the same run:
//  - history p99 (GET /api/v1/history with status/group/definition/owner/exit-code filters, sorts
//    and offsets, one request at a time) on the empty store, with the finished runs, and with the
//    runs in flight (and, with the runs in flight, each store query's time alone, sent straight to
//    PostgreSQL after its request: what the SQL costs beside what the busy server adds), then
//    again after a VACUUM of the runs (what the store answers once autovacuum caught up);
//  - dispatch rate (runs accepted → RUNNING in the store, per second) of the first SCALE_WARM runs
//    (few in flight) and of the last batch (nearly SCALE_RUNS in flight), and over the whole fill;
//  - the server's resident memory (VmRSS; VmHWM = its peak) idle, and with every run in flight:
//    right after the fill and after the history requests (`rss_mb`), and 30 s after the last
//    request with them all still in flight (`rss_mb_settled`).
// Runs are submitted as arrays (one execute with `array_size` ≤ 10,000 stores a whole batch in one
// transaction), so the dispatch rate is the scheduler's, not the HTTP client's.
//
// Smaller runs: SCALE_RUNS, SCALE_FINISHED, SCALE_AGENTS, SCALE_BATCH, SCALE_WARM,
// SCALE_HISTORY_SAMPLES. BENCH_PROFILE=<dir> writes a CPU profile of the server (node --cpu-prof).
// SCALE_EXPLAIN=1 logs EXPLAIN (ANALYZE, BUFFERS) of each history query's statements at the end.
// Prints one JSON line last.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeMesos } from '@galley/mesos/testing';
import { startPostgres } from '@galley/testkit';
import { explainHistory, historyLatency, historyQueries, log, querier } from './scale-history.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = env('SCALE_RUNS', 100_000);
const FINISHED = env('SCALE_FINISHED', 1_000_000);
const AGENTS = env('SCALE_AGENTS', 1_000);
const BATCH = Math.min(env('SCALE_BATCH', 10_000), 10_000);
const WARM = Math.min(env('SCALE_WARM', 1_000), RUNS);
const HISTORY_SAMPLES = env('SCALE_HISTORY_SAMPLES', 200);
const STUCK_MS = env('SCALE_STUCK_MS', 120_000);
const DEFINITIONS = 50;
const GROUPS = 10;
const OWNERS = 20;
const CLUSTER = 'scale';
/** Each agent holds a few hundred 0.1-CPU, 32 MB runs. */
const AGENT_RESOURCES = 'cpus:64;mem:65536;disk:100000;ports:[31000-32000]';
const AIMS = { rss_mb: 300, history_p99_ms: 50, dispatch_runs_per_s: 1_000 };
const MAIN = fileURLToPath(new URL('../dist/bundle/galley.js', import.meta.url));

interface Memory {
  rss_mb: number;
  hwm_mb: number;
}

function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) =>
    Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024);
  return { rss_mb: mb('VmRSS'), hwm_mb: mb('VmHWM') };
}

/**
 * The server's memory `waitMs` after the bench's last request: holding every run in flight, with
 * nothing asked of it but its own rounds (the usage poller reads each agent's /monitor/statistics
 * every 2 s, so it is never quite idle), after V8's memory reducer (which starts 8 s after the last
 * full collection) and the idle trim (--malloc-trim-idle-ms) have had their turn.
 */
async function settledMemory(pid: number, waitMs = 30_000): Promise<Memory> {
  await new Promise((r) => setTimeout(r, waitMs));
  return memory(pid);
}

async function startServer(dataDir: string, master: string, databaseUrl: string) {
  const args = [
    MAIN,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dataDir,
    '--backend',
    'mesos',
    '--cluster',
    CLUSTER,
    '--mesos-master',
    master,
    '--mesos-executor',
    'command',
    '--mesos-containerizer',
    'none',
    '--mesos-revive-interval-ms',
    '200',
    // Offers declined while runs still wait (a backlog larger than one round places before the
    // offer hold ends) stay filtered this long unless new work revives the role: with the default
    // 120 s, the rest of an array waited up to two minutes. SCALE_REFUSE_SECONDS changes it.
    '--mesos-refuse-seconds',
    process.env['SCALE_REFUSE_SECONDS'] ?? '5',
    '--retention-days',
    '0',
    '--log-level',
    'warn',
  ];
  const profile = process.env['BENCH_PROFILE'];
  // SCALE_NODE_ARGS: more node flags for the server, e.g. `--heapsnapshot-signal=SIGUSR2`.
  const extra = (process.env['SCALE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const node = [...extra, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])];
  const proc = spawn(process.execPath, [...node, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise<{ url: string; proc: ChildProcess }>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1]!, proc });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`galley exited with ${code}:\n${out}`)));
  });
}

/** The server's V8 heap as its /metrics says (prom-client's default metrics), in MB. */
async function heap(
  url: string,
): Promise<{ heap_used_mb: number; heap_total_mb: number; external_mb: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const mb = (metric: string) =>
    Math.round(Number(new RegExp(`^galley_process_${metric} (\\S+)$`, 'm').exec(text)?.[1]) / 2 ** 20);
  return {
    heap_used_mb: mb('nodejs_heap_size_used_bytes'),
    heap_total_mb: mb('nodejs_heap_size_total_bytes'),
    external_mb: mb('nodejs_external_memory_bytes'),
  };
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/**
 * 1,000,000 finished runs in one INSERT … SELECT: spread over the definitions (their groups and
 * aliases), owners, exit codes (most 0, some 1, a few killed) and the last 30 days. Triggers are
 * off for the seeding session (the webhook outbox has no subscriber for old runs).
 */
async function seed(
  databaseUrl: string,
  count: number,
  definitions: { id: string; alias: string; group: string }[],
) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    const now = Date.now();
    await client.query(
      `INSERT INTO runs (run_id, definition_id, alias, group_name, image, command, cluster, engine, owner_id,
                         memory, cpu, status, attempt_count, attempt_id, attempt_ids, exit_code, exit_reason,
                         queued_at, started_at, finished_at, version, updated_at)
       SELECT 'seed-' || lpad(i::text, 8, '0'), d.id, d.alias, d.grp, '', 'sleep 60', $5, 'mesos',
              'owner-' || (i::bigint * 7919 % $3),
              32, 100, 'STOPPED', 1, 'seed-' || lpad(i::text, 8, '0') || '.1',
              jsonb_build_array('seed-' || lpad(i::text, 8, '0') || '.1'),
              CASE WHEN i / 64 % 50 = 0 THEN 137 WHEN i / 64 % 10 = 1 THEN 1 ELSE 0 END,
              CASE WHEN i / 64 % 50 = 0 THEN 'killed' WHEN i / 64 % 10 = 1 THEN 'exit 1' ELSE NULL END,
              q, q + 500 + i % 3000, q + 60000 + i % 600000, 4, q + 60000 + i % 600000
         FROM generate_series(1, $1::integer) AS i
         JOIN LATERAL (SELECT $2::bigint - (($1::bigint - i) * 2592000000 / $1::bigint) - 3600000 AS q) t ON true
         JOIN (SELECT (ord - 1)::integer AS k, d.* FROM unnest($4::text[], $6::text[], $7::text[])
                 WITH ORDINALITY AS d(id, alias, grp, ord)) d ON d.k = (i * 31 % $8::integer)`,
      [
        count,
        now,
        OWNERS,
        definitions.map((d) => d.id),
        CLUSTER,
        definitions.map((d) => d.alias),
        definitions.map((d) => d.group),
        definitions.length,
      ],
    );
    // What autovacuum does to a store whose old runs no longer change: statistics, and the
    // visibility map (counts read the indexes alone). A VACUUM while another session holds a
    // snapshot older than the seed marks nothing visible: it is repeated until it does.
    await client.query('ANALYZE runs');
    for (let tries = 0; tries < 10; tries++) {
      await client.query('VACUUM runs');
      const { rows } = await client.query<{ visible: number; pages: number }>(
        `SELECT relallvisible AS visible, relpages AS pages FROM pg_class WHERE relname = 'runs'`,
      );
      if (rows[0]!.visible >= rows[0]!.pages * 0.9) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const pg = await startPostgres();
  if (!pg.available) throw new Error(`bench:scale needs PostgreSQL: ${pg.reason}`);
  const databaseUrl = await pg.service.createDatabase();
  const { default: pgLib } = await import('pg');
  const db = new pgLib.Client({ connectionString: databaseUrl });
  log(`starting ${AGENTS} fake agents`);
  const mesos = await startFakeMesos({
    agents: Array.from({ length: AGENTS }, () => ({ resources: AGENT_RESOURCES })),
    allocationIntervalMs: 100,
    execution: 'simulate',
    executorStartMs: 10,
  });
  const dir = await mkdtemp(join(tmpdir(), 'galley-bench-scale-'));
  const master = mesos.masterUrls[0]!.replace(/^http:\/\//, '');
  const cleanUp = async () => {
    await db.end().catch(() => undefined);
    await mesos.stop();
    await pg.service.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const { url, proc } = await startServer(join(dir, 'data'), master, databaseUrl).catch(
    async (err: unknown) => {
      await cleanUp();
      throw err;
    },
  );
  const pid = proc.pid!;
  let peak = memory(pid);
  const sampler = setInterval(() => {
    const m = memory(pid);
    if (m.rss_mb > peak.rss_mb) peak = m;
  }, 500);
  try {
    await db.connect();
    const definitions: { id: string; alias: string; group: string }[] = [];
    for (let i = 0; i < DEFINITIONS; i++) {
      const alias = `scale-${i}`;
      const group = `group-${i % GROUPS}`;
      const def = (await call(url, 'POST', '/task', {
        alias,
        group_name: group,
        image: 'busybox',
        command: 'sleep 3600',
        cpu: 100,
        memory: 32,
      })) as { definition_id: string };
      definitions.push({ id: def.definition_id, alias, group });
    }
    const historyEmpty = await historyLatency(
      url,
      historyQueries(definitions, false, OWNERS),
      HISTORY_SAMPLES,
    );
    log(`history on the empty store: ${JSON.stringify(historyEmpty)}; seeding ${FINISHED} finished runs`);
    const seedStarted = performance.now();
    if (FINISHED > 0) await seed(databaseUrl, FINISHED, definitions);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const historyFinished = await historyLatency(
      url,
      historyQueries(definitions, false, OWNERS),
      HISTORY_SAMPLES,
    );
    const idle = memory(pid);
    log(
      `seeded in ${seedSeconds.toFixed(1)} s; history: ${JSON.stringify(historyFinished)}; rss ${idle.rss_mb} MB`,
    );

    const running = async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM runs WHERE status = 'RUNNING'`,
      );
      return Number(rows[0]!.n);
    };
    let submitted = 0;
    let stuck = false;
    let arrays = 0;
    /** Submits `size` runs (arrays of ≤ BATCH, spread over the definitions) and waits until all run. */
    const dispatch = async (size: number) => {
      const before = submitted;
      const t0 = performance.now();
      for (let left = size; left > 0;) {
        const n = Math.min(left, BATCH);
        const d = definitions[arrays++ % definitions.length]!;
        if (n === 1) await call(url, 'PUT', `/task/${d.id}/execute`, { run_tags: { owner_id: 'scale' } });
        else
          await call(url, 'PUT', `/task/${d.id}/execute`, { run_tags: { owner_id: 'scale' }, array_size: n });
        left -= n;
      }
      submitted += size;
      const accepted = (performance.now() - t0) / 1000;
      const deadline = Date.now() + 600_000;
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const n = await running();
        if (n >= submitted) break;
        if (n !== last) [last, lastChange] = [n, Date.now()];
        if (Date.now() - lastChange > STUCK_MS || Date.now() > deadline) {
          const { rows } = await db.query(
            `SELECT status, queued_reason, count(*) AS n FROM runs WHERE owner_id = 'scale' GROUP BY 1, 2 LIMIT 10`,
          );
          const stuckAt = `only ${n} of ${submitted} runs RUNNING (stuck since ${new Date(lastChange).toISOString()}): ${JSON.stringify(rows)}`;
          // SCALE_ON_STUCK=measure: the history and memory are still measured with the runs in flight.
          if (process.env['SCALE_ON_STUCK'] !== 'measure') throw new Error(stuckAt);
          log(`dispatch stuck, measuring with ${n} in flight: ${stuckAt}`);
          stuck = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const seconds = (performance.now() - t0) / 1000;
      log(
        `${submitted - before} runs RUNNING in ${seconds.toFixed(1)} s (accepted in ${accepted.toFixed(1)} s); ${submitted} in flight, rss ${memory(pid).rss_mb} MB`,
      );
      return { runs: size, seconds, perSecond: size / seconds };
    };

    const warm = await dispatch(WARM);
    const historyWarm = await historyLatency(url, historyQueries(definitions, true, OWNERS), HISTORY_SAMPLES);
    const fillStarted = performance.now();
    let lastBatch = warm;
    while (submitted < RUNS && !stuck) lastBatch = await dispatch(Math.min(BATCH, RUNS - submitted));
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const full = memory(pid);
    const fullHeap = await heap(url);
    log(`full: rss ${full.rss_mb} MB, V8 ${JSON.stringify(fullHeap)}`);
    if (process.env['SCALE_SNAPSHOT'] === '1') {
      proc.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 60_000));
    }
    const historyFull = await historyLatency(
      url,
      historyQueries(definitions, true, OWNERS),
      HISTORY_SAMPLES,
      querier(db),
    );
    const fullAfterHistory = memory(pid);
    log(`history with ${submitted} in flight: ${JSON.stringify(historyFull)}`);
    // The same once autovacuum has caught up with the fill: each run in flight was written three or
    // four times on its way to RUNNING, and until a VACUUM its old row versions stay in the indexes
    // and its pages are not all-visible, so a count or a page reads the table for them.
    await db.query('VACUUM (ANALYZE) runs');
    const historyVacuumed = await historyLatency(
      url,
      historyQueries(definitions, true, OWNERS),
      HISTORY_SAMPLES,
      querier(db),
    );
    log(`history with ${submitted} in flight, after VACUUM: ${JSON.stringify(historyVacuumed)}`);
    // The same server between bursts: V8's memory reducer and the idle trim (--malloc-trim-idle-ms)
    // give back what the fill and the history requests left, while every run stays in flight.
    const settled = await settledMemory(pid);
    log(`settled with ${submitted} in flight: rss ${settled.rss_mb} MB 30 s after the last request`);
    if (process.env['SCALE_EXPLAIN'] === '1')
      await explainHistory(db, historyQueries(definitions, true, OWNERS));
    const round = (n: number) => Math.round(n);
    const figures = {
      runs_in_flight: stuck ? await running() : submitted,
      ...(stuck ? { dispatch_stuck_at_submitted: submitted } : {}),
      finished_runs: FINISHED,
      agents: AGENTS,
      store: 'postgres',
      seed_seconds: Math.round(seedSeconds * 10) / 10,
      history_p99_ms: historyFull.p99_ms,
      history_p50_ms: historyFull.p50_ms,
      history_p99_ms_empty_store: historyEmpty.p99_ms,
      history_p99_ms_finished_only: historyFinished.p99_ms,
      history_p99_ms_few_in_flight: historyWarm.p99_ms,
      history_p99_ms_after_vacuum: historyVacuumed.p99_ms,
      history_p50_ms_after_vacuum: historyVacuumed.p50_ms,
      history_p99_ms_by_query: historyFull.by_query,
      history_sql_p99_ms_by_query: historyFull.sql_by_query,
      dispatch_runs_per_s: round((RUNS - WARM) / fillSeconds),
      dispatch_runs_per_s_first: round(warm.perSecond),
      dispatch_runs_per_s_last_batch: round(lastBatch.perSecond),
      dispatch_first_runs: warm.runs,
      dispatch_last_batch_runs: lastBatch.runs,
      rss_mb: Math.max(full.rss_mb, fullAfterHistory.rss_mb),
      rss_mb_settled: settled.rss_mb,
      rss_mb_idle_with_finished: idle.rss_mb,
      rss_mb_peak: Math.max(peak.rss_mb, fullAfterHistory.hwm_mb),
      ...fullHeap,
      aims: AIMS,
      meets: {
        rss: Math.max(full.rss_mb, fullAfterHistory.rss_mb) <= AIMS.rss_mb,
        rss_settled: settled.rss_mb <= AIMS.rss_mb,
        history_p99: historyFull.p99_ms <= AIMS.history_p99_ms,
        dispatch: (RUNS - WARM) / fillSeconds >= AIMS.dispatch_runs_per_s,
      },
      seconds: round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(figures));
  } finally {
    clearInterval(sampler);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// `npm run bench:failover`: three replicas of the built server on one throw-away PostgreSQL and
// one fake Mesos master (simulate mode), with the default lease (--lease-ms 3000 unless
// BENCH_LEASE_MS), under a steady stream of executes through random replicas. The leader is
// SIGKILLed BENCH_KILLS times (default 10), each time restarted once another replica leads; the
// takeover is the time from the SIGKILL to the first ACCEPT of a task by the new leader (a task
// whose attempt carries the new epoch), as the fake master received it. Then every run must end:
// `lost` counts runs that did not end with exit code 0, `duplicated` runs that ended twice or tasks
// given to Mesos twice.
// Prints one JSON line last: {"kills","takeover_p50_ms","takeover_max_ms","lost":0,"duplicated":0, …}.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeMesos } from '@galley/mesos/testing';
import { type GalleyProcess, startGalley, startPostgres } from '@galley/testkit';
import pg from 'pg';
import { percentile } from './load.js';

const KILLS = Number(process.env['BENCH_KILLS'] ?? 10);
const LEASE_MS = Number(process.env['BENCH_LEASE_MS'] ?? 3_000);
/** Executes per second while the leader is killed. */
const RATE = Number(process.env['BENCH_RATE'] ?? 20);
const REPLICAS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Health {
  leader: boolean;
  replica: string;
  leader_id: string | null;
  epoch: number | null;
}

async function health(url: string): Promise<Health | null> {
  try {
    const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as Health) : null;
  } catch {
    return null;
  }
}

/** Polls `check` every 20 ms until it answers a value; throws after `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  if (!postgres.available) throw new Error(`bench:failover needs PostgreSQL: ${postgres.reason}`);
  const databaseUrl = await postgres.service.createDatabase();
  const db = new pg.Client({ connectionString: databaseUrl });
  const mesos = await startFakeMesos({
    execution: 'simulate',
    agents: Array.from({ length: 4 }, () => ({
      resources: 'cpus:16;mem:16384;disk:10000;ports:[31000-32000]',
    })),
    allocationIntervalMs: 50,
    heartbeatIntervalSeconds: 2,
    statusUpdateRetryMs: { initial: 200, max: 1_000 },
  });
  const dirs = await Promise.all(
    Array.from({ length: REPLICAS }, () => mkdtemp(join(tmpdir(), 'galley-bench-failover-'))),
  );
  const master = mesos.masterUrls.map((u) => u.replace(/^http:\/\//, '')).join(',');
  const args = [
    '--backend',
    'mesos',
    '--mesos-master',
    master,
    '--mesos-containerizer',
    'none',
    '--mesos-reconcile-delay-ms',
    '300',
    '--mesos-revive-interval-ms',
    '200',
    '--lease-ms',
    String(LEASE_MS),
    '--retry-initial-delay-ms',
    '100',
    '--retry-max-attempts',
    '5',
  ];
  const procs: (GalleyProcess | null)[] = [];
  const everyProc: GalleyProcess[] = [];
  const start = async (i: number) => {
    procs[i] = await startGalley({ dataDir: dirs[i]!, args, env: { DATABASE_URL: databaseUrl } });
    everyProc.push(procs[i]!);
  };
  const running = () => procs.filter((p): p is GalleyProcess => p !== null);
  let loading = true;
  let load: Promise<void> = Promise.resolve();
  try {
    await Promise.all(Array.from({ length: REPLICAS }, (_, i) => start(i)));
    await db.connect();
    const leaderOf = () =>
      until('one leader all replicas agree on', 60_000, async () => {
        const up = running();
        const views = await Promise.all(up.map((p) => health(p.url)));
        if (up.length < REPLICAS || views.some((v) => v === null)) return undefined;
        const i = views.findIndex((v) => v!.leader);
        if (i < 0 || views.some((v) => v!.leader_id !== views[i]!.replica)) return undefined;
        return { proc: up[i]!, epoch: views[i]!.epoch! };
      });
    const first = await leaderOf();
    const define = await fetch(`${first.proc.url}/api/v1/task`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'bench', image: 'busybox', command: 'sleep 0.2', cpu: 100, memory: 32 }),
    });
    if (!define.ok) throw new Error(`define: ${define.status} ${await define.text()}`);

    // The steady load: RATE executes a second through random replicas, each retried on another
    // replica (same idempotence key) when its replica dies under it.
    let submitted = 0;
    const execute = async (key: string) => {
      for (let tries = 0; tries < 200; tries++) {
        const up = running();
        const p = up[Math.floor(Math.random() * up.length)];
        if (p) {
          const res = await fetch(`${p.url}/api/v1/task/alias/bench/execute`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ run_tags: { owner_id: 'bench' }, idempotence_key: key }),
            signal: AbortSignal.timeout(5_000),
          }).catch(() => null);
          if (res?.ok) return;
        }
        await sleep(50);
      }
      throw new Error(`execute ${key} failed everywhere`);
    };
    load = (async () => {
      const pending: Promise<void>[] = [];
      while (loading) {
        pending.push(execute(`bench-${submitted++}`));
        await sleep(1000 / RATE);
      }
      await Promise.all(pending);
    })();

    const takeovers: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const old = await leaderOf();
      await sleep(1_500); // steady load under the current leader
      const index = procs.indexOf(old.proc);
      procs[index] = null;
      const killedAt = Date.now();
      await old.proc.kill();
      // The first task the new leader gives Mesos: an ACCEPT after the kill of an attempt with a
      // newer epoch (an ACCEPT the dead leader sent just before dying may still arrive).
      const took = await until('a launch by the new leader', 60_000, async () => {
        const accepts = mesos
          .calls({ type: 'ACCEPT' })
          .filter((c) => c.at >= killedAt && c.status === 202)
          .map((c) => ({ at: c.at, tasks: launchedTaskIds(c.body) }))
          .filter((c) => c.tasks.length > 0);
        for (const c of accepts) {
          const { rows } = await db.query<{ epoch: string }>(
            'SELECT epoch FROM attempts WHERE attempt_id = ANY($1::text[])',
            [c.tasks],
          );
          if (rows.some((r) => Number(r.epoch) > old.epoch)) return c.at;
        }
        return undefined;
      });
      takeovers.push(took - killedAt);
      process.stderr.write(`kill ${k + 1}: new leader launched after ${took - killedAt} ms\n`);
      await start(index);
    }
    loading = false;
    await load;

    // Every run ends, once.
    const deadline = Date.now() + 180_000;
    let open = -1;
    while (Date.now() < deadline) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM runs WHERE status <> 'STOPPED'`,
      );
      open = Number(rows[0]!.n);
      if (open === 0) break;
      await sleep(100);
    }
    const { rows: failed } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM runs WHERE status <> 'STOPPED' OR exit_code IS DISTINCT FROM 0`,
    );
    const { rows: total } = await db.query<{ n: string }>('SELECT count(*) AS n FROM runs');
    const { rows: twice } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT run_id FROM run_events WHERE status = 'STOPPED'
         GROUP BY run_id HAVING count(*) > 1) t`,
    );
    const perTask = new Map<string, number>();
    for (const c of mesos.calls({ type: 'ACCEPT' }).filter((c) => c.status === 202))
      for (const id of launchedTaskIds(c.body)) perTask.set(id, (perTask.get(id) ?? 0) + 1);
    const launchedTwice = [...perTask.values()].filter((n) => n > 1).length;
    const lost = Number(failed[0]!.n) + (submitted - Number(total[0]!.n));
    if (lost > 0) {
      // What became of them, for whoever looks into it.
      const { rows: bad } = await db.query<{ run_id: string; status: string; exit_code: number | null }>(
        `SELECT run_id, status, exit_code, exit_reason, attempt_count FROM runs
         WHERE status <> 'STOPPED' OR exit_code IS DISTINCT FROM 0 LIMIT 5`,
      );
      for (const r of bad) {
        const { rows: events } = await db.query(
          'SELECT at, type, status, attempt_id, reason FROM run_events WHERE run_id = $1 ORDER BY id',
          [r.run_id],
        );
        process.stderr.write(`not ended well: ${JSON.stringify(r)}\n  ${JSON.stringify(events)}\n`);
      }
      const { rows: byStatus } = await db.query(
        'SELECT status, exit_code, count(*) FROM runs GROUP BY status, exit_code',
      );
      process.stderr.write(`runs by status: ${JSON.stringify(byStatus)}; submitted ${submitted}\n`);
      const logs = join(tmpdir(), `galley-bench-failover-${process.pid}.log`);
      await writeFile(logs, everyProc.map((p, i) => `=== server ${i}\n${p.output()}`).join('\n'));
      process.stderr.write(`the servers' output: ${logs}\n`);
    }
    console.log(
      JSON.stringify({
        kills: KILLS,
        takeover_p50_ms: percentile(takeovers, 50),
        takeover_max_ms: Math.max(...takeovers),
        lost,
        duplicated: Number(twice[0]!.n) + launchedTwice,
        runs: submitted,
        lease_ms: LEASE_MS,
        takeovers_ms: takeovers,
      }),
    );
  } finally {
    loading = false;
    await load.catch(() => undefined);
    for (const p of running()) await p.kill();
    await db.end().catch(() => undefined);
    await mesos.stop();
    await postgres.service.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** LAUNCH task ids of an ACCEPT call body. */
function launchedTaskIds(body: Record<string, unknown> | undefined): string[] {
  const ops = ((body?.['accept'] as { operations?: unknown[] } | undefined)?.operations ?? []) as {
    type?: string;
    launch?: { task_infos?: { task_id?: { value?: string } }[] };
  }[];
  return ops
    .filter((o) => o.type === 'LAUNCH')
    .flatMap((o) => o.launch?.task_infos ?? [])
    .map((t) => t.task_id?.value ?? '');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

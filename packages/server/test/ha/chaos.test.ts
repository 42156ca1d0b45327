import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeOf, mesosFlags, needsFake, startMaster, type TestMaster } from '../mesos/harness.js';
import {
  agreedLeader,
  api,
  built,
  define,
  eventually,
  health,
  query,
  type Replica,
  Replicas,
} from './harness.js';

// The chaos test of issue 13: 1,000 runs (GALLEY_CHAOS_RUNS to change it; about 45 s on the
// 2-core development machine) executed through random replicas of three BUILT servers on one real PostgreSQL, against one fake
// Mesos master (simulate mode), while the leader is SIGKILLed every few seconds (and restarted)
// and once paused with SIGSTOP past its lease, then resumed. Bounded: a fixed number of kills,
// and every wait has a deadline.

const RUNS = Number(process.env['GALLEY_CHAOS_RUNS'] ?? 1000);
const KILLS = 5;
const LEASE_MS = 2_000;
const AGENTS = 4;

const fakeNeeded = built && needsFake('the HA chaos test');
const pgGate = fakeNeeded ? await startPostgres() : { available: false as const, reason: 'skipped' };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Executes a definition through one replica; answers the run id. */
async function executeOnceOn(url: string, alias: string): Promise<string> {
  const res = await api<{ run_id: string }>(url, 'PUT', `/task/alias/${alias}/execute`, {
    run_tags: { owner_id: 'chaos' },
  });
  if (res.status !== 200) throw new Error(`execute ${alias}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.run_id;
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

/**
 * What a failed wait for the runs' ends prints: the runs not STOPPED with their attempts and
 * events, what the fake master knows of their tasks, and the tail of each replica's log.
 */
async function whatIsStuck(
  databaseUrl: string,
  fake: ReturnType<typeof fakeOf>,
  replicas: Replicas,
): Promise<string> {
  const stuck = await query<Record<string, unknown>>(
    databaseUrl,
    `SELECT r.run_id, r.status, a.attempt_id, a.state, a.node_id, a.epoch, a.created_at, a.launched_at, a.ended_at
       FROM runs r LEFT JOIN attempts a ON a.run_id = r.run_id
      WHERE r.status <> 'STOPPED' ORDER BY r.run_id, a.seq LIMIT 40`,
  );
  const runIds = [...new Set(stuck.map((s) => String(s['run_id'])))].slice(0, 10);
  const events = await query<Record<string, unknown>>(
    databaseUrl,
    `SELECT run_id, at, type, status, attempt_id, reason FROM run_events WHERE run_id = ANY($1) ORDER BY run_id, id`,
    [runIds],
  );
  const attemptIds = new Set(stuck.map((s) => String(s['attempt_id'])));
  const tasks = fake
    .state()
    .tasks.filter((t) => attemptIds.has(t.taskId))
    .map(({ taskId, agentId, state, statusUpdateState, pendingUpdates, completed, unreachable, states }) => ({
      taskId,
      agentId,
      state,
      statusUpdateState,
      pendingUpdates,
      completed,
      unreachable,
      states,
    }));
  const [counts] = await query(
    databaseUrl,
    `SELECT count(*) FILTER (WHERE status <> 'STOPPED') AS not_stopped, count(*) AS total FROM runs`,
  );
  const logs = replicas.all.map(
    (r) => `--- ${r.name} (${r.proc ? 'running' : 'down'})\n${r.proc?.output().slice(-4_000) ?? ''}`,
  );
  return [
    `chaos: runs not STOPPED: ${JSON.stringify(counts)}`,
    `their attempts: ${JSON.stringify(stuck, null, 1)}`,
    `their events: ${JSON.stringify(events, null, 1)}`,
    `their tasks on the fake master: ${JSON.stringify(tasks, null, 1)}`,
    `frameworks: ${JSON.stringify(fake.state().frameworks)}`,
    ...logs,
  ].join('\n');
}

describe.runIf(fakeNeeded && pgGate.available)(
  `chaos: 3 replicas, leader SIGKILLed ${KILLS} times and paused once (${RUNS} runs)`,
  () => {
    let pg: PostgresServer;
    let databaseUrl: string;
    let master: TestMaster;
    let dirs: string[] = [];
    let replicas: Replicas;

    beforeAll(async () => {
      if (!pgGate.available) return;
      pg = pgGate.service;
      databaseUrl = await pg.createDatabase();
      master = await startMaster({
        execution: 'simulate',
        agents: Array.from({ length: AGENTS }, () => ({
          resources: 'cpus:8;mem:8192;disk:10000;ports:[31000-32000]',
        })),
        heartbeatIntervalSeconds: 1,
      });
      dirs = await Promise.all([0, 1, 2].map(() => mkdtemp(join(tmpdir(), 'galley-chaos-'))));
      replicas = new Replicas({
        databaseUrl,
        dataDir: (i) => dirs[i]!,
        args: [...mesosFlags(master.master), '--lease-ms', String(LEASE_MS), '--retry-max-attempts', '5'],
      });
      await Promise.all([0, 1, 2].map((i) => replicas.start(i)));
    }, 240_000);

    afterAll(async () => {
      await replicas?.stopAll();
      await master?.stop();
      await pg?.stop();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    it(
      'ends every run exactly once, one Mesos task per attempt, no write under a stale epoch',
      { timeout: 420_000 },
      async () => {
        const fake = fakeOf(master);
        const first = (await agreedLeader(replicas.running())).leader;
        await define(first.url, 'chaos', { command: 'sleep 0.4', cpu: 100, memory: 32 });

        // Executes through random running replicas, each retried elsewhere (same idempotence key)
        // when its replica dies under it.
        const randomReplica = (): Replica => {
          const up = replicas.running();
          return up[Math.floor(Math.random() * up.length)]!;
        };
        const executeOnce = async (i: number): Promise<string> =>
          eventually(`execute ${i}`, async () => {
            const r = randomReplica();
            const res = await api<{ run_id: string }>(r.url, 'PUT', '/task/alias/chaos/execute', {
              run_tags: { owner_id: 'chaos' },
              idempotence_key: `chaos-${i}`,
            }).catch(() => null);
            return res?.status === 200 ? res.body.run_id : undefined;
          });
        const submitting = (async () => {
          const ids: string[] = [];
          for (let i = 0; i < RUNS; i += 10) {
            ids.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => executeOnce(i + k)))));
            await pause(150); // pacing: the runs arrive over the whole chaos
          }
          return ids;
        })();

        // The chaos: KILLS SIGKILLs of the leader, a few seconds apart, each restarted; once in the
        // middle the leader is paused past its lease instead, then resumed.
        const restarts: Promise<unknown>[] = [];
        let kills = 0;
        let paused = false;
        while (kills < KILLS) {
          await pause(2_500);
          await Promise.all(restarts); // three replicas at each blow
          const { leader, epoch } = await agreedLeader(replicas.running(), 90_000);
          if (kills === 2 && !paused) {
            paused = true;
            replicas.pause(leader);
            try {
              const others = replicas.running().filter((r) => r !== leader);
              await eventually('a new leader while the old one sleeps', async () => {
                const views = await Promise.all(others.map((r) => health(r.url)));
                return views.some((v) => v?.leader && v.epoch! > epoch) ? true : undefined;
              });
              await pause(LEASE_MS); // sleeps past its lease by a whole lease more
            } finally {
              replicas.resume(leader);
            }
            continue;
          }
          const index = replicas.all.indexOf(leader);
          await replicas.kill(leader);
          kills++;
          restarts.push(replicas.start(index));
        }
        const runIds = await submitting;
        await Promise.all(restarts);
        expect(new Set(runIds).size).toBe(RUNS);

        // Every run ends, each once.
        await eventually(
          'every run STOPPED',
          async () => {
            const [row] = await query<{ n: string }>(
              databaseUrl,
              `SELECT count(*) AS n FROM runs WHERE status <> 'STOPPED'`,
            );
            return row!.n === '0' ? true : undefined;
          },
          180_000,
        ).catch(async (err: unknown) => {
          console.error(await whatIsStuck(databaseUrl, fake, replicas));
          throw err;
        });
        const runs = await query<{ run_id: string; exit_code: number | null }>(
          databaseUrl,
          'SELECT run_id, exit_code FROM runs',
        );
        expect(runs).toHaveLength(RUNS);
        expect(runs.filter((r) => r.exit_code !== 0)).toEqual([]);
        const endedTwice = await query(
          databaseUrl,
          `SELECT run_id, count(*) FROM run_events WHERE status = 'STOPPED' GROUP BY run_id HAVING count(*) <> 1`,
        );
        expect(endedTwice).toEqual([]);

        // The fake master saw exactly one task per attempt: every task it was given is a recorded
        // attempt, given once, and every attempt that ran is one of its tasks.
        const attempts = await query<{
          attempt_id: string;
          epoch: string;
          created_at: string;
          launched_at: string | null;
        }>(databaseUrl, 'SELECT attempt_id, epoch, created_at, launched_at FROM attempts');
        const byId = new Map(attempts.map((a) => [a.attempt_id, a]));
        const accepted = fake.calls({ type: 'ACCEPT' }).filter((c) => c.status === 202);
        const launches = accepted.flatMap((c) =>
          launchedTaskIds(c.body).map((taskId) => ({ taskId, at: c.at })),
        );
        const perTask = new Map<string, number>();
        for (const l of launches) perTask.set(l.taskId, (perTask.get(l.taskId) ?? 0) + 1);
        expect([...perTask].filter(([, n]) => n !== 1)).toEqual([]);
        expect(launches.filter((l) => !byId.has(l.taskId))).toEqual([]);
        const tasks = fake.state().tasks;
        expect(new Set(tasks.map((t) => t.taskId)).size).toBe(tasks.length);
        const ran = attempts.filter((a) => a.launched_at !== null).map((a) => a.attempt_id);
        expect(ran.filter((id) => !perTask.has(id))).toEqual([]);

        // Fencing: one holder per epoch, and every attempt recorded — and every task given to Mesos —
        // while its epoch was current (before the next epoch was taken).
        const history = await query<{ epoch: string; holder: string; acquired_at: string }>(
          databaseUrl,
          `SELECT epoch, holder, acquired_at FROM lease_history WHERE name = 'scheduler' ORDER BY epoch`,
        );
        expect(history.length).toBeGreaterThanOrEqual(KILLS + 2);
        const next = new Map(history.map((h, i) => [h.epoch, history[i + 1]]));
        const stale: string[] = [];
        for (const a of attempts) {
          expect(next.has(a.epoch)).toBe(true);
          const following = next.get(a.epoch);
          if (following && Number(a.created_at) > Number(following.acquired_at)) stale.push(a.attempt_id);
        }
        for (const l of launches) {
          const following = next.get(byId.get(l.taskId)!.epoch);
          if (following && l.at > Number(following.acquired_at)) stale.push(`ACCEPT of ${l.taskId}`);
        }
        expect(stale).toEqual([]);
        console.info(
          `chaos: ${RUNS} runs, ${kills} leader kills and 1 pause, ${history.length} epochs, ` +
            `${attempts.length} attempts (${attempts.length - RUNS} retries), ${launches.length} tasks launched`,
        );

        // After the chaos, a Mesos run's log is read from its agent by a replica that does not lead.
        const { leader } = await agreedLeader(replicas.running());
        const [follower] = replicas.running().filter((r) => r !== leader);
        await define(follower!.url, 'speak', { command: 'echo said-on-mesos', cpu: 100, memory: 32 });
        const spoken = await executeOnceOn(follower!.url, 'speak');
        await eventually('the spoken run STOPPED', async () => {
          const run = await api<{ status: string }>(follower!.url, 'GET', `/history/${spoken}`);
          return run.body.status === 'STOPPED' ? true : undefined;
        });
        const log = await api<{ log: string }>(follower!.url, 'GET', `/${spoken}/logs`);
        expect(log).toMatchObject({ status: 200, body: { log: expect.stringContaining('said-on-mesos') } });
      },
    );
  },
);

import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGalley, startPostgres, type PostgresServer } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agreedLeader,
  api,
  built,
  define,
  eventually,
  execute,
  health,
  query,
  Replicas,
  type RunJson,
  runReaches,
} from './harness.js';

// Three replicas of the BUILT server on one real PostgreSQL, with the local backend (they share
// one data directory, as replicas on one host do: each adopts the others' processes by pid).

const pgGate = built ? await startPostgres() : { available: false as const, reason: 'not built' };
const LEASE_MS = 2_000;
const TEST = { timeout: 240_000 };

/** Reads `event: run` data of a replica's event stream until closed. */
function followStream(url: string, runId: string) {
  const abort = new AbortController();
  const seen: RunJson[] = [];
  const reading = (async () => {
    const res = await fetch(`${url}/api/v1/stream?run_id=${runId}`, { signal: abort.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('');
        if (data) seen.push(JSON.parse(data) as RunJson);
      }
    }
  })().catch(() => undefined);
  return {
    seen,
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}

describe.runIf(built && pgGate.available)('replicas on one PostgreSQL (local backend)', () => {
  let pg: PostgresServer;
  let databaseUrl: string;
  let dataDir: string;
  let replicas: Replicas;

  beforeAll(async () => {
    if (!pgGate.available) return;
    pg = pgGate.service;
    databaseUrl = await pg.createDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'galley-ha-'));
    replicas = new Replicas({
      databaseUrl,
      dataDir: () => dataDir,
      args: [
        '--lease-ms',
        String(LEASE_MS),
        '--local-cpus',
        '4',
        '--stop-grace-ms',
        '500',
        '--log-follow-ms',
        '50',
      ],
    });
    for (let i = 0; i < 3; i++) await replicas.start(i);
  }, 240_000);

  afterAll(async () => {
    await replicas?.stopAll();
    await pg?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const followers = async () => {
    const { leader } = await agreedLeader(replicas.running());
    return { leader, followers: replicas.running().filter((r) => r !== leader) };
  };

  it(
    'has one leader that every replica names, with its epoch and since when, in /health and /ping',
    TEST,
    async () => {
      const { leader, epoch } = await agreedLeader(replicas.running());
      for (const r of replicas.running()) {
        const h = (await health(r.url))!;
        expect(h).toMatchObject({
          leader: r === leader,
          leader_id: expect.any(String),
          epoch,
          leader_url: leader.url,
        });
        expect(Date.parse(h.leader_since!)).toBeLessThanOrEqual(Date.now());
        expect(h.replicas).toHaveLength(3);
        const ping = await fetch(`${r.url}/ping`).then((res) => res.json());
        expect(ping).toMatchObject({ ok: true, leader: r === leader, leader_id: h.leader_id, epoch });
      }
    },
  );

  it(
    'runs what a follower accepted; another follower serves its status, its log and its event stream',
    TEST,
    async () => {
      const {
        followers: [a, b],
      } = await followers();
      await define(a!.url, 'hello', { command: 'echo "hello from $FLOTILLA_RUN_ID"; sleep 0.3; echo bye' });
      // b learns of the run only through the database: a accepted it, the leader runs it.
      const runId = await execute(a!.url, 'hello');
      const watched = followStream(b!.url, runId);
      try {
        const done = await runReaches(() => b!.url, runId, 'STOPPED');
        expect(done).toMatchObject({ exit_code: 0, attempt_count: 1 });
        const log = await api<{ log: string }>(b!.url, 'GET', `/${runId}/logs`);
        expect(log.body.log).toContain('bye');
        await eventually('the stopped run on b’s stream', async () =>
          watched.seen.some((r) => r.status === 'STOPPED') ? true : undefined,
        );
      } finally {
        await watched.close();
      }
    },
  );

  it('carries out a stop asked of a follower on the leader', TEST, async () => {
    const {
      followers: [a, b],
    } = await followers();
    await define(a!.url, 'long', { command: 'sleep 120' });
    const runId = await execute(a!.url, 'long');
    await runReaches(() => b!.url, runId, 'RUNNING');
    const stop = await api(b!.url, 'POST', `/history/${runId}/stop`);
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ action: 'kill-sent' });
    const stopped = await runReaches(() => a!.url, runId, 'STOPPED');
    expect(stopped.exit_code).not.toBe(0);
    // And a queued run stopped through a follower never starts.
    await define(a!.url, 'hog', { command: 'sleep 120', cpu: 4000 });
    const hog = await execute(a!.url, 'hog');
    await runReaches(() => a!.url, hog, 'RUNNING');
    const waiting = await execute(b!.url, 'hog');
    const queuedStop = await api(a!.url, 'POST', `/history/${waiting}/stop`);
    expect(queuedStop.body).toMatchObject({ action: 'stopped-while-queued' });
    await api(b!.url, 'POST', `/history/${hog}/stop`);
    await runReaches(() => a!.url, hog, 'STOPPED');
    expect((await api<RunJson>(b!.url, 'GET', `/history/${waiting}`)).body).toMatchObject({
      status: 'STOPPED',
      attempt_count: 0,
    });
  });

  it(
    'keeps a pipeline created, scaled and deleted through followers running on the leader',
    TEST,
    async () => {
      const {
        followers: [a, b],
      } = await followers();
      const created = await api(a!.url, 'POST', '/pipelines', {
        id: 'ha-workers',
        processes: {
          w: { id: 'w', shell: true, command: 'exec sleep 600', resources: { cpu: 0.1, mem: 16 } },
        },
        instances: 1,
      });
      expect(created.status).toBe(204);
      const running = (n: number) =>
        eventually(`${n} instances running`, async () => {
          const p = await api<{ tasks: { processes: Record<string, { status: string }> }[] }>(
            b!.url,
            'GET',
            '/pipelines/ha-workers',
          );
          const up = p.body.tasks?.filter((t) => t.processes['w']?.status === 'TASK_RUNNING') ?? [];
          return p.body.tasks?.length === n && up.length === n ? true : undefined;
        });
      await running(1);
      expect((await api(b!.url, 'PATCH', '/pipelines/ha-workers', { instances: 2 })).status).toBeLessThan(
        300,
      );
      await running(2);
      expect((await api(a!.url, 'DELETE', '/pipelines/ha-workers')).status).toBe(204);
      await eventually('the pipeline gone', async () =>
        (await api(b!.url, 'GET', '/pipelines/ha-workers')).status === 404 ? true : undefined,
      );
    },
  );

  it(
    'takes over at once when the leader is SIGKILLed: a new epoch, the running run adopted, queued runs started',
    TEST,
    async () => {
      const {
        leader,
        followers: [a],
      } = await followers();
      const before = (await health(a!.url))!.epoch!;
      await define(a!.url, 'tick', { command: 'sleep 2; echo done', cpu: 1000 });
      const runIds: string[] = [];
      for (let i = 0; i < 6; i++) runIds.push(await execute(a!.url, 'tick'));
      await runReaches(() => a!.url, runIds[0]!, 'RUNNING');
      await replicas.kill(leader);
      const { epoch } = await agreedLeader(replicas.running());
      expect(epoch).toBeGreaterThan(before);
      for (const id of runIds) {
        const run = await runReaches(() => a!.url, id, 'STOPPED');
        // Adopted by pid, or started by the new leader: once each, and each to its end.
        expect(run).toMatchObject({ exit_code: 0, attempt_count: 1 });
        expect((await api<{ log: string }>(a!.url, 'GET', `/${id}/logs`)).body.log).toBe('done\n');
      }
      await replicas.start(replicas.all.indexOf(leader));
      await agreedLeader(replicas.running());
    },
  );

  it(
    'steps a paused leader down: another leads while it sleeps, and on waking it writes nothing under its old epoch',
    TEST,
    async () => {
      const { leader } = await followers();
      const old = (await health(leader.url))!.epoch!;
      replicas.pause(leader);
      let resumed = false;
      try {
        const others = replicas.running().filter((r) => r !== leader);
        const { epoch } = await agreedLeader(others);
        expect(epoch).toBeGreaterThan(old);
        const runId = await execute(others[0]!.url, 'tick');
        await runReaches(() => others[0]!.url, runId, 'STOPPED');
        replicas.resume(leader);
        resumed = true;
        await agreedLeader(replicas.running());
        const woke = (await health(leader.url))!;
        expect(woke.leader_id).not.toBe(woke.replica);
        // Every attempt was recorded under the epoch that was current when it was made.
        const history = await query<{ epoch: string; acquired_at: string }>(
          databaseUrl,
          `SELECT epoch, acquired_at FROM lease_history WHERE name = 'scheduler' ORDER BY epoch`,
        );
        const attempts = await query<{ epoch: string; created_at: string }>(
          databaseUrl,
          'SELECT epoch, created_at FROM attempts',
        );
        for (const a of attempts) {
          const i = history.findIndex((h) => h.epoch === a.epoch);
          expect(i).toBeGreaterThanOrEqual(0);
          const next = history[i + 1];
          if (next) expect(Number(a.created_at)).toBeLessThanOrEqual(Number(next.acquired_at));
        }
      } finally {
        if (!resumed) replicas.resume(leader);
      }
    },
  );

  it(
    'proxies the logs of a local run to a replica of the host that ran it, and answers 503 when none lives',
    TEST,
    async () => {
      const {
        followers: [a],
      } = await followers();
      const runId = await execute(a!.url, 'tick');
      await runReaches(() => a!.url, runId, 'STOPPED');
      await query(
        databaseUrl,
        `UPDATE runs SET instance_id = 'far-host', dns_name = 'far-host' WHERE run_id = $1`,
        [runId],
      );
      const gone = await api(a!.url, 'GET', `/${runId}/logs`);
      expect(gone.status).toBe(503);
      expect(gone.body).toMatchObject({ code: 'LOG_HOST_GONE' });
      expect(gone.body.message).toContain('far-host');
      // A replica of that host (a stand-in answering HTTP) gets the request as it was asked.
      let asked = '';
      const far: Server = createServer((req, res) => {
        asked = req.url ?? '';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ log: 'from far away\n', last_seen: 'far' }));
      });
      await new Promise<void>((resolve) => far.listen(0, '127.0.0.1', resolve));
      try {
        const port = (far.address() as { port: number }).port;
        const now = Date.now();
        await query(
          databaseUrl,
          `INSERT INTO replicas (replica_id, host, url, started_at, seen_at) VALUES ('far-1', 'far-host', $1, $2, $2)`,
          [`http://127.0.0.1:${port}`, now + 60_000],
        );
        const proxied = await api(a!.url, 'GET', `/${runId}/logs?max_bytes=100`);
        expect(proxied).toMatchObject({ status: 200, body: { log: 'from far away\n', last_seen: 'far' } });
        expect(asked).toBe(`/api/v1/${runId}/logs?max_bytes=100`);
      } finally {
        far.close();
      }
    },
  );
});

describe.runIf(built)('the embedded store (PGlite) serves one process', () => {
  it(
    "refuses a second server on the same data directory, which leaves the first one's registry logins alone, and starts after the first was SIGKILLed",
    TEST,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'galley-ha-pglite-'));
      const logins = (user: string) => ({
        env: {
          GALLEY_CONTAINER_RUNTIME: 'auto',
          GALLEY_REGISTRY_CREDENTIALS: `registry.example=${user}:secret-${user}`,
        },
      });
      try {
        const first = await startGalley({ dataDir: dir, ...logins('alice') });
        // The container runtime is probed while the store opens: the refused server's probe must
        // not write its logins over the running server's.
        const second = await startGalley({ dataDir: dir, ...logins('mallory') }).then(
          (g) => g,
          (err: Error) => err,
        );
        expect(second).toBeInstanceOf(Error);
        expect((second as Error).message).toMatch(
          /data directory .* is in use by another Galley server \(pid \d+\)/,
        );
        const authFile = join(dir, 'containers', 'auth.json');
        if (existsSync('/usr/bin/podman')) {
          const written = await readFile(authFile, 'utf8');
          expect(written).toContain(Buffer.from('alice:secret-alice').toString('base64'));
        }
        await first.kill();
        const third = await startGalley({ dataDir: dir });
        // It answers as soon as it listens, and leads once it has taken the lease.
        await eventually('the third server leading', async () =>
          (await health(third.url))?.leader ? true : undefined,
        );
        await third.kill();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

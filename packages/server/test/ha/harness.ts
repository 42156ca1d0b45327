/**
 * Several replicas of the BUILT server on one real PostgreSQL (issue 13): start, restart, kill,
 * pause and resume them, ask each who leads, and read the database directly.
 */
import { builtGalley, galleyRequest, type GalleyProcess, startGalley } from '@galley/testkit';
import pg from 'pg';
import { eventually, PATIENCE_MS } from '../waits.js';

/** The built server, or a printed skip (a failure under GALLEY_REQUIRE_SERVICES=1). */
export const built = builtGalley('server HA e2e').available;

/** What /health says of leadership. */
export interface Health {
  leader: boolean;
  replica: string;
  leader_id: string | null;
  leader_url: string | null;
  epoch: number | null;
  leader_since: string | null;
  replicas: { id: string; host: string; url: string | null }[];
}

/** One replica: its process while it runs (null while killed), its data directory and flags. */
export interface Replica {
  name: string;
  proc: GalleyProcess | null;
  readonly url: string;
  /** The pid of the server process. */
  readonly pid: number;
}

export interface ReplicaSetOptions {
  databaseUrl: string;
  /** Each replica's data directory (`--data-dir`): one shared directory, or one per replica. */
  dataDir: (index: number) => string;
  /** Flags after `serve --listen … --data-dir …`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** Replicas started by a test; `stopAll` ends them all. */
export class Replicas {
  readonly all: Replica[] = [];

  constructor(private readonly o: ReplicaSetOptions) {}

  /** Starts replica `index` (again, after a kill), and waits until it listens. */
  async start(index: number): Promise<Replica> {
    const proc = await startGalley({
      dataDir: this.o.dataDir(index),
      args: this.o.args,
      env: { DATABASE_URL: this.o.databaseUrl, ...this.o.env },
    });
    let r = this.all[index];
    if (!r) {
      r = {
        name: `replica-${index}`,
        proc,
        get url() {
          if (!this.proc) throw new Error(`${this.name} is not running`);
          return this.proc.url;
        },
        get pid() {
          if (!this.proc?.proc.pid) throw new Error(`${this.name} is not running`);
          return this.proc.proc.pid;
        },
      };
      this.all[index] = r;
    } else r.proc = proc;
    return r;
  }

  /** The replicas whose process runs. */
  running(): Replica[] {
    return this.all.filter((r) => r.proc !== null);
  }

  /** SIGKILL (a crash), waiting until the process is gone. */
  async kill(r: Replica): Promise<void> {
    const proc = r.proc;
    r.proc = null;
    await proc?.kill();
  }

  /** SIGSTOP (a long pause: the process keeps its sockets, but runs nothing). */
  pause(r: Replica): void {
    process.kill(r.pid, 'SIGSTOP');
  }

  resume(r: Replica): void {
    process.kill(r.pid, 'SIGCONT');
  }

  async stopAll(): Promise<void> {
    for (const r of this.all) {
      if (!r.proc) continue;
      try {
        process.kill(r.pid, 'SIGCONT');
      } catch {
        // gone already
      }
      await r.proc.kill();
      r.proc = null;
    }
  }
}

/** A JSON request under /api/v1 (answers read loosely, hence `any`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function api<T = any>(url: string, method: string, path: string, body?: unknown) {
  return galleyRequest<T>(url, method, `/api/v1${path}`, body);
}

/** The replica's /health, or null when it does not answer in time. */
export async function health(url: string): Promise<Health | null> {
  try {
    const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? ((await res.json()) as Health) : null;
  } catch {
    return null;
  }
}

/** Waits for a condition (shared with the other end-to-end harnesses). */
export { eventually, PATIENCE_MS } from '../waits.js';

/**
 * Waits until exactly one of `among` leads and every one of them names it: answers it with the
 * epoch they agree on.
 */
export function agreedLeader(
  among: Replica[],
  timeoutMs = PATIENCE_MS,
): Promise<{ leader: Replica; epoch: number }> {
  return eventually(
    'one leader all replicas agree on',
    async () => {
      const views = await Promise.all(among.map((r) => health(r.url)));
      if (views.some((v) => v === null)) return undefined;
      const leaders = among.filter((_, i) => views[i]!.leader);
      if (leaders.length !== 1) return undefined;
      const id = views.find((v) => v!.leader)!.replica;
      if (!views.every((v) => v!.leader_id === id && v!.epoch === views[0]!.epoch)) return undefined;
      return { leader: leaders[0]!, epoch: views[0]!.epoch! };
    },
    timeoutMs,
  );
}

/** Runs a query on the database directly. */
export async function query<R = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Defines a task; answers its alias. */
export async function define(url: string, alias: string, fields: Record<string, unknown>): Promise<string> {
  const res = await api(url, 'POST', '/task', {
    alias,
    image: 'ubuntu:24.04',
    memory: 32,
    cpu: 100,
    ...fields,
  });
  if (res.status !== 200) throw new Error(`define ${alias}: ${res.status} ${JSON.stringify(res.body)}`);
  return alias;
}

/** Executes a definition by alias; answers the run id. */
export async function execute(url: string, alias: string): Promise<string> {
  const res = await api(url, 'PUT', `/task/alias/${alias}/execute`, { run_tags: { owner_id: 'tester' } });
  if (res.status !== 200) throw new Error(`execute ${alias}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { run_id: string }).run_id;
}

/** A run as the API answers it (the fields the tests read). */
export interface RunJson {
  run_id: string;
  status: string;
  exit_code: number | null;
  attempt_count: number;
}

/** Waits until the run (read through `url`) has `status`. */
export function runReaches(
  url: () => string,
  runId: string,
  status: string,
  timeoutMs = PATIENCE_MS,
): Promise<RunJson> {
  return eventually(
    `run ${runId} ${status}`,
    async () => {
      const res = await api<RunJson>(url(), 'GET', `/history/${runId}`).catch(() => null);
      return res?.body.status === status ? res.body : undefined;
    },
    timeoutMs,
  );
}

/**
 * Helpers of the pipelines end-to-end tests: the seed's example pipeline with real commands, the
 * API's answers as the tests read them, and a sampler that reads a pipeline often while something
 * happens so invariants can be checked at every sampled moment.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { galleyRequest } from '@galley/testkit';
import { vi } from 'vitest';
import { PATIENCE_MS } from '../waits.js';

/** A pipeline as GET /pipelines/{id} answers it (the fields the tests read). */
export interface PipelineJson {
  id: string;
  instances: number;
  version: number;
  status: string;
  tasks: TaskJson[];
  update: UpdateJson | null;
  updates: UpdateJson[];
  processes: Record<string, { environment: Record<string, string> }>;
}

export interface TaskJson {
  id: string;
  pipeline_id: string;
  processor_id: string | null;
  message: string;
  failures: number;
  ok: boolean;
  failing: boolean;
  killing: boolean;
  status: string;
  version: number;
  crash_looping: boolean;
  restart_at: string | null;
  host: string | null;
  waiting_reason: string | null;
  last_exit: { process: string | null; exit_code: number | null; message: string; at: string } | null;
  processes: Record<
    string,
    {
      id: string;
      status: string;
      agent_id: string | null;
      ports: number[];
      pid: number | null;
      health: string | null;
    }
  >;
}

export interface UpdateJson {
  phase: string;
  from_version: number;
  to_version: number;
  failed_version: number | null;
  available_new: number;
  batches: number;
  reason: string | null;
  finished_at: string | null;
}

/**
 * A tiny HTTP server on $PORT0 (200 on /health, 404 elsewhere) that first prints its arguments and
 * environment, so a test can see what the process got.
 */
export const HTTP_WORKER =
  'echo "args=$* app=$APP_ENV proc=$PROC_ENV port=$PORT0 port6066=$PORT_6066 instance=$GALLEY_INSTANCE_ID"; ' +
  `exec node -e "require('http').createServer((q,s)=>{s.statusCode=q.url==='/health'?200:404;s.end('ok')}).listen(+process.env.PORT0,'127.0.0.1')"`;

/** A second process of each instance: a shell loop. */
export const LOOP = 'while true; do sleep 0.5; done';

/**
 * The seed's example pipeline (Faustian's README) with real commands in place of the Faust image:
 * `parse` serves HTTP on its mapped port (checked by an HTTP health check), `sidecar` loops.
 * Short grace periods and health intervals keep the tests fast.
 */
export function seedPipeline(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    container: { image: 'robinhood/faust-example:latest', network: 'HOST' },
    environment: { APP_ENV: 'test' },
    processes: {
      parse: {
        id: 'parse',
        shell: true,
        command: HTTP_WORKER,
        arguments: ['worker', '-l', 'info'],
        environment: { PROC_ENV: 'parse-only' },
        resources: { cpu: 0.1, mem: 64 },
        port_mappings: [{ host_port: 0, container_port: 6066, protocol: 'tcp' }],
        kill_grace_period: 1,
        health_check: {
          protocol: 'HTTP',
          path: '/health',
          port_index: 0,
          interval_seconds: 0.2,
          timeout_seconds: 1,
          grace_period_seconds: 3,
          max_consecutive_failures: 3,
        },
      },
      sidecar: {
        id: 'sidecar',
        shell: true,
        command: LOOP,
        resources: { cpu: 0.05, mem: 16 },
        kill_grace_period: 1,
      },
    },
    executor_resources: { cpu: 0.01, mem: 32, disk: 1 },
    instances: 3,
    update_strategy: { min_healthy_seconds: 1, progress_deadline_seconds: 30 },
    ...overrides,
  };
}

/** A JSON request to `url` + path (no /api/v1 prefix added); a string body is sent as is. */
export const request = galleyRequest;

/** How long a wait may take (shared with the other end-to-end harnesses). */
export { PATIENCE_MS } from '../waits.js';

/** The pipeline now (GET /api/v1/pipelines/{id}); throws unless 200. */
export async function getPipeline(url: string, id: string): Promise<PipelineJson> {
  const res = await request<PipelineJson>(url, 'GET', `/api/v1/pipelines/${id}`);
  if (res.status !== 200) throw new Error(`GET ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Waits (vi.waitFor) until `check(pipeline)` holds; answers that pipeline. Polls every 50 ms. */
export async function waitFor(
  url: string,
  id: string,
  what: string,
  check: (p: PipelineJson) => boolean,
  timeoutMs = PATIENCE_MS,
): Promise<PipelineJson> {
  let last: PipelineJson | string = 'no answer yet';
  return vi.waitFor(
    async () => {
      try {
        last = await getPipeline(url, id);
      } catch (err) {
        last = String(err);
      }
      if (typeof last === 'string' || !check(last))
        throw new Error(`waiting for ${what}; last: ${JSON.stringify(last, null, 1).slice(0, 4000)}`);
      return last;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/** Every instance is there and ready (running and healthy), all on `version` when given. */
export const allReady =
  (n: number, version?: number) =>
  (p: PipelineJson): boolean =>
    p.tasks.length === n &&
    p.tasks.every((t) => t.ok && !t.killing && (version === undefined || t.version === version));

/** What a sample of a pipeline counts. */
export interface Sample {
  at: number;
  ready: number;
  /** Instances not being stopped. */
  live: number;
  versions: number[];
  phase: string | null;
}

/**
 * Reads the pipeline every `everyMs` until `done(pipeline)` holds (or the timeout), and answers
 * every sample with what it counted, plus the last answer.
 */
export async function sampleUntil(
  url: string,
  id: string,
  done: (p: PipelineJson) => boolean,
  timeoutMs = 2 * PATIENCE_MS,
  everyMs = 25,
): Promise<{ samples: Sample[]; last: PipelineJson }> {
  const samples: Sample[] = [];
  const last = await vi.waitFor(
    async () => {
      const p = await getPipeline(url, id);
      samples.push({
        at: Date.now(),
        ready: p.tasks.filter((t) => t.ok && !t.killing).length,
        live: p.tasks.filter((t) => !t.killing).length,
        versions: p.tasks.filter((t) => !t.killing).map((t) => t.version),
        phase: p.update?.phase ?? null,
      });
      if (!done(p)) throw new Error(`sampling ${id}; last: ${JSON.stringify(p, null, 1).slice(0, 4000)}`);
      return p;
    },
    { timeout: timeoutMs, interval: everyMs },
  );
  return { samples, last };
}

/** Waits until the pipeline is gone (GET answers 404). */
export async function waitGone(url: string, id: string, timeoutMs = PATIENCE_MS): Promise<void> {
  await vi.waitFor(
    async () => {
      const res = await request(url, 'GET', `/api/v1/pipelines/${id}`);
      if (res.status !== 404)
        throw new Error(`pipeline ${id} still there: ${JSON.stringify(res.body).slice(0, 3000)}`);
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/**
 * Polls `alive` for each item until none is alive; answers the items in the order they were
 * seen gone, each with the ms from `since` to that moment. Order, not speed, is what tests assert.
 */
export async function watchUntilGone<T>(
  items: T[],
  alive: (item: T) => boolean,
  since: number,
  timeoutMs = PATIENCE_MS,
): Promise<{ item: T; afterMs: number }[]> {
  const gone: { item: T; afterMs: number }[] = [];
  await vi.waitFor(
    () => {
      const now = Date.now();
      for (const item of items)
        if (!gone.some((g) => g.item === item) && !alive(item)) gone.push({ item, afterMs: now - since });
      if (gone.length < items.length) throw new Error(`${items.length - gone.length} still alive`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
  return gone;
}

/** Deletes every pipeline of the server and waits until each is gone (a test file's cleanup). */
export async function deleteAllPipelines(url: string): Promise<void> {
  const all = await request<Record<string, unknown>>(url, 'GET', '/api/v1/pipelines').catch(() => null);
  const ids = Object.keys(all?.body ?? {});
  for (const id of ids) await request(url, 'DELETE', `/api/v1/pipelines/${id}`);
  for (const id of ids) await waitGone(url, id).catch(() => undefined);
}

/** The children of a process (Linux /proc). */
export async function childrenOf(pid: number): Promise<number[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

/**
 * Whether any process of the process group `pgid` is alive (Linux /proc; zombies waiting for a
 * slow init to reap them do not count).
 */
export function groupAlive(pgid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true;
  }
  return false;
}

/** Live (not zombie) pids whose working directory is `dir` (Linux /proc). */
export function pidsInDir(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir && processAlive(Number(name))) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found.sort((a, b) => a - b);
}

/** Whether a process is alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pipeline without health checks (the fake master does not run Mesos health checks). */
export function unchecked(spec: Record<string, unknown>): Record<string, unknown> {
  const processes = structuredClone(spec['processes']) as Record<string, Record<string, unknown>>;
  for (const p of Object.values(processes)) delete p['health_check'];
  return { ...spec, processes };
}

/** The first process of a directory: the one among `pidsInDir(dir)` whose parent is not among them; null if none. */
export function mainPidInDir(dir: string): number | null {
  const pids = pidsInDir(dir);
  const parentOf = (pid: number): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  return pids.find((pid) => !pids.includes(parentOf(pid))) ?? null;
}

/** The status of a GET, retried until something answers (up to `timeoutMs`). */
export async function httpStatus(url: string, timeoutMs = PATIENCE_MS): Promise<number> {
  return vi.waitFor(async () => (await fetch(url)).status, { timeout: timeoutMs, interval: 50 });
}

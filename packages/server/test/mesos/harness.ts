/**
 * The Mesos backend's end-to-end harness: the BUILT `galley serve` as a real process, talking to a
 * Mesos master over real HTTP, driven through Galley's real HTTP API.
 *
 * By default the master is the fake of `@galley/mesos/testing`, in this test process, running
 * commands as real processes. When MESOS_MASTER is set, the tests run against that real cluster
 * instead (MESOS_USER, MESOS_ROLE, MESOS_PRINCIPAL/MESOS_SECRET are read too), and the tests that
 * need fault injection or the fake's inspection are skipped with a printed reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeMesos, type FakeMesosOptions, startFakeMesos } from '@galley/mesos/testing';
import { builtGalley, galleyRequest, type GalleyProcess, startGalley as startServer } from '@galley/testkit';
import { afterAll, beforeAll, vi } from 'vitest';
import { PATIENCE_MS } from '../waits.js';

/**
 * True when the server has been built (`npx tsc -b` and `npm run build -w @galley/server`); a
 * printed skip otherwise, and a failure under GALLEY_REQUIRE_SERVICES=1.
 */
export const built = builtGalley('server Mesos e2e').available;

/** The real master from the environment, if any. */
export const REAL_MASTER: string | undefined = process.env['MESOS_MASTER'] || undefined;

/** What the tests run against, for their names: `the fake master`, or `MESOS_MASTER=<its address>`. */
export const masterLabel: string = REAL_MASTER ? `MESOS_MASTER=${REAL_MASTER}` : 'the fake master';

/**
 * True when a test that needs the fake (fault injection, inspection, shaped agents) can run; on a
 * real cluster it prints why it is skipped. Use as `describe.runIf(needsFake('what'))`.
 */
export function needsFake(what: string): boolean {
  if (!built) return false;
  if (!REAL_MASTER) return true;
  console.warn(
    `SKIPPED ${what}: needs the fake master's fault injection or inspection; MESOS_MASTER=${REAL_MASTER} is a real cluster`,
  );
  return false;
}

/**
 * Fast timings for the fake, so a suite runs in seconds. Its agents are stock agents, as strict as
 * a real one (no image providers: an image sent to them fails its task), and an executor starts in
 * 10 ms instead of a real agent's few hundred (these suites do not measure launches).
 */
export const FAST_FAKE: FakeMesosOptions = {
  execution: 'processes',
  executorStartMs: 10,
  heartbeatIntervalSeconds: 2,
  allocationIntervalMs: 50,
  statusUpdateRetryMs: { initial: 200, max: 1_000 },
  masterStartingMs: 20,
  defaultKillGracePeriodMs: 1_000,
};

/** A master to test against: the fake, or MESOS_MASTER. */
export interface TestMaster {
  /** What to pass as `--mesos-master`. */
  master: string;
  fake: FakeMesos | undefined;
  stop(): Promise<void>;
}

/** Starts the fake with `options` (fast timings by default), or answers MESOS_MASTER. */
export async function startMaster(options: FakeMesosOptions = {}): Promise<TestMaster> {
  if (REAL_MASTER) return { master: REAL_MASTER, fake: undefined, stop: async () => {} };
  const fake = await startFakeMesos({ ...FAST_FAKE, ...options });
  return {
    master: fake.masterUrls.map((u) => u.replace(/^http:\/\//, '')).join(','),
    fake,
    stop: () => fake.stop(),
  };
}

/** The fake of a master started by `startMaster` (only in `needsFake` tests). */
export function fakeOf(m: TestMaster): FakeMesos {
  if (!m.fake) throw new Error('this test needs the fake master');
  return m.fake;
}

/**
 * Flags that make the server's Mesos side fast for tests. The containerizer is the default
 * (`auto`): on stock agents that declare no `galley-images`, runs are plain command tasks.
 */
export function mesosFlags(master: string): string[] {
  const flags = [
    '--backend',
    'mesos',
    '--mesos-master',
    master,
    '--mesos-refuse-seconds',
    '2',
    '--mesos-offer-hold-ms',
    '200',
    '--mesos-reconcile-delay-ms',
    '300',
    '--mesos-launch-timeout-ms',
    '3000',
    '--mesos-unreachable-timeout-ms',
    '500',
    '--mesos-revive-interval-ms',
    '100',
    '--stop-grace-ms',
    '1500',
    '--retry-initial-delay-ms',
    '100',
    '--log-follow-ms',
    '50',
  ];
  const user = process.env['MESOS_USER'];
  if (REAL_MASTER)
    flags.push('--mesos-user', user ?? 'root', '--mesos-roles', process.env['MESOS_ROLE'] ?? '*');
  if (REAL_MASTER && process.env['MESOS_PRINCIPAL'])
    flags.push('--mesos-principal', process.env['MESOS_PRINCIPAL']);
  return flags;
}

/** A running `galley serve` (@galley/testkit's). */
export type Galley = GalleyProcess;

/** A fresh temporary directory for a server's data. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'galley-mesos-e2e-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Starts the built `galley serve --listen 127.0.0.1:0 --data-dir dataDir …args` and waits for its address. */
export function startGalley(dataDir: string, args: string[]): Promise<Galley> {
  const secret = process.env['MESOS_SECRET'];
  return startServer({ dataDir, args, env: secret ? { GALLEY_MESOS_SECRET: secret } : {} });
}

/** A master and the built server against it, shared by the tests of one describe block. */
export interface MesosServer {
  /** The server's base URL. */
  url(): string;
  master(): TestMaster;
  galley(): Galley;
  /** SIGKILLs the server and starts it again on the same data dir and master (a crash and restart). */
  restartAfterKill(): Promise<Galley>;
  /** A task as the fake master knows it (its state, agent, info). */
  fakeTask(taskId: string): ReturnType<FakeMesos['state']>['tasks'][number] | undefined;
}

/**
 * The set-up the Mesos suites share: before the describe block's tests, a master (`options`: the
 * fake's) and the BUILT server against it (`flags` after mesosFlags); after them, `beforeStop`
 * (e.g. deleting what must not outlive the suite), then the server, the master and the data dir go.
 */
export function useMesosServer(
  options: FakeMesosOptions,
  o: { flags?: string[]; beforeStop?: (url: string) => Promise<void> } = {},
): MesosServer {
  let master: TestMaster | undefined;
  let galley: Galley | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  const start = (m: TestMaster, d: string) => startGalley(d, [...mesosFlags(m.master), ...(o.flags ?? [])]);
  beforeAll(async () => {
    master = await startMaster(options);
    dir = await tempDir();
    galley = await start(master, dir.path);
  }, 120_000);
  afterAll(async () => {
    if (galley) {
      await o.beforeStop?.(galley.url);
      await galley.stop();
    }
    await master?.stop();
    await dir?.remove();
  }, 120_000);
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${what} did not start`);
    return value;
  };
  return {
    url: () => started(galley, 'server').url,
    master: () => started(master, 'master'),
    galley: () => started(galley, 'server'),
    restartAfterKill: async () => {
      await started(galley, 'server').kill();
      galley = await start(started(master, 'master'), started(dir, 'data dir').path);
      return galley;
    },
    fakeTask: (taskId) =>
      fakeOf(started(master, 'master'))
        .state()
        .tasks.find((t) => t.taskId === taskId),
  };
}

/** A JSON request to Galley's API under /api/v1 (answers are read loosely by the tests, hence `any`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function api<T = any>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return galleyRequest<T>(url, method, `/api/v1${path}`, body);
}

/** A run as the API answers it (the fields the tests read). */
export interface RunJson {
  run_id: string;
  status: string;
  cluster: string;
  exit_code: number | null;
  exit_reason: string | null;
  queued_reason: string | null;
  attempt_count: number;
  instance: { instance_id: string; dns_name: string };
  engine: string;
  /** Peak memory (MB) and CPU (millicores) the run used; null = not measured. */
  max_memory_used: number | null;
  max_cpu_used: number | null;
}

/** Defines a task and answers its alias. */
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
export async function execute(
  url: string,
  alias: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await api(url, 'PUT', `/task/alias/${alias}/execute`, {
    run_tags: { owner_id: 'tester' },
    ...extra,
  });
  if (res.status !== 200) throw new Error(`execute ${alias}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as RunJson).run_id;
}

/** The run now. */
export async function getRun(url: string, runId: string): Promise<RunJson> {
  return (await api<RunJson>(url, 'GET', `/history/${runId}`)).body;
}

/** Waits for a condition (shared with the other end-to-end harnesses). */
export { eventually, PATIENCE_MS } from '../waits.js';

/** Waits until the run has `status` (and answers it). */
export function runReaches(
  url: string,
  runId: string,
  status: string,
  timeoutMs = PATIENCE_MS,
): Promise<RunJson> {
  return vi.waitFor(
    async () => {
      const run = await getRun(url, runId);
      if (run.status !== status)
        throw new Error(`run ${runId} is ${run.status}, waiting for ${status}: ${JSON.stringify(run)}`);
      return run;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/** The whole log of a run (stdout then stderr), read page by page. */
export async function readLog(url: string, runId: string): Promise<string> {
  let out = '';
  let token: string | undefined;
  for (let i = 0; i < 100; i++) {
    const q = token ? `?last_seen=${encodeURIComponent(token)}` : '';
    const page = (await api<{ log: string; last_seen: string }>(url, 'GET', `/${runId}/logs${q}`)).body;
    out += page.log;
    if (page.log === '') return out;
    token = page.last_seen;
  }
  return out;
}

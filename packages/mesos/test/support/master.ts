/**
 * Where the SDK's end-to-end tests find a Mesos master. By default they start the fake master of
 * `@galley/mesos/testing`. When MESOS_MASTER is set (anything `createScheduler` accepts:
 * `host:5050`, `h1:5050,h2:5050`, `zk://…/mesos`), they run against that real cluster instead,
 * so the same suite proves the SDK on a real Mesos; tests that need fault injection (dropping
 * streams, failing masters over, fast heartbeats) only run on the fake, and say so.
 *
 * Also read on a real cluster: MESOS_USER (FrameworkInfo.user, default root), MESOS_ROLE
 * (default `*`), MESOS_PRINCIPAL / MESOS_SECRET (HTTP basic auth).
 */
import { type FakeMesos, type FakeMesosOptions, startFakeMesos } from '@galley/mesos/testing';
import type { BasicCredentials } from '@galley/mesos';

/** The real master from the environment, if any. */
export const REAL_MASTER: string | undefined = process.env['MESOS_MASTER'] || undefined;

/** What the tests run against, for their names: `the fake master`, or `MESOS_MASTER=<its address>`. */
export const masterLabel: string = REAL_MASTER ? `MESOS_MASTER=${REAL_MASTER}` : 'the fake master';

/**
 * What starting an executor costs on the fake here: the SDK's suites do not measure launches, so
 * they do not pay the realistic default (`executorStartMs`, 250 ms) on every task.
 */
const FAST_EXECUTOR_START_MS = 10;

/** A master to test against. */
export interface TestCluster {
  kind: 'fake' | 'real';
  /** What to pass as `master` to `createScheduler`. */
  master: string;
  /** The fake, for fault injection and inspection; undefined on a real cluster. */
  fake: FakeMesos | undefined;
  /** FrameworkInfo.user to use. */
  user: string;
  /** The role tasks run under. */
  role: string;
  credentials: BasicCredentials | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the fake master with `options` (or connects to MESOS_MASTER, where `options` do not
 * apply). The fake's master list is given in full, followers first, so redirects are exercised.
 */
export async function startTestCluster(options: FakeMesosOptions = {}): Promise<TestCluster> {
  if (REAL_MASTER) {
    const principal = process.env['MESOS_PRINCIPAL'];
    return {
      kind: 'real',
      master: REAL_MASTER,
      fake: undefined,
      user: process.env['MESOS_USER'] ?? 'root',
      role: process.env['MESOS_ROLE'] ?? '*',
      credentials: principal ? { principal, secret: process.env['MESOS_SECRET'] ?? '' } : undefined,
      stop: async () => {},
    };
  }
  const fake = await startFakeMesos({ executorStartMs: FAST_EXECUTOR_START_MS, ...options });
  return {
    kind: 'fake',
    master: fake.masterUrls.map((u) => u.replace(/^http:\/\//, '')).join(','),
    fake,
    user: 'root',
    role: '*',
    credentials: undefined,
    stop: () => fake.stop(),
  };
}

/**
 * True when fault-injection tests can run (on the fake). On a real cluster it prints why they are
 * skipped; use as `describe.runIf(faultInjection('what'))`.
 */
export function faultInjection(what: string): boolean {
  if (!REAL_MASTER) return true;
  console.warn(
    `SKIPPED ${what}: needs the fake master's fault injection and fast timings; MESOS_MASTER=${REAL_MASTER} is a real cluster`,
  );
  return false;
}

/** The fake of `cluster`, for tests that run only on the fake (see `faultInjection`). */
export function fakeOf(cluster: TestCluster): FakeMesos {
  if (!cluster.fake) throw new Error('this test needs the fake master');
  return cluster.fake;
}

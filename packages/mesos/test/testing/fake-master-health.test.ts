import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos, type FakeMesosOptions } from '@galley/mesos/testing';
import { commandTask, launch, subscribeScheduler, type TestScheduler } from './support/test-scheduler.js';

/**
 * Health checks as Mesos' built-in executors run them (spec §6.7, §4.5, §7.9): real HTTP, TCP and
 * command checks against real processes, each verdict a TASK_RUNNING update with `healthy` and
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED on the acknowledged, in-order update path; too many
 * failures kill the task (and its task group).
 */

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

type Status = Record<string, unknown>;

async function start(options: FakeMesosOptions = {}): Promise<{
  fake: FakeMesos;
  scheduler: TestScheduler;
  offer: Record<string, unknown>;
}> {
  mesos = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50, ...options });
  const scheduler = await subscribeScheduler(mesos.leaderUrl);
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  return { fake: mesos, scheduler, offer };
}

/** A loopback port nobody listens on right now (the OS picked it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A node one-liner run as the task: `exec`, so SIGTERM reaches it. */
const node = (script: string): string => `exec ${process.execPath} -e "${script}"`;

/** An HTTP server on $PORT that answers 200 to its first $OK_COUNT requests, then 503. */
const FLAKY_HTTP = node(
  "let n=0;require('http').createServer((q,s)=>{n++;s.statusCode=n<=+process.env.OK_COUNT?200:503;s.end()}).listen(+process.env.PORT,'127.0.0.1')",
);

/** A TCP server on $PORT. */
const TCP_SERVER = node("require('net').createServer((c)=>c.end()).listen(+process.env.PORT,'127.0.0.1')");

const env = (variables: Record<string, string>) => ({
  environment: { variables: Object.entries(variables).map(([name, value]) => ({ name, value })) },
});

/** Acknowledges and collects the task's updates until `last` holds for one (included). */
async function updatesUntil(
  scheduler: TestScheduler,
  taskId: string,
  last: (status: Status) => boolean,
  timeoutMs = 15_000,
): Promise<Status[]> {
  const seen: Status[] = [];
  for (;;) {
    const status = await scheduler.nextUpdate(taskId, undefined, timeoutMs);
    await scheduler.ack(status);
    seen.push(status);
    if (last(status)) return seen;
  }
}

/** What a list of updates says, in order: state, and `healthy` where set. */
const story = (updates: Status[]): string[] =>
  updates.map((s) => (s.healthy === undefined ? String(s.state) : `${String(s.state)} healthy=${s.healthy}`));

const terminal = (s: Status): boolean =>
  ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED'].includes(String(s.state));

describe('fake master: health checks of the built-in executors (real processes)', () => {
  it('HTTP: healthy on the first 200, unhealthy on every counted failure, killed after consecutive_failures with healthy=false; each verdict acknowledged in order and re-sent until it is', async () => {
    const { fake, scheduler, offer } = await start({ statusUpdateRetryMs: { initial: 150, max: 300 } });
    const port = await freePort();
    const task = commandTask(offer, 'web', '', {
      kill_policy: { grace_period: { nanoseconds: 2_000_000_000 } },
      health_check: {
        type: 'HTTP',
        http: { port, path: '/health', scheme: 'http' },
        delay_seconds: 0,
        interval_seconds: 0.1,
        timeout_seconds: 1,
        grace_period_seconds: 20,
        consecutive_failures: 3,
      },
    });
    task.command = { value: FLAKY_HTTP, ...env({ PORT: String(port), OK_COUNT: '2' }) };
    await scheduler.call('ACCEPT', launch([offer], [task]));
    const before = await updatesUntil(scheduler, 'web', (s) => s.state === 'TASK_RUNNING');
    expect(story(before)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    const running = before[1]!;

    // The first verdict, exactly as spec §7.9 shows it (fields in .proto order).
    const healthy = await scheduler.nextUpdate('web', 'TASK_RUNNING', 15_000);
    expect(Object.keys(healthy)).toEqual([
      'task_id',
      'state',
      'source',
      'reason',
      'agent_id',
      'executor_id',
      'timestamp',
      'uuid',
      'healthy',
      'container_status',
    ]);
    expect(healthy).toEqual({
      task_id: { value: 'web' },
      state: 'TASK_RUNNING',
      source: 'SOURCE_EXECUTOR',
      reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
      agent_id: offer.agent_id,
      executor_id: { value: 'web' },
      timestamp: expect.any(Number),
      uuid: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
      healthy: true,
      container_status: running.container_status,
    });
    expect(healthy.uuid).not.toBe(running.uuid);
    expect(Buffer.from(String(healthy.uuid), 'base64')).toHaveLength(16);
    await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 'web')?.healthy === true, {
      what: 'the agent knows the task is healthy',
    });

    // Not acknowledged: the same update comes again, and nothing after it is sent meanwhile.
    const again = await scheduler.nextUpdate('web', undefined, 5_000);
    expect(again).toEqual(healthy);
    const after = await updatesUntil(scheduler, 'web', terminal);
    expect(after[0]).toEqual(healthy); // acknowledged now, then the rest in order
    expect(story(after.slice(1))).toEqual([
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_KILLING',
      'TASK_KILLED healthy=false',
    ]);
    for (const s of after.slice(1, 4))
      expect(s).toMatchObject({
        source: 'SOURCE_EXECUTOR',
        reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
        healthy: false,
        uuid: expect.any(String),
      });
    expect(new Set(after.slice(1).map((s) => s.uuid)).size).toBe(5);
    expect(after.at(-1)).toMatchObject({
      state: 'TASK_KILLED',
      message: 'Command terminated with signal Terminated',
      source: 'SOURCE_EXECUTOR',
      healthy: false,
    });
    expect(after.at(-1)!.reason).toBeUndefined();
    expect(fake.state().tasks.find((t) => t.taskId === 'web')).toMatchObject({
      state: 'TASK_KILLED',
      healthy: false,
      states: [
        'TASK_STARTING',
        'TASK_RUNNING',
        'TASK_RUNNING',
        'TASK_RUNNING',
        'TASK_RUNNING',
        'TASK_RUNNING',
        'TASK_KILLING',
        'TASK_KILLED',
      ],
    });
  });

  it('honours delay_seconds and grace_period_seconds: failures before the first success are ignored in the grace period and counted after it', async () => {
    const { scheduler, offer } = await start();
    const [latePort, deadPort] = [await freePort(), await freePort()];
    const check = (port: number, timing: Record<string, number>) => ({
      type: 'HTTP',
      http: { port, path: '/' },
      interval_seconds: 0.1,
      timeout_seconds: 1,
      consecutive_failures: 2,
      ...timing,
    });
    // Listens only after 0.8 s: every check before fails, inside a 5 s grace period.
    const late = commandTask(offer, 'late', '', {
      health_check: check(latePort, { delay_seconds: 0.3, grace_period_seconds: 5 }),
    });
    late.command = {
      value: `sleep 0.8; ${FLAKY_HTTP}`,
      ...env({ PORT: String(latePort), OK_COUNT: '1000' }),
    };
    // Never listens: a 0.5 s grace period, then two counted failures kill it.
    const dead = commandTask(offer, 'dead', 'sleep 60', {
      health_check: check(deadPort, { delay_seconds: 0, grace_period_seconds: 0.5 }),
    });
    await scheduler.call('ACCEPT', launch([offer], [late, dead]));

    const lateUpdates = await updatesUntil(scheduler, 'late', (s) => s.healthy !== undefined);
    expect(story(lateUpdates)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING healthy=true']);
    const [, lateRunning, lateHealthy] = lateUpdates as [Status, Status, Status];
    expect(Number(lateHealthy.timestamp) - Number(lateRunning.timestamp)).toBeGreaterThanOrEqual(0.75);

    const deadUpdates = await updatesUntil(scheduler, 'dead', terminal);
    expect(story(deadUpdates)).toEqual([
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_KILLING',
      'TASK_KILLED healthy=false',
    ]);
    const [, deadRunning, firstFailure] = deadUpdates as [Status, Status, Status];
    expect(Number(firstFailure.timestamp) - Number(deadRunning.timestamp)).toBeGreaterThanOrEqual(0.45);
    expect(deadUpdates.at(-1)).toMatchObject({ message: 'Command terminated with signal Terminated' });
  });

  it('TCP passes on a connection; COMMAND runs in the task sandbox with the check environment, and a check past timeout_seconds fails', async () => {
    const { scheduler, offer } = await start();
    const port = await freePort();
    const tcp = commandTask(offer, 'tcp', '', {
      health_check: {
        type: 'TCP',
        tcp: { port },
        delay_seconds: 0,
        interval_seconds: 0.1,
        grace_period_seconds: 10,
      },
    });
    tcp.command = { value: TCP_SERVER, ...env({ PORT: String(port) }) };
    const command = commandTask(offer, 'cmd', 'touch ready; exec sleep 60', {
      health_check: {
        type: 'COMMAND',
        command: { value: 'test -f ready && test "$CHECK_VAR" = yes', ...env({ CHECK_VAR: 'yes' }) },
        delay_seconds: 0,
        interval_seconds: 0.1,
        grace_period_seconds: 10,
      },
    });
    const slow = commandTask(offer, 'slow', 'exec sleep 60', {
      health_check: {
        type: 'COMMAND',
        command: { value: 'sleep 30' },
        delay_seconds: 0,
        interval_seconds: 0.1,
        timeout_seconds: 0.3,
        grace_period_seconds: 0,
        consecutive_failures: 1,
      },
    });
    await scheduler.call('ACCEPT', launch([offer], [tcp, command, slow]));
    for (const id of ['tcp', 'cmd'])
      expect(story(await updatesUntil(scheduler, id, (s) => s.healthy !== undefined))).toEqual([
        'TASK_STARTING',
        'TASK_RUNNING',
        'TASK_RUNNING healthy=true',
      ]);
    expect(story(await updatesUntil(scheduler, 'slow', terminal))).toEqual([
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_RUNNING healthy=false',
      'TASK_KILLING',
      'TASK_KILLED healthy=false',
    ]);
    // The check's `sleep 30` was cut short by its 0.3 s timeout: without it no verdict would come
    // before updatesUntil gives up waiting (15 s).
    // Reconciliation answers with the last verdict (no uuid: not to be acknowledged).
    await scheduler.call('RECONCILE', {
      reconcile: { tasks: [{ task_id: { value: 'tcp' }, agent_id: offer.agent_id }] },
    });
    const answer = await scheduler.nextUpdate('tcp', 'TASK_RUNNING', 5_000);
    expect(answer).toMatchObject({ source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', healthy: true });
    expect(answer.uuid).toBeUndefined();
  });

  it('kills a whole task group (default executor) when one task turns unhealthy; only that task says healthy=false', async () => {
    const { fake, scheduler, offer } = await start();
    const executor = {
      type: 'DEFAULT',
      executor_id: { value: 'group' },
      framework_id: { value: scheduler.frameworkId },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
    };
    const checked = commandTask(offer, 'checked', 'exec sleep 60', {
      health_check: {
        type: 'COMMAND',
        command: { value: 'test ! -f sick' },
        delay_seconds: 0,
        interval_seconds: 0.1,
        grace_period_seconds: 10,
        consecutive_failures: 2,
      },
    });
    const sibling = commandTask(offer, 'sibling', 'exec sleep 60');
    await scheduler.call('ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [
          { type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: [checked, sibling] } } },
        ],
      },
    });
    const first = await updatesUntil(scheduler, 'checked', (s) => s.healthy !== undefined);
    expect(story(first)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING healthy=true']);
    const verdict = first.at(-1)!;
    expect(verdict).toMatchObject({
      source: 'SOURCE_EXECUTOR',
      reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
      executor_id: { value: 'group' },
      container_status: {
        container_id: { value: expect.any(String), parent: { value: expect.any(String) } },
        network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '127.0.0.1' }] }],
      },
    });
    await updatesUntil(scheduler, 'sibling', (s) => s.state === 'TASK_RUNNING');

    // The check runs in the task's own sandbox: a file there makes it fail.
    const sandbox = fake.state().tasks.find((t) => t.taskId === 'checked')!.sandbox;
    await writeFile(`${sandbox}/sick`, '');
    expect(story(await updatesUntil(scheduler, 'checked', terminal))).toEqual([
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_KILLING',
      'TASK_KILLED healthy=false',
    ]);
    const siblingEnd = await updatesUntil(scheduler, 'sibling', terminal);
    expect(story(siblingEnd)).toEqual(['TASK_KILLING', 'TASK_KILLED']);
    const failure = await scheduler.stream.nextOfType('FAILURE', 5000);
    expect(failure.event.failure).toMatchObject({ executor_id: { value: 'group' }, status: 0 });
  });

  it('simulate mode: the behavior decides each check; no checks without one', async () => {
    const { fake, scheduler, offer } = await start({
      execution: 'simulate',
      simulation: {
        behavior: (task) =>
          task.taskId === 'played' ? { health: (n: number) => n <= 2 } : { durationMs: 1_000 },
      },
    });
    const check = {
      type: 'TCP',
      tcp: { port: 1 },
      delay_seconds: 0,
      interval_seconds: 0.05,
      grace_period_seconds: 0,
    };
    await scheduler.call(
      'ACCEPT',
      launch(
        [offer],
        [
          commandTask(offer, 'played', 'sleep 60', { health_check: check }),
          commandTask(offer, 'quiet', 'sleep 60', { health_check: check }),
        ],
      ),
    );
    expect(story(await updatesUntil(scheduler, 'played', terminal))).toEqual([
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_RUNNING healthy=true',
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_RUNNING healthy=false',
      'TASK_KILLING',
      'TASK_KILLED healthy=false',
    ]);
    expect(story(await updatesUntil(scheduler, 'quiet', terminal))).toEqual([
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_FINISHED',
    ]);
    expect(fake.state().tasks.find((t) => t.taskId === 'quiet')?.healthy).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  built,
  define,
  eventually,
  execute,
  fakeOf,
  getRun,
  masterLabel,
  mesosFlags,
  needsFake,
  readLog,
  runReaches,
  startGalley,
  startMaster,
  tempDir,
  type Galley,
  type TestMaster,
} from './harness.js';

// The Mesos backend end to end: the built server, its HTTP API, and a Mesos master running the
// commands as real processes (the fake master, or MESOS_MASTER).

const against = masterLabel;

// Generous timeouts: a loaded machine starts processes slowly; a failure still ends the test.
describe.runIf(built)(`Mesos backend basics, command executor, on ${against}`, { timeout: 120_000 }, () => {
  let master: TestMaster;
  let galley: Galley;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    master = await startMaster({
      agents: [
        { resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-31100]', attributes: 'zone:a' },
        { resources: 'cpus:2;mem:4096;disk:10000;ports:[32000-32100]', attributes: 'zone:b' },
      ],
    });
    dir = await tempDir();
    // Mesos' own command executor (still there by flag): these tests read its lines in the sandbox
    // (glog, the process trees of a kill) kept apart from the run's log. Every other Mesos suite
    // runs with the default, the shared galley-executor.
    galley = await startGalley(dir.path, [...mesosFlags(master.master), '--mesos-executor', 'command']);
  }, 120_000);
  afterAll(async () => {
    await galley?.stop();
    await master?.stop();
    await dir?.remove();
  });

  it(`runs hello world to exit 0 on ${against} and reads its logs from the sandbox through the files API`, async () => {
    await define(galley.url, 'hello', {
      command: 'echo "hello $GALLEY_RUN_OWNER_ID"; echo "port $PORT0"',
      ports: [8080],
    });
    const runId = await execute(galley.url, 'hello');
    const run = await runReaches(galley.url, runId, 'STOPPED');
    expect(run.exit_code).toBe(0);
    expect(run.exit_reason).toBe('exited with code 0');
    expect(run.engine).toBe('mesos');
    expect(run.instance.instance_id).not.toBe('');
    const log = await eventually('the log', async () => {
      const text = await readLog(galley.url, runId);
      return text.includes('hello tester') ? text : undefined;
    });
    // The host port placement chose is given to the program as PORT0, from the agent's ranges.
    const port = Number(/port (\d+)/.exec(log)?.[1]);
    expect((port >= 31000 && port <= 31100) || (port >= 32000 && port <= 32100)).toBe(true);
    // The log is the program's output alone: the command executor's own lines stay apart.
    expect(log).toBe(`hello tester\nport ${port}\n`);
    const executorLines = (await api(galley.url, 'GET', `/${runId}/logs?stream=executor`)).body.log as string;
    expect(executorLines).toMatch(/^I\d{4} [\d:.]+ +\d+ exec\.cpp:\d+\] Version: /);
    expect(executorLines).toMatch(/\] Forked command at \d+\n/);
    expect(executorLines).not.toContain('hello tester');
    // Small pages join into the same text (offsets are bytes of the sandbox file).
    let paged = '';
    let token = '';
    for (let i = 0; i < 50; i++) {
      const q = `?max_bytes=5${token ? `&last_seen=${encodeURIComponent(token)}` : ''}`;
      const page = (await api(galley.url, 'GET', `/${runId}/logs${q}`)).body as {
        log: string;
        last_seen: string;
      };
      if (page.log === '') break;
      paged += page.log;
      token = page.last_seen;
    }
    expect(paged).toBe(log);
    if (master.fake) {
      const task = master.fake.state().tasks.find((t) => t.taskId === `${runId}.1`);
      expect(task?.agentId).toBe(run.instance.instance_id);
      expect(task?.states).toContain('TASK_FINISHED');
      // Every update was acknowledged (after it was stored), so the master forgot the task.
      expect(task?.pendingUpdates).toBe(0);
      expect(task?.completed).toBe(true);
      expect(task?.info['kill_policy']).toEqual({ grace_period: { nanoseconds: 1_500_000_000 } });
      // The agents declare no galley-images: the image is recorded, not sent (a stock agent would fail it).
      expect(task?.info['container']).toBeUndefined();
    }
  });

  it(`follows a run's output from its sandbox on ${against} until it stops`, async () => {
    await define(galley.url, 'ticker', { command: 'for i in 1 2 3; do echo "tick $i"; sleep 0.3; done' });
    const runId = await execute(galley.url, 'ticker');
    const res = await fetch(`${galley.url}/api/v1/${runId}/logs?follow=true`);
    expect(res.status).toBe(200);
    const text = await res.text(); // the stream ends when the run has stopped and all was read
    expect(text).toBe('tick 1\ntick 2\ntick 3\n');
    expect((await getRun(galley.url, runId)).status).toBe('STOPPED');
  });

  it(`records a failing command's exit code from the update's message on ${against}, without retrying it`, async () => {
    await define(galley.url, 'fails', { command: 'echo oops >&2; exit 3' });
    const runId = await execute(galley.url, 'fails');
    const run = await runReaches(galley.url, runId, 'STOPPED');
    expect(run.exit_code).toBe(3);
    expect(run.exit_reason).toBe('exited with code 3');
    expect(run.attempt_count).toBe(1);
    expect(await readLog(galley.url, runId)).toBe('oops\n');
  });

  it(`stops a run with grace on ${against}: SIGTERM first, SIGKILL after the grace period`, async () => {
    await define(galley.url, 'stubborn', {
      command: "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.05; done",
    });
    const runId = await execute(galley.url, 'stubborn');
    await runReaches(galley.url, runId, 'RUNNING');
    await eventually('the trap to be set', async () =>
      (await readLog(galley.url, runId)).includes('ready') ? true : undefined,
    );
    const asked = Date.now();
    const stop = await api(galley.url, 'POST', `/history/${runId}/stop`);
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ action: 'kill-sent', stopped: false });
    const run = await runReaches(galley.url, runId, 'STOPPED');
    // A lower bound (taken before the stop was asked), which a loaded machine can only lengthen:
    // the 1.5 s grace was given before the SIGKILL.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1_400);
    expect(run.exit_code).toBeNull();
    expect(run.exit_reason).toMatch(/^stopped by request \(killed.*signal Killed/);
    // Without the executor's report of the kill (the process trees it signalled); the shell may
    // say "Terminated" of the sleep the TERM ended.
    expect(await readLog(galley.url, runId)).toMatch(/^ready\ngot TERM\n(Terminated\n)?$/);
    const executorLines = (await api(galley.url, 'GET', `/${runId}/logs?stream=executor`)).body.log as string;
    expect(executorLines).toContain('Sent SIGTERM to the following process trees:\n[ \n');
  });

  it(`keeps a run that fits no agent QUEUED on ${against}, with the reason in its history`, async () => {
    await define(galley.url, 'huge', { command: 'true', cpu: 64_000 });
    const runId = await execute(galley.url, 'huge');
    const run = await eventually('a queued reason', async () => {
      const r = await getRun(galley.url, runId);
      return r.queued_reason?.startsWith('needs 64 cpus') ? r : undefined;
    });
    expect(run.status).toBe('QUEUED');
    expect(run.queued_reason).toMatch(/^needs 64 cpus; the largest free on any node is \d/);
    // It stays so while offers come and go (they are declined and filtered in between): a run
    // executed after it gets offers, runs and finishes meanwhile, and on the fake an offer is
    // declined after that.
    await define(galley.url, 'after-huge', { command: 'true' });
    const after = await runReaches(galley.url, await execute(galley.url, 'after-huge'), 'STOPPED');
    expect(after.exit_code).toBe(0);
    if (master.fake) {
      const fake = master.fake;
      const declines = fake.calls({ type: 'DECLINE' }).length;
      await eventually('an offer declined after that', async () =>
        fake.calls({ type: 'DECLINE' }).length > declines ? true : undefined,
      );
    }
    const later = await getRun(galley.url, runId);
    expect(later.status).toBe('QUEUED');
    expect(later.queued_reason).toMatch(/^needs 64 cpus/);
    expect((await api(galley.url, 'POST', `/history/${runId}/stop`)).body).toMatchObject({ stopped: true });
  });

  it('answers 422 for a constraint that does not parse', async () => {
    const res = await api(galley.url, 'POST', '/task', {
      alias: 'bad-constraint',
      command: 'true',
      constraints: ['zone'],
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'INVALID_CONSTRAINT' });
  });

  describe.runIf(needsFake('placement by agent attributes and cluster state (fake master inspection)'))(
    'with the fake master',
    () => {
      it('places a run with the constraint zone:b on the zone:b agent (fake master)', async () => {
        const fake = fakeOf(master);
        const zoneB = fake.state().agents.find((a) => a.attributes === 'zone:b')!.id;
        await define(galley.url, 'in-b', { command: 'true', constraints: ['zone:b'] });
        for (let i = 0; i < 3; i++) {
          const run = await runReaches(galley.url, await execute(galley.url, 'in-b'), 'STOPPED');
          expect(run.instance.instance_id).toBe(zoneB);
        }
        const nowhere = await execute(galley.url, 'in-b', { constraints: ['zone:c'] });
        // Once offers were seen (the role is revived for it), the reason names the constraint.
        const waiting = await eventually('the constraint as the reason', async () => {
          const r = await getRun(galley.url, nowhere);
          return r.queued_reason?.includes('zone:c') ? r : undefined;
        });
        expect(waiting.status).toBe('QUEUED');
        expect(waiting.queued_reason).toBe('no node matches zone:c');
        await api(galley.url, 'POST', `/history/${nowhere}/stop`);
      });

      it('lists the Mesos cluster with its framework, agents and offers in /clusters (fake master)', async () => {
        const fake = fakeOf(master);
        const body = (await api(galley.url, 'GET', '/clusters')).body;
        expect(body.clusters).toEqual(expect.arrayContaining(['local', 'mesos']));
        const mesos = body.details.find((d: { name: string }) => d.name === 'mesos');
        expect(mesos).toMatchObject({
          backend: 'mesos',
          state: 'subscribed',
          default: true,
          runs_on_host: false,
        });
        const framework = fake.state().frameworks[0]!;
        expect(mesos.mesos).toMatchObject({
          connection: 'subscribed',
          framework_id: framework.id,
          agents: 2,
        });
        // Stock agents that declare nothing: runs are plain commands, and the note says so.
        expect(mesos.note).toContain(
          'Images: no agent declares galley-images:mesos or galley-images:docker, so images are recorded, not used',
        );
        expect(framework.capabilities).toEqual(
          expect.arrayContaining(['MULTI_ROLE', 'PARTITION_AWARE', 'TASK_KILLING_STATE']),
        );
        expect(framework.failoverTimeoutSeconds).toBe(604_800);
        // Nothing waits: the role is suppressed and no offer is hoarded.
        await eventually('the role to be suppressed', async () => {
          const d = (await api(galley.url, 'GET', '/clusters')).body.details.find(
            (x: { name: string }) => x.name === 'mesos',
          );
          return d.mesos.suppressed_roles.includes('*') && fake.state().offers.length === 0
            ? true
            : undefined;
        });
        expect(fake.calls({ type: 'SUPPRESS' }).length).toBeGreaterThan(0);
        const declines = fake.calls({ type: 'DECLINE' });
        expect(declines.length).toBeGreaterThan(0);
        expect(declines.at(-1)?.body?.['decline']).toMatchObject({ filters: { refuse_seconds: 2 } });
        // The next execute revives the role, and the run gets offers.
        const revives = fake.calls({ type: 'REVIVE' }).length;
        await define(galley.url, 'wake-up', { command: 'true' });
        const runId = await execute(galley.url, 'wake-up');
        expect((await runReaches(galley.url, runId, 'STOPPED')).exit_code).toBe(0);
        expect(fake.calls({ type: 'REVIVE' }).length).toBeGreaterThan(revives);
      });
    },
  );
});

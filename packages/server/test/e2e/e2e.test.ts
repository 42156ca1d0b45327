import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, storeMatrix } from '@galley/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, http, PATIENT, startServer, type ServerProcess } from './harness.js';

// End to end: the BUILT server as a real process, the real HTTP API and the real CLI, against
// embedded PGlite and against PostgreSQL.

const built = builtGalley('server e2e').available;
const matrix = await storeMatrix();
afterAll(() => matrix.stop());

interface Run {
  run_id: string;
  status: string;
  exit_code: number | null;
  exit_reason: string | null;
  queued_reason: string | null;
  attempt_count: number;
}

for (const store of matrix.stores) {
  describe.runIf(built && store.available)(`galley end to end (${store.name})`, PATIENT, () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let server: ServerProcess;
    const flags = [
      '--local-cpus',
      '2',
      '--stop-grace-ms',
      '500',
      '--adopt-check-ms',
      '50',
      '--log-follow-ms',
      '50',
    ];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'galley-e2e-'));
      // Jobs run as nobody when the tests run as root (the --run-as default): the logs and gates
      // they write are here, so it is open to them as /tmp is.
      await chmod(dir, 0o1777);
      env = await store.serverEnv();
      server = await startServer(join(dir, 'data'), flags, env);
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    }, 120_000);
    // What the server logged (warnings and errors), to tell why a test that failed waited in vain.
    afterEach(({ task }) => {
      if (task.result?.state === 'fail')
        console.error(`the server's log (${store.name}):\n${server?.output()}`);
    });

    const run = async (id: string) => (await http<Run>(server.url, 'GET', `/history/${id}`)).body;
    const finished = (id: string) =>
      eventually(async () => ((await run(id)).status === 'STOPPED' ? run(id) : undefined));
    const define = (body: object) => http(server.url, 'POST', '/task', body);

    it('runs the seed hello-world task: defined, executed, STOPPED with exit 0 and "hello yourusername" in its logs', async () => {
      const hello = {
        alias: 'hello-flotilla',
        group_name: 'examples',
        image: 'ubuntu:latest',
        memory: 512,
        env: [{ name: 'USERNAME', value: '_fill_me_in_' }],
        command: 'echo "hello ${USERNAME}"',
      };
      expect((await define(hello)).status).toBe(200);
      const exec = await http<Run>(server.url, 'PUT', '/task/alias/hello-flotilla/execute', {
        cluster: 'default',
        env: [{ name: 'USERNAME', value: 'yourusername' }],
        run_tags: { owner_id: 'youruser' },
      });
      expect(exec.status).toBe(200);
      const done = await finished(exec.body.run_id);
      expect(done).toMatchObject({ status: 'STOPPED', exit_code: 0 });
      const logs = await http<{ log: string }>(server.url, 'GET', `/${exec.body.run_id}/logs`);
      expect(logs.body.log).toContain('hello yourusername');

      const cli = await galley(server.url, [
        'run',
        'hello-flotilla',
        '--env',
        'USERNAME=cli-user',
        '--follow',
      ]);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toBe('hello cli-user\n');
      expect(cli.stderr).toMatch(/STOPPED exit_code=0/);
    });

    it("defines with the CLI from a file, and reports a failing command's exit code", async () => {
      const file = join(dir, 'fail.json');
      await writeFile(
        file,
        JSON.stringify({ alias: 'fails', command: 'echo about to fail >&2; exit 3', cpu: 100, memory: 16 }),
      );
      expect((await galley(server.url, ['task', 'create', '-f', file])).code).toBe(0);
      expect((await galley(server.url, ['task', 'show', 'fails'])).stdout).toContain('"alias": "fails"');
      const cli = await galley(server.url, ['run', 'fails', '--follow']);
      expect(cli.code).toBe(3);
      expect(cli.stdout).toBe('about to fail\n');
      const runs = await galley(server.url, ['runs', '--alias', 'fails', '--json']);
      const page = JSON.parse(runs.stdout) as { history: Run[] };
      expect(page.history[0]).toMatchObject({ status: 'STOPPED', exit_code: 3 });
      const table = await galley(server.url, ['runs', '--alias', 'fails']);
      expect(table.stdout).toMatch(/fails\s+STOPPED\s+3/);
    });

    it('stops a sleeping run with SIGTERM, and SIGKILLs one that traps TERM after the grace period', async () => {
      await define({ alias: 'sleeper', command: 'echo sleeping; sleep 30', cpu: 100, memory: 16 });
      await define({
        alias: 'stubborn',
        command: "trap 'echo ignoring TERM' TERM; echo ready; while :; do sleep 0.1; done",
        cpu: 100,
        memory: 16,
      });
      const ids: Record<string, string> = {};
      for (const alias of ['sleeper', 'stubborn']) {
        const r = await galley(server.url, ['run', alias]);
        ids[alias] = r.stdout.trim();
        await eventually(async () => {
          const logs = await http<{ log: string }>(server.url, 'GET', `/${ids[alias]}/logs`);
          return /sleeping|ready/.test(logs.body.log) ? true : undefined;
        });
      }
      const stop1 = await galley(server.url, ['stop', ids['sleeper']!]);
      expect(stop1.code).toBe(0);
      expect(stop1.stdout).toMatch(/SIGTERM sent/);
      const s1 = await finished(ids['sleeper']!);
      expect(s1.exit_code).toBe(143);
      expect(s1.exit_reason).toMatch(/stopped by request/);

      const started = Date.now();
      await galley(server.url, ['stop', ids['stubborn']!]);
      const s2 = await finished(ids['stubborn']!);
      // A lower bound (taken before the stop was asked), which a loaded machine can only lengthen:
      // the 500 ms grace was given before the SIGKILL.
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      expect(s2.exit_code).toBeNull();
      expect(s2.exit_reason).toMatch(/killed/);
      const again = await galley(server.url, ['stop', ids['sleeper']!]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already finished/);
    });

    it('runs no more than the capacity at once: the rest wait QUEUED with a reason, and all finish', async () => {
      const log = join(dir, 'capacity.log');
      // Each run holds its cpus until the gate opens, so two of them wait however slow the machine.
      const gate = join(dir, 'capacity.gate');
      await define({
        alias: 'big',
        cpu: 1500,
        memory: 16,
        command: `echo start >> ${log}; while [ ! -e ${gate} ]; do sleep 0.05; done; sleep 0.5; echo end >> ${log}`,
      });
      const execute = () =>
        http<Run>(server.url, 'PUT', '/task/alias/big/execute', { run_tags: { owner_id: 'cap' } });
      const ids = (await Promise.all([execute(), execute(), execute()])).map((r) => r.body.run_id);
      let seen = '';
      await eventually(async () => {
        const runs = await Promise.all(ids.map(run));
        seen = runs.map((r) => `${r.status} (${r.queued_reason ?? 'no reason'})`).join(', ');
        return runs.filter((r) => r.status === 'QUEUED' && r.queued_reason).length === 2 ? true : undefined;
      }).catch(async (err: Error) => {
        // Open the gate anyway: runs left holding the cpus would fail the tests after this one.
        await writeFile(gate, '');
        throw new Error(`${err.message}; the runs were: ${seen}`);
      });
      await writeFile(gate, '');
      for (const id of ids) expect((await finished(id)).exit_code).toBe(0);
      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      expect(lines).toEqual(['start', 'end', 'start', 'end', 'start', 'end']);
      // Two of the three waited, and their timelines say why.
      const reasons = [];
      for (const id of ids) {
        const t = await http<{ events: { type: string; status: string; reason: string | null }[] }>(
          server.url,
          'GET',
          `/${id}/events`,
        );
        const waited = t.body.events.find((e) => e.type === 'unplaceable');
        if (waited) reasons.push(waited);
      }
      expect(reasons).toHaveLength(2);
      for (const r of reasons)
        expect(r).toMatchObject({
          status: 'QUEUED',
          reason: expect.stringMatching(/needs 1.5 cpus|waiting behind/),
        });
    });

    it('answers bad input with a clear 4xx, and the CLI says what was wrong', async () => {
      const noOwner = await http<{ code: string; fields: Record<string, string> }>(
        server.url,
        'PUT',
        '/task/alias/hello-flotilla/execute',
        { run_tags: {} },
      );
      expect(noOwner.status).toBe(400);
      expect(noOwner.body.fields).toHaveProperty(['body.run_tags.owner_id']);
      const dup = await define({ alias: 'hello-flotilla' });
      expect(dup.status).toBe(409);
      const bad = await fetch(`${server.url}/api/v1/task`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{nope',
      });
      expect(bad.status).toBe(400);
      const ghost = await galley(server.url, ['run', 'ghost']);
      expect(ghost.code).toBe(1);
      expect(ghost.stderr).toMatch(/ghost.*does not exist/);
      const badEnv = await galley(server.url, ['run', 'hello-flotilla', '--env', 'NOEQUALS']);
      expect(badEnv.code).toBe(2);
    });

    it('loses no accepted run and launches none twice when the server is SIGKILLed and restarted', async () => {
      const marks = join(dir, 'marks.log');
      await define({
        alias: 'mark',
        cpu: 1000,
        memory: 16,
        // Each run ends once the file $GATE exists: the test decides when, however slow the machine.
        command: `echo "$GALLEY_RUN_ID" >> ${marks}; while [ ! -e "$GATE" ]; do sleep 0.05; done`,
      });
      const exec = async (gate: string) =>
        (
          await http<Run>(server.url, 'PUT', '/task/alias/mark/execute', {
            run_tags: { owner_id: 'crash' },
            env: [{ name: 'GATE', value: gate }],
          })
        ).body.run_id;
      const whileDown = join(dir, 'while-down.gate');
      const afterRestart = join(dir, 'after-restart.gate');
      // Capacity is 2 cpus: two run (one ends while the server is down, one outlives the restart), two wait.
      const endsWhileDown = await exec(whileDown);
      const outlives = await exec(afterRestart);
      await eventually(async () =>
        (await run(outlives)).status === 'RUNNING' && (await run(endsWhileDown)).status === 'RUNNING'
          ? true
          : undefined,
      );
      const queued = [await exec(dir), await exec(dir)];
      await eventually(async () => ((await run(queued[1]!)).queued_reason ? true : undefined));
      const launchedAt = async (id: string) =>
        (await http<{ attempts: { launched_at: string | null }[] }>(server.url, 'GET', `/${id}/events`)).body
          .attempts[0]?.launched_at;
      const launched = await launchedAt(outlives);
      expect(launched).toEqual(expect.any(String));

      await server.kill();
      // endsWhileDown finishes while nobody watches: its supervisor records the exit status in
      // the attempt's directory (<data>/runs/<run>/<seq>/exit).
      await writeFile(whileDown, '');
      const exitFile = join(dir, 'data', 'runs', endsWhileDown, '1', 'exit');
      await eventually(async () => (existsSync(exitFile) ? true : undefined), undefined, exitFile);
      server = await startServer(join(dir, 'data'), [...flags, '--log-level', 'info'], env);
      // It answered before it took over (the runs found again, the queued ones dispatched): the
      // API does not wait for the work in flight, and nothing below depends on its having been found.
      const taking = 'runs: taking over as the leader';
      const log = await eventually(async () =>
        server.output().includes(taking) ? server.output() : undefined,
      );
      expect(log.indexOf('"Galley listening"')).toBeGreaterThan(-1);
      expect(log.indexOf('"Galley listening"')).toBeLessThan(log.indexOf(taking));
      await writeFile(afterRestart, '');

      const all = [endsWhileDown, outlives, ...queued];
      for (const id of all) {
        const done = await finished(id);
        expect(done, id).toMatchObject({ status: 'STOPPED', exit_code: 0, attempt_count: 1 });
      }
      const lines = (await readFile(marks, 'utf8')).trim().split('\n').sort();
      expect(lines).toEqual([...all].sort());
      // Found again after the restart, it was still launched when it was.
      expect(await launchedAt(outlives)).toBe(launched);
      for (const id of all) {
        const timeline = await http<{ events: { type: string }[]; attempts: unknown[] }>(
          server.url,
          'GET',
          `/${id}/events`,
        );
        expect(timeline.body.attempts).toHaveLength(1);
        expect(timeline.body.events.filter((e) => e.type === 'ended')).toHaveLength(1);
      }
    });
  });
}

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, findPodman, TEST_IMAGE, TEST_IMAGE_MARK } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, http, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';
import { type ContainerRun, runReader, servedPage } from './harness.js';

// Runs in containers on the local backend, end to end: the BUILT server with Podman, an image
// built by the test (no registry), the real API and CLI, containers checked with podman itself.

const built = builtGalley('containers e2e (runs)').available;
const podman = await findPodman('containers e2e (runs)');

type Run = ContainerRun;

/** Host ports this suite's server hands out (apart from the other suites'). */
const PORTS = '41000-41019';

describe.runIf(built && podman.available)('runs in containers on the local backend (Podman)', PATIENT, () => {
  const p = podman.available ? podman.service : null!;
  let dir: string;
  let data: string;
  let server: ServerProcess;
  const flags = [
    '--container-runtime',
    'podman',
    '--local-ports',
    PORTS,
    '--stop-grace-ms',
    '2000',
    '--adopt-check-ms',
    '100',
    '--log-follow-ms',
    '50',
  ];
  const url = () => server.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-containers-'));
    data = join(dir, 'data');
    server = await startServer(data, flags);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    // Nothing of a failed test outlives the suite (a run's container is removed when it ends).
    for (const id of started)
      for (const c of await containersOf(`${id}.1`)) await p.run(['rm', '-f', c.name]);
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  const { run, finished, logs } = runReader(url);
  const define = async (body: Record<string, unknown>) => {
    const res = await http(url(), 'POST', '/task', {
      group_name: 'containers',
      memory: 128,
      cpu: 500,
      ...body,
    });
    expect(res.status).toBe(200);
  };
  const started: string[] = [];
  const execute = async (alias: string, body: Record<string, unknown> = {}) => {
    const res = await http<Run>(url(), 'PUT', `/task/alias/${alias}/execute`, {
      run_tags: { owner_id: 'tester' },
      ...body,
    });
    expect(res.status).toBe(200);
    started.push(res.body.run_id);
    return res.body.run_id;
  };
  /** The containers labelled with an attempt's id, and their state (`running`, `exited`, …). */
  const containersOf = async (attemptId: string) => {
    const names = (
      await p.run(['ps', '-a', '--filter', `label=galley.id=${attemptId}`, '--format', '{{.Names}}'])
    ).stdout
      .split('\n')
      .filter(Boolean);
    const out: { name: string; status: string }[] = [];
    for (const name of names) {
      const r = await p.run(['inspect', '--format', '{{.State.Status}}', name]);
      out.push({ name, status: r.stdout.trim() || 'gone' });
    }
    return out;
  };

  it("runs Flotilla's hello world in its image: the image's /etc and busybox, not the host's; /clusters and the run say so", async () => {
    const clusters = await http<{ details: { runs_on_host: boolean; note: string }[] }>(
      url(),
      'GET',
      '/clusters',
    );
    expect(clusters.body.details[0]).toMatchObject({ runs_on_host: false });
    expect(clusters.body.details[0]!.note).toContain('podman');

    await define({
      alias: 'hello-flotilla',
      image: TEST_IMAGE,
      env: [{ name: 'USERNAME', value: '_fill_me_in_' }],
      command:
        'echo "hello ${USERNAME}"; cat /etc/galley-test-image; readlink /bin/sh; test -e /etc/os-release || echo "no os-release"; echo "run=$FLOTILLA_RUN_ID"',
    });
    const id = await execute('hello-flotilla', {
      cluster: 'default',
      env: [{ name: 'USERNAME', value: 'yourusername' }],
    });
    const done = await finished(id);
    expect(done).toMatchObject({ status: 'STOPPED', exit_code: 0, runs_on_host: false, image: TEST_IMAGE });
    const log = await logs(id);
    expect(log).toContain('hello yourusername');
    expect(log).toContain(TEST_IMAGE_MARK); // the image's /etc
    expect(log).toContain('busybox'); // the image's /bin/sh; the host's is not a link to busybox
    expect(log).toContain('no os-release'); // the host has one
    expect(log).toContain(`run=${id}`);
    // Its container is gone once it ended.
    await eventually(async () => ((await containersOf(`${id}.1`)).length === 0 ? true : undefined));

    // The CLI shows the image, the limits and the usage.
    const show = await galley(url(), ['runs', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(TEST_IMAGE);
    expect(show.stdout).toMatch(/limits\s+500m CPU, 128 MB/);
    expect(show.stdout).toContain('in a container');
  });

  it("gives a container its secrets by name, never on a command line nor in its env file, and none of the server's environment", async () => {
    const pem = `-----BEGIN KEY-----\nsecret-${process.pid}\n-----END KEY-----`;
    const token = `token-${process.pid}-Qv2`;
    expect((await http(url(), 'PUT', '/secrets/pem', { value: pem })).status).toBe(201);
    expect((await http(url(), 'PUT', '/secrets/token', { value: token })).status).toBe(201);
    await define({
      alias: 'container-secret',
      image: TEST_IMAGE,
      env: [
        { name: 'PEM', value: 'secret:pem' },
        { name: 'TOKEN', value: 'secret:token' },
        { name: 'PLAIN', value: 'plain-value' },
      ],
      // The server's own GALLEY_LOG_LEVEL and GALLEY_CONTAINER_RUNTIME (startGalley sets them).
      command:
        'printf %s "$PEM" | sha256sum; printf %s "$TOKEN" | sha256sum; echo "plain=$PLAIN"; echo "leaked=$(env | grep -cE "^(GALLEY_LOG_LEVEL|GALLEY_CONTAINER_RUNTIME|VAULT_|DATABASE_URL)=")"',
    });
    const id = await execute('container-secret', { cluster: 'default' });
    expect(await finished(id)).toMatchObject({ exit_code: 0 });
    const log = await logs(id);
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    expect(log).toContain(sha(pem));
    expect(log).toContain(sha(token));
    expect(log).toContain('plain=plain-value\n');
    expect(log).toContain('leaked=0\n');
    // What stays on disk with the run's output: the plain variable, no secret.
    const envFile = await readFile(join(data, 'runs', id, '1', 'container.env'), 'utf8');
    expect(envFile).toContain('PLAIN=plain-value');
    expect(envFile).not.toContain(token);
    expect(envFile).not.toContain(`secret-${process.pid}`);
  });

  it('reads the peak memory of a job that allocates ~100 MB within 20%, and its CPU', async () => {
    await define({
      alias: 'alloc',
      image: TEST_IMAGE,
      memory: 512,
      // dd's block is one buffer of 100 MiB, every page of it written by the read from /dev/zero.
      command: 'dd if=/dev/zero of=/dev/null bs=100M count=3 && sleep 1',
    });
    const done = await finished(await execute('alloc'));
    expect(done).toMatchObject({ status: 'STOPPED', exit_code: 0, run_exceptions: null });
    expect(done.max_memory_used).toBeGreaterThanOrEqual(80);
    expect(done.max_memory_used).toBeLessThanOrEqual(120);
    expect(done.max_cpu_used).toBeGreaterThan(0);
  });

  it('kills a job that exceeds its memory limit and says so: exit reason, run_exceptions, the peak at the limit', async () => {
    await define({
      alias: 'hog',
      image: TEST_IMAGE,
      memory: 64,
      command: 'echo start; dd if=/dev/zero of=/dev/null bs=256M count=1',
    });
    const id = await execute('hog');
    const done = await finished(id);
    expect(done.status).toBe('STOPPED');
    expect(done.exit_reason).toContain('out of memory (limit 64 MB)');
    expect(done.run_exceptions).toHaveLength(1);
    expect(done.run_exceptions![0]).toContain('out of memory');
    expect(done.max_memory_used).toBeGreaterThanOrEqual(60);
    expect(done.max_memory_used).toBeLessThanOrEqual(70);
    expect(done.attempt_count).toBe(1);
    expect(await logs(id)).toContain('start');
  });

  it("publishes a run's port: PORT0 is a host port of the range, and it answers from inside the container", async () => {
    await define({
      alias: 'web',
      image: TEST_IMAGE,
      ports: [8080],
      command: 'echo "port=$PORT0 mapped=$PORT_8080"; exec httpd -f -p 8080 -h /www',
    });
    const id = await execute('web');
    const port = await eventually(async () => /port=(\d+) mapped=\1/.exec(await logs(id))?.[1]);
    expect(Number(port)).toBeGreaterThanOrEqual(41000);
    expect(Number(port)).toBeLessThanOrEqual(41019);
    expect(await servedPage(port!)).toContain('hello from the galley test image');
    expect((await run(id)).status).toBe('RUNNING');
    expect((await galley(url(), ['stop', id])).code).toBe(0);
    const done = await finished(id);
    expect(done.exit_code).toBe(143); // httpd ended on the SIGTERM the runtime passed on
    await eventually(async () => ((await containersOf(`${id}.1`)).length === 0 ? true : undefined));
  });

  it('kills a container that ignores SIGTERM after the grace period, through its runtime', async () => {
    await define({
      alias: 'stubborn',
      image: TEST_IMAGE,
      command: 'trap "" TERM; echo ready; while true; do sleep 0.2; done',
    });
    const id = await execute('stubborn');
    await eventually(async () => ((await logs(id)).includes('ready') ? true : undefined));
    expect((await galley(url(), ['stop', id])).code).toBe(0);
    const done = await finished(id);
    expect(done.exit_reason).toMatch(/^stopped by request \((exited with code 137|killed)/);
    expect(done.run_exceptions).toBeNull(); // a stop is not an out-of-memory kill
    await eventually(async () => ((await containersOf(`${id}.1`)).length === 0 ? true : undefined));
  });

  it('fails a run whose image cannot be pulled, with the pull error, instead of hanging', async () => {
    await define({ alias: 'missing', image: 'localhost/galley-missing:1', command: 'echo never' });
    const id = await execute('missing');
    const done = await finished(id);
    expect(done.status).toBe('STOPPED');
    expect(done.exit_reason).toMatch(/image pull failed: .*galley-missing/);
    expect(done.attempt_count).toBe(1);
    expect(await readFile(join(data, 'runs', id, '1', 'stderr'), 'utf8')).toContain(
      'galley: pulling image localhost/galley-missing:1',
    );
  });

  it('adopts a running container after the server was SIGKILLed: the run ends once, its output kept being written', async () => {
    await define({
      alias: 'waits',
      image: TEST_IMAGE,
      command: 'echo begin; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo end; exit 3',
    });
    const id = await execute('waits');
    await eventually(async () => ((await run(id)).status === 'RUNNING' ? true : undefined));
    await eventually(async () => ((await logs(id)).includes('begin') ? true : undefined));
    await server.kill();
    // The server is gone; its container is not.
    const [alive] = await containersOf(`${id}.1`);
    expect(alive?.status).toBe('running');
    const name = alive!.name;

    // Left by a server that died before removing them: an ended container of this data dir goes
    // at the restart; another server's stays.
    const leftover = `galley-leftover-${Date.now()}`;
    const others = `galley-others-${Date.now()}`;
    expect(
      (
        await p.run([
          'create',
          '--name',
          leftover,
          '--label',
          `galley.dir=${data}/runs/x/1`,
          TEST_IMAGE,
          'true',
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await p.run([
          'create',
          '--name',
          others,
          '--label',
          `galley.dir=${dir}/other/runs/x/1`,
          TEST_IMAGE,
          'true',
        ])
      ).code,
    ).toBe(0);

    // …and an empty container cgroup whose container is gone (its server stopped before it emptied).
    const hierarchy = ['/sys/fs/cgroup/memory/galley', '/sys/fs/cgroup/galley'].find((d) => existsSync(d));
    const stray = hierarchy && join(hierarchy, `galley-stray-${Date.now()}`);
    if (stray) await mkdir(stray);

    server = await startServer(data, flags);
    expect((await run(id)).status).toBe('RUNNING');
    await eventually(async () =>
      (await p.run(['container', 'exists', leftover])).code !== 0 ? true : undefined,
    );
    if (stray) await eventually(async () => (existsSync(stray) ? undefined : true));
    expect((await p.run(['container', 'exists', others])).code).toBe(0);
    await p.run(['rm', '-f', others]);
    // Adopted: it is still running, and this server hears its end.
    expect((await p.run(['exec', name, 'touch', '/tmp/go'])).code).toBe(0);
    const done = await finished(id);
    expect(done).toMatchObject({ status: 'STOPPED', exit_code: 3, attempt_count: 1 });
    expect(await logs(id)).toMatch(/begin\n[\s\S]*end/);
    const events = await http<{ events: { type: string }[] }>(url(), 'GET', `/${id}/events`);
    expect(events.body.events.filter((e) => e.type === 'ended')).toHaveLength(1);
    expect(events.body.events.filter((e) => e.type === 'launching')).toHaveLength(1);
    await eventually(async () => ((await containersOf(`${id}.1`)).length === 0 ? true : undefined));
  });

  it('runs a run without an image on the host, and says so', async () => {
    await define({
      alias: 'no-image',
      image: '',
      memory: 1,
      command: 'test -e /etc/galley-test-image || echo on-the-host',
    });
    const id = await execute('no-image');
    expect(await finished(id)).toMatchObject({ exit_code: 0, runs_on_host: true });
    expect(await logs(id)).toContain('on-the-host');
  });

  it('refuses at execute a run that needs a GPU: this cluster has none and can never have one', async () => {
    await define({ alias: 'gpu', image: TEST_IMAGE, gpu: 1, command: 'true' });
    const res = await http<{ code: string; fields: Record<string, string> }>(
      url(),
      'PUT',
      '/task/alias/gpu/execute',
      {
        run_tags: { owner_id: 'tester' },
      },
    );
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.fields)).toEqual(['body.gpu']);
  });
});

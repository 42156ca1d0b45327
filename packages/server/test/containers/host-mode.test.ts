import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, http, PATIENT, startServer, type ServerProcess } from '../e2e/harness.js';

// The same local backend with --container-runtime none (host mode): the BUILT server says so at
// start-up, in /clusters and on every run; ports come from the range as PORT0…, GPUs and more ports
// than the range holds are refused at execute, and usage is read from the run's processes.

const built = builtGalley('containers e2e (host mode)').available;

interface Run {
  run_id: string;
  status: string;
  exit_code: number | null;
  runs_on_host: boolean;
  max_memory_used: number | null;
  max_cpu_used: number | null;
}

describe.runIf(built)('the local backend in host mode (--container-runtime none)', PATIENT, () => {
  let dir: string;
  let server: ServerProcess;
  const url = () => server.url;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-hostmode-'));
    server = await startServer(join(dir, 'data'), [
      '--container-runtime',
      'none',
      '--local-ports',
      '41100-41101',
      '--log-level',
      'info',
    ]);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  const run = async (id: string) => (await http<Run>(url(), 'GET', `/history/${id}`)).body;
  const finished = (id: string) =>
    eventually(async () => ((await run(id)).status === 'STOPPED' ? run(id) : undefined));
  const logs = async (id: string) => (await http<{ log: string }>(url(), 'GET', `/${id}/logs`)).body.log;
  const define = async (body: Record<string, unknown>) =>
    expect(
      (
        await http(url(), 'POST', '/task', {
          group_name: 'host',
          image: 'ubuntu:latest',
          memory: 64,
          ...body,
        })
      ).status,
    ).toBe(200);
  const execute = (alias: string) =>
    http<Run & { fields?: Record<string, string> }>(url(), 'PUT', `/task/alias/${alias}/execute`, {
      run_tags: { owner_id: 'tester' },
    });

  it('says at start-up, in /clusters and on the run that commands run on the host without containers', async () => {
    // The local backend says how it runs as it starts, at the takeover: after the server listens.
    const started = await eventually(async () => {
      const text = server.output();
      return text.includes('local backend in host mode') ? text : undefined;
    });
    expect(started).toContain('host mode');
    const clusters = await http<{
      details: {
        runs_on_host: boolean;
        note: string;
        limits: Record<'memory' | 'cpu', { enforced: boolean; how: string }>;
      }[];
    }>(url(), 'GET', '/clusters');
    const local = clusters.body.details[0]!;
    expect(local.runs_on_host).toBe(true);
    expect(local.note).toContain('without containers');
    // Which limits hold, and how or why not (host-cgroups.test.ts shows them held).
    const memory = local.limits.memory;
    expect(memory.how).toMatch(
      memory.enforced ? /^a memory cgroup per run attempt/ : /^accounted, not enforced: /,
    );
    expect(started).toContain(memory.enforced ? 'memory limits hold' : 'memory is accounted, not enforced');
    await define({ alias: 'on-host', command: 'echo "hello from $(hostname)"' });
    const id = (await execute('on-host')).body.run_id;
    expect(await finished(id)).toMatchObject({ exit_code: 0, runs_on_host: true });
    const show = await galley(url(), ['runs', 'show', id]);
    expect(show.stdout).toContain('not used: the command runs on the host');
  });

  it('hands a run its ports from the range (PORT0…), and refuses one that needs more ports than the range has', async () => {
    await define({
      alias: 'ported',
      ports: [8080],
      command: 'echo "port=$PORT0 mapped=$PORT_8080 all=$PORTS"',
    });
    const id = (await execute('ported')).body.run_id;
    await finished(id);
    expect(await logs(id)).toMatch(/port=4110[01] mapped=4110[01] all=4110[01]/);

    await define({ alias: 'too-many', ports: [1, 2, 3], command: 'true' });
    const refused = await execute('too-many');
    expect(refused.status).toBe(422);
    expect(Object.keys(refused.body.fields ?? {})).toEqual(['definition.ports']);
  });

  it('refuses at execute a run that needs a GPU, naming the field', async () => {
    await define({ alias: 'gpu', gpu: 2, command: 'true' });
    const refused = await execute('gpu');
    expect(refused.status).toBe(422);
    expect(refused.body.fields?.['body.gpu']).toContain('no GPU');
  });

  it("reads a host run's peak memory and CPU from its processes", async () => {
    // The shell holds a 40 MB variable for a few seconds: long enough for the samples to see it
    // (building it takes more than 64 MB, which a host cgroup would hold it to).
    await define({
      alias: 'holds',
      memory: 256,
      command: 'x=$(head -c 40000000 /dev/zero | tr "\\000" a); sleep 3; echo ${#x}',
    });
    const id = (await execute('holds')).body.run_id;
    const done = await finished(id);
    expect(done.exit_code).toBe(0);
    expect(await logs(id)).toContain('40000000');
    expect(done.max_memory_used).toBeGreaterThanOrEqual(30);
    expect(done.max_cpu_used).not.toBeNull();
  });
});

import { builtGalley, startGalley } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, galley, http, PATIENT, type ServerProcess } from '../e2e/harness.js';

// `galley run` takes every field of an execute as a flag: the BUILT CLI against the BUILT server.

const built = builtGalley('galley run flags').available;

interface Run {
  run_id: string;
  status: string;
  exit_code: number | null;
  command: string;
  memory: number;
  cpu: number;
  gpu: number;
  disk: number;
  cluster: string;
  description: string | null;
  idempotence_key: string | null;
  active_deadline_seconds: number | null;
  owner_id: string;
  run_tags: Record<string, string>;
  env: { name: string; value: string }[];
  constraints: string[];
  engine: string;
}

describe.runIf(built)('galley run: every execute field as a flag', PATIENT, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    // A new temporary data directory, removed by stop().
    server = await startGalley({ args: ['--local-cpus', '2', '--log-follow-ms', '50'] });
    const created = await http(server.url, 'POST', '/task', {
      alias: 'flags',
      group_name: 'cli',
      image: 'ubuntu:latest',
      memory: 512,
      cpu: 1000,
      command: 'echo from-definition',
      env: [{ name: 'A', value: 'definition' }],
    });
    expect(created.status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 120_000);

  it('sends memory, cpu, gpu, disk, description, deadline, cluster, command, owner, tags, env, idempotence key, constraints and engine', async () => {
    const args = [
      'run',
      'flags',
      '--memory',
      '64',
      '--cpu',
      '250',
      '--gpu',
      '0',
      '--disk',
      '10',
      '--description',
      'from the CLI',
      '--deadline',
      '30',
      '--cluster',
      'default',
      '--command',
      'echo "from-flag $A"',
      '--owner',
      'alice',
      '--tag',
      'team=data',
      '--env',
      'A=flag',
      '--idempotence-key',
      'cli-run-1',
      '--constraint',
      'zone:a',
      '--engine',
      'eks',
      '--json',
    ];
    const first = await galley(server.url, args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const answered = JSON.parse(first.stdout) as Run;
    const run = (await http<Run>(server.url, 'GET', `/history/${answered.run_id}`)).body;
    expect(run).toMatchObject({
      command: 'echo "from-flag $A"',
      memory: 64,
      cpu: 250,
      gpu: 0,
      disk: 10,
      cluster: 'local',
      description: 'from the CLI',
      idempotence_key: 'cli-run-1',
      active_deadline_seconds: 30,
      owner_id: 'alice',
      constraints: ['zone:a'],
      engine: 'local',
    });
    // Other run tags are accepted (as by Flotilla); the server keeps owner_id.
    expect(run.run_tags).toMatchObject({ owner_id: 'alice' });
    expect(run.env).toContainEqual({ name: 'A', value: 'flag' });

    // The same idempotence key answers the earlier run.
    const again = await galley(server.url, args);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as Run).run_id).toBe(answered.run_id);
  });

  it('runs with --follow and the overrides in force, exiting with the exit code', async () => {
    const followed = await galley(server.url, [
      'run',
      'flags',
      '--command',
      'echo "memory-flag $A"; exit 3',
      '--env',
      'A=set',
      '--memory',
      '32',
      '--deadline',
      '600',
      '--follow',
    ]);
    expect(followed.stdout).toContain('memory-flag set');
    expect(followed.code).toBe(3);
    const id = /run (\S+): STOPPED/.exec(followed.stderr)?.[1];
    expect(id).toBeDefined();
    const run = await eventually(async () => {
      const r = (await http<Run>(server.url, 'GET', `/history/${id}`)).body;
      return r.status === 'STOPPED' ? r : undefined;
    });
    expect(run).toMatchObject({ memory: 32, active_deadline_seconds: 600, exit_code: 3 });
  });

  it('refuses a flag that is not a whole number, naming it, without asking the server', async () => {
    for (const [flag, value] of [
      ['--memory', 'lots'],
      ['--cpu', '0.5'],
      ['--gpu', '-1'],
      ['--deadline', '0'],
    ] as const) {
      const bad = await galley(server.url, ['run', 'flags', flag, value]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${flag}: expected a whole number`);
    }
  });

  it('passes the server’s refusal on: a GPU on a machine without one is a 422 naming gpu', async () => {
    const gpu = await galley(server.url, ['run', 'flags', '--gpu', '1']);
    expect(gpu.code).toBe(1);
    expect(gpu.stderr).toContain('gpu');
  });
});

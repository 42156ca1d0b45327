import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** Runs an example as its own process (on the built dist/), without MESOS_MASTER: it starts a fake master. */
function runExample(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.MESOS_MASTER;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `packages/mesos/examples/${name}`], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples, each run as a process against the fake master it starts', () => {
  it('command-scheduler.ts runs its 3 hello tasks to completion on the fake master and exits 0', async () => {
    const { code, stdout, stderr } = await runExample('command-scheduler.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^started a fake Mesos master at http:\/\/127\.0\.0\.1:\d+$/m);
    for (const n of [1, 2, 3]) expect(stdout).toMatch(new RegExp(`^hello-${n} finished$`, 'm'));
    expect(stdout.trim().split('\n').at(-1)).toBe('all 3 tasks finished');
  }, 60_000);

  it('task-group-scheduler.ts runs its pod (app + sidecar) in one LAUNCH_GROUP on the fake master and exits 0', async () => {
    const { code, stdout, stderr } = await runExample('task-group-scheduler.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^launching pod-\w+ \(app \+ sidecar\) on agent \S+$/m);
    expect(stdout).toMatch(/^pod-\w+\.app is TASK_FINISHED/m);
    expect(stdout).toMatch(/^pod-\w+\.sidecar is TASK_FINISHED/m);
    expect(stdout.trim().split('\n').at(-1)).toBe('the pod finished: app and sidecar exited 0');
  }, 60_000);
});

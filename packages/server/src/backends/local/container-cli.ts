import { execFile } from 'node:child_process';
import { type ContainerRuntime, type ContainerState, DIR_LABEL } from './container-runtime.js';

/**
 * Asking a runtime about the containers Galley started, through its CLI: their state (inspect),
 * signals, removal, the ended ones a restarted server still has to clean up, and `exec` for health
 * checks. Kept apart from the command line that starts a container (container-runtime.ts) because
 * these are the questions a supervisor asks while one runs and after it ended, and after a
 * restart, when nothing else is known of it but its name and labels.
 */

/** Runs the runtime's CLI; answers its exit code and output (never throws for a failing command). */
export function runCli(
  runtime: Pick<ContainerRuntime, 'cli' | 'env'>,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      runtime.cli,
      args,
      { env: runtime.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (err && !stderr ? err.message : '')),
        });
      },
    );
  });
}

/** The container's state; null when there is no such container. */
export async function inspectContainer(
  runtime: ContainerRuntime,
  name: string,
): Promise<ContainerState | null> {
  const r = await runCli(
    runtime,
    ['inspect', '--type', 'container', '--format', '{{json .State}}', name],
    30_000,
  );
  if (r.code !== 0) return null;
  try {
    const s = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    const time = (v: unknown): number | null => {
      const ms = Date.parse(String(v ?? ''));
      return Number.isFinite(ms) && ms > 0 ? ms : null;
    };
    const startedAt = time(s['StartedAt']);
    return {
      status: String(s['Status'] ?? ''),
      running: s['Running'] === true,
      exitCode: Number(s['ExitCode'] ?? 0),
      oomKilled: s['OOMKilled'] === true,
      pid: Number(s['Pid'] ?? 0),
      started: startedAt !== null,
      startedAt,
      finishedAt: time(s['FinishedAt']),
    };
  } catch {
    return null;
  }
}

/** Sends `signal` to the container's main process; answers whether it was sent. */
export async function killContainer(
  runtime: ContainerRuntime,
  name: string,
  signal: 'TERM' | 'KILL',
): Promise<boolean> {
  return (await runCli(runtime, ['kill', '--signal', signal, name], 30_000)).code === 0;
}

/** Removes the container (killing it if it still runs); a missing one is not an error. */
export async function removeContainer(runtime: ContainerRuntime, name: string): Promise<void> {
  await runCli(runtime, ['rm', '--force', name], 60_000);
}

/**
 * Ended containers (exited, or created and never started) whose supervisor directory is under
 * `prefix`: name and directory.
 */
export async function endedContainers(
  runtime: ContainerRuntime,
  prefix: string,
): Promise<{ name: string; dir: string }[]> {
  const r = await runCli(runtime, [
    'ps',
    '--all',
    '--filter',
    `label=${DIR_LABEL}`,
    '--filter',
    'status=exited',
    '--filter',
    'status=created',
    '--format',
    `{{.Names}}\t{{index .Labels "${DIR_LABEL}"}}`,
  ]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f): f is [string, string] => f.length === 2 && f[1]!.startsWith(prefix))
    .map(([name, dir]) => ({ name, dir }));
}

/** The command that runs `script` in the container (a pipeline process's COMMAND health check). */
export function execCommand(
  runtime: ContainerRuntime,
  name: string,
  script: string,
): { file: string; args: string[]; env: Record<string, string> } {
  return { file: runtime.cli, args: ['exec', name, '/bin/sh', '-c', script], env: runtime.env };
}

/** The last line of a CLI's error output, without its `Error: ` prefix. */
export function lastWords(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((l) => /^Error[: ]/i.test(l)) ?? lines.at(-1) ?? 'no message';
  return error.replace(/^Error:\s*/i, '').slice(0, 500);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitResult, RunHooks, RunningCommand } from './runners.js';

/**
 * Runs a CommandInfo as a real local process in its own process group, with `stdout` and
 * `stderr` files in the sandbox: `shell: true` (default) runs `/bin/sh -c value`; `shell: false`
 * runs `value` with `arguments` as argv (`arguments[0]` is argv[0]). Signals go to the whole group.
 */

/** Processes still running, so the fake can kill them all when it stops. */
export class ProcessRegistry {
  private readonly children = new Set<ChildProcess>();
  private readonly cleanups: (() => void)[] = [];

  add(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Also done by killAll: what outlives the processes (containers of a container runtime). */
  onKillAll(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** SIGKILLs every process group still alive. */
  killAll(): void {
    for (const child of this.children) signalGroup(child, 'SIGKILL');
    this.children.clear();
    for (const cleanup of this.cleanups) cleanup();
  }
}

/** Sends `signal` to the child's process group (or the child alone); ignored once it exited. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** What to run and where. */
export interface ProcessLaunch {
  readonly command: Record<string, unknown>;
  /** The sandbox: working directory, and where `stdout` / `stderr` are written. */
  readonly directory: string;
  readonly env: Record<string, string>;
}

/** Starts the command; hooks report spawn and exit (or a spawn error). */
export function runProcess(
  launch: ProcessLaunch,
  registry: ProcessRegistry,
  hooks: RunHooks,
): RunningCommand {
  mkdirSync(launch.directory, { recursive: true });
  const out = openSync(join(launch.directory, 'stdout'), 'a');
  const err = openSync(join(launch.directory, 'stderr'), 'a');
  const value = typeof launch.command.value === 'string' ? launch.command.value : '';
  const args = Array.isArray(launch.command.arguments) ? launch.command.arguments.map(String) : [];
  const shell = launch.command.shell !== false;
  let child: ChildProcess;
  try {
    child = shell
      ? spawn('/bin/sh', ['-c', value], {
          cwd: launch.directory,
          env: launch.env,
          detached: true,
          stdio: ['ignore', out, err],
        })
      : spawn(value, args.slice(1), {
          argv0: args[0] ?? value,
          cwd: launch.directory,
          env: launch.env,
          detached: true,
          stdio: ['ignore', out, err],
        });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  registry.add(child);
  if (child.pid !== undefined) hooks.onFork?.(child.pid);
  let spawned = false;
  let exited = false;
  child.once('spawn', () => {
    spawned = true;
    hooks.onSpawned(child.pid ?? 0);
  });
  child.once('error', (error) => {
    if (!spawned && !exited) {
      exited = true;
      hooks.onSpawnError?.(error.message);
    }
  });
  child.once('exit', (code, signal) => {
    if (exited) return;
    exited = true;
    const result: ExitResult = { code, signal };
    hooks.onExit(result);
  });
  return {
    signal: (signal) => signalGroup(child, signal),
    cancel: () => signalGroup(child, 'SIGKILL'),
  };
}

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../model/world.js';
import type { FakeContainerRuntime, TaskImage } from './image-runtime.js';
import { cgroupMemoryPeak, cgroupMemoryStat, removeCgroupTree } from './monitor-readings.js';
import type { ProcessRegistry } from './process-runner.js';
import type { ExitLimitation, ExitResult, RunHooks, RunningCommand } from './runners.js';

/**
 * Runs a task's command inside its image through a local container runtime (Podman's CLI), as a
 * real agent's containerizer would: `create` (a missing image fails the launch as Mesos' fetcher
 * does), then `start --attach` in the foreground with the output passed straight into the
 * sandbox's `stdout` / `stderr` (`--log-driver passthrough`), the sandbox mounted at
 * `/mnt/mesos/sandbox` (MESOS_SANDBOX) and the working directory. Memory (`--memory` =
 * `--memory-swap`, no swap, as the cgroups/mem isolator's hard limit) and CPU (`--cpus`) limits
 * come from the task's resources. Signals go through `kill --signal`; `--init` hands them to the
 * command. Only local images are used (`--pull never`: the fake has no registry).
 *
 * An OOM kill (SIGKILL at the limit: `State.OOMKilled`, or the container's own parent cgroup's
 * peak at the limit) ends with the cgroups/mem isolator's limitation, worded as
 * `CgroupsMemIsolatorProcess::oom` words it: "Memory limit exceeded: Requested: 96MB Maximum Used:
 * 96MB\n\nMEMORY STATISTICS: \n<memory.stat>\n".
 */

/** What a container is given to run. */
export interface ImageLaunch {
  /** The container's name (the task's container id). */
  name: string;
  image: TaskImage;
  /** The CommandInfo: `shell` (default) runs `/bin/sh -c value`; otherwise `value` with `arguments[1..]`. */
  command: JsonObject;
  /** The sandbox on the host. */
  directory: string;
  /** The environment inside the container. */
  env: Record<string, string>;
  /** Memory limit in MB (0 = none). */
  memMb: number;
  /** CPU limit (0 = none). */
  cpus: number;
}

/** A running container, and where its usage is read. */
export interface ImageRun extends RunningCommand {
  /** The cgroup its figures are read from (relative to each hierarchy); undefined until known or once gone. */
  cgroup(): Promise<string | undefined>;
}

/** Why a container ended beyond its exit: a resource limitation, as the isolator reports it. */
export interface ContainerLimitation extends ExitLimitation {
  reason: 'REASON_CONTAINER_LIMITATION_MEMORY';
  message: string;
  /** `TaskStatus.limitation.resources`: the memory it used, in MB. */
  resources: JsonObject[];
}

/** Where the sandbox is inside the container (Mesos' `--sandbox_directory`). */
export const CONTAINER_SANDBOX = '/mnt/mesos/sandbox';

/** A SIGKILLed container whose peak reached this share of its limit was killed by the kernel. */
const OOM_SHARE = 0.97;

/** Runtimes refuse a memory limit below 6 MB. */
const MIN_MEMORY_MB = 6;

/** Variables the CLI itself needs: given on the command line rather than taken from its environment. */
const CLI_VARIABLES = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'CONTAINERS_CONF',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
]);

type Cli = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

function cliOf(runtime: FakeContainerRuntime): Cli {
  return (args) =>
    new Promise((resolve) => {
      execFile(
        runtime.command,
        [...(runtime.args ?? []), ...args],
        { env: runtime.env ?? process.env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
}

/** Containers still there, per registry, removed when the fake stops. */
const live = new WeakMap<ProcessRegistry, Set<string>>();

function remember(registry: ProcessRegistry, runtime: FakeContainerRuntime, name: string): () => void {
  let names = live.get(registry);
  if (names === undefined) {
    const set = new Set<string>();
    live.set(registry, (names = set));
    registry.onKillAll(() => {
      if (set.size === 0) return;
      spawnSync(runtime.command, [...(runtime.args ?? []), 'rm', '--force', '--time', '0', ...set], {
        env: runtime.env ?? process.env,
        stdio: 'ignore',
        timeout: 60_000,
      });
      set.clear();
    });
  }
  names.add(name);
  const set = names;
  return () => set.delete(name);
}

/** The arguments of `create`. */
export function createArgs(launch: ImageLaunch, cgroupParent: string | undefined): string[] {
  const args = ['create', '--name', launch.name, '--pull', 'never', '--init', '--log-driver', 'passthrough'];
  if (cgroupParent !== undefined) args.push('--cgroup-parent', cgroupParent);
  if (launch.memMb > 0) {
    const mb = Math.max(MIN_MEMORY_MB, Math.ceil(launch.memMb));
    args.push('--memory', `${mb}m`, '--memory-swap', `${mb}m`);
  }
  if (launch.cpus > 0) args.push('--cpus', String(Math.round(launch.cpus * 1000) / 1000));
  args.push('--volume', `${launch.directory}:${CONTAINER_SANDBOX}`, '--workdir', CONTAINER_SANDBOX);
  for (const [name, value] of Object.entries(launch.env))
    args.push('--env', CLI_VARIABLES.has(name) ? `${name}=${value}` : name);
  const value = typeof launch.command.value === 'string' ? launch.command.value : '';
  const argv = Array.isArray(launch.command.arguments) ? launch.command.arguments.map(String) : [];
  if (launch.command.shell !== false) args.push('--entrypoint', '/bin/sh', launch.image.name, '-c', value);
  else if (value !== '') args.push('--entrypoint', value, launch.image.name, ...argv.slice(1));
  else args.push(launch.image.name);
  return args;
}

/** What the agent says when the image cannot be had (Mesos' fetcher / the Docker containerizer's pull). */
export function imageLaunchError(image: TaskImage, runtimeError: string): string {
  if (image.containerizer === 'mesos' && /image not known|not found|no such image/i.test(runtimeError))
    return "Unexpected HTTP response '404 Not Found' when trying to get the manifest";
  return `Failed to run 'docker pull ${image.name}': ${lastLine(runtimeError) || 'unknown error'}`;
}

/** stout's `Bytes` printing: the largest unit that loses nothing (`96MB`, `65532KB`, `123B`). */
export function stoutBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 4, 'TB'],
    [1024 ** 3, 'GB'],
    [1024 ** 2, 'MB'],
    [1024, 'KB'],
  ];
  if (bytes === 0) return '0B';
  for (const [size, unit] of units) if (bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}B`;
}

/** The cgroups/mem isolator's limitation for a container killed at `limitBytes`. */
export function memoryLimitation(
  limitBytes: number,
  peakBytes: number | undefined,
  memoryStat: string,
): ContainerLimitation {
  let message = `Memory limit exceeded: Requested: ${stoutBytes(limitBytes)} `;
  if (peakBytes !== undefined) message += `Maximum Used: ${stoutBytes(peakBytes)}\n`;
  message += `\nMEMORY STATISTICS: \n${memoryStat}\n`;
  const usedMb = Math.floor((peakBytes ?? limitBytes) / (1024 * 1024));
  return {
    reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
    message,
    resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: usedMb } }],
  };
}

const SIGNAL_NUMBER: Record<'SIGTERM' | 'SIGKILL', number> = { SIGTERM: 15, SIGKILL: 9 };

/** Starts the container; hooks report its start and end (or a launch error). */
export function runImage(
  launch: ImageLaunch,
  runtime: FakeContainerRuntime,
  registry: ProcessRegistry,
  hooks: RunHooks,
): ImageRun {
  const cli = cliOf(runtime);
  const parent = runtime.cgroupParent === undefined ? undefined : `${runtime.cgroupParent}/${launch.name}`;
  const forget = remember(registry, runtime, launch.name);
  let phase: 'creating' | 'running' | 'ended' = 'creating';
  let cancelled = false;
  let sent: 'SIGTERM' | 'SIGKILL' | undefined;
  let child: ChildProcess | undefined;
  let ownCgroup: Promise<string | undefined> | undefined;

  const cleanUp = async (): Promise<void> => {
    await cli(['rm', '--force', '--time', '0', launch.name]);
    forget();
    if (parent !== undefined) await removeCgroupTree(parent);
  };

  const ended = async (code: number | null): Promise<void> => {
    const inspected = await cli(['inspect', '--format', 'json', launch.name]);
    const state = parseState(inspected.stdout);
    const exitCode = state?.exitCode ?? code ?? -1;
    const limitBytes = Math.max(MIN_MEMORY_MB, Math.ceil(launch.memMb)) * 1024 * 1024;
    const peak = parent === undefined ? undefined : await cgroupMemoryPeak(parent);
    const stat = parent === undefined ? '' : await cgroupMemoryStat(parent);
    await cleanUp();
    let result: ExitResult;
    const oom =
      launch.memMb > 0 &&
      sent === undefined &&
      exitCode === 128 + SIGNAL_NUMBER.SIGKILL &&
      (state?.oomKilled === true || (peak !== undefined && peak >= limitBytes * OOM_SHARE));
    if (oom) {
      result = { code: null, signal: 'SIGKILL', limitation: memoryLimitation(limitBytes, peak, stat) };
    } else if (sent !== undefined && (exitCode === 128 + SIGNAL_NUMBER[sent] || exitCode === 137)) {
      result = { code: null, signal: exitCode === 137 ? 'SIGKILL' : sent };
    } else {
      result = { code: exitCode, signal: null };
    }
    phase = 'ended';
    hooks.onExit(result);
  };

  const start = (): void => {
    mkdirSync(launch.directory, { recursive: true });
    const out = openSync(join(launch.directory, 'stdout'), 'a');
    const err = openSync(join(launch.directory, 'stderr'), 'a');
    try {
      child = spawn(runtime.command, [...(runtime.args ?? []), 'start', '--attach', launch.name], {
        env: runtime.env ?? process.env,
        // conmon, started from here, writes an `oom` marker into its working directory when the
        // container is OOM-killed: the sandbox, not wherever the fake master's process runs.
        cwd: launch.directory,
        detached: true,
        stdio: ['ignore', out, err],
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    registry.add(child);
    phase = 'running';
    if (child.pid !== undefined) hooks.onFork?.(child.pid);
    child.once('spawn', () => hooks.onSpawned(child?.pid ?? 0));
    child.once('error', (error) => {
      if (phase !== 'running') return;
      phase = 'ended';
      void cleanUp();
      hooks.onSpawnError?.(error.message);
    });
    child.once('exit', (code) => {
      if (phase === 'running') void ended(code);
    });
  };

  const env = { ...(runtime.env ?? process.env) };
  for (const [name, value] of Object.entries(launch.env)) if (!CLI_VARIABLES.has(name)) env[name] = value;
  const creating = spawnCreate(runtime, createArgs(launch, parent), env);
  void creating.then(async (created) => {
    if (cancelled) {
      await cleanUp();
      return;
    }
    if (created.code !== 0) {
      phase = 'ended';
      await cleanUp();
      hooks.onSpawnError?.(imageLaunchError(launch.image, created.stderr));
      return;
    }
    start();
  });

  return {
    signal: (signal) => {
      if (phase !== 'running') return;
      sent = signal === 'SIGKILL' || sent === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM';
      void cli(['kill', '--signal', signal.replace(/^SIG/, ''), launch.name]);
    },
    cancel: () => {
      if (phase === 'creating') cancelled = true;
      else if (phase === 'running' && child !== undefined)
        void cli(['rm', '--force', '--time', '0', launch.name]);
    },
    cgroup: async () => {
      if (phase !== 'running') return undefined;
      if (parent !== undefined) return parent;
      ownCgroup ??= cli(['inspect', '--format', '{{.State.CgroupPath}}', launch.name]).then((r) =>
        r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined,
      );
      return ownCgroup;
    },
  };
}

/** `create` with the task's variables in the CLI's environment (`--env NAME` takes them from there). */
function spawnCreate(
  runtime: FakeContainerRuntime,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      runtime.command,
      [...(runtime.args ?? []), ...args],
      { env, timeout: 120_000 },
      (err, _out, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr: String(stderr) });
      },
    );
  });
}

/** `State.ExitCode` and `State.OOMKilled` of `inspect --format json`; undefined when unreadable. */
export function parseState(json: string): { exitCode: number; oomKilled: boolean } | undefined {
  try {
    const [first] = JSON.parse(json) as { State?: { ExitCode?: unknown; OOMKilled?: unknown } }[];
    const state = first?.State;
    if (typeof state?.ExitCode !== 'number') return undefined;
    return { exitCode: state.ExitCode, oomKilled: state.OOMKilled === true };
  } catch {
    return undefined;
  }
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}

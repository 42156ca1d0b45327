import type { Logger } from 'pino';
import type { ContainerLaunch, ContainerRecord, ContainerRuntime } from './container-runtime.js';
import type { HostCgroupRecord } from './host-cgroup.js';
import { type Usage, UsageMeter } from './usage.js';

/**
 * The words the Supervisor (supervised.ts) and its owners share — the handle an owner stores, how
 * a process ended, what a restart found — and the Supervisor's own record of one process, which the
 * pieces it is made of (supervised-stop.ts, supervised-containers.ts, supervised-usage.ts) read and
 * update. Apart so each of those pieces depends on the record, not on the Supervisor.
 */

/** What finds a supervised process again: the handle its owner stores (owners may add fields). */
export interface SupervisedHandle {
  pid: number;
  /** Start time of `pid` in clock ticks after boot (/proc/<pid>/stat), null when it was unreadable. */
  startTime: string | null;
  dir: string;
  /** The container's name, when it runs in one. */
  container?: string;
}

/**
 * How a supervised process ended: `exited` with its command's exit code (from the spawner, or
 * from its exit file, written `at`); `signalled` without an exit status (one that is gone after a
 * stop counts as SIGKILLed); `launch-failed`, it could not be started; `lost`, gone without an
 * exit status and no stop explains it (the host's fault). `stopped`: a stop signalled it first.
 */
export type SupervisedEnd = {
  stopped: boolean;
  at?: number;
  /** What it used, as far as it could be measured. */
  usage?: Usage;
  /** The kernel killed it for exceeding its memory limit (MB). */
  oom?: { limitMb: number };
} & (
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'launch-failed'; message: string }
  | { kind: 'lost'; message: string }
  /** Its container's image could not be pulled (the runtime's words). */
  | { kind: 'pull-failed'; message: string }
);

/** What a supervised process is, found again after a restart. */
export type FoundAgain =
  /** Alive and the same process: watched (by polling) from now on. */
  | { kind: 'adopted'; handle: SupervisedHandle }
  | { kind: 'ended'; end: SupervisedEnd }
  /** No exit status, no pid, no process and no directory: it never started. */
  | { kind: 'absent' };

/** The owner of one supervised process: told once when the spawner started it, once when it ended. */
export interface SupervisedWatcher {
  spawned(handle: SupervisedHandle): void;
  ended(end: SupervisedEnd): void;
}

/**
 * A command to run under the supervisor: in `dir` (made if needed; stdout and stderr go there) with
 * exactly `env`. With `container` (and a runtime), the container runs instead, with the launch's
 * own environment; `command` and `env` are then unused.
 */
export interface SupervisedCommand {
  dir: string;
  command: string;
  env: Record<string, string>;
  container?: ContainerLaunch;
  /** A host command's limits, enforced through its own cgroup where host cgroups work (0 = none). */
  limits?: { memMb: number; cpus: number };
}

export interface SupervisorOptions {
  /** How often polled processes are checked for their end (ms). */
  adoptCheckMs: number;
  logger: Logger;
  /** The runtime of commands that name a container; null or absent = host processes only. */
  runtime?: ContainerRuntime | null;
  /** How often the usage of running processes is sampled (ms; default 1000); logs are capped then too. */
  usageSampleMs?: number;
  /** Each process's stdout and stderr are kept within this many bytes; undefined = no cap. */
  logMaxBytes?: number;
  /**
   * The user host commands run as (`--run-as`, secrets/run-as.ts): the spawn switches to it, its
   * directory becomes its own, HOME is that directory; undefined = the server's user.
   */
  runAs?: { name: string; uid: number; gid: number };
  /** Containers' `--user` (an explicit `--run-as`); undefined = as the image says. */
  containerUser?: string;
}

/** One process, from its start (or adoption) until its end. */
export interface Supervised {
  id: string;
  dir: string;
  watcher: SupervisedWatcher;
  pid: number | null;
  startTime: string | null;
  /**
   * `spawner`: its end is reported by the spawner; `poll`: adopted (or its spawner died), checked by
   * polling; `container`: its supervisor is gone but its container runs, checked by inspecting it.
   */
  watch: 'spawner' | 'poll' | 'container';
  /** Its container, when it runs in one. */
  container: ContainerRecord | null;
  /** The cgroup its usage is read from (a container's, or its host cgroup); null: none (yet). */
  cgroup: string | null;
  /** A host process's own cgroup (host-cgroup.ts), which holds its limits; null: none. */
  hostCgroup: HostCgroupRecord | null;
  meter: UsageMeter;
  /** When it started (ms), for its average CPU; null when unknown. */
  startedAt: number | null;
  /** A check of it is under way (polling is not re-entered for it). */
  checking: boolean;
  /** Checks so far that found no pid for a `poll` process the spawner never confirmed. */
  pidChecks: number;
  /** A stop asked for before the pid was known (its grace, ms): signalled as soon as the pid is. */
  pendingStopMs: number | null;
  /** The first stop's sequence (SIGTERM sent once it resolves true). */
  stopping: Promise<boolean> | null;
  /** The stop signal (SIGTERM unless the process's drain contract names another). */
  stopSignal: NodeJS.Signals;
  stopped: boolean;
  ended: boolean;
}

/** A new record of process `id` (not yet tracked). */
export function newSupervised(
  id: string,
  dir: string,
  watcher: SupervisedWatcher,
  pid: number | null,
  startTime: string | null,
  watch: Supervised['watch'],
): Supervised {
  return {
    id,
    dir,
    watcher,
    pid,
    startTime,
    watch,
    pidChecks: 0,
    pendingStopMs: null,
    stopSignal: 'SIGTERM',
    stopping: null,
    stopped: false,
    ended: false,
    container: null,
    cgroup: null,
    hostCgroup: null,
    meter: new UsageMeter(),
    // Known from the spawner's report; an adopted one started before this server did.
    startedAt: null,
    checking: false,
  };
}

/** The handle of a supervised process, as its owner stores it. */
export function handleOf(s: Supervised, pid: number): SupervisedHandle {
  return {
    pid,
    startTime: s.startTime,
    dir: s.dir,
    ...(s.container ? { container: s.container.name } : {}),
  };
}

/** The `at` of an end, when it has one. */
export function endAt(end: SupervisedEnd): { at?: number } {
  return end.at === undefined ? {} : { at: end.at };
}

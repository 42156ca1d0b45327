import { access } from 'node:fs/promises';
import type { Logger } from 'pino';
import { readExitFile, readPidFile } from './attempt-files.js';
import { findProcesses, isSameProcess, readProc, scanProcs } from './proc.js';
import { Spawner, type SpawnerEvent } from './spawner.js';

/**
 * Supervised processes on this machine, for run attempts and pipeline processes alike: each is
 * `/bin/sh -c` under the supervisor script (attempt-files.ts) in its own session and process
 * group, started by the one shared Spawner in its directory with its environment. This module owns
 * the machinery both kinds share: starting, the stop sequence, watching processes the spawner
 * cannot report on (adopted after a restart, or left by a spawner that died) by polling, and
 * finding a process again after a restart. It answers in its own neutral words (SupervisedEnd);
 * each owner words the outcome its way and keeps its own bookkeeping (capacity, events).
 */

/** What finds a supervised process again: the handle its owner stores (owners may add fields). */
export interface SupervisedHandle {
  pid: number;
  /** Start time of `pid` in clock ticks after boot (/proc/<pid>/stat), null when it was unreadable. */
  startTime: string | null;
  dir: string;
}

/**
 * How a supervised process ended: `exited` with its command's exit code (from the spawner, or
 * from its exit file, written `at`); `signalled` without an exit status (one that is gone after a
 * stop counts as SIGKILLed); `launch-failed`, it could not be started; `lost`, gone without an
 * exit status and no stop explains it (the host's fault). `stopped`: a stop signalled it first.
 */
export type SupervisedEnd = { stopped: boolean; at?: number } & (
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'launch-failed'; message: string }
  | { kind: 'lost'; message: string }
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

/** A command to run under the supervisor: in `dir` (made if needed; stdout and stderr go there) with exactly `env`. */
export interface SupervisedCommand {
  dir: string;
  command: string;
  env: Record<string, string>;
}

export interface SupervisorOptions {
  /** How often polled processes are checked for their end (ms). */
  adoptCheckMs: number;
  logger: Logger;
}

/** Checks (every adoptCheckMs) for the pid of a process the lost spawner never confirmed. */
const PID_CHECKS = 20;

/** One process, from its start (or adoption) until its end. */
interface Supervised {
  id: string;
  dir: string;
  watcher: SupervisedWatcher;
  pid: number | null;
  startTime: string | null;
  /** `spawner`: its end is reported by the spawner; `poll`: adopted (or its spawner died), checked by polling. */
  watch: 'spawner' | 'poll';
  /** Checks so far that found no pid for a `poll` process the spawner never confirmed. */
  pidChecks: number;
  /** A stop asked for before the pid was known (its grace, ms): signalled as soon as the pid is. */
  pendingStopMs: number | null;
  /** The first stop's sequence (SIGTERM sent once it resolves true). */
  stopping: Promise<boolean> | null;
  stopped: boolean;
  ended: boolean;
}

/** Supervised processes of one server, run attempts and pipeline processes alike, by id. */
export class Supervisor {
  private readonly processes = new Map<string, Supervised>();
  private readonly spawner: Spawner;
  /** SIGKILL deadlines of stops; they outlive the main process (see `stopNow`). */
  private readonly kills = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: SupervisorOptions) {
    this.spawner = new Spawner(
      (e) => this.onSpawner(e),
      (reason) => this.onSpawnerLost(reason),
    );
  }

  /** Pid of the spawner helper, null when none runs (for tests of its loss). */
  get spawnerPid(): number | null {
    return this.spawner.pid;
  }

  /**
   * Starts `command` under the supervisor as `id` (unique among runs and pipeline processes).
   * `watcher` hears when it started and how it ended; a spawn that fails at once ends it now.
   */
  start(id: string, command: SupervisedCommand, watcher: SupervisedWatcher): void {
    const s = this.track(id, command.dir, watcher, null, null, 'spawner');
    try {
      this.spawner.spawn({ id, ...command });
    } catch (err) {
      this.finish(s, { kind: 'launch-failed', message: (err as Error).message, stopped: false });
    }
  }

  /**
   * After a restart: what the process `id` in `dir` is, from the handle its owner stored (null
   * when none), its exit and pid files and /proc. An adopted one is watched by polling from now
   * on (`watcher` hears its end); an ended or absent one is only answered. `launched`: its owner
   * knows it was started, so it is never `absent`.
   */
  async findAgain(
    id: string,
    dir: string,
    stored: Record<string, unknown> | null,
    watcher: SupervisedWatcher,
    launched: boolean,
  ): Promise<FoundAgain> {
    const exit = await readExitFile(dir);
    if (exit) return { kind: 'ended', end: { kind: 'exited', code: exit.code, at: exit.at, stopped: false } };
    const startTime = typeof stored?.['startTime'] === 'string' ? stored['startTime'] : null;
    let pid = typeof stored?.['pid'] === 'number' ? stored['pid'] : await readPidFile(dir);
    // The supervisor writes its pid first thing; without it, look for it by its argument.
    pid ??= (await findProcesses(dir))[0] ?? null;
    if (pid === null) {
      if (!launched && !(await exists(dir))) return { kind: 'absent' };
      return lostEnd('the process is gone and left no pid or exit status');
    }
    if (await isSameProcess(pid, startTime, dir)) {
      const s = this.track(id, dir, watcher, pid, (await readProc(pid))?.startTime ?? startTime, 'poll');
      this.poll();
      return { kind: 'adopted', handle: { pid, startTime: s.startTime, dir } };
    }
    // Dead: it may have written its exit status between our two looks.
    const late = await readExitFile(dir);
    if (late) return { kind: 'ended', end: { kind: 'exited', code: late.code, at: late.at, stopped: false } };
    return lostEnd('the process ended while the server was down and left no exit status');
  }

  /**
   * Stops process `id`: SIGTERM to its process group now, SIGKILL to the group after `graceMs`,
   * whether or not the main process ended meanwhile (a child that ignores SIGTERM dies too). Asked
   * again, the group gets SIGTERM again and keeps the first deadline. `not-running` when the
   * process is not (or no longer) here.
   */
  async stop(id: string, graceMs: number): Promise<'signalled' | 'not-running'> {
    const s = this.processes.get(id);
    if (!s || s.ended) return 'not-running';
    if (s.pid === null) {
      s.pendingStopMs ??= graceMs; // signalled the moment its pid is known
      return 'signalled';
    }
    if (s.watch === 'poll' && !(await isSameProcess(s.pid, s.startTime, s.dir))) return 'not-running';
    if (!s.stopping) s.stopping = this.stopNow(s, s.pid, graceMs);
    else if ((await s.stopping) && !s.ended) signalGroup(s.pid, 'SIGTERM');
    await s.stopping;
    return 'signalled';
  }

  /** Stops the helper and the SIGKILL deadlines; the processes keep running under their supervisors. */
  close(): void {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    for (const timer of this.kills) clearTimeout(timer);
    this.kills.clear();
    this.spawner.close();
  }

  private track(
    id: string,
    dir: string,
    watcher: SupervisedWatcher,
    pid: number | null,
    startTime: string | null,
    watch: Supervised['watch'],
  ): Supervised {
    const s: Supervised = {
      id,
      dir,
      watcher,
      pid,
      startTime,
      watch,
      pidChecks: 0,
      pendingStopMs: null,
      stopping: null,
      stopped: false,
      ended: false,
    };
    this.processes.set(id, s);
    return s;
  }

  private finish(s: Supervised, end: SupervisedEnd): void {
    if (s.ended) return;
    s.ended = true;
    if (this.processes.get(s.id) === s) this.processes.delete(s.id);
    s.watcher.ended(end);
  }

  /** A stop asked for before the pid was known, now that it is. */
  private stopPending(s: Supervised): void {
    if (s.pendingStopMs === null || s.pid === null || s.stopping) return;
    s.stopping = this.stopNow(s, s.pid, s.pendingStopMs);
    s.stopping.catch((err: unknown) => this.o.logger.warn({ err, id: s.id }, 'local backend: stop failed'));
  }

  /**
   * The stop sequence of the process group `pid` (the supervisor leads its own session and group):
   * SIGTERM now, SIGKILL after `graceMs`. The SIGKILL goes to the group even when the supervisor
   * ended meanwhile, as long as the group id is still provably ours: its leader (same pid, same
   * start time, a zombie included) still exists, or a process that was in its session when the
   * stop began still is. A pid stays allocated while any process is in its session, so neither
   * can be a reused id; a group that emptied and whose id may since have been reused is left
   * alone (there is nothing of ours left in it). Answers false when the leader ended before the
   * SIGTERM could be sent safely (its end is reported as usual).
   */
  private async stopNow(s: Supervised, pid: number, graceMs: number): Promise<boolean> {
    s.startTime ??= (await readProc(pid))?.startTime ?? null;
    const startTime = s.startTime;
    if (startTime === null) return false;
    const procs = await scanProcs();
    // The leader outlived the scan, so every process the scan saw in its session is of this group's session.
    if (!(await isLeader(pid, startTime))) return false;
    const witnesses = procs.filter(
      (p) => p.session === pid && p.pid !== pid && Number(p.startTime) >= Number(startTime),
    );
    signalGroup(pid, 'SIGTERM');
    s.stopped = true;
    const timer = setTimeout(() => {
      this.kills.delete(timer);
      stillOurs(pid, startTime, witnesses)
        .then((ours) => ours && signalGroup(pid, 'SIGKILL'))
        .catch((err: unknown) => this.o.logger.warn({ err, id: s.id }, 'local backend: SIGKILL failed'));
    }, graceMs);
    timer.unref();
    this.kills.add(timer);
    return true;
  }

  private onSpawner(e: SpawnerEvent): void {
    const s = this.processes.get(e.id);
    if (!s || s.ended || s.watch !== 'spawner') return;
    if (e.ev === 'spawned') {
      s.pid = e.pid;
      s.startTime = e.startTime;
      s.watcher.spawned({ pid: e.pid, startTime: e.startTime, dir: s.dir });
      this.stopPending(s);
    } else if (e.ev === 'exit') {
      this.finish(
        s,
        e.code !== null
          ? { kind: 'exited', code: e.code, stopped: s.stopped }
          : { kind: 'signalled', signal: e.signal ?? 'unknown', stopped: s.stopped },
      );
    } else {
      this.o.logger.warn({ id: e.id, message: e.message }, 'local backend: launch failed');
      this.finish(s, { kind: 'launch-failed', message: e.message, stopped: s.stopped });
    }
  }

  /** The spawner died: what it started keeps running; watch those by polling from now on. */
  private onSpawnerLost(reason: string): void {
    if (this.closed) return;
    this.o.logger.warn({ reason }, 'local backend: spawner lost; watching its processes by polling');
    for (const s of this.processes.values()) s.watch = 'poll';
    this.poll();
  }

  private poll(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => void this.checkPolled(), this.o.adoptCheckMs);
    this.pollTimer.unref();
  }

  private async checkPolled(): Promise<void> {
    const polled = [...this.processes.values()].filter((s) => s.watch === 'poll' && !s.ended);
    if (polled.length === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
      return;
    }
    for (const s of polled) {
      const end = await this.checkOne(s);
      if (end) this.finish(s, end);
    }
  }

  /** One look at a polled process: its end, or null while it lives (or its pid is still unknown). */
  private async checkOne(s: Supervised): Promise<SupervisedEnd | null> {
    const exit = await readExitFile(s.dir);
    if (exit) return { kind: 'exited', code: exit.code, at: exit.at, stopped: s.stopped };
    if (s.pid === null) {
      // Lost with the spawner before its pid was known: the supervisor writes one at once, and
      // its command line names the directory. Neither after a few checks: never started.
      const pid = (await readPidFile(s.dir)) ?? (await findProcesses(s.dir))[0] ?? null;
      if (pid === null) {
        if (++s.pidChecks < PID_CHECKS) return null;
        return {
          kind: 'launch-failed',
          message: 'the spawner died before it started the process',
          stopped: s.stopped,
        };
      }
      s.pid = pid;
      s.startTime = (await readProc(pid))?.startTime ?? null;
    }
    if (await isSameProcess(s.pid, s.startTime, s.dir)) {
      this.stopPending(s);
      return null;
    }
    const late = await readExitFile(s.dir);
    if (late) return { kind: 'exited', code: late.code, at: late.at, stopped: s.stopped };
    if (s.stopped) return { kind: 'signalled', signal: 'SIGKILL', stopped: true };
    return { kind: 'lost', message: 'the process ended without an exit status', stopped: false };
  }
}

function lostEnd(message: string): FoundAgain {
  return { kind: 'ended', end: { kind: 'lost', message, stopped: false } };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Whether the process `pid` that started at `startTime` still exists (a zombie too: it still holds its pid). */
async function isLeader(pid: number, startTime: string): Promise<boolean> {
  return (await readProc(pid))?.startTime === startTime;
}

/**
 * Whether the process group `pid` is still the one its leader (started at `startTime`) made:
 * the leader still exists, or one of `witnesses` (seen in its session while the leader lived) is
 * still the same process in that session, which kept the id from being reused.
 */
async function stillOurs(
  pid: number,
  startTime: string,
  witnesses: readonly { pid: number; startTime: string }[],
): Promise<boolean> {
  if (await isLeader(pid, startTime)) return true;
  for (const w of witnesses) {
    const now = await readProc(w.pid);
    if (now?.startTime === w.startTime && now.session === pid) return true;
  }
  return false;
}

/** Sends a signal to a process group; a group that is already gone is not an error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { capLogFile, lastLine, readExitFile, readPidFile } from './attempt-files.js';
import {
  cgroupParentOf,
  CLI_FAILURES,
  CONTAINER_FILE,
  type ContainerLaunch,
  type ContainerRecord,
  type ContainerRuntime,
  containerEnv,
  containerName,
  containerScript,
  endedContainers,
  ENV_FILE,
  inspectContainer,
  killContainer,
  lastWords,
  PULL_FAILED,
  PULL_LOG,
  removeContainer,
} from './container-runtime.js';
import { findProcesses, isSameProcess, readProc, scanProcs } from './proc.js';
import { Spawner, type SpawnerEvent } from './spawner.js';
import {
  cgroupIsEmpty,
  cgroupOf,
  galleyCgroups,
  readCgroup,
  removeCgroup,
  sessionSample,
  type Usage,
  UsageMeter,
} from './usage.js';

/**
 * Supervised processes on this machine, for run attempts and pipeline processes alike: each is
 * `/bin/sh -c` under the supervisor script (attempt-files.ts) in its own session and process
 * group, started by the one shared Spawner in its directory with its environment. This module owns
 * the machinery both kinds share: starting, the stop sequence, watching processes the spawner
 * cannot report on (adopted after a restart, or left by a spawner that died) by polling, and
 * finding a process again after a restart. It answers in its own neutral words (SupervisedEnd);
 * each owner words the outcome its way and keeps its own bookkeeping (capacity, events).
 *
 * A command may name a container (SupervisedCommand.container): with a container runtime, the
 * supervisor then runs `<runtime> run` of it in the foreground (container-runtime.ts), so both kinds
 * share one lifecycle; the container is also found by its name after a restart when its
 * supervisor is gone, its SIGKILL is the runtime's, and its end says whether the image could not
 * be pulled or the kernel killed it for memory. Every process's usage is sampled while it runs
 * (its container's cgroup; on the host, its session's processes) and reported with its end.
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

/** A container's memory peak this close to its limit, with a SIGKILL, is the kernel's OOM kill. */
const OOM_SHARE = 0.97;

/** Checks (every adoptCheckMs) for the pid of a process the lost spawner never confirmed. */
const PID_CHECKS = 20;

/** One process, from its start (or adoption) until its end. */
interface Supervised {
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
  /** The cgroup its usage is read from (a container's); null on the host, or not found yet. */
  cgroup: string | null;
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

/** Supervised processes of one server, run attempts and pipeline processes alike, by id. */
export class Supervisor {
  private readonly processes = new Map<string, Supervised>();
  private readonly spawner: Spawner;
  /** SIGKILL deadlines of stops; they outlive the main process (see `stopNow`). */
  private readonly kills = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | null = null;
  private usageTimer: NodeJS.Timeout | null = null;
  /** Containers whose end is being completed (not swept meanwhile). */
  private readonly completing = new Set<string>();
  private sampling = false;
  private closed = false;
  private readonly runtime: ContainerRuntime | null;

  constructor(private readonly o: SupervisorOptions) {
    this.runtime = o.runtime ?? null;
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
      const { container: given, ...plain } = command;
      let container = given;
      if (container && this.runtime) {
        const rt = this.runtime;
        const name = containerName(id);
        s.container = { name, memMb: container.memMb, cgroupParent: cgroupParentOf(rt, name) };
        s.cgroup = s.container.cgroupParent;
        const env = containerEnv(container.env, container.secretNames, new Set(Object.keys(rt.env)));
        if (this.o.containerUser !== undefined) container = { ...container, user: this.o.containerUser };
        this.spawner.spawn({
          id,
          dir: command.dir,
          command: containerScript(rt, id, name, container, env.literal, command.dir),
          // The runtime's CLI reads the values of `--env NAME` from its environment.
          env: { ...env.literal, ...rt.env },
          files: { [ENV_FILE]: env.file, [CONTAINER_FILE]: `${JSON.stringify(s.container)}\n` },
        });
      } else if (container) {
        throw new Error('no container runtime runs here');
      } else {
        const user = this.o.runAs;
        this.spawner.spawn(
          user
            ? {
                id,
                ...plain,
                env: { ...plain.env, HOME: plain.dir, USER: user.name, LOGNAME: user.name },
                user: { uid: user.uid, gid: user.gid },
              }
            : { id, ...plain },
        );
      }
    } catch (err) {
      this.finish(s, { kind: 'launch-failed', message: (err as Error).message, stopped: false });
    }
    this.sample();
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
    const container = await readContainerFile(dir);
    // Found again only to be answered: its end is completed (pull, OOM, usage, clean-up) here.
    const ended = async (end: SupervisedEnd): Promise<FoundAgain> => {
      if (!container) return { kind: 'ended', end };
      const s = this.make(id, dir, watcher, null, null, 'poll');
      s.container = container;
      s.cgroup = container.cgroupParent;
      s.ended = true;
      return { kind: 'ended', end: await this.completeContainer(s, end) };
    };
    const exit = await readExitFile(dir);
    if (exit) return ended({ kind: 'exited', code: exit.code, at: exit.at, stopped: false });
    const startTime = typeof stored?.['startTime'] === 'string' ? stored['startTime'] : null;
    let pid = typeof stored?.['pid'] === 'number' ? stored['pid'] : await readPidFile(dir);
    // The supervisor writes its pid first thing; without it, look for it by its argument.
    pid ??= (await findProcesses(dir))[0] ?? null;
    if (pid !== null && (await isSameProcess(pid, startTime, dir))) {
      const s = this.track(id, dir, watcher, pid, (await readProc(pid))?.startTime ?? startTime, 'poll');
      s.container = container;
      s.cgroup = container?.cgroupParent ?? null;
      this.poll();
      this.sample();
      return { kind: 'adopted', handle: handleOf(s, pid) };
    }
    // Dead: it may have written its exit status between our two looks.
    const late = await readExitFile(dir);
    if (late) return ended({ kind: 'exited', code: late.code, at: late.at, stopped: false });
    if (container && this.runtime) {
      // The supervisor is gone; its container may not be.
      const state = await inspectContainer(this.runtime, container.name);
      if (state?.running) {
        const s = this.track(id, dir, watcher, pid, startTime, 'container');
        s.container = container;
        s.cgroup = container.cgroupParent;
        this.poll();
        this.sample();
        return { kind: 'adopted', handle: handleOf(s, pid ?? 0) };
      }
      if (state?.started) return ended({ kind: 'exited', code: state.exitCode, stopped: false });
    }
    if (pid === null) {
      if (!launched && !(await exists(dir))) return { kind: 'absent' };
      return ended({
        kind: 'lost',
        message: 'the process is gone and left no pid or exit status',
        stopped: false,
      });
    }
    return ended({
      kind: 'lost',
      message: 'the process ended while the server was down and left no exit status',
      stopped: false,
    });
  }

  /**
   * Stops process `id`: SIGTERM to its process group now, SIGKILL to the group after `graceMs`,
   * whether or not the main process ended meanwhile (a child that ignores SIGTERM dies too). Asked
   * again, the group gets SIGTERM again and keeps the first deadline. `not-running` when the
   * process is not (or no longer) here. A container is stopped the same way (the runtime's CLI in
   * the group passes SIGTERM on to it) and killed by its runtime after `graceMs`; one whose
   * supervisor is gone is signalled through its runtime only.
   */
  async stop(
    id: string,
    graceMs: number,
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<'signalled' | 'not-running'> {
    const s = this.processes.get(id);
    if (!s || s.ended) return 'not-running';
    // A drain signal (`drain.signal`): the program finishes its job and exits within its grace.
    if (!s.stopping) s.stopSignal = signal;
    if (s.watch === 'container') return this.stopContainer(s, graceMs);
    if (s.pid === null) {
      s.pendingStopMs ??= graceMs; // signalled the moment its pid is known
      return 'signalled';
    }
    if (s.watch === 'poll' && !(await isSameProcess(s.pid, s.startTime, s.dir))) {
      if (s.container && !s.ended) return this.stopContainer(s, graceMs);
      return 'not-running';
    }
    if (!s.stopping) s.stopping = this.stopNow(s, s.pid, graceMs);
    else if ((await s.stopping) && !s.ended) signalGroup(s.pid, s.stopSignal);
    await s.stopping;
    return 'signalled';
  }

  /**
   * Removes the ended containers under `dir` (and their cgroups) that no process here stands for:
   * those whose end a server read before it died, before it could remove them; and empty
   * container cgroups whose container is gone. Called once the work in flight was found again,
   * before anything new starts.
   */
  async sweep(dir: string): Promise<number> {
    const rt = this.runtime;
    if (!rt) return 0;
    const ours = new Set([...this.processes.values()].map((s) => s.container?.name));
    for (const name of this.completing) ours.add(name);
    let removed = 0;
    for (const c of await endedContainers(rt, `${dir}/`)) {
      if (ours.has(c.name)) continue;
      const record = (await readContainerFile(c.dir)) ?? { name: c.name, memMb: 0, cgroupParent: null };
      if (record.name !== c.name) continue;
      await this.cleanUp(rt, record);
      ours.add(c.name);
      removed++;
    }
    // A cgroup left behind (its server stopped before it emptied): nobody's once it holds no
    // process and its container is gone, whichever server made it.
    for (const path of await galleyCgroups()) {
      const name = path.slice('/galley/'.length);
      if (ours.has(name) || !(await cgroupIsEmpty(path))) continue;
      if (await inspectContainer(rt, name)) continue;
      if (await removeCgroup(path)) removed++;
    }
    return removed;
  }

  /** Stops the helper and the SIGKILL deadlines; the processes keep running under their supervisors. */
  close(): void {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    if (this.usageTimer) clearInterval(this.usageTimer);
    this.usageTimer = null;
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
    const s = this.make(id, dir, watcher, pid, startTime, watch);
    this.processes.set(id, s);
    return s;
  }

  private make(
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
      meter: new UsageMeter(),
      // Known from the spawner's report; an adopted one started before this server did.
      startedAt: null,
      checking: false,
    };
  }

  /**
   * Reports a process's end once: a host process's at once, with its sampled usage; a container's
   * once it is completed (completeContainer).
   */
  private finish(s: Supervised, end: SupervisedEnd): void {
    if (s.ended) return;
    s.ended = true;
    // What it wrote after the last look is capped too.
    void this.capLogs(s);
    if (this.processes.get(s.id) === s) this.processes.delete(s.id);
    if (!s.container) {
      s.watcher.ended({ ...end, usage: s.meter.usage(s.startedAt, Date.now()) });
      return;
    }
    this.completeContainer(s, end).then(
      (complete) => s.watcher.ended(complete),
      (err: unknown) => {
        this.o.logger.warn({ err, id: s.id }, 'local backend: a container end could not be completed');
        s.watcher.ended(end);
      },
    );
  }

  /**
   * A container's end made complete: a failed pull, or a CLI that failed before the program ran, say
   * so; a SIGKILL at its memory limit is the kernel's OOM kill; its usage is read (its own cgroup
   * keeps the peak); then the container and its cgroup are removed.
   */
  private async completeContainer(s: Supervised, end: SupervisedEnd): Promise<SupervisedEnd> {
    const record = s.container!;
    this.completing.add(record.name);
    try {
      return await this.completeContainerNow(s, end, record);
    } finally {
      this.completing.delete(record.name);
    }
  }

  private async completeContainerNow(
    s: Supervised,
    end: SupervisedEnd,
    record: ContainerRecord,
  ): Promise<SupervisedEnd> {
    const rt = this.runtime;
    let complete: SupervisedEnd = end;
    if (await exists(join(s.dir, PULL_FAILED))) {
      const log = await readFile(join(s.dir, PULL_LOG), 'utf8').catch(() => '');
      complete = { kind: 'pull-failed', message: lastWords(log), stopped: end.stopped, ...at(end) };
    }
    const state = rt ? await inspectContainer(rt, record.name) : null;
    if (complete.kind === 'exited' && CLI_FAILURES.has(complete.code) && state?.started !== true) {
      const words = await lastLine(join(s.dir, 'stderr'));
      complete = {
        kind: 'launch-failed',
        message: `the container did not start: ${words.replace(/^Error:\s*/, '') || `exit code ${complete.code}`}`,
        stopped: end.stopped,
        ...at(end),
      };
    }
    if (record.cgroupParent) s.meter.observe(await readCgroup(record.cgroupParent, Date.now()));
    const peak = s.meter.peakBytes;
    const killed =
      (complete.kind === 'exited' && complete.code === 137) ||
      (complete.kind === 'signalled' && complete.signal === 'SIGKILL');
    const limitBytes = record.memMb * 1024 * 1024;
    if (
      killed &&
      record.memMb > 0 &&
      (state?.oomKilled === true || (!complete.stopped && peak !== null && peak >= limitBytes * OOM_SHARE))
    )
      complete = { ...complete, oom: { limitMb: record.memMb } };
    const startedAt = state?.startedAt ?? s.startedAt;
    complete = { ...complete, usage: s.meter.usage(startedAt, state?.finishedAt ?? end.at ?? Date.now()) };
    if (rt)
      this.cleanUp(rt, record).catch((err: unknown) =>
        this.o.logger.warn({ err, container: record.name }, 'local backend: a container was not removed'),
      );
    return complete;
  }

  /** Removes an ended container and its cgroup (which may take a moment to empty). */
  private async cleanUp(rt: ContainerRuntime, record: ContainerRecord): Promise<void> {
    await removeContainer(rt, record.name);
    const parent = record.cgroupParent;
    for (let i = 0; parent && i < 20; i++) {
      if (await removeCgroup(parent)) return;
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
  }

  /** Stops a container whose supervisor is gone: SIGTERM now, SIGKILL after `graceMs`, by the runtime. */
  private async stopContainer(s: Supervised, graceMs: number): Promise<'signalled' | 'not-running'> {
    const rt = this.runtime;
    if (!rt || !s.container) return 'not-running';
    if (!(await killContainer(rt, s.container.name, 'TERM'))) return 'not-running';
    s.stopped = true;
    if (!s.stopping) {
      s.stopping = Promise.resolve(true);
      const name = s.container.name;
      const timer = setTimeout(() => {
        this.kills.delete(timer);
        void killContainer(rt, name, 'KILL');
      }, graceMs);
      timer.unref();
      this.kills.add(timer);
    }
    return 'signalled';
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
    signalGroup(pid, s.stopSignal);
    s.stopped = true;
    const rt = this.runtime;
    const container = s.container;
    const timer = setTimeout(() => {
      this.kills.delete(timer);
      // A container's program is not in the group: the runtime kills it (its CLI then exits).
      const killed = container && rt ? killContainer(rt, container.name, 'KILL') : Promise.resolve(false);
      killed
        .then(() => stillOurs(pid, startTime, witnesses))
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
      s.startedAt = Date.now();
      s.watcher.spawned(handleOf(s, e.pid));
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
    for (const s of this.processes.values()) if (s.watch === 'spawner') s.watch = 'poll';
    this.poll();
  }

  private poll(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => void this.checkPolled(), this.o.adoptCheckMs);
    this.pollTimer.unref();
  }

  private async checkPolled(): Promise<void> {
    const polled = [...this.processes.values()].filter((s) => s.watch !== 'spawner' && !s.ended);
    if (polled.length === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
      return;
    }
    for (const s of polled) {
      if (s.checking) continue;
      s.checking = true;
      try {
        const end = await this.checkOne(s);
        if (end) this.finish(s, end);
      } catch (err) {
        this.o.logger.warn({ err, id: s.id }, 'local backend: a check of a process failed');
      } finally {
        s.checking = false;
      }
    }
  }

  /** One look at a polled process: its end, or null while it lives (or its pid is still unknown). */
  private async checkOne(s: Supervised): Promise<SupervisedEnd | null> {
    if (s.watch === 'container') return this.checkContainer(s);
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
    if (s.container && this.runtime) {
      // Its supervisor died without a word; the container may live on: watch it instead.
      s.watch = 'container';
      return this.checkContainer(s);
    }
    if (s.stopped) return { kind: 'signalled', signal: 'SIGKILL', stopped: true };
    return { kind: 'lost', message: 'the process ended without an exit status', stopped: false };
  }

  /** One look at a container whose supervisor is gone: its exit, or null while it runs. */
  private async checkContainer(s: Supervised): Promise<SupervisedEnd | null> {
    const state = this.runtime && s.container ? await inspectContainer(this.runtime, s.container.name) : null;
    if (state?.running) return null;
    if (state?.started) return { kind: 'exited', code: state.exitCode, stopped: s.stopped };
    if (s.stopped) return { kind: 'signalled', signal: 'SIGKILL', stopped: true };
    return { kind: 'lost', message: 'the container is gone and left no exit status', stopped: false };
  }

  // ---- usage ----

  /** Samples the usage of running processes until none is left. */
  private sample(): void {
    if (this.usageTimer || this.closed) return;
    this.usageTimer = setInterval(() => void this.sampleAll(), this.o.usageSampleMs ?? 1_000);
    this.usageTimer.unref();
  }

  private async sampleAll(): Promise<void> {
    if (this.sampling) return;
    const live = [...this.processes.values()].filter((s) => !s.ended);
    if (live.length === 0) {
      if (this.usageTimer) clearInterval(this.usageTimer);
      this.usageTimer = null;
      return;
    }
    this.sampling = true;
    try {
      const hosts = live.filter((s) => !s.container && s.pid !== null);
      const procs = hosts.length > 0 ? await scanProcs() : [];
      const now = Date.now();
      for (const s of hosts) s.meter.observe(sessionSample(s.pid!, procs, now));
      for (const s of live) await this.capLogs(s);
      for (const s of live) {
        if (!s.container) continue;
        s.cgroup ??= await this.containerCgroup(s);
        if (s.cgroup) s.meter.observe(await readCgroup(s.cgroup, Date.now()));
      }
    } catch (err) {
      this.o.logger.debug({ err }, 'local backend: usage sample failed');
    } finally {
      this.sampling = false;
    }
  }

  /** Cuts a process's stdout and stderr back to the cap (see capLogFile). */
  private async capLogs(s: Supervised): Promise<void> {
    const max = this.o.logMaxBytes;
    if (max === undefined) return;
    for (const stream of ['stdout', 'stderr']) {
      try {
        if (await capLogFile(join(s.dir, stream), max))
          this.o.logger.info({ id: s.id, stream, maxBytes: max }, 'local backend: log capped');
      } catch (err) {
        this.o.logger.warn({ err, id: s.id, stream }, 'local backend: could not cap the log');
      }
    }
  }

  /** The cgroup of a container without one of Galley's own: its main process's. */
  private async containerCgroup(s: Supervised): Promise<string | null> {
    if (!this.runtime || !s.container) return null;
    const state = await inspectContainer(this.runtime, s.container.name);
    return state?.running && state.pid > 0 ? cgroupOf(state.pid) : null;
  }
}

/** The handle of a supervised process, as its owner stores it. */
function handleOf(s: Supervised, pid: number): SupervisedHandle {
  return {
    pid,
    startTime: s.startTime,
    dir: s.dir,
    ...(s.container ? { container: s.container.name } : {}),
  };
}

/** The `at` of an end, when it has one. */
function at(end: SupervisedEnd): { at?: number } {
  return end.at === undefined ? {} : { at: end.at };
}

/** The container a supervised process runs in, from its directory; null for a host process. */
async function readContainerFile(dir: string): Promise<ContainerRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, CONTAINER_FILE), 'utf8')) as ContainerRecord;
    return typeof r.name === 'string' ? r : null;
  } catch {
    return null;
  }
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

import { killContainer } from './container-cli.js';
import {
  cgroupParentOf,
  CONTAINER_FILE,
  type ContainerRuntime,
  containerEnv,
  containerName,
  containerScript,
  ENV_FILE,
} from './container-runtime.js';
import { isSameProcess, readProc } from './proc.js';
import { type SpawnRequest, Spawner, type SpawnerEvent } from './spawner.js';
import type { HostCgroups } from './host-cgroup.js';
import { readContainerFile, SupervisedContainers } from './supervised-containers.js';
import { readHostCgroupFile, SupervisedHostCgroups } from './supervised-host.js';
import { lookAgain, lookPolled } from './supervised-look.js';
import { KillDeadlines, signalGroup, stopGroup } from './supervised-stop.js';
import {
  type FoundAgain,
  handleOf,
  newSupervised,
  type Supervised,
  type SupervisedCommand,
  type SupervisedEnd,
  type SupervisedWatcher,
  type SupervisorOptions,
} from './supervised-types.js';
import { UsageSampler } from './supervised-usage.js';

export type {
  FoundAgain,
  SupervisedCommand,
  SupervisedEnd,
  SupervisedHandle,
  SupervisedWatcher,
  SupervisorOptions,
} from './supervised-types.js';

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
 *
 * The pieces: supervised-types.ts (the shared words and the record of one process),
 * supervised-stop.ts (a group's stop), supervised-containers.ts (what a container needs beyond
 * that), supervised-usage.ts (usage samples and the log cap). This file is the lifecycle: start,
 * the spawner's reports, polling, finding again after a restart, and the one report of an end.
 */

/** Supervised processes of one server, run attempts and pipeline processes alike, by id. */
export class Supervisor {
  private readonly processes = new Map<string, Supervised>();
  private readonly spawner: Spawner;
  /** SIGKILL deadlines of stops; they outlive the main process (see supervised-stop.ts). */
  private readonly kills = new KillDeadlines();
  private readonly containers: SupervisedContainers;
  /** Host processes' own cgroups, where they work here (useHostCgroups); null = none. */
  private hostCgroups: HostCgroups | null = null;
  private readonly hosts: SupervisedHostCgroups;
  private readonly usage: UsageSampler;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly runtime: ContainerRuntime | null;

  constructor(private readonly o: SupervisorOptions) {
    this.runtime = o.runtime ?? null;
    this.containers = new SupervisedContainers(this.runtime, o.logger, this.kills);
    this.hosts = new SupervisedHostCgroups(() => this.hostCgroups, o.logger);
    this.usage = new UsageSampler({
      sampleMs: o.usageSampleMs ?? 1_000,
      ...(o.logMaxBytes !== undefined ? { logMaxBytes: o.logMaxBytes } : {}),
      logger: o.logger,
      live: () => [...this.processes.values()].filter((s) => !s.ended),
      containerCgroup: (s) => this.containers.cgroupOf(s),
    });
    this.spawner = new Spawner(
      (e) => this.onSpawner(e),
      (reason) => this.onSpawnerLost(reason),
    );
  }

  /** From now on, host commands with limits run in their own cgroups (null: no more). */
  useHostCgroups(cgroups: HostCgroups | null): void {
    this.hostCgroups = cgroups;
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
    const s = this.track(newSupervised(id, command.dir, watcher, null, null, 'spawner'));
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
        const { limits, ...rest } = plain;
        const user = this.o.runAs;
        const request: SpawnRequest = user
          ? {
              id,
              ...rest,
              env: { ...rest.env, HOME: rest.dir, USER: user.name, LOGNAME: user.name },
              user: { uid: user.uid, gid: user.gid },
            }
          : { id, ...rest };
        if (this.hostCgroups && limits)
          void this.hosts.place(s, this.hostCgroups, request, limits).then((placed) => {
            if (s.ended) return; // ended (its spawn refused) before it could start
            try {
              this.spawner.spawn(placed);
            } catch (err) {
              this.finish(s, { kind: 'launch-failed', message: (err as Error).message, stopped: false });
            }
          });
        else this.spawner.spawn(request);
      }
    } catch (err) {
      this.finish(s, { kind: 'launch-failed', message: (err as Error).message, stopped: false });
    }
    this.usage.start();
  }

  /**
   * After a restart: what the process `id` in `dir` is, from the handle its owner stored (null
   * when none), its exit and pid files and /proc (supervised-look.ts). An adopted one is watched
   * by polling from now on (`watcher` hears its end); an ended or absent one is only answered, its
   * end completed here (a container's pull, OOM, usage and clean-up). `launched`: its owner knows
   * it was started, so it is never `absent`.
   */
  async findAgain(
    id: string,
    dir: string,
    stored: Record<string, unknown> | null,
    watcher: SupervisedWatcher,
    launched: boolean,
  ): Promise<FoundAgain> {
    const container = await readContainerFile(dir);
    const hostCgroup = container ? null : await readHostCgroupFile(dir);
    const found = await lookAgain(dir, stored, container, this.runtime, launched);
    if (found.kind === 'absent') return found;
    const s = newSupervised(id, dir, watcher, null, null, 'poll');
    s.container = container;
    s.hostCgroup = hostCgroup;
    s.cgroup = container?.cgroupParent ?? hostCgroup?.path ?? null;
    if (found.kind === 'ended') {
      s.ended = true;
      if (container) return { kind: 'ended', end: await this.containers.complete(s, found.end) };
      if (hostCgroup) return { kind: 'ended', end: await this.hosts.complete(s, found.end) };
      return found;
    }
    s.pid = found.pid;
    s.startTime = found.startTime;
    s.watch = found.watch;
    this.track(s);
    this.poll();
    this.usage.start();
    return { kind: 'adopted', handle: handleOf(s, found.pid ?? 0) };
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
    if (s.watch === 'container') return this.containers.stop(s, graceMs);
    if (s.pid === null) {
      s.pendingStopMs ??= graceMs; // signalled the moment its pid is known
      return 'signalled';
    }
    if (s.watch === 'poll' && !(await isSameProcess(s.pid, s.startTime, s.dir))) {
      if (s.container && !s.ended) return this.containers.stop(s, graceMs);
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
    const live = [...this.processes.values()];
    const hostPaths = live.flatMap((s) => (s.hostCgroup ? [s.hostCgroup.path] : []));
    return (
      (await this.containers.sweep(dir, new Set(live.map((s) => s.container?.name)))) +
      (await this.hosts.sweep(new Set(hostPaths)))
    );
  }

  /** Stops the helper and the SIGKILL deadlines; the processes keep running under their supervisors. */
  close(): void {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.usage.close();
    this.kills.clear();
    this.spawner.close();
  }

  /** Keeps `s` as the process of its id. */
  private track(s: Supervised): Supervised {
    this.processes.set(s.id, s);
    return s;
  }

  /**
   * Reports a process's end once: a host process's at once, with its sampled usage; a container's
   * once it is completed (SupervisedContainers.complete).
   */
  private finish(s: Supervised, end: SupervisedEnd, logSizes?: readonly (number | null)[]): void {
    if (s.ended) return;
    s.ended = true;
    // What it wrote after the last look is capped too (`logSizes`: the spawner's look at the exit).
    void this.usage.capLogs(s, logSizes);
    if (this.processes.get(s.id) === s) this.processes.delete(s.id);
    if (!s.container && !s.hostCgroup) {
      s.watcher.ended({ ...end, usage: s.meter.usage(s.startedAt, Date.now()) });
      return;
    }
    (s.container ? this.containers.complete(s, end) : this.hosts.complete(s, end)).then(
      (complete) => s.watcher.ended(complete),
      (err: unknown) => {
        this.o.logger.warn({ err, id: s.id }, 'local backend: a container end could not be completed');
        s.watcher.ended(end);
      },
    );
  }

  /** A stop asked for before the pid was known, now that it is. */
  private stopPending(s: Supervised): void {
    if (s.pendingStopMs === null || s.pid === null || s.stopping) return;
    s.stopping = this.stopNow(s, s.pid, s.pendingStopMs);
    s.stopping.catch((err: unknown) => this.o.logger.warn({ err, id: s.id }, 'local backend: stop failed'));
  }

  /** The stop sequence of the group `pid` (supervised-stop.ts); a container is killed by its runtime. */
  private async stopNow(s: Supervised, pid: number, graceMs: number): Promise<boolean> {
    s.startTime ??= readProc(pid)?.startTime ?? null;
    if (s.startTime === null) return false;
    const rt = this.runtime;
    const container = s.container;
    return stopGroup(
      {
        pid,
        startTime: s.startTime,
        signal: s.stopSignal,
        graceMs,
        // A container's program is not in the group: the runtime kills it (its CLI then exits).
        ...(container && rt ? { beforeKill: () => killContainer(rt, container.name, 'KILL') } : {}),
        signalled: () => {
          s.stopped = true;
        },
        onError: (err) => this.o.logger.warn({ err, id: s.id }, 'local backend: SIGKILL failed'),
      },
      this.kills,
    );
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
        e.sizes,
      );
    } else if (e.ev === 'cgroup-failed') {
      // It runs, but outside its cgroup: its limit does not hold and the cgroup measures nothing.
      s.cgroup = null;
      this.o.logger.warn(
        { id: e.id, message: e.message },
        'local backend: a host process is not in its cgroup',
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
        const look = s.watch === 'container' ? 'container' : await lookPolled(s, this.runtime);
        if (look === 'alive') this.stopPending(s);
        const end = look === 'container' ? await this.containers.check(s) : look;
        if (end && end !== 'alive' && end !== 'pending') this.finish(s, end);
      } catch (err) {
        this.o.logger.warn({ err, id: s.id }, 'local backend: a check of a process failed');
      } finally {
        s.checking = false;
      }
    }
  }
}

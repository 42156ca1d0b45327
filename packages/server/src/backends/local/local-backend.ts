import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Node } from '@galley/core';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type {
  AttemptRef,
  Backend,
  BackendEvent,
  ClusterInfo,
  KillAnswer,
  LaunchBatch,
  LaunchSpec,
  LogChunk,
  LogStream,
  PlacementRound,
  PlacementTraits,
  ReconcileAnswer,
  ReconcileItem,
} from '../backend.js';
import { attemptDir, readExitFile, readLogChunk, readPidFile } from './attempt-files.js';
import { LocalGroups } from './local-groups.js';
import { findProcesses, isSameProcess, readProc } from './proc.js';
import { Spawner, type SpawnerEvent } from './spawner.js';

/** Settings of the local backend. Resources are what may run at once on this machine. */
export interface LocalBackendOptions {
  cluster: string;
  /** Attempt directories go under `<dataDir>/runs`. */
  dataDir: string;
  cpus: number;
  memoryMb: number;
  /** How often adopted processes (found again after a restart) are checked for their end. */
  adoptCheckMs: number;
  clock: Clock;
  logger: Logger;
  /** Variables of the server's environment that commands inherit (default: PATH, HOME, LANG, …). */
  inheritEnv?: readonly string[];
}

/** Checks (every adoptCheckMs) for the pid of an attempt the lost spawner never confirmed. */
const PID_CHECKS = 20;

/** Inherited by default: enough for a shell to work, nothing that may hold a secret. */
export const DEFAULT_INHERITED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'SHELL',
];

/** An attempt this backend is responsible for until it ends. */
interface Tracked {
  ref: AttemptRef;
  dir: string;
  cpus: number;
  memMb: number;
  pid: number | null;
  startTime: string | null;
  /** `spawner`: its end is reported by the spawner; `poll`: adopted, its end is found by polling. */
  watch: 'spawner' | 'poll';
  /** A stop asked for before the pid was known: signalled as soon as it is. */
  killPending: boolean;
  /** Checks so far that found no pid for a `poll` attempt the spawner never confirmed. */
  pidChecks: number;
  killSent: boolean;
  killTimer: NodeJS.Timeout | null;
  ended: boolean;
}

/** The note shown in `/clusters` and logged at start: local runs are not isolated. */
export const LOCAL_NOTE =
  'commands run directly on this host with /bin/sh, without containers: the image is recorded but not used, and memory is accounted, not enforced';

/**
 * Runs each attempt as `/bin/sh -c` in its own process group (its own session), under a tiny
 * supervisor that records pid and exit status in the attempt directory, so attempts survive a
 * server crash and are found again (adopted), read (ended while down) or reported lost.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly cluster: string;
  /** One node with no port ranges: pipeline processes get free ports from the OS. */
  readonly placement: PlacementTraits = { groupExecutor: false, portsFromNodes: false };
  private readonly tracked = new Map<string, Tracked>();
  private listener: (events: BackendEvent[]) => void = () => {};
  private capacityListener: () => void = () => {};
  private pending: BackendEvent[] = [];
  private flushScheduled = false;
  private adoptTimer: NodeJS.Timeout | null = null;
  private readonly host = hostname();
  private readonly baseEnv: Record<string, string>;
  private closed = false;
  private readonly spawner: Spawner;
  private graceMs = 10_000;
  /** Pipeline instances: launches of process groups, sharing this machine's capacity with runs. */
  readonly groups: LocalGroups;

  constructor(private readonly options: LocalBackendOptions) {
    this.cluster = options.cluster;
    this.spawner = new Spawner(
      (e) => this.onSpawner(e),
      (reason) => this.onSpawnerLost(reason),
    );
    this.baseEnv = {};
    for (const name of options.inheritEnv ?? DEFAULT_INHERITED_ENV) {
      const value = process.env[name];
      if (value !== undefined) this.baseEnv[name] = value;
    }
    this.groups = new LocalGroups({
      dataDir: options.dataDir,
      clock: options.clock,
      logger: options.logger,
      hostname: this.host,
      baseEnv: this.baseEnv,
      adoptCheckMs: options.adoptCheckMs,
      capacityFreed: () => this.capacityListener(),
    });
  }

  async start(): Promise<void> {
    await mkdir(join(this.options.dataDir, 'runs'), { recursive: true });
    this.options.logger.info({ cluster: this.cluster }, `local backend: ${LOCAL_NOTE}`);
  }

  onEvents(listener: (events: BackendEvent[]) => void): void {
    this.listener = listener;
  }

  onCapacity(listener: () => void): void {
    this.capacityListener = listener;
  }

  /** This machine's free capacity; nothing else places here, so the round needs no hold. */
  openRound(): PlacementRound {
    return { nodes: this.capacity(), close: () => {} };
  }

  capacity(): Node[] {
    const used = this.used();
    return [
      {
        id: 'local',
        hostname: this.host,
        attributes: {},
        free: {
          cpus: Math.max(0, this.options.cpus - used.cpus),
          memMb: Math.max(0, this.options.memoryMb - used.memMb),
          diskMb: Number.MAX_SAFE_INTEGER,
          gpus: 0,
          portRanges: [],
        },
      },
    ];
  }

  describe(): ClusterInfo {
    const used = this.used();
    const { cpus, memoryMb } = this.options;
    return {
      name: this.cluster,
      backend: this.kind,
      state: this.closed ? 'closed' : 'ready',
      runsOnHost: true,
      note: LOCAL_NOTE,
      capacity: { cpus, memMb: memoryMb, gpus: 0 },
      free: { cpus: Math.max(0, cpus - used.cpus), memMb: Math.max(0, memoryMb - used.memMb), gpus: 0 },
      running: used.count,
    };
  }

  async launch(batch: LaunchBatch): Promise<void> {
    this.groups.start(batch.groups);
    await Promise.all(batch.runs.map((spec) => this.launchOne(spec)));
  }

  async kill(attemptId: string, graceMs: number): Promise<KillAnswer> {
    const t = this.tracked.get(attemptId);
    if (!t || t.ended) return 'not-running';
    this.graceMs = graceMs;
    if (t.pid === null) {
      t.killPending = true; // signalled the moment the spawner reports its pid
      return 'signalled';
    }
    if (t.watch === 'poll' && !(await isSameProcess(t.pid, t.startTime, t.dir))) return 'not-running';
    this.signal(t, graceMs);
    return 'signalled';
  }

  /** SIGTERM to the attempt's process group now, SIGKILL after `graceMs` if it has not ended. */
  private signal(t: Tracked, graceMs: number): void {
    const pid = t.pid!;
    signalGroup(pid, 'SIGTERM');
    t.killSent = true;
    if (!t.killTimer) {
      t.killTimer = setTimeout(() => {
        if (!t.ended) signalGroup(pid, 'SIGKILL');
      }, graceMs);
      t.killTimer.unref();
    }
  }

  async reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]> {
    return Promise.all(items.map((item) => this.reconcileOne(item)));
  }

  logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    const dir = attemptDir(this.options.dataDir, attempt.runId, attempt.seq);
    return readLogChunk(join(dir, stream), offset, maxBytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    this.adoptTimer = null;
    for (const t of this.tracked.values()) if (t.killTimer) clearTimeout(t.killTimer);
    this.spawner.close();
    this.groups.close();
    this.listener = () => {};
  }

  private used() {
    let cpus = 0;
    let memMb = 0;
    let count = 0;
    for (const t of this.tracked.values()) {
      if (t.ended) continue;
      cpus += t.cpus;
      memMb += t.memMb;
      count++;
    }
    const groups = this.groups.used();
    return { cpus: cpus + groups.cpus, memMb: memMb + groups.memMb, count: count + groups.count };
  }

  private emit(event: BackendEvent): void {
    this.pending.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      if (batch.length > 0) this.listener(batch);
    });
  }

  private end(t: Tracked, outcome: Extract<BackendEvent, { type: 'ended' }>['outcome'], at?: number): void {
    if (t.ended) return;
    t.ended = true;
    if (t.killTimer) clearTimeout(t.killTimer);
    this.tracked.delete(t.ref.attemptId);
    this.emit({ type: 'ended', attemptId: t.ref.attemptId, at: at ?? this.options.clock.now(), outcome });
  }

  private instance() {
    return { instanceId: this.host, dnsName: this.host };
  }

  /** Pid of the spawner helper, null when none runs (for tests of its loss). */
  get spawnerPid(): number | null {
    return this.spawner.pid;
  }

  private async launchOne(spec: LaunchSpec): Promise<void> {
    const dir = attemptDir(this.options.dataDir, spec.runId, spec.seq);
    const t: Tracked = {
      ref: { runId: spec.runId, attemptId: spec.attemptId, seq: spec.seq },
      dir,
      cpus: spec.cpus,
      memMb: spec.memMb,
      pid: null,
      startTime: null,
      watch: 'spawner',
      killPending: false,
      pidChecks: 0,
      killSent: false,
      killTimer: null,
      ended: false,
    };
    this.tracked.set(spec.attemptId, t);
    const env: Record<string, string> = { ...this.baseEnv };
    for (const { name, value } of spec.env) env[name] = value;
    try {
      this.spawner.spawn({ id: spec.attemptId, dir, command: spec.command, env });
      this.options.logger.debug(
        { runId: spec.runId, attemptId: spec.attemptId, image: spec.image },
        'launching on the host (the image is not used)',
      );
    } catch (error) {
      this.end(t, { kind: 'host-failure', reason: 'launch failed', message: (error as Error).message });
    }
  }

  private onSpawner(e: SpawnerEvent): void {
    const t = this.tracked.get(e.id);
    if (!t || t.ended) return;
    if (e.ev === 'spawned') {
      t.pid = e.pid;
      t.startTime = e.startTime;
      const handle = { pid: e.pid, startTime: e.startTime, dir: t.dir };
      this.emit({
        type: 'running',
        attemptId: e.id,
        at: this.options.clock.now(),
        handle,
        instance: this.instance(),
      });
      if (t.killPending) this.signal(t, this.graceMs);
    } else if (e.ev === 'exit') {
      if (e.code !== null) this.end(t, { kind: 'exited', exitCode: e.code });
      else this.end(t, { kind: 'killed', message: `signal ${e.signal ?? 'unknown'}` });
    } else {
      this.options.logger.warn({ attemptId: e.id, message: e.message }, 'launch failed');
      this.end(t, { kind: 'host-failure', reason: 'launch failed', message: e.message });
    }
  }

  /** The spawner died: what it started keeps running; watch those by polling from now on. */
  private onSpawnerLost(reason: string): void {
    if (this.closed) return;
    this.options.logger.warn({ reason }, 'local backend: spawner lost; watching its attempts by polling');
    for (const t of this.tracked.values()) {
      if (t.ended || t.watch !== 'spawner') continue;
      t.watch = 'poll';
    }
    this.watchAdopted();
  }

  private async reconcileOne({ attempt: a, cpus, memMb }: ReconcileItem): Promise<ReconcileAnswer> {
    const dir = attemptDir(this.options.dataDir, a.runId, a.seq);
    const ref: AttemptRef = { runId: a.runId, attemptId: a.attemptId, seq: a.seq };
    const exit = await readExitFile(dir);
    if (exit)
      return {
        attemptId: a.attemptId,
        state: 'ended',
        at: exit.at,
        outcome: { kind: 'exited', exitCode: exit.code },
      };
    const stored = a.handle ?? {};
    const startTime = typeof stored['startTime'] === 'string' ? stored['startTime'] : null;
    let pid = typeof stored['pid'] === 'number' ? stored['pid'] : await readPidFile(dir);
    if (pid === null) {
      // The supervisor writes its pid first thing; without it, look for it by its argument.
      const found = await findProcesses(dir);
      if (found.length === 0) {
        const launchedBefore = a.state !== 'launching';
        if (!launchedBefore) return { attemptId: a.attemptId, state: 'absent' };
        return this.lost(a.attemptId, 'the process is gone and left no pid or exit status');
      }
      pid = found[0]!;
    }
    if (await isSameProcess(pid, startTime, dir)) {
      const info = await readProc(pid);
      const t: Tracked = {
        ref,
        dir,
        cpus,
        memMb,
        pid,
        startTime: info?.startTime ?? startTime,
        watch: 'poll',
        killPending: false,
        pidChecks: 0,
        killSent: false,
        killTimer: null,
        ended: false,
      };
      this.tracked.set(a.attemptId, t);
      this.watchAdopted();
      const handle = { pid, startTime: t.startTime, dir };
      return {
        attemptId: a.attemptId,
        state: 'running',
        at: this.options.clock.now(),
        handle,
        instance: this.instance(),
      };
    }
    // Dead: it may have written its exit status between our two looks.
    const late = await readExitFile(dir);
    if (late)
      return {
        attemptId: a.attemptId,
        state: 'ended',
        at: late.at,
        outcome: { kind: 'exited', exitCode: late.code },
      };
    return this.lost(a.attemptId, 'the process ended while the server was down and left no exit status');
  }

  private lost(attemptId: string, message: string): ReconcileAnswer {
    return {
      attemptId,
      state: 'ended',
      at: this.options.clock.now(),
      outcome: { kind: 'host-failure', reason: 'lost', message },
    };
  }

  private watchAdopted(): void {
    if (this.adoptTimer) return;
    this.adoptTimer = setInterval(() => void this.checkAdopted(), this.options.adoptCheckMs);
    this.adoptTimer.unref();
  }

  private async checkAdopted(): Promise<void> {
    const adopted = [...this.tracked.values()].filter((t) => t.watch === 'poll' && !t.ended);
    if (adopted.length === 0 && this.adoptTimer) {
      clearInterval(this.adoptTimer);
      this.adoptTimer = null;
      return;
    }
    for (const t of adopted) {
      const exit = await readExitFile(t.dir);
      if (exit) {
        this.end(t, { kind: 'exited', exitCode: exit.code }, exit.at);
        continue;
      }
      if (t.pid === null) {
        // Lost with the spawner before its pid was known: the supervisor writes one at once, and
        // its command line names the attempt directory. Neither after a few checks: never started.
        t.pid = (await readPidFile(t.dir)) ?? (await findProcesses(t.dir))[0] ?? null;
        if (t.pid === null) {
          if (++t.pidChecks < PID_CHECKS) continue;
          this.end(t, {
            kind: 'host-failure',
            reason: 'launch failed',
            message: 'the spawner died before it started the attempt',
          });
          continue;
        }
      }
      if (await isSameProcess(t.pid, t.startTime, t.dir)) continue;
      const late = await readExitFile(t.dir);
      if (late) this.end(t, { kind: 'exited', exitCode: late.code }, late.at);
      else if (t.killSent) this.end(t, { kind: 'killed', message: 'signal SIGKILL' });
      else
        this.end(t, {
          kind: 'host-failure',
          reason: 'lost',
          message: 'the process ended without an exit status',
        });
    }
  }
}

/** Sends a signal to a process group; a group that is already gone is not an error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

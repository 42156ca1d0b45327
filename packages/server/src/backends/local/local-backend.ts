import { access, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Node } from '@galley/core';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import {
  type AttemptRef,
  type Backend,
  type BackendEvent,
  type ClusterInfo,
  type KillAnswer,
  type LaunchBatch,
  type LaunchSpec,
  type LogChunk,
  LogUnavailableError,
  type LogStream,
  type PlacementRound,
  type PlacementTraits,
  type ReconcileAnswer,
  type ReconcileItem,
  type RunHost,
} from '../backend.js';
import { attemptDir, readLogChunk } from './attempt-files.js';
import { batcher } from './event-batch.js';
import { LocalGroups } from './local-groups.js';
import { type SupervisedEnd, type SupervisedWatcher, Supervisor } from './supervised.js';

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

/** An attempt this backend is responsible for until it ends (its process is the Supervisor's). */
interface Tracked {
  ref: AttemptRef;
  cpus: number;
  memMb: number;
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
  /** Events of one turn of the event loop, delivered together. */
  private readonly emit = batcher<BackendEvent>((batch) => this.listener(batch));
  private readonly host = hostname();
  private readonly baseEnv: Record<string, string>;
  private closed = false;
  /** The processes of runs and pipeline instances: one spawner, one stop sequence, one adoption. */
  private readonly supervisor: Supervisor;
  /** Pipeline instances: launches of process groups, sharing this machine's capacity with runs. */
  readonly groups: LocalGroups;

  constructor(private readonly options: LocalBackendOptions) {
    this.cluster = options.cluster;
    this.supervisor = new Supervisor({ adoptCheckMs: options.adoptCheckMs, logger: options.logger });
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
      supervisor: this.supervisor,
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

  launch(batch: LaunchBatch): Promise<void> {
    this.groups.start(batch.groups);
    for (const spec of batch.runs) this.launchOne(spec);
    return Promise.resolve();
  }

  /** SIGTERM to the attempt's process group now, SIGKILL to the group after `graceMs`. */
  async kill(attemptId: string, graceMs: number): Promise<KillAnswer> {
    if (!this.tracked.has(attemptId)) return 'not-running';
    return this.supervisor.stop(attemptId, graceMs);
  }

  async reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]> {
    return Promise.all(items.map((item) => this.reconcileOne(item)));
  }

  /**
   * A positioned read of the attempt's file. Not written yet: empty. The attempt's directory
   * missing while this backend does not run it: the output is not on this machine (it ran on
   * another server, or its files were removed), LogUnavailableError; so is a file that cannot be
   * read (the error's code, not its path, says why).
   */
  async logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    const dir = attemptDir(this.options.dataDir, attempt.runId, attempt.seq);
    let chunk: LogChunk;
    try {
      chunk = await readLogChunk(join(dir, stream), offset, maxBytes);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'an error';
      throw new LogUnavailableError(
        'not-here',
        `the ${stream} file of attempt ${attempt.attemptId} cannot be read on host ${this.host} (${code})`,
        { cause: err },
      );
    }
    if (chunk.size === 0 && !this.tracked.has(attempt.attemptId)) {
      const there = await access(dir).then(
        () => true,
        () => false,
      );
      if (!there)
        throw new LogUnavailableError(
          'not-here',
          `attempt ${attempt.attemptId} left no output on host ${this.host}: it ran on another server, or its files were removed`,
        );
    }
    return chunk;
  }

  close(): Promise<void> {
    this.closed = true;
    this.groups.close();
    this.supervisor.close();
    this.listener = () => {};
    return Promise.resolve();
  }

  /** Pid of the spawner helper, null when none runs (for tests of its loss). */
  get spawnerPid(): number | null {
    return this.supervisor.spawnerPid;
  }

  private used() {
    let cpus = 0;
    let memMb = 0;
    for (const t of this.tracked.values()) {
      cpus += t.cpus;
      memMb += t.memMb;
    }
    const groups = this.groups.used();
    return {
      cpus: cpus + groups.cpus,
      memMb: memMb + groups.memMb,
      count: this.tracked.size + groups.count,
    };
  }

  private runHost(): RunHost {
    return { hostId: this.host, dnsName: this.host };
  }

  /** What the Supervisor tells of an attempt's process, as backend events. */
  private watcher(t: Tracked): SupervisedWatcher {
    const { attemptId } = t.ref;
    return {
      spawned: (handle) =>
        this.emit({
          type: 'running',
          attemptId,
          at: this.options.clock.now(),
          handle: { ...handle },
          host: this.runHost(),
        }),
      ended: (end) => {
        if (this.tracked.get(attemptId) !== t) return;
        this.tracked.delete(attemptId);
        this.emit({
          type: 'ended',
          attemptId,
          at: end.at ?? this.options.clock.now(),
          outcome: outcomeOf(end),
        });
      },
    };
  }

  private launchOne(spec: LaunchSpec): void {
    const t: Tracked = {
      ref: { runId: spec.runId, attemptId: spec.attemptId, seq: spec.seq },
      cpus: spec.cpus,
      memMb: spec.memMb,
    };
    this.tracked.set(spec.attemptId, t);
    const env: Record<string, string> = { ...this.baseEnv };
    for (const { name, value } of spec.env) env[name] = value;
    const dir = attemptDir(this.options.dataDir, spec.runId, spec.seq);
    this.options.logger.debug(
      { runId: spec.runId, attemptId: spec.attemptId, image: spec.image },
      'launching on the host (the image is not used)',
    );
    this.supervisor.start(spec.attemptId, { dir, command: spec.command, env }, this.watcher(t));
  }

  private async reconcileOne({ attempt: a, cpus, memMb }: ReconcileItem): Promise<ReconcileAnswer> {
    const dir = attemptDir(this.options.dataDir, a.runId, a.seq);
    const t: Tracked = { ref: { runId: a.runId, attemptId: a.attemptId, seq: a.seq }, cpus, memMb };
    // Tracked first: an end found by polling right after the adoption finds it.
    this.tracked.set(a.attemptId, t);
    const found = await this.supervisor.findAgain(
      a.attemptId,
      dir,
      a.handle,
      this.watcher(t),
      a.state !== 'launching',
    );
    if (found.kind === 'adopted')
      return {
        attemptId: a.attemptId,
        state: 'running',
        at: this.options.clock.now(),
        handle: { ...found.handle },
        host: this.runHost(),
      };
    this.tracked.delete(a.attemptId);
    if (found.kind === 'absent') return { attemptId: a.attemptId, state: 'absent' };
    return {
      attemptId: a.attemptId,
      state: 'ended',
      at: found.end.at ?? this.options.clock.now(),
      outcome: outcomeOf(found.end),
    };
  }
}

/** A supervised process's end as a run attempt's outcome. */
function outcomeOf(end: SupervisedEnd): Extract<BackendEvent, { type: 'ended' }>['outcome'] {
  switch (end.kind) {
    case 'exited':
      return { kind: 'exited', exitCode: end.code };
    case 'signalled':
      return { kind: 'killed', message: `signal ${end.signal}` };
    case 'launch-failed':
      return { kind: 'host-failure', reason: 'launch failed', message: end.message };
    case 'lost':
      return { kind: 'host-failure', reason: 'lost', message: end.message };
  }
}

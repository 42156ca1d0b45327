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
import type { ContainerLaunch, ContainerRuntime } from './container-runtime.js';
import { type HostLimits, probeHostCgroups } from './host-cgroup.js';
import { containerNote, hostLimitsNote, LOCAL_NOTE, outcomeOf, usageOf } from './local-outcomes.js';
import { batcher } from './event-batch.js';
import { LocalGroups } from './local-groups.js';
import { freeRanges, portEnv, rangeSize, takePorts } from './local-ports.js';
import { type SupervisedWatcher, Supervisor } from './supervised.js';

/** Settings of the local backend. Resources are what may run at once on this machine. */
export interface LocalBackendOptions {
  cluster: string;
  /** Attempt directories go under `<dataDir>/runs`. */
  dataDir: string;
  cpus: number;
  memoryMb: number;
  /** How often adopted processes (found again after a restart) are checked for their end. */
  adoptCheckMs: number;
  /** Each attempt's stdout and stderr are kept within this many bytes; undefined = no cap. */
  logMaxBytes?: number;
  clock: Clock;
  logger: Logger;
  /** Variables of the server's environment that commands inherit (default: PATH, HOME, LANG, …). */
  inheritEnv?: readonly string[];
  /**
   * The container runtime runs and pipeline processes run in (chooseRuntime); null or absent =
   * host mode: commands run on this host without containers.
   */
  runtime?: ContainerRuntime | null;
  /** Why there is no runtime (logged and shown in `/clusters` in host mode). */
  hostModeWhy?: string;
  /** Host ports handed out to runs (`PORT0…`), inclusive ranges; absent = none. */
  ports?: readonly [number, number][];
  /** How often the usage of running processes is sampled (ms; default 1000). */
  usageSampleMs?: number;
  /** The user host commands run as (see SupervisorOptions.runAs); undefined = the server's. */
  runAs?: { name: string; uid: number; gid: number };
  /** Containers' `--user`; undefined = as the image says. */
  containerUser?: string;
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
  /** Host ports it holds. */
  ports: number[];
}

/** Host limits before (or without) a probe. */
const notProbed: HostLimits = {
  memory: { enforced: false, how: 'accounted, not enforced: host cgroups not probed yet' },
  cpu: { enforced: false, how: 'not enforced: host cgroups not probed yet' },
};

/**
 * Runs each attempt as `/bin/sh -c` in its own process group (its own session), under a tiny
 * supervisor that records pid and exit status in the attempt directory, so attempts survive a
 * server crash and are found again (adopted), read (ended while down) or reported lost.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly cluster: string;
  /**
   * One node: runs get host ports from its ranges (`--local-ports`) through placement; pipeline
   * processes get free ports from the OS (LocalGroups).
   */
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

  /** The container runtime; null = host mode. */
  readonly runtime: ContainerRuntime | null;
  /** What holds of host commands' limits (their own cgroups), once probed. */
  private hostLimits: HostLimits | null = null;
  /**
   * The probe of host cgroups, begun at construction: the attempts found again after a restart
   * (reconcile, before start) need it to read their cgroups.
   */
  private readonly hostProbe: Promise<void>;
  private readonly portRanges: readonly [number, number][];

  constructor(private readonly options: LocalBackendOptions) {
    this.cluster = options.cluster;
    this.runtime = options.runtime ?? null;
    this.portRanges = options.ports ?? [];
    this.supervisor = new Supervisor({
      adoptCheckMs: options.adoptCheckMs,
      logger: options.logger,
      runtime: this.runtime,
      ...(options.logMaxBytes !== undefined ? { logMaxBytes: options.logMaxBytes } : {}),
      ...(options.usageSampleMs !== undefined ? { usageSampleMs: options.usageSampleMs } : {}),
      ...(options.runAs ? { runAs: options.runAs } : {}),
      ...(options.containerUser !== undefined ? { containerUser: options.containerUser } : {}),
    });
    this.baseEnv = {};
    for (const name of options.inheritEnv ?? DEFAULT_INHERITED_ENV) {
      const value = process.env[name];
      if (value !== undefined) this.baseEnv[name] = value;
    }
    this.hostProbe = probeHostCgroups(options.dataDir).then(
      (host) => {
        this.hostLimits = host.limits;
        this.supervisor.useHostCgroups(host.cgroups);
      },
      (err: unknown) => options.logger.warn({ err }, 'local backend: host cgroups could not be probed'),
    );
    this.groups = new LocalGroups({
      dataDir: options.dataDir,
      clock: options.clock,
      logger: options.logger,
      hostname: this.host,
      baseEnv: this.baseEnv,
      supervisor: this.supervisor,
      runtime: this.runtime,
      capacityFreed: () => this.capacityListener(),
      hostCgroupsProbed: this.hostProbe,
    });
  }

  async start(): Promise<void> {
    await mkdir(join(this.options.dataDir, 'runs'), { recursive: true });
    // Host commands (all of host mode, runs without an image otherwise) get their own cgroups
    // with their limits where this server may make them.
    await this.hostProbe;
    const limits = this.hostLimits ?? notProbed;
    // What was found again is tracked by now: ended containers of this data dir left by a server
    // that died before removing them go.
    this.supervisor
      .sweep(this.options.dataDir)
      .then(
        (n) => n > 0 && this.options.logger.info({ removed: n }, 'local backend: ended containers removed'),
      )
      .catch((err: unknown) => this.options.logger.warn({ err }, 'local backend: container sweep failed'));
    if (this.runtime)
      this.options.logger.info({ cluster: this.cluster }, `local backend: ${containerNote(this.runtime)}`);
    else
      this.options.logger.warn(
        {
          cluster: this.cluster,
          why: this.options.hostModeWhy ?? 'no container runtime',
          memoryEnforced: limits.memory.enforced,
          cpuEnforced: limits.cpu.enforced,
        },
        `local backend in host mode: ${LOCAL_NOTE}; ${hostLimitsNote(limits)}`,
      );
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
          portRanges: freeRanges(this.portRanges, this.portsInUse()),
        },
      },
    ];
  }

  /** Host ports held by runs and pipeline processes. */
  private portsInUse(): Set<number> {
    const used = new Set<number>(this.groups.portsInUse());
    for (const t of this.tracked.values()) for (const p of t.ports) used.add(p);
    return used;
  }

  describe(): ClusterInfo {
    const used = this.used();
    const { cpus, memoryMb } = this.options;
    return {
      name: this.cluster,
      backend: this.kind,
      state: this.closed ? 'closed' : 'ready',
      runsOnHost: this.runtime === null,
      note: this.runtime
        ? containerNote(this.runtime)
        : `${LOCAL_NOTE}${this.options.hostModeWhy ? ` (host mode: ${this.options.hostModeWhy})` : ''}; ${hostLimitsNote(this.hostLimits)}`,
      limits: this.runtime
        ? {
            memory: { enforced: true, how: `each container's memory limit (${this.runtime.description})` },
            cpu: { enforced: true, how: `each container's CPU limit (${this.runtime.description})` },
          }
        : (this.hostLimits ?? notProbed),
      capacity: { cpus, memMb: memoryMb, gpus: 0 },
      free: { cpus: Math.max(0, cpus - used.cpus), memMb: Math.max(0, memoryMb - used.memMb), gpus: 0 },
      running: used.count,
      bounds: { gpus: 0, ports: rangeSize(this.portRanges) },
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
          handle: { ...handle, ...(t.ports.length > 0 ? { ports: t.ports } : {}) },
          host: this.runHost(),
        }),
      ended: (end) => {
        if (this.tracked.get(attemptId) !== t) return;
        this.tracked.delete(attemptId);
        const usage = usageOf(end);
        this.emit({
          type: 'ended',
          attemptId,
          at: end.at ?? this.options.clock.now(),
          outcome: outcomeOf(end),
          ...(usage ? { usage } : {}),
        });
      },
    };
  }

  private launchOne(spec: LaunchSpec): void {
    const containerPorts = spec.containerPorts ?? [];
    // Placement gave one host port per container port; a relaunch after a restart may come
    // without them: they are taken from the range then.
    const ports = [...(spec.hostPorts ?? [])];
    if (ports.length < containerPorts.length)
      ports.push(
        ...takePorts(
          freeRanges(this.portRanges, new Set([...this.portsInUse(), ...ports])),
          containerPorts.length - ports.length,
        ),
      );
    const t: Tracked = {
      ref: { runId: spec.runId, attemptId: spec.attemptId, seq: spec.seq },
      cpus: spec.cpus,
      memMb: spec.memMb,
      ports,
    };
    this.tracked.set(spec.attemptId, t);
    const program: Record<string, string> = {};
    for (const { name, value } of spec.env) program[name] = value;
    Object.assign(program, portEnv(ports, containerPorts));
    const dir = attemptDir(this.options.dataDir, spec.runId, spec.seq);
    // A run without an image has nothing to run in: its command runs on the host (as on Mesos).
    if (this.runtime && spec.image.trim() !== '') {
      const container: ContainerLaunch = {
        image: spec.image,
        script: spec.command,
        args: [],
        env: program,
        ...(spec.secretEnv ? { secretNames: spec.secretEnv } : {}),
        memMb: spec.memMb,
        cpus: spec.cpus,
        ports: ports.flatMap((host, i) => {
          const c = containerPorts[i];
          return c === undefined ? [] : [{ host, container: c, protocol: 'tcp' as const }];
        }),
        network: 'bridge',
      };
      this.options.logger.debug(
        { runId: spec.runId, attemptId: spec.attemptId, image: spec.image },
        `launching in a container (${this.runtime.kind})`,
      );
      this.supervisor.start(
        spec.attemptId,
        { dir, command: spec.command, env: {}, container },
        this.watcher(t),
      );
      return;
    }
    this.options.logger.debug(
      { runId: spec.runId, attemptId: spec.attemptId, image: spec.image },
      'launching on the host (the image is not used)',
    );
    const env = { ...this.baseEnv, ...program };
    const limits = { memMb: spec.memMb, cpus: spec.cpus };
    this.supervisor.start(spec.attemptId, { dir, command: spec.command, env, limits }, this.watcher(t));
  }

  private async reconcileOne({ attempt: a, cpus, memMb }: ReconcileItem): Promise<ReconcileAnswer> {
    const dir = attemptDir(this.options.dataDir, a.runId, a.seq);
    const stored = a.handle?.['ports'];
    const ports = Array.isArray(stored) ? stored.filter((p): p is number => typeof p === 'number') : [];
    const t: Tracked = { ref: { runId: a.runId, attemptId: a.attemptId, seq: a.seq }, cpus, memMb, ports };
    // Tracked first: an end found by polling right after the adoption finds it.
    this.tracked.set(a.attemptId, t);
    await this.hostProbe; // its host cgroup is read with the cgroups probed
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
        handle: { ...found.handle, ...(ports.length > 0 ? { ports } : {}) },
        host: this.runHost(),
      };
    this.tracked.delete(a.attemptId);
    if (found.kind === 'absent') return { attemptId: a.attemptId, state: 'absent' };
    const usage = usageOf(found.end);
    return {
      attemptId: a.attemptId,
      state: 'ended',
      at: found.end.at ?? this.options.clock.now(),
      outcome: outcomeOf(found.end),
      ...(usage ? { usage } : {}),
    };
  }
}

import { join } from 'node:path';
import { type PipelineSpec, resolveHealthCheck } from '@galley/core';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { processEnvironment, processScript } from '../launch-shape.js';
import { type LogChunk, type LogStream, LogUnavailableError, type PlacedGroupLaunch } from '../backend.js';
import type {
  GroupEvent,
  GroupLaunch,
  GroupReconcileItem,
  GroupRunner,
  ProcessEnd,
  ProcessLogRef,
} from '../group-runner.js';
import { lastLine, readLogChunk } from './attempt-files.js';
import { execCommand } from './container-cli.js';
import { containerName, type ContainerLaunch, type ContainerRuntime } from './container-runtime.js';
import { batcher } from './event-batch.js';
import { HealthProbe } from './group-health.js';
import { hostPortsOf } from './group-ports.js';
import {
  hostFailureEnd,
  type LocalProcess,
  newLocalProcess,
  processDir,
  processEnd,
} from './group-process.js';
import type { SupervisedHandle, SupervisedWatcher, Supervisor } from './supervised.js';

/** What the local group runner needs from the local backend. */
export interface LocalGroupsOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** This host's name (HOST, agent id of the processes). */
  hostname: string;
  /** The part of the server's environment every process inherits (PATH, HOME, …). */
  baseEnv: Record<string, string>;
  /** Starts, stops, watches and finds again the processes (the same one as the runs'). */
  supervisor: Supervisor;
  /** The container runtime; null = host mode (every process runs its command on this host). */
  runtime?: ContainerRuntime | null;
  /** Told when a launch ended entirely (its capacity is free again). */
  capacityFreed: () => void;
  /**
   * Settles once host cgroups are probed: a process found again after a restart is read with
   * them (its OOM kill while the server was down, its cgroup removed).
   */
  hostCgroupsProbed?: Promise<void>;
}

/** One launch this runner is responsible for until every process of it ended. */
interface LocalLaunch {
  launch: GroupLaunch;
  processes: Map<string, LocalProcess>;
  killRequested: boolean;
}

/**
 * Runs pipeline launches on this machine, once the run controller's dispatch round placed them
 * here: each process under the same supervisor as runs (pid and exit files, its own process
 * group), so launches survive a server crash and are adopted after a restart. A process that ends
 * by itself ends its launch: the others are stopped, as Mesos' default executor does with a task
 * group.
 */
export class LocalGroups implements GroupRunner {
  private readonly launches = new Map<string, LocalLaunch>();
  private listener: (events: GroupEvent[]) => Promise<void> = async () => {};
  /** Events of one turn of the event loop, delivered (and stored) together. */
  private readonly emit = batcher<GroupEvent>((batch) => {
    this.listener(batch).catch((err: unknown) =>
      this.o.logger.warn({ err, events: batch.length }, 'pipelines: local events were not stored'),
    );
  });
  private closed = false;

  constructor(private readonly o: LocalGroupsOptions) {}

  onEvents(listener: (events: GroupEvent[]) => Promise<void>): void {
    this.listener = listener;
  }

  /**
   * With a container runtime and a `container`, every process can run (one without a command runs
   * its image's entrypoint); otherwise processes run their command on this host and must have one.
   */
  problems(spec: PipelineSpec): { field: string; message: string }[] {
    if (this.inContainers(spec)) return [];
    const why = this.o.runtime
      ? 'is required when the pipeline has no `container`: its processes run their commands on this host'
      : 'is required on the local backend without a container runtime: it runs commands on this host, not container images';
    return Object.values(spec.processes)
      .filter((p) => p.command === undefined)
      .map((p) => ({ field: `processes.${p.id}.command`, message: why }));
  }

  /** Whether the spec's processes run in containers here: a runtime, and an image to run. */
  private inContainers(spec: PipelineSpec): boolean {
    return this.o.runtime != null && spec.container !== undefined && spec.container.image.trim() !== '';
  }

  /** Host ports held by processes that have not ended. */
  portsInUse(): number[] {
    const ports: number[] = [];
    for (const l of this.launches.values())
      for (const p of l.processes.values()) if (!p.ended) ports.push(...p.ports);
    return ports;
  }

  /** Cpus and memory held by launches that have a live process. */
  used(): { cpus: number; memMb: number; count: number } {
    let cpus = 0;
    let memMb = 0;
    let count = 0;
    for (const l of this.launches.values()) {
      count++;
      for (const p of l.processes.values()) {
        if (p.ended) continue;
        cpus += p.spec.resources.cpu;
        memMb += p.spec.resources.mem;
      }
    }
    return { cpus, memMb, count };
  }

  /**
   * Starts launches placed on this machine: each is tracked at once (a kill right after finds it),
   * then gets its ports and its processes are started.
   */
  start(placed: readonly PlacedGroupLaunch[]): void {
    for (const { launch } of placed) {
      if (this.launches.has(launch.launchId) || this.closed) continue;
      const processes = new Map(
        Object.values(launch.spec.processes).map((p) => [
          p.id,
          newLocalProcess(this.o.dataDir, launch.launchId, p),
        ]),
      );
      const l: LocalLaunch = { launch, processes, killRequested: false };
      this.launches.set(launch.launchId, l);
      void this.startProcesses(l).catch((err: unknown) => {
        this.o.logger.warn({ err, launchId: l.launch.launchId }, 'pipeline launch failed');
        for (const p of l.processes.values())
          this.end(l, p, hostFailureEnd(`launch failed: ${(err as Error).message}`, l.killRequested));
      });
    }
  }

  async kill(launchId: string): Promise<void> {
    const l = this.launches.get(launchId);
    if (!l) return;
    l.killRequested = true;
    await Promise.all([...l.processes.values()].map((p) => this.signal(p)));
  }

  async reconcile(items: readonly GroupReconcileItem[]): Promise<void> {
    await this.o.hostCgroupsProbed;
    await Promise.all(items.map((item) => this.reconcileOne(item)));
  }

  /**
   * A positioned read of the process's file in its launch directory; not written yet (or never
   * started): empty. Placed on another host: not on this machine (LogUnavailableError); so is a
   * file that cannot be read (its error code, not its path, says why).
   */
  async logs(ref: ProcessLogRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    const where = `process ${ref.process} of launch ${ref.launchId}`;
    if (ref.agentId !== null && ref.agentId !== this.o.hostname)
      throw new LogUnavailableError('not-here', `${where} ran on host ${ref.agentId}, not on this server's`);
    const dir = processDir(this.o.dataDir, ref.launchId, ref.process);
    try {
      return await readLogChunk(join(dir, stream), offset, maxBytes);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'an error';
      throw new LogUnavailableError('not-here', `the ${stream} of ${where} cannot be read (${code})`, {
        cause: err,
      });
    }
  }

  /** Stops the health checks (the processes keep running; the Supervisor is closed by its owner). */
  close(): void {
    this.closed = true;
    for (const l of this.launches.values()) for (const p of l.processes.values()) p.probe?.stop();
    this.listener = async () => {};
  }

  // ---- starting ----

  /** Gives the launch its ports, reports it placed and starts each process under its supervisor. */
  private async startProcesses(l: LocalLaunch): Promise<void> {
    const { launch } = l;
    const processes = [...l.processes.values()];
    const ports = await hostPortsOf(launch.spec);
    for (const p of processes) p.ports = ports[p.name] ?? [];
    const at = this.o.clock.now();
    this.emit({
      type: 'placed',
      launchId: launch.launchId,
      at,
      nodeId: 'local',
      hostname: this.o.hostname,
      agentId: this.o.hostname,
      ports,
    });
    for (const p of processes) {
      if (l.killRequested) {
        this.end(l, p, {
          state: 'TASK_KILLED',
          exitCode: null,
          message: 'stopped before it started',
          hostFailure: false,
        });
        continue;
      }
      const script = processScript(p.spec);
      if (this.inContainers(launch.spec)) {
        const container = this.containerOf(launch, p, script);
        this.o.supervisor.start(
          p.taskId,
          { dir: p.dir, command: script ?? '', env: {}, container },
          this.watcher(l, p),
        );
        continue;
      }
      if (script === null) {
        this.end(l, p, {
          state: 'TASK_ERROR',
          exitCode: null,
          message: 'the process has no command (the local backend runs commands on the host, not images)',
          hostFailure: false,
        });
        continue;
      }
      const env = { ...this.o.baseEnv, ...this.environment(launch, p) };
      // Held to its resources in its own cgroup where host cgroups work, as a run attempt is.
      const limits = { memMb: p.spec.resources.mem, cpus: p.spec.resources.cpu };
      this.o.supervisor.start(p.taskId, { dir: p.dir, command: script, env, limits }, this.watcher(l, p));
    }
  }

  /**
   * A process as a container of the pipeline's image: its script through /bin/sh (none: the
   * image's entrypoint with its arguments), its environment, its resources as limits, and its
   * ports published to their container ports (BRIDGE) or bound on the host (HOST).
   */
  private containerOf(launch: GroupLaunch, p: LocalProcess, script: string | null): ContainerLaunch {
    const c = launch.spec.container!;
    return {
      image: c.image,
      script,
      args: script === null ? p.spec.arguments : [],
      env: this.environment(launch, p),
      ...(launch.secretEnv ? { secretNames: launch.secretEnv } : {}),
      memMb: p.spec.resources.mem,
      cpus: p.spec.resources.cpu,
      ports: p.ports.map((host, i) => {
        const m = p.spec.port_mappings[i];
        return { host, container: m?.container_port || host, protocol: m?.protocol ?? 'tcp' };
      }),
      network: c.network === 'HOST' ? 'host' : 'bridge',
    };
  }

  private environment(launch: GroupLaunch, p: LocalProcess): Record<string, string> {
    return processEnvironment(launch.spec, p.name, {
      instanceId: launch.instanceId,
      launchId: launch.launchId,
      hostname: this.o.hostname,
      ports: p.ports,
    });
  }

  /** What the Supervisor tells of a process, as group events. */
  private watcher(l: LocalLaunch, p: LocalProcess): SupervisedWatcher {
    return {
      spawned: (handle) => this.running(l, p, handle),
      ended: (supervised) => {
        const end = processEnd(supervised, l.killRequested);
        // A failed pull says why already; any other failure in its last words: the end of its stderr.
        if (end.state !== 'TASK_FAILED' || supervised.kind === 'pull-failed')
          return this.end(l, p, end, supervised.at);
        void lastLine(join(p.dir, 'stderr')).then((words) =>
          this.end(l, p, words ? { ...end, message: `${end.message}: ${words}` } : end, supervised.at),
        );
      },
    };
  }

  /** Reports a process running (again, after adoption) and starts its health checks. */
  private running(l: LocalLaunch, p: LocalProcess, handle: SupervisedHandle): void {
    const at = this.o.clock.now();
    this.emit({
      type: 'process-state',
      launchId: l.launch.launchId,
      process: p.name,
      at,
      state: 'TASK_RUNNING',
      handle: { ...handle, ports: p.ports },
    });
    const check = p.spec.health_check;
    if (!check || p.probe || l.killRequested) return;
    const resolved = resolveHealthCheck(check);
    p.probe = new HealthProbe(
      resolved,
      {
        port: p.ports[resolved.portIndex] ?? null,
        cwd: p.dir,
        env: { ...this.o.baseEnv, ...this.environment(l.launch, p) },
        ...(handle.container && this.o.runtime
          ? { exec: (command: string) => execCommand(this.o.runtime!, containerName(p.taskId), command) }
          : {}),
      },
      this.o.clock,
      (status, message) =>
        this.emit({
          type: 'process-health',
          launchId: l.launch.launchId,
          process: p.name,
          at: this.o.clock.now(),
          status,
          message,
        }),
      at,
    );
  }

  // ---- stopping and ending ----

  /**
   * SIGTERM (or the process's `drain.signal`) to the process's group now, SIGKILL to the group
   * after its kill_grace_period.
   */
  private async signal(p: LocalProcess): Promise<void> {
    if (p.ended) return;
    p.probe?.stop();
    const drain = p.spec.drain;
    const signal = drain !== undefined && 'signal' in drain ? drain.signal : 'SIGTERM';
    await this.o.supervisor.stop(p.taskId, p.spec.kill_grace_period * 1000, signal);
  }

  /** Records a process's end; the first end the launch did not ask for stops the rest of it. */
  private end(l: LocalLaunch, p: LocalProcess, end: ProcessEnd, at?: number): void {
    if (p.ended) return;
    p.ended = true;
    p.probe?.stop();
    p.probe = null;
    this.emit({
      type: 'process-ended',
      launchId: l.launch.launchId,
      process: p.name,
      at: at ?? this.o.clock.now(),
      end,
    });
    if (!l.killRequested) {
      l.killRequested = true;
      for (const other of l.processes.values()) void this.signal(other);
    }
    if ([...l.processes.values()].every((x) => x.ended)) {
      this.launches.delete(l.launch.launchId);
      this.o.capacityFreed();
    }
  }

  // ---- recovery and polling ----

  private async reconcileOne(item: GroupReconcileItem): Promise<void> {
    const { launch } = item;
    const l: LocalLaunch = { launch, processes: new Map(), killRequested: item.killRequested };
    this.launches.set(launch.launchId, l);
    const absent: LocalProcess[] = [];
    const adopted = new Map<LocalProcess, SupervisedHandle>();
    let present = 0;
    for (const spec of Object.values(launch.spec.processes)) {
      const p = newLocalProcess(this.o.dataDir, launch.launchId, spec);
      const stored = item.processes[spec.id];
      p.ports = stored?.ports ?? [];
      p.ended = stored?.ended ?? false;
      l.processes.set(spec.id, p);
      if (p.ended) continue;
      const handle = stored?.handle ?? null;
      const found = await this.o.supervisor.findAgain(p.taskId, p.dir, handle, this.watcher(l, p), false);
      if (found.kind === 'absent') absent.push(p);
      else if (found.kind === 'ended') this.end(l, p, processEnd(found.end, l.killRequested), found.end.at);
      else adopted.set(p, found.handle);
      if (found.kind !== 'absent') present++;
    }
    if (
      present === 0 &&
      absent.length > 0 &&
      absent.length === [...l.processes.values()].filter((p) => !p.ended).length
    ) {
      // Nothing of it ever started: the controller may launch it again under the same id.
      this.launches.delete(launch.launchId);
      this.emit({ type: 'absent', launchId: launch.launchId, at: this.o.clock.now() });
      return;
    }
    for (const p of absent)
      this.end(l, p, hostFailureEnd('it never started (the server stopped first)', l.killRequested));
    for (const p of l.processes.values()) {
      if (p.ended) continue;
      const handle = adopted.get(p);
      if (handle) this.running(l, p, handle);
      if (l.killRequested) await this.signal(p);
    }
    if ([...l.processes.values()].every((p) => p.ended)) this.launches.delete(launch.launchId);
  }
}

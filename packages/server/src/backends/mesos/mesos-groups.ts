import type { PipelineSpec } from '@galley/core';
import {
  AgentFilesError,
  createAgentFilesClient,
  executorSandboxPath,
  type MesosScheduler,
  type ReconcileTaskRef,
  type TaskStatus,
} from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { type LogChunk, type LogStream, LogUnavailableError, type PlacedGroupLaunch } from '../backend.js';
import {
  type GroupEvent,
  type GroupLaunch,
  type GroupReconcileItem,
  type GroupRunner,
  parseTaskId,
  type ProcessLogRef,
  taskIdOf,
} from '../group-runner.js';
import { agentUrlOf } from './agents.js';
import { authorizationOf } from './framework.js';
import { SandboxReadError } from './sandbox-logs.js';
import { AckAfterStore } from './delivery.js';
import { groupEventsOf } from './groups-status.js';
import { type GroupTask, sweepTasks, type TrackedLaunch } from './groups-table.js';
import type { MesosSettings } from '../../config/mesos-settings.js';
import type { TaskKills } from './task-kills.js';
import type { TaskShape } from './task-info.js';

/** What the Mesos group runner shares with the Mesos backend it is part of. */
export interface MesosGroupsOptions {
  cluster: string;
  settings: MesosSettings;
  clock: Clock;
  logger: Logger;
  shape: TaskShape;
  /** The framework's roles, and the role of pipelines that name none (undefined: any node). */
  roles: readonly string[];
  defaultRole: string | undefined;
  scheduler: () => MesosScheduler | null;
  kills: TaskKills;
}

/**
 * Tracks pipeline launches on Mesos, each one LAUNCH_GROUP on the default executor, sent by the
 * backend in the same ACCEPT as the runs placed on that agent in the same dispatch round. Status
 * updates of their tasks become group events, acknowledged once the controller stored them.
 * Unreachable tasks are given up after `unreachableTimeoutMs` (and killed should their agent
 * return), launches with no update are reconciled explicitly, and kills are sent again after
 * every new subscription.
 */
export class MesosGroups implements GroupRunner {
  private readonly launches = new Map<string, TrackedLaunch>();
  /** Agents' base URLs learned for reading sandboxes. */
  private readonly agentUrls = new Map<string, string>();
  private readonly delivery: AckAfterStore<GroupEvent>;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: MesosGroupsOptions) {
    this.delivery = new AckAfterStore<GroupEvent>(
      (status) => this.acknowledge(status),
      o.logger,
      'pipeline updates',
    );
  }

  onEvents(listener: (events: GroupEvent[]) => Promise<void>): void {
    this.delivery.setListener(listener);
  }

  problems(spec: PipelineSpec): { field: string; message: string }[] {
    const problems: { field: string; message: string }[] = [];
    spec.roles.forEach((role, i) => {
      if (!this.o.roles.includes(role))
        problems.push({
          field: `roles.${i}`,
          message: `"${role}" is not a role of this cluster's framework (${this.o.roles.join(', ')})`,
        });
    });
    if (this.o.shape.containerizer === 'none' || spec.container === undefined)
      for (const p of Object.values(spec.processes))
        if (p.command === undefined)
          problems.push({
            field: `processes.${p.id}.command`,
            message: 'is required: this cluster runs plain commands, without container images',
          });
    return problems;
  }

  start(): void {
    const tick = Math.min(1_000, Math.max(20, Math.floor(this.o.settings.unreachableTimeoutMs / 4)));
    this.timer = setInterval(() => this.tick(), tick);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.delivery.close();
  }

  /** Tracks a launch about to go out in an ACCEPT to `agentId` (before the ACCEPT is sent). */
  track(launch: GroupLaunch, agentId: string): void {
    const tasks = new Map<string, GroupTask>();
    for (const p of Object.values(launch.spec.processes))
      tasks.set(p.id, this.newTask(taskIdOf(launch.launchId, p.id), agentId));
    this.launches.set(launch.launchId, { launch, killRequested: false, tasks });
  }

  /** The ACCEPT carrying these launches was taken: they are placed on the agent. */
  placed(placed: readonly PlacedGroupLaunch[], agentId: string, hostname: string): void {
    const at = this.o.clock.now();
    this.delivery.push(
      placed.map((p) => ({
        type: 'placed' as const,
        launchId: p.launch.launchId,
        at,
        nodeId: p.nodeId,
        hostname,
        agentId,
        ports: p.ports,
      })),
    );
  }

  /**
   * Launches that surely did not reach Mesos (their offers were gone, did not hold them, or the
   * ACCEPT was refused): forgotten here and reported `absent`, so they are placed again.
   */
  giveBack(launchIds: readonly string[]): void {
    const at = this.o.clock.now();
    for (const id of launchIds) this.launches.delete(id);
    this.delivery.push(launchIds.map((launchId) => ({ type: 'absent' as const, launchId, at })));
  }

  async kill(launchId: string): Promise<void> {
    const t = this.launches.get(launchId);
    if (!t) return;
    t.killRequested = true;
    await this.sendKills(t);
  }

  /** Mesos tells what became of adopted launches (reconciliation); nothing to answer here. */
  async reconcile(items: readonly GroupReconcileItem[]): Promise<void> {
    for (const item of items) if (!this.launches.has(item.launch.launchId)) this.adopt(item);
  }

  /**
   * Reads a process's output from its task's directory in the launch's sandboxes (the executor is
   * the launch; each task of the group has `tasks/<task id>/` in it) through the agent's files API.
   * Not placed yet: empty. An agent that cannot be located, or whose files API fails, is a
   * LogUnavailableError (503, 502), never an empty page.
   */
  async logs(ref: ProcessLogRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    const taskId = taskIdOf(ref.launchId, ref.process);
    const agentId = ref.agentId ?? this.launches.get(ref.launchId)?.tasks.get(ref.process)?.agentId ?? null;
    if (agentId === null) return { data: Buffer.alloc(0), nextOffset: offset, size: offset };
    const s = this.o.scheduler();
    const agentUrl = s ? await this.agentUrl(s, agentId) : null;
    if (!s || s.state.phase !== 'SUBSCRIBED' || !agentUrl)
      throw new LogUnavailableError(
        'not-here',
        `the sandbox of task ${taskId} cannot be located: ${s ? `agent ${agentId} is not known to this framework` : 'the framework is not subscribed'}`,
      );
    const files = createAgentFilesClient({ agent: agentUrl, ...authorizationOf(this.o.settings) });
    const path = executorSandboxPath(s.state.frameworkId, ref.launchId, `tasks/${taskId}/${stream}`);
    try {
      const page = await files.readPage(path, offset, maxBytes);
      return { data: page.data, nextOffset: page.nextOffset, size: page.end ? page.nextOffset : null };
    } catch (error) {
      if (error instanceof AgentFilesError && error.code === 'MESOS_AGENT_FILE_NOT_FOUND')
        return { data: Buffer.alloc(0), nextOffset: offset, size: null };
      throw new SandboxReadError(`the files API of agent ${agentId} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** The agent's base URL: from its offers held now, else the leading master's state (remembered). */
  private async agentUrl(s: MesosScheduler, agentId: string): Promise<string | null> {
    for (const offer of s.offers.values())
      if (offer.agent_id.value === agentId) {
        const url = agentUrlOf(offer);
        if (url) this.agentUrls.set(agentId, url);
      }
    const known = this.agentUrls.get(agentId);
    if (known || s.state.phase !== 'SUBSCRIBED') return known ?? null;
    try {
      const res = await fetch(new URL('/master/state', s.state.master), {
        headers: authorizationOf(this.o.settings),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) return null;
      const state = (await res.json()) as { slaves?: { id?: string; hostname?: string; port?: number }[] };
      const agent = state.slaves?.find((a) => a.id === agentId);
      if (!agent?.hostname || !agent.port) return null;
      const url = `http://${agent.hostname}:${agent.port}`;
      this.agentUrls.set(agentId, url);
      return url;
    } catch {
      return null;
    }
  }

  /** Whether the task is one of a tracked launch (its updates are this runner's). */
  owns(taskId: string): boolean {
    const ref = parseTaskId(taskId);
    const task = ref ? this.launches.get(ref.launchId)?.tasks.get(ref.process) : undefined;
    return task !== undefined && !task.ended;
  }

  /** Tasks to reconcile explicitly, with their agents when known. */
  refs(): ReconcileTaskRef[] {
    const refs: ReconcileTaskRef[] = [];
    for (const t of this.launches.values()) {
      for (const task of t.tasks.values())
        if (!task.ended)
          refs.push({
            task_id: { value: task.taskId },
            ...(task.agentId ? { agent_id: { value: task.agentId } } : {}),
          });
    }
    return refs;
  }

  /** Resources held by launches Mesos has (their live tasks, and each launch's executor). */
  used(): { cpus: number; memMb: number; count: number } {
    let cpus = 0;
    let memMb = 0;
    let count = 0;
    for (const t of this.launches.values()) {
      const { spec } = t.launch;
      count++;
      cpus += spec.executor_resources.cpu;
      memMb += spec.executor_resources.mem;
      for (const [name, task] of t.tasks) {
        if (task.ended) continue;
        cpus += spec.processes[name]?.resources.cpu ?? 0;
        memMb += spec.processes[name]?.resources.mem ?? 0;
      }
    }
    return { cpus, memMb, count };
  }

  /** A status update of one of this runner's tasks (`owns` said so). */
  onUpdate(status: TaskStatus): void {
    const ref = parseTaskId(status.task_id.value)!;
    const t = this.launches.get(ref.launchId)!;
    const task = t.tasks.get(ref.process)!;
    const now = this.o.clock.now();
    task.lastUpdateAt = now;
    if (status.agent_id?.value) task.agentId = status.agent_id.value;
    if (status.state === 'TASK_RUNNING') {
      task.phase = 'running';
      task.unreachableSince = null;
    } else if (status.state === 'TASK_UNREACHABLE') {
      task.phase = 'unreachable';
      task.unreachableSince ??= now;
    }
    const events = groupEventsOf(status, ref.launchId, ref.process, now);
    if (events.some((e) => e.type === 'process-ended')) this.ended(t, task);
    if (events.length > 0) this.delivery.push(events, status.uuid ? [status] : []);
    else if (status.uuid) void this.acknowledge(status);
  }

  /** After SUBSCRIBED: kills asked for before are sent again (Mesos may not have seen them). */
  subscribed(): void {
    for (const t of this.launches.values()) if (t.killRequested) void this.sendKills(t);
  }

  /** Tasks of launches not ended on an agent (the capacity loop never drains an agent with any). */
  tasksOn(agentId: string): number {
    let n = 0;
    for (const t of this.launches.values())
      for (const task of t.tasks.values()) if (task.agentId === agentId && !task.ended) n++;
    return n;
  }

  /** An agent was removed (FAILURE without executor): its tasks count as unreachable from now. */
  agentLost(agentId: string): void {
    const now = this.o.clock.now();
    for (const t of this.launches.values())
      for (const task of t.tasks.values())
        if (task.agentId === agentId && !task.ended && task.unreachableSince === null) {
          task.unreachableSince = now;
          task.phase = 'unreachable';
        }
  }

  // ---- tasks ----

  private newTask(taskId: string, agentId: string | null): GroupTask {
    return {
      taskId,
      agentId,
      phase: 'launching',
      lastUpdateAt: this.o.clock.now(),
      unreachableSince: null,
      reconciledAt: null,
      ended: false,
    };
  }

  private adopt(item: GroupReconcileItem): void {
    const tasks = new Map<string, GroupTask>();
    for (const [name, p] of Object.entries(item.processes)) {
      const agentId = typeof p.handle?.['agentId'] === 'string' ? p.handle['agentId'] : null;
      const task = this.newTask(taskIdOf(item.launch.launchId, name), agentId);
      task.ended = p.ended;
      task.reconciledAt = null;
      tasks.set(name, task);
    }
    this.launches.set(item.launch.launchId, {
      launch: item.launch,
      killRequested: item.killRequested,
      tasks,
    });
  }

  private ended(t: TrackedLaunch, task: GroupTask): void {
    task.ended = true;
    if ([...t.tasks.values()].every((x) => x.ended)) this.launches.delete(t.launch.launchId);
  }

  private async sendKills(t: TrackedLaunch): Promise<void> {
    for (const [name, task] of t.tasks) {
      if (task.ended) continue;
      const grace = (t.launch.spec.processes[name]?.kill_grace_period ?? 0) * 1000;
      await this.o.kills.send(task.taskId, task.agentId ?? undefined, grace);
    }
  }

  private async acknowledge(status: TaskStatus): Promise<void> {
    try {
      await this.o.scheduler()?.acknowledge(status);
    } catch (err) {
      this.o.logger.debug(
        { err, taskId: status.task_id.value },
        'mesos: acknowledgement failed; Mesos sends it again',
      );
    }
  }

  /** Unreachable tasks given up after the timeout; launches without an update reconciled. */
  private tick(): void {
    const { unreachableTimeoutMs, launchTimeoutMs } = this.o.settings;
    const sweep = sweepTasks(
      this.launches.values(),
      this.o.clock.now(),
      unreachableTimeoutMs,
      launchTimeoutMs,
    );
    if (sweep.ended.length > 0) {
      this.o.logger.warn({ tasks: sweep.ended.length }, 'mesos: giving up unreachable pipeline tasks');
      for (const { launch, task } of sweep.ended) {
        void this.o.kills.send(task.taskId, task.agentId ?? undefined, 0);
        this.ended(launch, task);
      }
      this.delivery.push(sweep.ended.map((e) => e.event));
    }
    const s = this.o.scheduler();
    if (s && sweep.reconcile.length > 0)
      s.reconcileTasks(sweep.reconcile).catch((err: unknown) =>
        this.o.logger.debug({ err }, 'mesos: RECONCILE failed; tried again later'),
      );
  }
}

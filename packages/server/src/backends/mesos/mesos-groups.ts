import type { PipelineSpec } from '@galley/core';
import {
  MesosHttpError,
  type MesosScheduler,
  type OfferHygiene,
  type ReconcileTaskRef,
  SchedulerError,
  type TaskStatus,
} from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { launchesInFlight } from '../../pipelines/in-flight.js';
import type { Store } from '../../store/store.js';
import {
  type GroupEvent,
  type GroupLaunch,
  type GroupReconcileItem,
  type GroupRunner,
  parseTaskId,
  taskIdOf,
} from '../group-runner.js';
import { GroupDelivery } from './groups-delivery.js';
import { groupEventsOf } from './groups-status.js';
import { type NodeAccept, planGroupPlacement } from './groups-placement.js';
import { type GroupTask, sweepTasks, type TrackedLaunch } from './groups-table.js';
import type { MesosSettings } from './settings.js';
import type { TaskKills } from './task-kills.js';
import type { TaskShape } from './task-info.js';

/** What the Mesos group runner shares with the Mesos backend it is part of. */
export interface MesosGroupsOptions {
  cluster: string;
  settings: MesosSettings;
  store: Store;
  clock: Clock;
  logger: Logger;
  shape: TaskShape;
  /** The framework's roles, and the role of pipelines that name none (undefined: any node). */
  roles: readonly string[];
  defaultRole: string | undefined;
  scheduler: () => MesosScheduler | null;
  hygiene: OfferHygiene;
  kills: TaskKills;
  /** Offers an engine dispatch round is placing runs onto right now: not to be used here. */
  inDispatchRound: (offerId: string) => boolean;
  /** Runs waiting for offers of a role (a leftover filter would keep offers from them). */
  waitingRuns: (role: string) => number;
  /** An offer used or declined here: the backend's sweeper forgets it. */
  forgetOffer: (offerId: string) => void;
  /** Asks the sweeper for a round soon (offer hygiene: REVIVE for new work). */
  sweepSoon: () => void;
  random?: () => number;
}

/**
 * Runs pipeline launches on Mesos, each as one LAUNCH_GROUP on the default executor, through the
 * backend's own framework, offers and status stream. Pending launches are placed by core `place()`
 * on the held offers (the same nodes runs are placed on, minus those an engine round is using),
 * oldest first; each agent's launches go out in one ACCEPT. Status updates of their tasks become
 * group events, acknowledged once the controller stored them. Unreachable tasks are given up
 * after `unreachableTimeoutMs` (and killed should their agent return), launches with no update
 * are reconciled explicitly, and kills are sent again after every new subscription.
 */
export class MesosGroups implements GroupRunner {
  private readonly launches = new Map<string, TrackedLaunch>();
  private readonly delivery: GroupDelivery;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: MesosGroupsOptions) {
    this.delivery = new GroupDelivery((status) => this.acknowledge(status), o.logger);
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

  /** Loads the launches the store has in flight on this cluster (before subscribing: their updates must be known). */
  async load(): Promise<void> {
    for (const item of (await launchesInFlight(this.o.store, this.o.cluster)).get(this.o.cluster) ?? [])
      this.adopt(item);
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

  launch(launches: readonly GroupLaunch[]): void {
    for (const launch of launches) {
      if (this.launches.has(launch.launchId)) continue;
      const tasks = new Map<string, GroupTask>();
      for (const p of Object.values(launch.spec.processes))
        tasks.set(p.id, this.newTask(taskIdOf(launch.launchId, p.id), null));
      this.launches.set(launch.launchId, {
        launch,
        pending: true,
        waitingReason: null,
        killRequested: false,
        tasks,
      });
      this.o.hygiene.noteNewWork(this.roleOf(launch.spec));
    }
    this.o.sweepSoon();
    this.placePending();
  }

  async kill(launchId: string): Promise<void> {
    const t = this.launches.get(launchId);
    if (!t) return;
    t.killRequested = true;
    if (t.pending) {
      this.launches.delete(launchId);
      const at = this.o.clock.now();
      this.delivery.push(
        [...t.tasks.keys()].map((process) => ({
          type: 'process-ended' as const,
          launchId,
          process,
          at,
          end: {
            state: 'TASK_KILLED' as const,
            exitCode: null,
            message: 'stopped before it started',
            hostFailure: false,
          },
        })),
      );
      return;
    }
    await this.sendKills(t);
  }

  /** Mesos tells what became of adopted launches (reconciliation); nothing to answer here. */
  async reconcile(items: readonly GroupReconcileItem[]): Promise<void> {
    for (const item of items) if (!this.launches.has(item.launch.launchId)) this.adopt(item);
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
      if (t.pending) continue;
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
      if (t.pending) continue;
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

  /** Waiting launches of a role (offers of it must not be declined at once; REVIVE it). */
  waitingCount(role: string): number {
    let n = 0;
    for (const t of this.launches.values()) if (t.pending && this.roleOf(t.launch.spec) === role) n++;
    return n;
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

  /** New offers: place what waits. */
  offersArrived(): void {
    this.placePending();
  }

  /** After SUBSCRIBED: kills asked for before are sent again (Mesos may not have seen them). */
  subscribed(): void {
    for (const t of this.launches.values()) if (t.killRequested && !t.pending) void this.sendKills(t);
    if ([...this.launches.values()].some((t) => t.pending)) this.placePending();
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

  // ---- placing ----

  private roleOf(spec: PipelineSpec): string {
    return spec.roles[0] ?? this.o.defaultRole ?? this.o.roles[0] ?? '*';
  }

  private placePending(): void {
    const s = this.o.scheduler();
    const pending = [...this.launches.values()].filter((t) => t.pending).map((t) => t.launch);
    if (!s || pending.length === 0) return;
    const offers = [...s.offers.values()].filter((o) => !this.o.inDispatchRound(o.id.value));
    const plan = planGroupPlacement(pending, offers, {
      frameworkId: s.id ?? '',
      shape: this.o.shape,
      defaultRole: this.o.defaultRole,
      ...(this.o.random ? { random: this.o.random } : {}),
    });
    const now = this.o.clock.now();
    const waiting: GroupEvent[] = [];
    for (const w of plan.waiting) {
      const t = this.launches.get(w.launchId)!;
      if (t.waitingReason === w.reason) continue;
      t.waitingReason = w.reason;
      waiting.push({ type: 'waiting', launchId: w.launchId, at: now, reason: w.reason });
    }
    this.delivery.push(waiting);
    for (const accept of plan.accepts) void this.send(s, accept);
  }

  /** Sends one agent's ACCEPT (or DECLINE, when nothing fitted after all) and reports the launches placed. */
  private async send(s: MesosScheduler, accept: NodeAccept): Promise<void> {
    const now = this.o.clock.now();
    const launched = accept.placed.map((p) => this.launches.get(p.launchId)!);
    for (const t of launched) {
      t.pending = false;
      t.waitingReason = null;
      for (const task of t.tasks.values()) {
        task.agentId = accept.agentId;
        task.lastUpdateAt = now;
      }
    }
    for (const offer of accept.offers) this.o.forgetOffer(offer.id.value);
    const more = this.waitingCount(accept.role) > 0 || this.o.waitingRuns(accept.role) > 0;
    const refuse = more ? 0 : this.o.settings.refuseSeconds;
    try {
      if (accept.plan.size === 0) {
        await s.decline(
          accept.offers.map((o) => o.id),
          { refuse_seconds: refuse },
        );
      } else {
        const call = accept.plan.toAccept(refuse);
        await s.accept(call.offer_ids, call.operations, call.filters);
      }
      if (refuse > 0) this.o.hygiene.noteDeclined(accept.role);
      this.delivery.push(
        accept.placed.map((p) => ({
          type: 'placed' as const,
          launchId: p.launchId,
          at: now,
          nodeId: accept.nodeId,
          hostname: p.hostname,
          agentId: accept.agentId,
          ports: p.ports,
        })),
      );
    } catch (err) {
      // Surely not taken (not subscribed, or an HTTP error answer): the launches wait again. A
      // lost answer leaves them launched: reconciliation tells whether Mesos has their tasks.
      const refused =
        (err instanceof SchedulerError && err.code === 'MESOS_NOT_SUBSCRIBED') ||
        err instanceof MesosHttpError;
      this.o.logger.warn(
        { err, launches: launched.length, refused },
        'mesos: ACCEPT of pipeline launches failed',
      );
      if (!refused) return;
      for (const t of launched) {
        t.pending = true;
        for (const task of t.tasks.values()) task.agentId = null;
      }
      this.o.sweepSoon();
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
      pending: false,
      waitingReason: null,
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

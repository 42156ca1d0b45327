import type { Node } from '@galley/core';
import {
  MesosHttpError,
  OfferHygiene,
  SchedulerError,
  createScheduler,
  type FrameworkIdStore,
  type InverseOffer,
  type MesosScheduler,
  type Offer,
  type TaskStatus,
} from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { AttemptRecord } from '../../model/records.js';
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
  PlacedGroupLaunch,
  PlacementRound,
  PlacementTraits,
  ReconcileAnswer,
  ReconcileItem,
  WaitingWork,
} from '../backend.js';
import { AgentDirectory } from './agents.js';
import { connectionOf, describeCluster } from './cluster-info.js';
import { AttemptTable, handleOf, type TrackedTask } from './attempts.js';
import { AckAfterStore } from './delivery.js';
import { addLaunchGroup } from './groups-task-info.js';
import { MesosGroups } from './mesos-groups.js';
import { authorizationOf, credentialsOf, frameworkInfoOf } from './framework.js';
import { MasterMaintenance } from './maintenance.js';
import { TaskKills } from './task-kills.js';
import { adoptedTask, launchFailed, planLaunches } from './launch-plan.js';
import { ImageSupport } from './images.js';
import { groupOffers, nodesOf, parseNodeId } from './nodes.js';
import { OfferSweeper } from './offer-sweeper.js';
import { SandboxLocator } from './sandbox-locator.js';
import { SharedExecutors } from './shared-executor.js';
import type { LinePart } from './executor-lines.js';
import { readSandboxPart, sandboxNotLocated } from './sandbox-logs.js';
import type { MesosClusterConfig, MesosSettings } from '../../config/mesos-settings.js';
import type { TaskShape } from './task-info.js';
import { applyUpdate } from './task-updates.js';

/** What a Mesos backend needs. Durations in ms. */
export interface MesosBackendOptions {
  cluster: MesosClusterConfig;
  settings: MesosSettings;
  /** Where the cluster's framework id is kept (Galley's database), so a restart re-subscribes as it. */
  frameworkIds: FrameworkIdStore;
  /** A stored attempt, to find the sandbox of an attempt this backend no longer tracks. */
  attempt: (attemptId: string) => Promise<AttemptRecord | null>;
  clock: Clock;
  logger: Logger;
  /** SIGTERM → SIGKILL grace of tasks (their kill_policy). */
  killGraceMs: number;
  /** Uniform random numbers in [0, 1) (reconnect jitter). */
  random?: () => number;
}

/** Delay before a framework the master removed registers again as a new one. */
const REREGISTER_DELAY_MS = 1_000;

/**
 * Runs attempts as Mesos command tasks and pipeline launches as task groups through one framework
 * per cluster (spec §1, §4–§7): held offers become placement nodes, each dispatch round's runs and
 * pipeline launches on one agent go out in one ACCEPT, status updates become run and group events
 * (acknowledged once stored), unknown tasks are killed, and unused offers are declined, with
 * SUPPRESS while nothing waits and REVIVE on new work (what waits, the run controller says).
 */
export class MesosBackend implements Backend {
  readonly kind = 'mesos';
  readonly cluster: string;
  /** The role of runs that name none, when the framework has several (with one, every node has it). */
  readonly defaultRole: string | undefined;
  /** The framework's roles: what a run's role may be. */
  readonly roles: readonly string[];
  /** Nodes are agents' offers (with port ranges); each task group has its default executor. */
  readonly placement: PlacementTraits = { groupExecutor: true, portsFromNodes: true };
  private scheduler: MesosScheduler | null = null;
  private readonly table = new AttemptTable();
  private readonly agents = new AgentDirectory();
  /** What waits for offers, by role (runs and pipeline launches), as the run controller last said. */
  private waitingByRole: ReadonlyMap<string, number> = new Map();
  private readonly hygiene: OfferHygiene;
  private readonly delivery: AckAfterStore<BackendEvent>;
  private readonly sweeper: OfferSweeper;
  private readonly sandboxes: SandboxLocator;
  private readonly shape: TaskShape;
  /** Which agents run images (declared with `galley-images`, or learned from launch failures). */
  private readonly images: ImageSupport;
  /** The shared galley-executors runs go to (`--mesos-executor galley`); null = the command executor. */
  private readonly shared: SharedExecutors | null;
  private readonly log: Logger;
  private readonly kills: TaskKills;
  /** Pipeline instances: one LAUNCH_GROUP on the default executor per launch, on this framework's offers. */
  readonly groups: MesosGroups;
  private capacityListener: () => void = () => {};
  /** Galley's last answer to an inverse offer, by agent id. */
  private readonly inverseAnswers = new Map<string, { answer: 'ACCEPT' | 'DECLINE'; at: number }>();
  /** The maintenance client of the current leading master (capacity loop), made on demand. */
  private masterMaintenance: MasterMaintenance | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopReason: string | null = null;
  private closed = false;

  constructor(private readonly o: MesosBackendOptions) {
    this.cluster = o.cluster.name;
    const mainRole = o.settings.roles[0] ?? '*';
    this.roles = o.settings.roles;
    this.defaultRole = o.settings.roles.length > 1 ? mainRole : undefined;
    this.log = o.logger;
    this.hygiene = new OfferHygiene({
      refuseSeconds: o.settings.refuseSeconds,
      reviveIntervalMs: o.settings.reviveIntervalMs,
    });
    this.delivery = new AckAfterStore<BackendEvent>(
      (status) => this.acknowledge(status),
      this.log,
      'status updates',
    );
    this.shape = {
      containerizer: o.settings.containerizer,
      network: o.settings.network,
      cniNetwork: o.settings.cniNetwork,
      killGraceMs: o.killGraceMs,
    };
    this.images = new ImageSupport(o.settings.containerizer);
    this.shared = o.settings.executor === 'galley' ? new SharedExecutors(o.settings.executorCommand) : null;
    this.sweeper = new OfferSweeper({
      settings: o.settings,
      clock: o.clock,
      table: this.table,
      waiting: (role) => this.waitingFor(role),
      hygiene: this.hygiene,
      roles: o.settings.roles,
      scheduler: () => this.subscribedScheduler(),
      deliver: (events) => this.delivery.push(events),
      kill: (taskId, agentId) => this.kills.send(taskId, agentId, 0),
      logger: this.log,
    });
    this.kills = new TaskKills(() => this.subscribedScheduler(), o.clock, this.log);
    this.groups = new MesosGroups({
      cluster: this.cluster,
      settings: o.settings,
      clock: o.clock,
      logger: this.log,
      shape: this.shape,
      roles: this.roles,
      defaultRole: this.defaultRole,
      scheduler: () => this.subscribedScheduler(),
      kills: this.kills,
    });
    this.sandboxes = new SandboxLocator({
      attempt: o.attempt,
      frameworkIds: o.frameworkIds,
      table: this.table,
      agents: this.agents,
      scheduler: () => this.subscribedScheduler(),
      frameworkId: () => this.scheduler?.id,
      authorization: authorizationOf(o.settings),
    });
  }

  onCapacity(listener: () => void): void {
    this.capacityListener = listener;
  }

  onEvents(listener: (events: BackendEvent[]) => void | Promise<void>): void {
    this.delivery.setListener(listener);
  }

  /**
   * Subscribes (in the background). The controllers handed it what is in flight before
   * (`reconcile`, `groups.reconcile`), so every update it hears of is known.
   */
  async start(): Promise<void> {
    this.startScheduler();
    this.sweeper.start();
    this.groups.start();
    this.log.info({ master: this.o.cluster.master, inFlight: this.table.size }, 'mesos backend: subscribing');
  }

  capacity(): Node[] {
    const s = this.subscribedScheduler();
    return s ? this.nodesOf(s.offers.values()) : [];
  }

  /** The held offers as nodes; the sweeper declines none of them until the round closes. */
  openRound(): PlacementRound {
    const s = this.subscribedScheduler();
    if (!s) return { nodes: [], close: () => {} };
    const offers = [...s.offers.values()];
    const hold = this.sweeper.hold(offers);
    return { nodes: this.nodesOf(offers), close: () => this.sweeper.release(hold) };
  }

  /** What waits for offers: SUPPRESS roles with nothing, REVIVE roles with new work. */
  waiting(work: WaitingWork): void {
    this.waitingByRole = new Map(work.byRole);
    for (const role of work.newWork) this.hygiene.noteNewWork(role);
    this.sweeper.soon();
  }

  async launch(batch: LaunchBatch): Promise<void> {
    const s = this.subscribedScheduler();
    const held = s ? groupOffers(s.offers.values()) : new Map<string, Offer[]>();
    const byNode = new Map<string, { runs: LaunchSpec[]; groups: PlacedGroupLaunch[] }>();
    const on = (nodeId: string) => {
      let work = byNode.get(nodeId);
      if (!work) byNode.set(nodeId, (work = { runs: [], groups: [] }));
      return work;
    };
    for (const spec of batch.runs) on(spec.nodeId).runs.push(spec);
    for (const g of batch.groups) on(g.nodeId).groups.push(g);
    const failed: BackendEvent[] = [];
    const givenBack: string[] = [];
    const calls: Promise<void>[] = [];
    for (const [nodeId, work] of byNode) {
      const offers = held.get(nodeId);
      const node = parseNodeId(nodeId);
      if (!s || !offers || !node) {
        const why = 'the offers of the agent are gone (rescinded or disconnected)';
        for (const spec of work.runs) failed.push(launchFailed(spec.attemptId, this.o.clock.now(), why));
        givenBack.push(...work.groups.map((g) => g.launch.launchId));
        continue;
      }
      calls.push(this.acceptOn(s, { nodeId, ...node }, offers, work, failed));
    }
    if (failed.length > 0) this.delivery.push(failed);
    if (givenBack.length > 0) this.groups.giveBack(givenBack);
    await Promise.all(calls);
  }

  async kill(attemptId: string, graceMs: number): Promise<KillAnswer> {
    const t = this.table.get(attemptId);
    if (!t) return 'not-running';
    t.killGraceMs = graceMs;
    await this.kills.send(attemptId, t.agentId ?? undefined, graceMs);
    return 'signalled';
  }

  /**
   * Adopts every in-flight attempt and answers none: Mesos tells what became of them through
   * reconciliation (after every SUBSCRIBED), and each answer arrives as an event.
   */
  async reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]> {
    for (const item of items) if (!this.table.get(item.attempt.attemptId)) this.track(item);
    return [];
  }

  /**
   * The program's output in the task's sandbox: the command executor's own lines (glog, and the
   * process trees of a kill) are left out (`executor-lines.ts`); `executorLogs` reads them.
   */
  async logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk> {
    return this.readPart(attempt, stream, offset, maxBytes, 'program');
  }

  /** The command executor's own lines in the task's sandbox (the rest of what `logs` leaves out). */
  async executorLogs(
    attempt: AttemptRef,
    stream: LogStream,
    offset: number,
    maxBytes: number,
  ): Promise<LogChunk> {
    return this.readPart(attempt, stream, offset, maxBytes, 'executor');
  }

  private async readPart(
    attempt: AttemptRef,
    stream: LogStream,
    offset: number,
    maxBytes: number,
    part: LinePart,
  ): Promise<LogChunk> {
    // A sandbox that cannot be located or read is an error (LogUnavailableError), never an empty page.
    const ref = await this.sandboxes.locate(attempt.attemptId);
    if (!ref) throw sandboxNotLocated(attempt.attemptId);
    return readSandboxPart(ref, stream, offset, maxBytes, part, authorizationOf(this.o.settings));
  }

  describe(): ClusterInfo {
    const subscribed = this.subscribedScheduler();
    return describeCluster({
      cluster: this.o.cluster,
      settings: this.o.settings,
      scheduler: this.scheduler,
      connection: connectionOf(this.scheduler, this.closed, this.stopReason),
      nodes: subscribed ? this.nodesOf(subscribed.offers.values()) : [],
      images: this.images.summary(),
      used: sumUsed(this.table.used(), this.groups.used()),
      agentsOffering: this.agents.offeringCount,
      isSuppressed: (role) => this.hygiene.isSuppressed(role),
    });
  }

  /** Stops the framework's connection; the master keeps its tasks for the failover timeout. */
  async close(): Promise<void> {
    this.closed = true;
    this.sweeper.stop();
    this.groups.close();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.masterMaintenance?.close();
    this.delivery.close();
    await this.scheduler?.stop();
  }

  // ---- the framework ----

  private startScheduler(): void {
    const { settings, cluster } = this.o;
    const credentials = credentialsOf(settings);
    const s = createScheduler({
      master: cluster.master,
      framework: frameworkInfoOf(settings, cluster),
      frameworkIdStore: this.o.frameworkIds,
      acknowledge: 'manual',
      ...(credentials ? { credentials } : {}),
      reconciliation: {
        tasks: () => [...this.table.refs(), ...this.groups.refs()],
        initialDelayMs: settings.reconcileDelayMs,
        periodMs: settings.reconcileIntervalMs,
      },
      ...(this.o.random ? { random: this.o.random } : {}),
      logger: this.log,
      handlers: {
        OFFERS: (event) => {
          const offers = event.offers.offers ?? [];
          this.agents.note(offers);
          for (const o of offers) this.images.note(o.agent_id.value, o.hostname, o.attributes);
          this.sweeper.noteOffers(offers);
          this.capacityListener();
        },
        RESCIND: (event) => this.sweeper.forget(event.rescind.offer_id.value),
        INVERSE_OFFERS: (event, { scheduler }) =>
          this.onInverseOffers(scheduler, event.inverse_offers.inverse_offers ?? []),
        UPDATE: (event) => this.onUpdate(event.update.status),
        FAILURE: (event) => {
          const agentId = event.failure.agent_id?.value;
          const executorId = event.failure.executor_id?.value;
          // A shared galley-executor ended (idle, or died: the agent failed its tasks): the next
          // run on that agent starts a new one.
          if (agentId && executorId) this.shared?.ended(agentId, executorId);
          if (agentId && !event.failure.executor_id) {
            this.sweeper.agentLost(agentId);
            this.groups.agentLost(agentId);
          }
        },
      },
    });
    s.on('subscribed', (e) => this.onSubscribed(e.frameworkId, e.master, e.resubscribed));
    s.on('disconnected', (e) =>
      this.log.warn({ reason: e.reason, err: e.error?.message, master: e.master }, 'mesos: disconnected'),
    );
    s.on('error', (e) => this.log.warn({ err: e.error.message }, 'mesos: scheduler error'));
    s.on('stopped', (e) => this.onStopped(s, e.reason));
    this.scheduler = s;
    this.stopReason = null;
    s.start();
  }

  private onSubscribed(frameworkId: string, master: string, resubscribed: boolean): void {
    this.log.info({ frameworkId, master, resubscribed }, 'mesos: subscribed');
    this.agents.resetOffered();
    this.sweeper.subscribed(this.hygiene);
    for (const t of this.table.values()) {
      if (t.killGraceMs !== null) void this.kills.send(t.attemptId, t.agentId ?? undefined, t.killGraceMs);
    }
    this.groups.subscribed();
  }

  private onStopped(s: MesosScheduler, reason: string): void {
    if (this.scheduler !== s) return;
    this.stopReason = reason;
    if (this.closed) return;
    if (reason === 'removed') {
      // The master forgot the framework (failover timeout or teardown): register anew. Tasks of
      // the old framework answer reconciliation as unknown and are retried as host failures.
      this.log.error({}, 'mesos: the master removed the framework; registering anew');
      this.restartTimer = setTimeout(() => {
        if (!this.closed) this.startScheduler();
      }, REREGISTER_DELAY_MS);
      this.restartTimer.unref();
    } else {
      this.log.error({ reason }, 'mesos: the scheduler stopped');
    }
  }

  private onUpdate(status: TaskStatus): void {
    this.log.debug(
      { taskId: status.task_id.value, state: status.state, reason: status.reason, source: status.source },
      'mesos: status update',
    );
    if (this.groups.owns(status.task_id.value)) return this.groups.onUpdate(status);
    const effect = applyUpdate(status, {
      table: this.table,
      now: this.o.clock.now(),
      agentUrl: (id) => this.agents.get(id)?.url ?? null,
      frameworkId: this.scheduler?.id ?? null,
      containerizer: this.o.settings.containerizer,
    });
    if (effect.kill) this.kills.unknown(effect.kill.taskId, effect.kill.agentId, status.state);
    if (effect.noImages) {
      const { agentId, hostname, why } = effect.noImages;
      this.log.warn({ agentId, hostname, why }, 'mesos: the agent cannot launch images; it is sent no more');
      this.images.failed(agentId, hostname, why);
    }
    if (effect.events.length > 0) {
      this.delivery.push(effect.events, status.uuid ? [status] : []);
    } else if (status.uuid) {
      // Nothing to store (STARTING, KILLING, a repeated RUNNING, an unknown task): acknowledge at
      // once, so the agent sends the next update without waiting for a store round. Earlier
      // updates of the task are stored already: the agent sent this one only after their ack.
      this.acknowledge(status).catch((err: unknown) =>
        this.log.debug({ err, taskId: status.task_id.value }, 'mesos: acknowledgement failed'),
      );
    }
  }

  /**
   * Maintenance (spec §6.8): an agent being drained is vacated in time when Galley runs nothing
   * there — accept; with Galley's work running there, decline (the capacity loop then gives the
   * drain up). Its offers carry `unavailability` and are not used for placement meanwhile.
   */
  private async onInverseOffers(s: SchedulerClientLike, offers: readonly InverseOffer[]): Promise<void> {
    const accept: InverseOffer[] = [];
    const decline: InverseOffer[] = [];
    for (const o of offers) (this.tasksOn(o.agent_id?.value ?? '') > 0 ? decline : accept).push(o);
    const now = this.o.clock.now();
    for (const o of accept) this.inverseAnswers.set(o.agent_id?.value ?? '', { answer: 'ACCEPT', at: now });
    for (const o of decline) this.inverseAnswers.set(o.agent_id?.value ?? '', { answer: 'DECLINE', at: now });
    this.log.info(
      { accepted: accept.map((o) => o.agent_id?.value), declined: decline.map((o) => o.agent_id?.value) },
      'mesos: inverse offers answered',
    );
    try {
      if (accept.length > 0) await s.acceptInverseOffers(accept.map((o) => o.id));
      if (decline.length > 0) await s.declineInverseOffers(decline.map((o) => o.id));
    } catch (err) {
      this.log.warn({ err }, 'mesos: answering inverse offers failed; the master asks again');
    }
  }

  /** Galley's tasks on an agent now: runs' attempts and pipeline launches' tasks. */
  tasksOn(agentId: string): number {
    let n = 0;
    for (const t of this.table.values()) if (t.agentId === agentId) n++;
    return n + this.groups.tasksOn(agentId);
  }

  /**
   * What the capacity loop needs of the framework: the leading master (its agents and maintenance
   * calls), the framework id, Galley's tasks per agent, its inverse-offer answers.
   */
  maintenanceView(): MaintenanceView {
    const s = this.subscribedScheduler();
    const master = s?.state.phase === 'SUBSCRIBED' ? s.state.master : undefined;
    if (master !== undefined && this.masterMaintenance?.master !== master) {
      this.masterMaintenance?.close();
      this.masterMaintenance = new MasterMaintenance(
        master,
        credentialsOf(this.o.settings),
        authorizationOf(this.o.settings) as Record<string, string>,
      );
    }
    return {
      master: master === undefined ? null : this.masterMaintenance,
      frameworkId: s?.id,
      tasksOn: (agentId) => this.tasksOn(agentId),
      inverseAnswer: (agentId) => this.inverseAnswers.get(agentId),
      wantOffers: (role) => {
        // A REVIVE: the master offers the draining agent again, and with that offer comes its
        // inverse offer. The offers themselves are declined by the sweeper as unused ones are.
        void s?.revive([role]).catch((err: unknown) => this.log.debug({ err, role }, 'mesos: REVIVE failed'));
      },
    };
  }

  private async acknowledge(status: TaskStatus): Promise<void> {
    await this.scheduler?.acknowledge(status);
  }

  // ---- launching ----

  /**
   * One ACCEPT on the offers of one agent and role: a LAUNCH of the runs' command tasks and a
   * LAUNCH_GROUP per pipeline launch. Everything is tracked before the ACCEPT is sent.
   */
  private async acceptOn(
    s: MesosScheduler,
    node: { nodeId: string; agentId: string; role: string },
    offers: Offer[],
    work: { runs: readonly LaunchSpec[]; groups: readonly PlacedGroupLaunch[] },
    failed: BackendEvent[],
  ): Promise<void> {
    const now = this.o.clock.now();
    const {
      plan,
      tracked,
      failed: unfit,
    } = planLaunches(
      offers,
      node.agentId,
      work.runs,
      this.shapeFor(node.agentId, 'run'),
      now,
      this.o.random,
      this.shared?.executorFor(node.agentId, node.role, offers),
    );
    failed.push(...unfit);
    for (const t of tracked) this.table.add(t);
    const hostname = offers[0]!.hostname;
    const groups: PlacedGroupLaunch[] = [];
    const unfitGroups: string[] = [];
    for (const g of work.groups) {
      const placement = { agentId: node.agentId, hostname, ports: g.ports };
      const added = addLaunchGroup(
        plan,
        g.launch,
        s.id ?? '',
        placement,
        this.shapeFor(node.agentId, 'group'),
      );
      if (!added.ok) {
        unfitGroups.push(g.launch.launchId);
        continue;
      }
      this.groups.track(g.launch, node.agentId);
      groups.push(g);
    }
    if (unfitGroups.length > 0) this.groups.giveBack(unfitGroups);
    for (const offer of offers) this.sweeper.forget(offer.id.value);
    // Leftovers come back soon while work still waits for this role; otherwise they stay filtered.
    const refuse = this.waitingFor(node.role) > 0 ? 0 : this.o.settings.refuseSeconds;
    try {
      if (plan.size === 0) {
        await s.decline(
          offers.map((o) => o.id),
          { refuse_seconds: refuse },
        );
      } else {
        const accept = plan.toAccept(refuse);
        await s.accept(accept.offer_ids, accept.operations, accept.filters);
      }
      if (refuse > 0) this.hygiene.noteDeclined(node.role);
      if (groups.length > 0) this.groups.placed(groups, node.agentId, hostname);
    } catch (err) {
      this.acceptFailed(err, tracked, groups);
    }
  }

  /**
   * An ACCEPT that failed: if Mesos surely did not take it (not subscribed, or an HTTP error
   * answer), its run tasks end as host failures at once and its pipeline launches go back to be
   * placed again; if the answer was lost, they stay tracked and reconciliation tells whether they
   * were launched.
   */
  private acceptFailed(err: unknown, launched: TrackedTask[], groups: readonly PlacedGroupLaunch[]): void {
    const refused =
      (err instanceof SchedulerError && err.code === 'MESOS_NOT_SUBSCRIBED') || err instanceof MesosHttpError;
    this.log.warn({ err, tasks: launched.length, groups: groups.length, refused }, 'mesos: ACCEPT failed');
    if (!refused) return;
    const now = this.o.clock.now();
    for (const t of launched) this.table.remove(t.attemptId);
    this.delivery.push(launched.map((t) => launchFailed(t.attemptId, now, (err as Error).message)));
    if (groups.length > 0) this.groups.giveBack(groups.map((g) => g.launch.launchId));
  }

  /** How much work waits for offers of `role`. */
  private waitingFor(role: string): number {
    return this.waitingByRole.get(role) ?? 0;
  }

  // ---- kills ----

  // ---- helpers ----

  /**
   * Held offers as placement nodes, each with its agent's `galley.images`. Offers of agents
   * scheduled for maintenance (`unavailability`) are left out: nothing new goes where a drain is.
   */
  private nodesOf(offers: Iterable<Offer>): Node[] {
    const available = [...offers].filter((o) => o.unavailability === undefined);
    return nodesOf(available, (agentId) => this.images.nodeAttribute(agentId));
  }

  /**
   * The task shape on one agent: how its images are sent there (`images.ts`). A task group's
   * tasks can only take images in MESOS containers (the default executor's nested containers).
   */
  private shapeFor(agentId: string, what: 'run' | 'group'): TaskShape {
    const kind = this.images.kindFor(agentId);
    if (kind === null) return { ...this.shape, containerizer: 'none' };
    if (what === 'group' && this.shape.containerizer === 'auto' && kind !== 'mesos')
      return { ...this.shape, containerizer: 'none' };
    return { ...this.shape, containerizer: kind };
  }

  private track(item: ReconcileItem): void {
    const t = adoptedTask(item, this.o.clock.now());
    const handle = handleOf(item.attempt.handle);
    if (handle?.agentUrl && t.agentId)
      this.agents.learn(t.agentId, { hostname: handle.hostname, url: handle.agentUrl });
    this.table.add(t);
  }

  private subscribedScheduler(): MesosScheduler | null {
    const s = this.scheduler;
    return s && s.state.phase === 'SUBSCRIBED' ? s : null;
  }
}

/** The framework as the capacity loop sees it (`maintenanceView`). */
export interface MaintenanceView {
  /** The leading master while subscribed: its agents and maintenance calls; null otherwise. */
  master: MasterMaintenance | null;
  frameworkId: string | undefined;
  tasksOn(agentId: string): number;
  inverseAnswer(agentId: string): { answer: 'ACCEPT' | 'DECLINE'; at: number } | undefined;
  /** Asks for offers of `role` again (REVIVE), so Galley hears of a drain there. */
  wantOffers(role: string): void;
}

/** The scheduler calls inverse offers are answered with. */
type SchedulerClientLike = Pick<MesosScheduler, 'acceptInverseOffers' | 'declineInverseOffers'>;

/** Resources used by runs and by pipeline launches together. */
function sumUsed(
  a: { cpus: number; memMb: number; count: number },
  b: { cpus: number; memMb: number; count: number },
): { cpus: number; memMb: number; count: number } {
  return { cpus: a.cpus + b.cpus, memMb: a.memMb + b.memMb, count: a.count + b.count };
}

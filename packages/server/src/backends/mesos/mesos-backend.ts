import type { Node } from '@galley/core';
import { OfferHygiene, type FrameworkIdStore, type Offer, type TaskStatus } from '@galley/mesos';
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
  LogChunk,
  LogStream,
  PlacementRound,
  PlacementTraits,
  ReconcileAnswer,
  ReconcileItem,
  WaitingWork,
} from '../backend.js';
import { AgentDirectory } from './agents.js';
import { agentSupportOf, connectionOf, describeCluster } from './cluster-info.js';
import { AttemptTable, handleOf } from './attempts.js';
import { AckAfterStore } from './delivery.js';
import { MesosGroups } from './mesos-groups.js';
import { authorizationOf } from './framework.js';
import { FrameworkSession } from './framework-session.js';
import { InverseOffers, type MaintenanceView } from './inverse-offers.js';
import { MesosLauncher } from './launcher.js';
import { TaskKills } from './task-kills.js';
import { adoptedTask } from './launch-plan.js';
import { ImageSupport } from './images.js';
import { groupOffers, NodeCache, parseNodeId } from './nodes.js';
import { OfferSweeper } from './offer-sweeper.js';
import { SandboxLocator } from './sandbox-locator.js';
import { SharedExecutors, withExecutorRoom } from './shared-executor.js';
import type { LinePart } from './executor-lines.js';
import { readSandboxPart, sandboxNotLocated } from './sandbox-logs.js';
import type { MesosClusterConfig, MesosSettings } from '../../config/mesos-settings.js';
import type { TaskShape } from './task-info.js';
import { applyUpdate } from './task-updates.js';
import { MesosUsage } from './usage-poller.js';

export type { MaintenanceView };

/** What a Mesos backend needs. Durations in ms. */
export interface MesosBackendOptions {
  cluster: MesosClusterConfig;
  settings: MesosSettings;
  /** Where the cluster's framework id is kept (Galley's database), so a restart re-subscribes as it. */
  frameworkIds: FrameworkIdStore;
  /** Whether this replica leads: only the leader subscribes (default: always). */
  leading?: () => boolean;
  /** A stored attempt, to find the sandbox of an attempt this backend no longer tracks. */
  attempt: (attemptId: string) => Promise<AttemptRecord | null>;
  clock: Clock;
  logger: Logger;
  /** SIGTERM → SIGKILL grace of tasks (their kill_policy). */
  killGraceMs: number;
  /** Uniform random numbers in [0, 1) (reconnect jitter). */
  random?: () => number;
}

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
  private readonly session: FrameworkSession;
  private readonly table = new AttemptTable();
  /** The held offers as placement nodes, made again only for agents whose offers changed. */
  private readonly nodes = new NodeCache();
  private readonly agents = new AgentDirectory();
  /** What waits for offers, by role (runs and pipeline launches), as the run controller last said. */
  private waitingByRole: ReadonlyMap<string, number> = new Map();
  private readonly hygiene: OfferHygiene;
  private readonly delivery: AckAfterStore<BackendEvent>;
  private readonly sweeper: OfferSweeper;
  private readonly sandboxes: SandboxLocator;
  /** Peak memory and CPU of running attempts, from their agents' /monitor/statistics (`usage-poller.ts`). */
  private readonly usage: MesosUsage;
  /** Which agents run images (declared with `galley-images`, or learned from launch failures). */
  private readonly images: ImageSupport;
  /** The shared galley-executors runs go to (`--mesos-executor galley`); null = the command executor. */
  private readonly shared: SharedExecutors | null;
  private readonly launcher: MesosLauncher;
  private readonly inverseOffers: InverseOffers;
  private readonly log: Logger;
  private readonly kills: TaskKills;
  /** Pipeline instances: one LAUNCH_GROUP on the default executor per launch, on this framework's offers. */
  readonly groups: MesosGroups;
  private capacityListener: () => void = () => {};

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
    const shape: TaskShape = {
      containerizer: o.settings.containerizer,
      network: o.settings.network,
      cniNetwork: o.settings.cniNetwork,
      killGraceMs: o.killGraceMs,
    };
    this.images = new ImageSupport(o.settings.containerizer);
    this.shared =
      o.settings.executor === 'galley'
        ? new SharedExecutors(o.settings.executorCommand, undefined, o.settings.executorUris)
        : null;
    const scheduler = () => this.session.subscribed();
    this.sweeper = new OfferSweeper({
      settings: o.settings,
      clock: o.clock,
      table: this.table,
      waiting: (role) => this.waitingFor(role),
      hygiene: this.hygiene,
      roles: o.settings.roles,
      scheduler,
      deliver: (events) => this.delivery.push(events),
      kill: (taskId, agentId) => this.kills.send(taskId, agentId, 0),
      logger: this.log,
    });
    this.kills = new TaskKills(scheduler, o.clock, this.log);
    this.groups = new MesosGroups({
      cluster: this.cluster,
      settings: o.settings,
      clock: o.clock,
      logger: this.log,
      shape,
      roles: this.roles,
      defaultRole: this.defaultRole,
      scheduler,
      kills: this.kills,
    });
    this.launcher = new MesosLauncher({
      settings: o.settings,
      clock: o.clock,
      logger: this.log,
      random: o.random,
      scheduler,
      table: this.table,
      groups: this.groups,
      sweeper: this.sweeper,
      hygiene: this.hygiene,
      images: this.images,
      shared: this.shared,
      shape,
      deliver: (events) => this.delivery.push(events),
      waitingFor: (role) => this.waitingFor(role),
    });
    this.inverseOffers = new InverseOffers({
      settings: o.settings,
      clock: o.clock,
      logger: this.log,
      tasksOn: (agentId) => this.tasksOn(agentId),
    });
    this.session = new FrameworkSession({
      cluster: o.cluster,
      settings: o.settings,
      frameworkIds: o.frameworkIds,
      leading: o.leading ?? (() => true),
      logger: this.log,
      random: o.random,
      tasks: () => [...this.table.refs(), ...this.groups.refs()],
      handlers: {
        OFFERS: (event) => {
          const offers = event.offers.offers ?? [];
          this.agents.note(offers);
          for (const offer of offers)
            this.images.note(offer.agent_id.value, offer.hostname, offer.attributes);
          this.sweeper.noteOffers(offers);
          this.capacityListener();
        },
        RESCIND: (event) => this.sweeper.forget(event.rescind.offer_id.value),
        INVERSE_OFFERS: (event, { scheduler: s }) =>
          this.inverseOffers.answer(s, event.inverse_offers.inverse_offers ?? []),
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
      onSubscribed: () => this.onSubscribed(),
    });
    this.sandboxes = new SandboxLocator({
      attempt: o.attempt,
      frameworkIds: o.frameworkIds,
      table: this.table,
      agents: this.agents,
      scheduler,
      frameworkId: () => this.session.current?.id,
      authorization: authorizationOf(o.settings),
    });
    const agentUrl = (id: string) => this.agents.get(id)?.url ?? null;
    const auth = authorizationOf(o.settings);
    this.usage = new MesosUsage({
      tasks: () => this.table.values(),
      agentUrl,
      authorization: auth,
      clock: o.clock,
      logger: this.log,
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
    this.session.start();
    this.sweeper.start();
    this.groups.start();
    this.usage.start();
    this.log.info({ master: this.o.cluster.master, inFlight: this.table.size }, 'mesos backend: subscribing');
  }

  capacity(): Node[] {
    const s = this.session.subscribed();
    return s ? this.nodesOf(s.offers.values()) : [];
  }

  /** The held offers as nodes; the sweeper declines none of them until the round closes. */
  openRound(): PlacementRound {
    const s = this.session.subscribed();
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

  /** One ACCEPT per agent and role for the round's runs and pipeline launches (`launcher.ts`). */
  async launch(batch: LaunchBatch): Promise<void> {
    await this.launcher.launch(batch);
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
    const subscribed = this.session.subscribed();
    return describeCluster({
      cluster: this.o.cluster,
      settings: this.o.settings,
      scheduler: this.session.current,
      connection: connectionOf(this.session.current, this.session.closed, this.session.stopReason),
      nodes: subscribed ? this.nodesOf(subscribed.offers.values()) : [],
      images: this.images.summary(),
      used: sumUsed(this.table.used(), this.groups.used()),
      agentsOffering: this.agents.offeringCount,
      isSuppressed: (role) => this.hygiene.isSuppressed(role),
      agentSupport: agentSupportOf(
        this.images.list(),
        this.o.settings.executor,
        (agentId) => this.shared?.fallbackOf(agentId),
        this.shared?.fallbackAgents() ?? [],
      ),
    });
  }

  /** Stops the framework's connection; the master keeps its tasks for the failover timeout. */
  async close(): Promise<void> {
    this.sweeper.stop();
    this.usage.stop();
    this.groups.close();
    this.inverseOffers.close();
    this.delivery.close();
    await this.session.close();
  }

  /** Galley's tasks on an agent now: runs' attempts and pipeline launches' tasks. */
  tasksOn(agentId: string): number {
    let n = 0;
    for (const t of this.table.values()) if (t.agentId === agentId) n++;
    return n + this.groups.tasksOn(agentId);
  }

  /** What the capacity loop needs of the framework (`inverse-offers.ts`). */
  maintenanceView(): MaintenanceView {
    return this.inverseOffers.view(this.session.subscribed());
  }

  // ---- the framework's events ----

  private onSubscribed(): void {
    this.agents.resetOffered();
    this.sweeper.subscribed(this.hygiene);
    for (const t of this.table.values()) {
      if (t.killGraceMs !== null) void this.kills.send(t.attemptId, t.agentId ?? undefined, t.killGraceMs);
    }
    this.groups.subscribed();
  }

  private onUpdate(status: TaskStatus): void {
    this.log.debug(
      { taskId: status.task_id.value, state: status.state, reason: status.reason, source: status.source },
      'mesos: status update',
    );
    if (this.groups.owns(status.task_id.value)) return this.groups.onUpdate(status);
    const memMb = this.table.get(status.task_id.value)?.memMb ?? null;
    const effect = applyUpdate(status, {
      table: this.table,
      now: this.o.clock.now(),
      agentUrl: (id) => this.agents.get(id)?.url ?? null,
      frameworkId: this.session.current?.id ?? null,
      containerizer: this.o.settings.containerizer,
      executorHeardFrom: (id) => this.shared?.wasHeardFrom(id) ?? false,
    });
    if (effect.kill) this.kills.unknown(effect.kill.taskId, effect.kill.agentId, status.state);
    if (effect.noImages) {
      const { agentId, hostname, why } = effect.noImages;
      this.log.warn({ agentId, hostname, why }, 'mesos: the agent cannot launch images; it is sent no more');
      this.images.failed(agentId, hostname, why);
    }
    if (effect.executorFallback) {
      const { agentId, hostname, why } = effect.executorFallback;
      if (!this.shared?.fallbackOf(agentId))
        this.log.warn(
          { agentId, hostname, why },
          'mesos: galley-executor could not start; the agent runs runs under the command executor',
        );
      this.shared?.fallBack(agentId, hostname, why, this.o.clock.now());
    }
    if (effect.events.length > 0) {
      this.delivery.push(this.usage.ended(effect.events, status, memMb), status.uuid ? [status] : []);
    } else if (status.uuid) {
      // Nothing to store (STARTING, KILLING, a repeated RUNNING, an unknown task): acknowledge at
      // once, so the agent sends the next update without waiting for a store round. Earlier
      // updates of the task are stored already: the agent sent this one only after their ack.
      this.acknowledge(status).catch((err: unknown) =>
        this.log.debug({ err, taskId: status.task_id.value }, 'mesos: acknowledgement failed'),
      );
    }
  }

  private async acknowledge(status: TaskStatus): Promise<void> {
    await this.session.current?.acknowledge(status);
  }

  // ---- helpers ----

  /** How much work waits for offers of `role`. */
  private waitingFor(role: string): number {
    return this.waitingByRole.get(role) ?? 0;
  }

  /**
   * Held offers as placement nodes, each with its agent's `galley.images`, less the room of a
   * shared executor a run there would start. Offers of agents scheduled for maintenance
   * (`unavailability`) are left out: nothing new goes where a drain is.
   */
  private nodesOf(offers: Iterable<Offer>): Node[] {
    const available = [...offers].filter((o) => o.unavailability === undefined);
    const nodes = this.nodes.nodesOf(available, (agentId) => this.images.nodeAttribute(agentId));
    const shared = this.shared;
    if (!shared) return nodes;
    const byNode = groupOffers(available);
    return withExecutorRoom(nodes, (nodeId) => {
      const node = parseNodeId(nodeId);
      return node !== null && shared.startsOn(node.agentId, node.role, byNode.get(nodeId) ?? []);
    });
  }

  private track(item: ReconcileItem): void {
    const t = adoptedTask(item, this.o.clock.now());
    const handle = handleOf(item.attempt.handle);
    if (handle?.agentUrl && t.agentId)
      this.agents.learn(t.agentId, { hostname: handle.hostname, url: handle.agentUrl });
    this.table.add(t);
  }
}

/** Resources used by runs and by pipeline launches together. */
function sumUsed(
  a: { cpus: number; memMb: number; count: number },
  b: { cpus: number; memMb: number; count: number },
): { cpus: number; memMb: number; count: number } {
  return { cpus: a.cpus + b.cpus, memMb: a.memMb + b.memMb, count: a.count + b.count };
}

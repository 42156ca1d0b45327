import type { FilterSnapshot } from './master/filters.js';
import type { ExecutorMessage, FakeTask, MasterServer, RecordedCall, World } from './model/world.js';
import { freeResources } from './master/allocator.js';
import { sandboxPath } from './agent/executor-lifecycle.js';

/**
 * Read-only snapshots of the fake for tests: what the master knows, what ran where, which offers
 * and filters exist, and every call received.
 */

/** One master endpoint. */
export interface MasterSnapshot {
  readonly index: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly phase: MasterServer['phase'];
}

/** A framework as the leading master knows it. */
export interface FrameworkSnapshot {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly capabilities: readonly string[];
  /** True while a SUBSCRIBE stream is open. */
  readonly connected: boolean;
  /** The current Mesos-Stream-Id, or undefined when disconnected. */
  readonly streamId: string | undefined;
  readonly suppressedRoles: readonly string[];
  /** Tasks the master tracks (not terminal-and-acknowledged). */
  readonly activeTasks: number;
  readonly failoverTimeoutSeconds: number;
}

/** An agent. */
export interface AgentSnapshot {
  readonly id: string;
  /** The hostname it reports (its maintenance machine is `{hostname, ip: 127.0.0.1}`). */
  readonly hostname: string;
  /** `http://127.0.0.1:<port>` of its endpoint (state, files, executor API). */
  readonly url: string;
  readonly status: string;
  /** Mesos text form of its total, free, used and offered resources. */
  readonly resources: string;
  readonly free: string;
  readonly used: string;
  readonly offered: string;
  readonly attributes: string;
  /** Its containerizer flags: `--containerizers`, `--image_providers`, `--isolation`, `--launcher`. */
  readonly containerizers: readonly string[];
  readonly imageProviders: readonly string[];
  readonly isolation: readonly string[];
  readonly launcher: string;
}

/** A task (every task ever launched, including completed ones). */
export interface TaskSnapshot {
  readonly taskId: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly executorId: string;
  readonly executorKind: FakeTask['executorKind'];
  /** The newest state the agent knows. */
  readonly state: string;
  /** The state of the newest update sent towards the framework (undefined before the first). */
  readonly statusUpdateState: string | undefined;
  /** Updates waiting for an ACKNOWLEDGE. */
  readonly pendingUpdates: number;
  /** True once the terminal update was acknowledged. */
  readonly completed: boolean;
  readonly unreachable: boolean;
  readonly role: string;
  readonly resources: string;
  /** Every state the task went through, in order. */
  readonly states: readonly string[];
  /** The last `healthy` verdict of its executor's health check; undefined before any (or none). */
  readonly healthy: boolean | undefined;
  /** The sandbox directory on the host (in memory only in simulate mode). */
  readonly sandbox: string;
  /** The TaskInfo as launched. */
  readonly info: Readonly<Record<string, unknown>>;
}

/** An outstanding offer. */
export interface OfferSnapshot {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: string;
}

/** Everything at once. */
export interface FakeMesosState {
  readonly leader: { readonly index: number; readonly url: string; readonly masterId: string } | undefined;
  readonly masters: readonly MasterSnapshot[];
  readonly frameworks: readonly FrameworkSnapshot[];
  readonly removedFrameworks: readonly string[];
  readonly agents: readonly AgentSnapshot[];
  readonly tasks: readonly TaskSnapshot[];
  readonly offers: readonly OfferSnapshot[];
  readonly filters: readonly FilterSnapshot[];
  /** Scheduler MESSAGEs addressed to executors that had no process to receive them. */
  readonly executorMessages: readonly ExecutorMessage[];
  /** Scheduled machines (DRAINING or DOWN) with each framework's inverse-offer answer, and the inverse offers outstanding. */
  readonly maintenance: MaintenanceSnapshot;
}

/** The maintenance state (operator API). */
export interface MaintenanceSnapshot {
  readonly machines: ReadonlyArray<{
    readonly hostname: string | undefined;
    readonly ip: string | undefined;
    readonly mode: 'DRAINING' | 'DOWN';
    /** The frameworks' answers by framework id: UNKNOWN (asked), ACCEPT or DECLINE. */
    readonly answers: Readonly<Record<string, 'UNKNOWN' | 'ACCEPT' | 'DECLINE'>>;
  }>;
  readonly inverseOffers: ReadonlyArray<{
    readonly id: string;
    readonly frameworkId: string;
    readonly agentId: string;
  }>;
}

/** Every task the fake launched, once each. */
export function allTasks(world: World): FakeTask[] {
  const seen = new Set<FakeTask>();
  for (const framework of [...world.frameworks.values(), ...world.completedFrameworks]) {
    for (const task of framework.tasks.values()) seen.add(task);
    for (const task of framework.completedTasks) seen.add(task);
  }
  for (const agent of world.agents.values()) for (const task of agent.tasks.values()) seen.add(task);
  return [...seen];
}

function taskSnapshot(world: World, task: FakeTask): TaskSnapshot {
  const agent = world.agents.get(task.agentId);
  const executor = agent === undefined ? '' : sandboxOf(world, task);
  return {
    taskId: task.id,
    frameworkId: task.frameworkId,
    agentId: task.agentId,
    executorId: task.executorId,
    executorKind: task.executorKind,
    state: task.state,
    statusUpdateState: task.statusUpdateState,
    pendingUpdates: task.pending.length,
    completed: task.terminalAcknowledged,
    unreachable: task.unreachable,
    role: task.role,
    resources: task.resources.toMesosString(),
    states: task.history.map((h) => h.state),
    healthy: task.healthy,
    sandbox: executor,
    info: task.info,
  };
}

/** The host sandbox path of a task (a task-group task has its own under the executor's). */
export function sandboxOf(world: World, task: FakeTask): string {
  const agent = world.agents.get(task.agentId);
  if (agent === undefined) return '';
  const executor = [...agent.executors.values(), ...agent.completedExecutors].find(
    (e) => e.frameworkId === task.frameworkId && e.id === task.executorId,
  );
  const base = executor?.directory ?? sandboxPath(agent, task.frameworkId, task.executorId, task.containerId);
  return task.executorKind === 'default' ? `${base}/tasks/${task.id}` : base;
}

/** Builds the full snapshot. */
export function snapshot(world: World): FakeMesosState {
  const url = (port: number): string => `http://${world.host}:${port}`;
  const leaderIndex = world.leadership.leaderIndex;
  const leader = leaderIndex === undefined ? undefined : world.masters[leaderIndex];
  return {
    leader:
      leader === undefined || !world.leadership.ready
        ? undefined
        : { index: leader.index, url: url(leader.port), masterId: world.leadership.masterId },
    masters: world.masters.map((m) => ({ index: m.index, url: url(m.port), phase: m.phase })),
    frameworks: [...world.frameworks.values()].map((f) => ({
      id: f.id,
      name: String(f.info.name ?? ''),
      roles: [...f.roles],
      capabilities: [...f.capabilities],
      connected: f.subscription !== undefined,
      streamId: f.subscription?.streamId,
      suppressedRoles: [...f.suppressedRoles],
      activeTasks: f.tasks.size,
      failoverTimeoutSeconds: Number(f.info.failover_timeout ?? 0),
    })),
    removedFrameworks: [...world.removedFrameworks],
    agents: [...world.agents.values()].map((a) => ({
      id: a.id,
      hostname: a.hostname,
      url: url(a.port),
      status: a.status,
      resources: a.total.toMesosString(),
      free: freeResources(a).toMesosString(),
      used: a.used.toMesosString(),
      offered: a.offered.toMesosString(),
      attributes: a.attributesSpec,
      containerizers: [...a.containerizer.containerizers],
      imageProviders: [...a.containerizer.imageProviders],
      isolation: [...a.containerizer.isolation],
      launcher: a.containerizer.launcher,
    })),
    tasks: allTasks(world).map((task) => taskSnapshot(world, task)),
    offers: [...world.offers.values()].map((o) => ({
      id: o.id,
      frameworkId: o.frameworkId,
      agentId: o.agentId,
      role: o.role,
      resources: o.resources.toMesosString(),
    })),
    filters: world.filters.snapshot(Date.now()),
    executorMessages: [...world.executorMessages],
    maintenance: {
      machines: [...world.maintenance.machines.values()].map((m) => ({
        hostname: m.id.hostname,
        ip: m.id.ip,
        mode: m.mode,
        answers: Object.fromEntries([...m.answers].map(([id, a]) => [id, a.status])),
      })),
      inverseOffers: [...world.maintenance.inverseOffers.values()].map((o) => ({ ...o })),
    },
  };
}

/** Which calls to list; every field narrows the result. */
export interface CallFilter {
  readonly api?: RecordedCall['api'];
  readonly type?: string;
  readonly frameworkId?: string;
  /** Only calls answered with this HTTP status. */
  readonly status?: number;
}

/** Calls received, oldest first, narrowed by `filter`. */
export function listCalls(world: World, filter: CallFilter = {}): RecordedCall[] {
  return world.calls.filter(
    (call) =>
      (filter.api === undefined || call.api === filter.api) &&
      (filter.type === undefined || call.type === filter.type) &&
      (filter.frameworkId === undefined || call.frameworkId === filter.frameworkId) &&
      (filter.status === undefined || call.status === filter.status),
  );
}

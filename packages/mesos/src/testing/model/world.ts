import type { AgentContainerizer, ResolvedOptions } from '../options.js';
import type { HttpServer, HttpStream } from '../wire/http-server.js';
import type { AttributeJson } from './attributes.js';
import type { Resources } from './resources.js';
import type { TaskState, TaskStatusJson } from './status.js';
import type { OfferFilters } from '../master/filters.js';
import type { Timers } from './timers.js';
import type { ProcessRegistry } from '../agent/process-runner.js';

/**
 * The fake cluster's whole state: the leading master's view (frameworks, offers, filters) and the
 * agents' truth (executors, tasks, pending status updates). Masters and agents are modules that
 * act on this one object; the fake is single-threaded, so every change is atomic.
 */

/** A JSON object as received or sent. */
export type JsonObject = Record<string, unknown>;

/** How a task is run: the built-in command executor, the default executor (task groups), or a custom one. */
export type ExecutorKind = 'command' | 'default' | 'custom';

/** One status update kept by the agent until the framework acknowledges it. */
export interface PendingUpdate {
  readonly uuid: string;
  readonly status: TaskStatusJson;
}

/** A launched task. The master tracks it until its terminal update is acknowledged. */
export interface FakeTask {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly name: string;
  /** TaskInfo as launched, with the fields the master fills in. */
  readonly info: JsonObject;
  readonly role: string;
  /** The task's own resources, allocated to `role`. */
  readonly resources: Resources;
  readonly executorId: string;
  readonly executorKind: ExecutorKind;
  readonly containerId: string;
  /** The executor's container for task-group tasks (nested containers); undefined otherwise. */
  readonly parentContainerId: string | undefined;
  /** The newest state the agent knows (TASK_STAGING until the executor reports). */
  state: TaskState;
  /** The state of the newest update sent towards the framework (what reconciliation answers). */
  statusUpdateState: TaskState | undefined;
  /** The newest update sent towards the framework (source of `container_status`). */
  lastStatus: TaskStatusJson | undefined;
  /** Every state with its timestamp, for `/state` and inspection. */
  readonly history: Array<{ state: TaskState; timestamp: number }>;
  /** Updates not yet acknowledged, oldest first; only the head is sent (in-order delivery). */
  readonly pending: PendingUpdate[];
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  retryDelayMs: number;
  /** True once the terminal update was acknowledged: the master forgot the task. */
  terminalAcknowledged: boolean;
  /** True while the agent is marked unreachable. */
  unreachable: boolean;
  /** True once a KILL reached the executor. */
  killRequested: boolean;
  /** The last `healthy` verdict its executor's health check reported; undefined before any. */
  healthy: boolean | undefined;
  /** The uuids of every update received for this task (de-duplication of executor re-sends). */
  readonly seenUuids: Set<string>;
  /** A KILL that arrived while the agent was disconnected, delivered when it re-registers. */
  pendingKill: { graceMs: number | undefined } | undefined;
}

/** An executor (container) on an agent. Command executors run exactly one task. */
export interface FakeExecutor {
  readonly frameworkId: string;
  readonly id: string;
  readonly kind: ExecutorKind;
  /** ExecutorInfo JSON (custom and default executors); undefined for command executors. */
  readonly info: JsonObject | undefined;
  readonly containerId: string;
  /** The sandbox on the host (also MESOS_SANDBOX: no container images here). */
  readonly directory: string;
  /** The executor's own resources (allocated form); empty for command executors. */
  readonly resources: Resources;
  readonly role: string;
  state: 'launching' | 'registering' | 'running' | 'terminating' | 'terminated';
  /** Live tasks by id. */
  readonly tasks: Map<string, FakeTask>;
  /** Tasks waiting for the executor to SUBSCRIBE (custom executors). */
  readonly queued: Array<{ task: FakeTask; group: FakeTask[] | undefined }>;
  readonly completedTasks: FakeTask[];
  /** The executor process id (processes mode) or a made-up one (simulate mode). */
  pid: number | undefined;
  /** The executor's open SUBSCRIBE stream on the agent's executor API. */
  stream: HttpStream | undefined;
  /** Raw wait status once terminated (0 = exited with 0). */
  exitStatus: number | undefined;
  /** When it was created, seconds since the epoch. */
  readonly startedAt: number;
  /** Mode-specific handle: processes, timers. */
  runtime: unknown;
}

/** Lifecycle of an agent as the leading master sees it. */
export type AgentStatus = 'registered' | 'disconnected' | 'unreachable' | 'recovering' | 'gone';

/** A simulated agent with its own HTTP endpoint. */
export interface FakeAgent {
  readonly id: string;
  /** The hostname it reports (offers, `/state`, its machine id); `--hostname`. */
  readonly hostname: string;
  /** The address it is reached at (always the fake's host): offers' `url.address.ip`, its machine id's `ip`. */
  readonly ip: string;
  port: number;
  readonly total: Resources;
  readonly attributes: AttributeJson[];
  readonly resourcesSpec: string;
  readonly attributesSpec: string;
  /** `--containerizers`, `--image_providers`, `--isolation`, `--launcher`: what it can run. */
  readonly containerizer: AgentContainerizer;
  /** Resources of live tasks and executors (unallocated form). */
  readonly used: Resources;
  /** Resources in outstanding offers (unallocated form). */
  readonly offered: Resources;
  status: AgentStatus;
  /** When the agent was marked unreachable, nanoseconds since the epoch. */
  unreachableTime: bigint | undefined;
  /** False while the agent's HTTP endpoint is down (agent restart). */
  httpUp: boolean;
  readonly executors: Map<string, FakeExecutor>;
  readonly completedExecutors: FakeExecutor[];
  /** Live tasks by `frameworkId/taskId`. */
  readonly tasks: Map<string, FakeTask>;
  server: HttpServer | undefined;
  readonly workDir: string;
  readonly startTime: number;
  /** Pending loss / re-registration timers. */
  readonly timers: Set<ReturnType<typeof setTimeout>>;
}

/** A master's HTTP endpoint and its role. */
export interface MasterServer {
  readonly index: number;
  port: number;
  /** `down`: connections refused; `starting`: 404 for everything; else leading or following. */
  phase: 'down' | 'starting' | 'leading' | 'following';
  server: HttpServer | undefined;
}

/** The files of a simulated sandbox (simulate mode keeps no files on disk). */
export interface SimulatedSandbox {
  readonly files: Map<string, string>;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

/** A MESSAGE a scheduler sent to an executor that has no process to receive it (simulate mode). */
export interface ExecutorMessage {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly executorId: string;
  /** base64 */
  readonly data: string;
}

/** An outstanding offer. */
export interface FakeOffer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  /** Offered resources, allocated to `role`. */
  readonly resources: Resources;
}

/** An open scheduler subscription. */
export interface Subscription {
  readonly streamId: string;
  readonly stream: HttpStream;
  heartbeat: ReturnType<typeof setInterval> | undefined;
}

/** A framework the master knows. */
export interface FakeFramework {
  readonly id: string;
  /** The newest FrameworkInfo (with `id`). */
  info: JsonObject;
  roles: string[];
  capabilities: Set<string>;
  suppressedRoles: Set<string>;
  subscription: Subscription | undefined;
  /** False after a master failover until the framework re-subscribes or one of its agents re-registers. */
  knownToLeader: boolean;
  failoverTimer: ReturnType<typeof setTimeout> | undefined;
  /** Tasks the master tracks (not yet terminal-and-acknowledged). */
  readonly tasks: Map<string, FakeTask>;
  readonly completedTasks: FakeTask[];
  readonly offers: Set<string>;
  readonly registeredTime: number;
}

/** One HTTP call the fake received, for inspection. */
export interface RecordedCall {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** `scheduler` and `operator` (`/api/v1`) calls go to a master; `executor` calls to an agent. */
  readonly api: 'scheduler' | 'executor' | 'operator';
  /** Master index or agent id that received it. */
  readonly target: string;
  readonly type: string | undefined;
  readonly frameworkId: string | undefined;
  /** The parsed JSON body (undefined when it did not parse). */
  readonly body: JsonObject | undefined;
  /** The HTTP status the fake answered. */
  status: number;
}

/** Leadership and id sequences of the leading master. */
export interface Leadership {
  /** The leader's `MasterInfo.id`; a new one after every failover. */
  masterId: string;
  /** Index of the leading master, or undefined while there is none. */
  leaderIndex: number | undefined;
  /** True once the leader finished starting (answers calls instead of 404). */
  ready: boolean;
  offerSequence: number;
  frameworkSequence: number;
  agentSequence: number;
}

/** The state every module of the fake works on. */
export interface World {
  readonly options: ResolvedOptions;
  readonly leadership: Leadership;
  readonly masters: MasterServer[];
  readonly frameworks: Map<string, FakeFramework>;
  /** Framework ids that were torn down or whose failover timeout expired. */
  readonly removedFrameworks: Set<string>;
  /** Removed frameworks, for `/state` documents. */
  readonly completedFrameworks: FakeFramework[];
  readonly agents: Map<string, FakeAgent>;
  readonly offers: Map<string, FakeOffer>;
  /** cpus and mem held by each framework and role (live tasks plus offers), keyed `framework\0role`. */
  readonly usage: Map<string, { cpus: number; mem: number }>;
  readonly filters: OfferFilters;
  readonly calls: RecordedCall[];
  /** Scheduler MESSAGEs to executors without a process (simulate mode), in arrival order. */
  readonly executorMessages: ExecutorMessage[];
  readonly timers: Timers;
  /** Real processes started in processes mode. */
  readonly processes: ProcessRegistry;
  /** In-memory sandboxes of simulate mode, by host path. */
  readonly simulatedSandboxes: Map<string, SimulatedSandbox>;
  /** The agents' common work directory root. */
  readonly workDir: string;
  /** Host every server listens on. */
  readonly host: string;
  /** The operator's maintenance schedule, machine modes and inverse offers (`master/maintenance.ts`). */
  readonly maintenance: MaintenanceState;
  /** Set when `stop()` began: nothing new starts. */
  stopping: boolean;
  /** Wakes the allocator (REVIVE, new framework, new agent) instead of waiting for the next cycle. */
  allocateSoon(): void;
}

/** A machine as the operator API names it (`MachineID`): hostname and/or IP. */
export interface MachineId {
  readonly hostname?: string;
  readonly ip?: string;
}

/** An inverse offer outstanding with a framework: vacate this agent by `unavailability`. */
export interface FakeInverseOffer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
}

/** A framework's answer to the inverse offers of a draining machine (`InverseOfferStatus`). */
export interface InverseOfferAnswer {
  readonly status: 'UNKNOWN' | 'ACCEPT' | 'DECLINE';
  /** Nanoseconds since the epoch. */
  readonly timestamp: bigint;
}

/** One machine of the maintenance schedule. */
export interface ScheduledMachine {
  readonly id: MachineId;
  /** `Unavailability` JSON as scheduled (`start`, optional `duration`). */
  unavailability: JsonObject;
  /** DRAINING once scheduled; DOWN after START_MAINTENANCE (its agents removed). */
  mode: 'DRAINING' | 'DOWN';
  /** Answers to its inverse offers, by framework id. */
  readonly answers: Map<string, InverseOfferAnswer>;
}

/** The operator's maintenance state (spec §6.8; operator API maintenance calls). */
export interface MaintenanceState {
  /** Scheduled machines in schedule order (windows flattened), keyed by `machineKey`. */
  readonly machines: Map<string, ScheduledMachine>;
  /** The schedule's windows as last given (machine keys per window). */
  windows: Array<{ machineKeys: string[]; unavailability: JsonObject }>;
  readonly inverseOffers: Map<string, FakeInverseOffer>;
  /** When a framework may get the next inverse offer for an agent (after ACCEPT/DECLINE filters), keyed `framework\0agent`. */
  readonly inverseFilters: Map<string, number>;
  sequence: number;
}

/** Starts the record of a call received (its status set when answered) and keeps it for inspection. */
export function recordCall(world: World, api: RecordedCall['api'], target: string): RecordedCall {
  const record: RecordedCall = {
    at: Date.now(),
    api,
    target,
    type: undefined,
    frameworkId: undefined,
    body: undefined,
    status: 0,
  };
  world.calls.push(record);
  return record;
}

/** Key of a task or executor inside maps that span frameworks. */
export function scopedKey(frameworkId: string, id: string): string {
  return `${frameworkId}/${id}`;
}

/** Seconds since the epoch with sub-millisecond digits, as Mesos' `timestamp` fields carry. */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

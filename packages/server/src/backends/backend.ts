import type { AttemptOutcome, Node } from '@galley/core';
import type { AttemptRecord, EnvVar, HealthCheckSpec, RunHost } from '../model/records.js';
import type { GroupLaunch, GroupRunner } from './group-runner.js';

/** What a backend needs to launch one attempt. Resources as placement saw them. */
export interface LaunchSpec {
  attemptId: string;
  runId: string;
  /** 1 for a run's first attempt. */
  seq: number;
  /** The node placement chose (core `Node.id`). */
  nodeId: string;
  image: string;
  command: string;
  /** The complete environment of the program (definition env, overrides, injected variables). */
  env: EnvVar[];
  /**
   * Names of `env` variables whose values are resolved secrets (secrets/secrets-backend.ts), for a
   * backend that can hand them over as secrets (Mesos: `Environment.Variable` of type SECRET);
   * undefined = none.
   */
  secretEnv?: readonly string[];
  cpus: number;
  memMb: number;
  gpus: number;
  /** Disk in MB; undefined = none. */
  diskMb?: number;
  /** Host ports placement chose, one per entry of `containerPorts`; undefined = none. */
  hostPorts?: number[];
  /** The definition's (container) ports; undefined = none. */
  containerPorts?: number[];
  /** The definition's alias, to name the task; undefined = the attempt id names it. */
  name?: string;
  /** A health check the backend runs (Mesos); null/undefined = none. */
  healthCheck?: HealthCheckSpec | null;
}

/**
 * A pipeline launch placed by a dispatch round: the node chosen, and each process's host ports in
 * its `port_mappings` order (empty where the backend's nodes have no port ranges and it picks
 * free ports itself, as the local backend does).
 */
export interface PlacedGroupLaunch {
  launch: GroupLaunch;
  nodeId: string;
  ports: Record<string, number[]>;
}

/** One dispatch round's work for one backend, placed by one call of core `place()`. */
export interface LaunchBatch {
  runs: readonly LaunchSpec[];
  groups: readonly PlacedGroupLaunch[];
}

/**
 * The capacity a dispatch round places onto. The backend keeps it for the round (Mesos does not
 * decline these offers) until `close()`, which the round calls once it launched, or gave up.
 */
export interface PlacementRound {
  readonly nodes: Node[];
  close(): void;
}

/**
 * What waits for a backend's capacity: queued runs and unplaced pipeline launches, counted by the
 * role they need (`*` = any). `newWork` names the roles that got new work since the last report.
 */
export interface WaitingWork {
  byRole: ReadonlyMap<string, number>;
  newWork: ReadonlySet<string>;
}

/** How demands are shaped for a backend's nodes. */
export interface PlacementTraits {
  /** Each pipeline launch also needs its executor's resources (Mesos' default executor). */
  groupExecutor: boolean;
  /** Nodes offer port ranges that placement hands out; false = the backend picks free ports itself. */
  portsFromNodes: boolean;
}

export type { RunHost } from '../model/records.js';

/**
 * What an attempt used and what befell it beyond its exit, as far as its backend can tell: its
 * run's `max_memory_used` (MB), `max_cpu_used` (millicores) and `run_exceptions`.
 */
export interface AttemptUsage {
  /** Peak memory in MB; null = not measured. */
  maxMemoryMb: number | null;
  /** Peak CPU in millicores; null = not measured. */
  maxCpuMillicores: number | null;
  /** Exceptions to add to the run's `run_exceptions` (an out-of-memory kill); undefined = none. */
  exceptions?: string[];
}

/**
 * What a backend reports about an attempt. Delivered at least once and possibly out of order;
 * the run controller applies them through core `transition`, which makes repeats harmless.
 */
export type BackendEvent =
  /** The attempt's program started. `handle` is what the backend needs to find it after a restart. */
  | {
      type: 'running';
      attemptId: string;
      at: number;
      handle: Record<string, unknown>;
      host: RunHost;
    }
  /** The attempt ended; `usage` when the backend measured it. */
  | { type: 'ended'; attemptId: string; at: number; outcome: AttemptOutcome; usage?: AttemptUsage };

/** An in-flight attempt as the store knows it, with the resources its run holds. */
export interface ReconcileItem {
  attempt: AttemptRecord;
  cpus: number;
  memMb: number;
}

/** The backend's answer for one in-flight attempt at recovery. */
export type ReconcileAnswer =
  /** Still running; the backend adopted it and will report its end. */
  | {
      attemptId: string;
      state: 'running';
      at: number;
      handle: Record<string, unknown>;
      host: RunHost;
    }
  /** It ended (maybe while the server was down). */
  | { attemptId: string; state: 'ended'; at: number; outcome: AttemptOutcome; usage?: AttemptUsage }
  /**
   * The backend confirms this attempt was never started: it is safe to launch it under the same
   * attempt id. Only answered when the backend can be sure; otherwise the attempt is `ended` lost.
   */
  | { attemptId: string; state: 'absent' };

/** The answer of a kill: whether a signal/kill was actually sent to a live attempt. */
export type KillAnswer = 'signalled' | 'not-running';

/**
 * An attempt's output that exists but cannot be read now: thrown by `Backend.logs`, never answered
 * as an empty chunk. `host-failed`: the host that has it failed to answer (a Mesos agent
 * unreachable, its files API in error); `not-here`: it cannot be found or read from this server
 * (an agent no longer known, a directory that is not on this machine, a file that cannot be read).
 * The message says why, in words a user can act on, without a local path.
 */
export class LogUnavailableError extends Error {
  override readonly name: string = 'LogUnavailableError';
  readonly code: 'LOG_HOST_FAILED' | 'LOG_UNAVAILABLE';
  /** The HTTP status the API answers: 502 for `host-failed`, 503 for `not-here`. */
  readonly status: 502 | 503;
  constructor(
    readonly reason: 'host-failed' | 'not-here',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = reason === 'host-failed' ? 'LOG_HOST_FAILED' : 'LOG_UNAVAILABLE';
    this.status = reason === 'host-failed' ? 502 : 503;
  }
}

/** One read of an attempt's output. `nextOffset` = offset + data.length. */
export interface LogChunk {
  data: Buffer;
  nextOffset: number;
  /** Bytes of the stream known so far (≥ nextOffset); null when the backend cannot tell. */
  size: number | null;
}

/** A backend's state for `GET /clusters`. */
export interface ClusterInfo {
  name: string;
  backend: string;
  /** `ready`, `connecting`, `disconnected`, … */
  state: string;
  /** True when commands run directly on the server's host, without container isolation. */
  runsOnHost: boolean;
  /** What a person should know about this cluster (e.g. that images are not used). */
  note: string;
  capacity: { cpus: number; memMb: number; gpus: number };
  free: { cpus: number; memMb: number; gpus: number };
  running: number;
  /**
   * The most a run can ever get here, whatever joins the cluster later (the local backend: no GPU,
   * the ports of its range): an execute that needs more is refused (422 naming the field) rather
   * than left to wait forever. Undefined (or a field left out) = no bound.
   */
  bounds?: { gpus?: number; ports?: number };
  /**
   * Whether a run's memory and CPU limits hold here, and how or why not (the local backend: its
   * containers, or host commands' own cgroups); undefined = not said.
   */
  limits?: { memory: { enforced: boolean; how: string }; cpu: { enforced: boolean; how: string } };
  /** Mesos clusters: the framework's connection, id, agents and offers held; undefined elsewhere. */
  mesos?: {
    /** `subscribed`, `connecting`, `disconnected`, `stopped (failed-over)`, … */
    connection: string;
    frameworkId: string | null;
    master: string | null;
    roles: string[];
    /** Agents that offered resources since the framework subscribed. */
    agents: number;
    offersHeld: number;
    suppressedRoles: string[];
    /** Per agent seen: how it runs images and Galley's runs, and what it failed to (learned). */
    agentSupport: MesosAgentSupport[];
  };
}

/** One Mesos agent as Galley runs work there (`GET /clusters`, the capacity page). */
export interface MesosAgentSupport {
  agentId: string;
  hostname: string;
  /** How images are sent there now: MESOS or DOCKER containerizer, or `none` (plain command tasks). */
  images: 'mesos' | 'docker' | 'none';
  /** Why it gets no more images, after a container launch failed there (the agent's message). */
  imageFailure: string | null;
  /** Runs without an image: under the shared `galley` executor, or Mesos' `command` executor. */
  executor: 'galley' | 'command';
  /** Why it falls back to the command executor: galley-executor could not start there (the agent's message). */
  executorFailure: string | null;
}

/**
 * An execution backend: where run attempts and pipeline launches run. It decides nothing: the run
 * controller's dispatch round places everything (runs and pipeline launches together, one core
 * `place()` per backend) and hands it one batch; the controllers hand it the work in flight
 * (`reconcile`) before `start()`. It never reads the store. The API never knows which backend
 * ran a run. Methods never throw for a missing attempt; they answer so.
 */
export interface Backend {
  /** The cluster this backend serves (runs name it in `cluster`). */
  readonly cluster: string;
  /** `local` or `mesos`: stored in a run's `engine`. */
  readonly kind: string;
  /** Begins (connect, watch); events may flow from then on. */
  start(): Promise<void>;
  /** Where demands could be placed right now, with their free resources. A query: changes nothing. */
  capacity(): Node[];
  /** Opens a dispatch round on the capacity of now (see PlacementRound). */
  openRound(): PlacementRound;
  /** How demands are shaped for this backend's nodes. */
  readonly placement: PlacementTraits;
  /**
   * Starts a round's attempts and pipeline launches; outcomes arrive as events (a run attempt that
   * fails to launch is an `ended` host failure; a pipeline launch that could not be handed to the
   * node is reported `absent`, to be placed again). Pipeline launches are tracked before it returns
   * or awaits anything, so a kill right after finds them.
   */
  launch(batch: LaunchBatch): Promise<void>;
  /** Registers the one listener told when capacity may have grown (something ended, offers came). */
  onCapacity(listener: () => void): void;
  /** What waits for this backend's capacity (Mesos: SUPPRESS and REVIVE); undefined = not used. */
  waiting?(work: WaitingWork): void;
  /** Asks an attempt to stop: SIGTERM (or KILL) now, forced after `graceMs`. */
  kill(attemptId: string, graceMs: number): Promise<KillAnswer>;
  /**
   * Answers, for each attempt the store has in flight, what the backend knows of it; live ones are
   * adopted (their end will be reported as an event) and count against capacity again. An
   * attempt left out of the answers stays in flight as stored: the backend adopted it and reports
   * what becomes of it as events (Mesos learns it asynchronously, by reconciliation).
   */
  reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]>;
  /**
   * Reads up to `maxBytes` of an attempt's stdout or stderr from byte `offset`; cost O(maxBytes).
   * An attempt that has not written the stream yet reads as empty; output that exists but cannot be
   * read (its host gone or failing, not on this machine, a file that cannot be read) throws
   * LogUnavailableError: never an empty chunk in its place.
   */
  logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk>;
  /**
   * Where the backend's own executor writes into its attempts' files (Mesos' command executor), the
   * lines `logs` leaves out, read the same way (byte offsets of the same files). Absent: a backend
   * whose attempts hold no such lines. A backend that wraps another defines it when the wrapped one
   * does.
   */
  executorLogs?(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk>;
  /**
   * Registers the one listener for events; events are delivered in batches. The listener's
   * promise (when it returns one) settles once the batch is stored, and rejects when it was not:
   * a backend that must confirm delivery (Mesos acknowledgements) waits for it.
   */
  onEvents(listener: (events: BackendEvent[]) => void | Promise<void>): void;
  /** The role of runs that name none (Mesos: the framework's first role); undefined = any node. */
  readonly defaultRole?: string | undefined;
  /** The roles runs may name (Mesos: the framework's roles); undefined = roles are not used. */
  readonly roles?: readonly string[];
  describe(): ClusterInfo;
  /** Runs pipeline instances (groups of processes); undefined = this backend cannot run pipelines. */
  readonly groups?: GroupRunner;
  /** Stops watching; running attempts keep running (they are found again at the next start). */
  close(): Promise<void>;
}

/** Which output stream. */
export type LogStream = 'stdout' | 'stderr';

/** Enough to find an attempt's output. */
export interface AttemptRef {
  runId: string;
  attemptId: string;
  seq: number;
}

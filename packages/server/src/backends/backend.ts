import type { AttemptOutcome, Node } from '@galley/core';
import type { AttemptRecord, EnvVar, HealthCheckSpec } from '../model/records.js';
import type { GroupRunner } from './group-runner.js';

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

/** Where an attempt ran, for the run's `instance` field. */
export interface InstanceInfo {
  instanceId: string;
  dnsName: string;
}

/**
 * What a backend reports about an attempt. Delivered at least once and possibly out of order;
 * the engine applies them through core `transition`, which makes repeats harmless.
 */
export type BackendEvent =
  /** The attempt's program started. `handle` is what the backend needs to find it after a restart. */
  | {
      type: 'running';
      attemptId: string;
      at: number;
      handle: Record<string, unknown>;
      instance: InstanceInfo;
    }
  /** The attempt ended. */
  | { type: 'ended'; attemptId: string; at: number; outcome: AttemptOutcome };

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
      instance: InstanceInfo;
    }
  /** It ended (maybe while the server was down). */
  | { attemptId: string; state: 'ended'; at: number; outcome: AttemptOutcome }
  /**
   * The backend confirms this attempt was never started: it is safe to launch it under the same
   * attempt id. Only answered when the backend can be sure; otherwise the attempt is `ended` lost.
   */
  | { attemptId: string; state: 'absent' };

/** The answer of a kill: whether a signal/kill was actually sent to a live attempt. */
export type KillAnswer = 'signalled' | 'not-running';

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
  };
}

/**
 * An execution backend: where attempts run. The engine is its only caller; the API never knows
 * which backend ran a run. Local and Mesos implement it. Methods never throw for a missing
 * attempt; they answer so.
 */
export interface Backend {
  /** The cluster this backend serves (runs name it in `cluster`). */
  readonly cluster: string;
  /** `local` or `mesos`: stored in a run's `engine`. */
  readonly kind: string;
  /** Begins (connect, watch); events may flow from then on. */
  start(): Promise<void>;
  /** Where demands may be placed right now, with their free resources (core placement nodes). */
  capacity(): Node[];
  /** Starts the attempts; outcomes arrive as events (a launch that fails is an `ended` host-failure). */
  launch(specs: readonly LaunchSpec[]): Promise<void>;
  /** Asks an attempt to stop: SIGTERM (or KILL) now, forced after `graceMs`. */
  kill(attemptId: string, graceMs: number): Promise<KillAnswer>;
  /**
   * Answers, for each attempt the store has in flight, what the backend knows of it; live ones are
   * adopted (their end will be reported as an event) and count against capacity again. An
   * attempt left out of the answers stays in flight as stored: the backend adopted it and reports
   * what becomes of it as events (Mesos learns it asynchronously, by reconciliation).
   */
  reconcile(items: readonly ReconcileItem[]): Promise<ReconcileAnswer[]>;
  /** Reads up to `maxBytes` of an attempt's stdout or stderr from byte `offset`; cost O(maxBytes). */
  logs(attempt: AttemptRef, stream: LogStream, offset: number, maxBytes: number): Promise<LogChunk>;
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

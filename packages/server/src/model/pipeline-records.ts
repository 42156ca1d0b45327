import type { HealthStatus, InstanceState, PipelineSpec, PipelineUpdate } from '@galley/core';

/**
 * What the store keeps of pipelines. Times are ms since the epoch; null = not yet / not applicable.
 * The decisions about them are @galley/core's (InstanceState, PipelineUpdate); these records add
 * what the server needs to carry them out: spec versions, launches and each process's status.
 */

/** A pipeline: its current spec and where its rollout stands. */
export interface PipelineRecord {
  pipelineId: string;
  /** Random per creation: launch and task ids of a re-created pipeline never repeat old ones. */
  uid: string;
  /** The cluster its instances run on. */
  cluster: string;
  /** The current complete spec (defaults filled); `instances` and `update_strategy` are current too. */
  spec: PipelineSpec;
  /** The current spec version (1 at creation). */
  version: number;
  /** The highest instance number issued (instance ids are never reused). */
  instanceSeq: number;
  /** The last update (active or finished); null before the first. */
  update: PipelineUpdate | null;
  /** The history entry `update` is stored as (0 = none). */
  updateSeq: number;
  /** When a delete was asked for: its instances are being stopped; null = not being deleted. */
  deletingAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The status of one process of a launch, as Faustian shows it (Mesos task state names). */
export type ProcessState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_UNREACHABLE'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_LOST'
  | 'TASK_ERROR';

/** One process of one launch. */
export interface ProcessRecord {
  /** Task id `<launch id>:<process>` (the Mesos task id; never reused). */
  taskId: string;
  state: ProcessState;
  /** The Mesos agent (or, locally, this host's name); null until placed. */
  agentId: string | null;
  /** Host ports it got, in the order of its `port_mappings`. */
  ports: number[];
  /** What the backend needs to find it again (local: pid, start time, directory); null until it runs. */
  handle: Record<string, unknown> | null;
  /** The last health result of a checked process; null = unchecked or no result yet. */
  health: { status: HealthStatus; message: string } | null;
  /** How it ended; null while it has not. */
  exit: { exitCode: number | null; message: string; hostFailure: boolean } | null;
  updatedAt: number;
}

/** One launch of an instance: its processes started together (one Mesos task group). */
export interface LaunchRecord {
  /** `<pipeline>$<instance number>.<seq>.<uid>`: the Mesos executor id; never reused. */
  launchId: string;
  /** 1 for the instance's first launch; a restart is the next. */
  seq: number;
  /** Fencing epoch of the leader that decided the launch. */
  epoch: number;
  /** `launching`: recorded (write-ahead), not yet known to be placed; `placed`: handed to the backend's node. */
  phase: 'launching' | 'placed';
  nodeId: string | null;
  hostname: string | null;
  /** Why it is not placed yet (placement's words); null when placed or not tried yet. */
  waitingReason: string | null;
  /** When a stop (or the kill of what is left after a failure) was asked for. */
  killRequestedAt: number | null;
  processes: Record<string, ProcessRecord>;
  createdAt: number;
}

/** An instance: core's state, and its current launch (null before the first). */
export interface InstanceRecord {
  pipelineId: string;
  state: InstanceState;
  launch: LaunchRecord | null;
  updatedAt: number;
}

/** One entry of a pipeline's update history. */
export interface UpdateRecord {
  seq: number;
  update: PipelineUpdate;
}

/** One stored change of a pipeline, written in one transaction. */
export interface PipelineChange {
  /** The pipeline row as it must be after the change. */
  pipeline: PipelineRecord;
  /** A new spec version to keep. */
  newVersion?: { version: number; spec: PipelineSpec };
  /** Instances to insert or replace. */
  instances?: InstanceRecord[];
  /** Instance ids to delete (stopped instances). */
  removeInstances?: string[];
  /** An update history entry to insert or replace. */
  history?: UpdateRecord;
}

/** Whether every process of a launch has ended (or it has none). */
export function isLaunchOver(launch: LaunchRecord | null): boolean {
  return launch === null || Object.values(launch.processes).every((p) => p.exit !== null);
}

import type { HealthStatus, PipelineSpec } from '@galley/core';
import type { ProcessState } from '../model/pipeline-records.js';

/**
 * How a backend runs pipeline instances: each launch of an instance is a group of the pipeline's
 * processes started together on one node (on Mesos one LAUNCH_GROUP on the default executor;
 * locally a group of supervised child processes). The pipeline controller decides what to launch
 * and stop, the run controller's dispatch round decides where (with the runs, in one placement),
 * and the backend carries it out (`Backend.launch`); the GroupRunner kills, finds launches again
 * after a restart, and reports what happens, at least once and in any order.
 */

/** One launch of an instance, recorded by the controller before it is handed over. */
export interface GroupLaunch {
  /** `<pipeline>$<instance number>.<seq>.<uid>`; never reused. */
  launchId: string;
  pipelineId: string;
  /** `<pipeline>.<number>`. */
  instanceId: string;
  /** The spec of the instance's version. */
  spec: PipelineSpec;
  /** Placement order: older launches are placed first (ms since the epoch). */
  queuedAt: number;
  /**
   * Names of environment variables whose values are resolved secrets (secrets/secrets-backend.ts),
   * for a backend that hands them over as secrets (Mesos: SECRET variables); undefined = none.
   */
  secretEnv?: readonly string[];
}

/** The task id of a process of a launch: `<launch id>:<process>`. */
export function taskIdOf(launchId: string, process: string): string {
  return `${launchId}:${process}`;
}

/** The launch id and process of a task id made by `taskIdOf`; null for anything else. */
export function parseTaskId(taskId: string): { launchId: string; process: string } | null {
  const cut = taskId.lastIndexOf(':');
  if (cut <= 0 || !taskId.includes('$')) return null;
  return { launchId: taskId.slice(0, cut), process: taskId.slice(cut + 1) };
}

/** How a process ended. */
export interface ProcessEnd {
  state: ProcessState;
  /** The program's exit code; null when it did not exit by itself (killed, lost, never started). */
  exitCode: number | null;
  message: string;
  /** The host failed rather than the program (lost agent, launch failure): restart without penalty. */
  hostFailure: boolean;
}

/** What a group runner reports. Each may arrive more than once. */
export type GroupEvent =
  /** Not placed yet, and why (placement's words). */
  | { type: 'waiting'; launchId: string; at: number; reason: string }
  /** Handed to a node: its processes' host ports (by process, in `port_mappings` order). */
  | {
      type: 'placed';
      launchId: string;
      at: number;
      nodeId: string;
      hostname: string;
      agentId: string;
      ports: Record<string, number[]>;
    }
  /** A process reports a state that is not an end (STARTING, RUNNING, KILLING, UNREACHABLE). */
  | {
      type: 'process-state';
      launchId: string;
      process: string;
      at: number;
      state: ProcessState;
      /** What finds it again after a restart (local: pid, start time, directory); undefined = unchanged. */
      handle?: Record<string, unknown>;
    }
  /** A checked process's health changed (locally from Galley's checks through core `observe`; on Mesos the agent's). */
  | {
      type: 'process-health';
      launchId: string;
      process: string;
      at: number;
      status: HealthStatus;
      message: string;
    }
  /** A process ended (or will never start). */
  | { type: 'process-ended'; launchId: string; process: string; at: number; end: ProcessEnd }
  /** Recovery: the backend confirms this launch never started; it may be launched again under the same id. */
  | { type: 'absent'; launchId: string; at: number };

/** A launch in flight as the store knows it, for recovery after a restart. */
export interface GroupReconcileItem {
  launch: GroupLaunch;
  /** Per process: its stored handle and host ports, and whether its end is already recorded. */
  processes: Record<string, { handle: Record<string, unknown> | null; ports: number[]; ended: boolean }>;
  /** False while the launch was only recorded (it may never have reached the backend). */
  placed: boolean;
  /** A stop was asked for: kill what is found. */
  killRequested: boolean;
}

/** Where one process of one launch ran, as the store knows it: enough to find its output. */
export interface ProcessLogRef {
  launchId: string;
  /** The process's name in the spec. */
  process: string;
  /** The Mesos agent (locally this host's name) the launch was placed on; null = not known. */
  agentId: string | null;
}

/** One read of a process's output (the same shape as a run's `LogChunk`). */
export interface ProcessLogChunk {
  data: Buffer;
  /** offset + data.length. */
  nextOffset: number;
  /** Bytes of the stream known so far (≥ nextOffset); null when the backend cannot tell. */
  size: number | null;
}

/** The part of a backend that runs pipeline instances. */
export interface GroupRunner {
  /**
   * What keeps this backend from running the spec (field path and words, as core's problems), e.g.
   * a process without a command where images cannot be run; empty when it can run it.
   */
  problems(spec: PipelineSpec): { field: string; message: string }[];
  /**
   * Stops a launch the backend was handed: each process gets SIGTERM (Mesos: KILL) and is killed
   * after its own `kill_grace_period`. Repeating it, or naming a launch it does not know, is harmless.
   */
  kill(launchId: string): Promise<void>;
  /**
   * After a restart: finds the launches again. Live processes are adopted (reported running), ended
   * ones reported ended, never-started launches reported `absent`; answers come as events.
   */
  reconcile(items: readonly GroupReconcileItem[]): Promise<void>;
  /** The one listener; its promise settles once the events are stored (Mesos acknowledges then). */
  onEvents(listener: (events: GroupEvent[]) => Promise<void>): void;
  /**
   * Reads at most `maxBytes` of a process's `stdout` or `stderr` from byte `offset` (a positioned
   * read: O(maxBytes)). Output not written yet reads as empty; output that exists but cannot be
   * read (its host gone or failing, not on this machine, a file that cannot be read) throws
   * LogUnavailableError (see backend.ts), never an empty chunk in its place.
   */
  logs(
    ref: ProcessLogRef,
    stream: 'stdout' | 'stderr',
    offset: number,
    maxBytes: number,
  ): Promise<ProcessLogChunk>;
}

/**
 * One pipeline instance (a group of the pipeline's processes) and its state machine:
 *
 *   starting ──running──► running ──process-exited / lost──► failed ──restarting──► starting
 *      └──launch-failed──────────────────────────────────────► failed
 *      └──────────── stop-requested (from any live phase) ──► stopping ──stopped──► stopped
 *
 * An instance keeps its id and spec version for its whole life; a restart relaunches the same
 * instance (the backend uses a fresh task id per launch). Replacing an instance (unhealthy, scale,
 * update) stops it and launches a new one with a new id.
 */
import type { RestartBackoffPolicy } from './backoff.js';
import { isCrashLoop, recentFailures, restartDelayMs } from './backoff.js';
import type { HealthStatus } from './health.js';

export type InstancePhase = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

/** The last time a process of the instance ended (or the instance was lost). */
export interface InstanceExit {
  /** The process that exited; null when the whole instance was lost. */
  process: string | null;
  exitCode: number | null;
  message: string;
  at: number;
  /**
   * The launch failed: its processes never all ran (the backend could not start one, it was
   * rejected, or its host went before it started). Absent = false (states stored before it existed).
   */
  launchFailed?: boolean;
}

/** An instance as the server stores it. Times in ms since epoch; null = not yet / not applicable. */
export interface InstanceState {
  instanceId: string;
  /** The ordinal that made its id: ids are never reused within a pipeline. */
  number: number;
  /** The spec version it runs. */
  version: number;
  createdAt: number;
  phase: InstancePhase;
  /** When the current launch (first or restart) began. */
  launchedAt: number;
  /** All processes running since (current launch). */
  runningSince: number | null;
  /** Some process of its version has a health check: it must be healthy to count as ready. */
  healthChecked: boolean;
  /** All checked processes healthy since; null when not healthy now (or not checked). */
  healthySince: number | null;
  /** Set when a health check reached its failure threshold: the instance must be replaced. */
  unhealthyReason: string | null;
  /** Restarts so far (shown as Faustian's `failures`). */
  restarts: number;
  /** Failures since the instance last stayed available for the reset time: drives the backoff. */
  consecutiveFailures: number;
  /** Failure times within the crash-loop window. */
  recentFailures: number[];
  /** Became crash-looping at; null when not. Cleared by the backoff reset. */
  crashLoopingSince: number | null;
  /** failed: the earliest time to restart it. */
  restartAt: number | null;
  lastExit: InstanceExit | null;
  stopReason: string | null;
  stoppedAt: number | null;
}

/** What happened to an instance; each may arrive more than once. */
export type InstanceEvent =
  | { type: 'running'; at: number }
  | { type: 'health'; at: number; status: HealthStatus; message?: string }
  | { type: 'process-exited'; at: number; process: string; exitCode: number | null; message: string }
  | { type: 'lost'; at: number; reason: string }
  /** The launch never got all its processes running; `process` is the one that failed, if known. */
  | { type: 'launch-failed'; at: number; process: string | null; message: string }
  | { type: 'restarting'; at: number }
  | { type: 'stop-requested'; at: number; reason: string }
  | { type: 'stopped'; at: number };

/** A new instance about to be launched. */
export function newInstanceState(
  plan: { instanceId: string; number: number; version: number },
  at: number,
  healthChecked: boolean,
): InstanceState {
  return {
    ...plan,
    createdAt: at,
    phase: 'starting',
    launchedAt: at,
    runningSince: null,
    healthChecked,
    healthySince: null,
    unhealthyReason: null,
    restarts: 0,
    consecutiveFailures: 0,
    recentFailures: [],
    crashLoopingSince: null,
    restartAt: null,
    lastExit: null,
    stopReason: null,
    stoppedAt: null,
  };
}

/** Since when the instance is ready (running, and healthy where checked); null when not ready. */
export function readySince(instance: InstanceState): number | null {
  if (instance.phase !== 'running') return null;
  return instance.healthChecked ? instance.healthySince : instance.runningSince;
}

/** Ready and stayed ready for `minHealthyMs` at `now`: counts toward an update's progress. */
export function isAvailable(instance: InstanceState, now: number, minHealthyMs: number): boolean {
  const since = readySince(instance);
  return since !== null && now - since >= minHealthyMs;
}

/** Crash-looping at `now`: entered a crash loop and has not stayed available for the reset time since. */
export function isCrashLooping(instance: InstanceState, now: number, policy: RestartBackoffPolicy): boolean {
  if (instance.crashLoopingSince === null || instance.phase === 'stopping' || instance.phase === 'stopped')
    return false;
  const since = readySince(instance);
  return !(since !== null && now - since >= policy.resetAfterMs);
}

/**
 * Failing to launch: its last failure was a launch that failed, and it has not run since (it waits
 * for its restart, or the restart is starting). A launch failure keeps repeating until something
 * changes, so it is shown until a launch runs.
 */
export function isFailingToLaunch(instance: InstanceState): boolean {
  return (
    instance.lastExit?.launchFailed === true && (instance.phase === 'failed' || instance.phase === 'starting')
  );
}

const isLive = (phase: InstancePhase): boolean => phase === 'starting' || phase === 'running';

function onFailure(
  state: InstanceState,
  exit: InstanceExit,
  policy: RestartBackoffPolicy,
  penalize: boolean,
): InstanceState {
  if (!penalize)
    return {
      ...state,
      phase: 'failed',
      runningSince: null,
      healthySince: null,
      restartAt: exit.at,
      lastExit: exit,
    };
  const since = readySince(state);
  const reset = since !== null && exit.at - since >= policy.resetAfterMs;
  const consecutive = (reset ? 0 : state.consecutiveFailures) + 1;
  const recent = recentFailures(policy, reset ? [] : state.recentFailures, exit.at);
  const crashLoopingSince = reset ? null : state.crashLoopingSince;
  return {
    ...state,
    phase: 'failed',
    runningSince: null,
    healthySince: null,
    consecutiveFailures: consecutive,
    recentFailures: recent,
    crashLoopingSince: crashLoopingSince ?? (isCrashLoop(policy, recent) ? exit.at : null),
    restartAt: exit.at + restartDelayMs(policy, consecutive),
    lastExit: exit,
  };
}

/**
 * Applies one event. Pure; returns the same object when the event changes nothing (a duplicate, or
 * an event that does not apply in the current phase). A `lost` instance restarts at once without a
 * backoff penalty (its host failed, not its program); a launch that failed backs off as a crash
 * does (it fails again the same way until something changes) and counts toward a crash loop.
 */
export function instanceTransition(
  state: InstanceState,
  event: InstanceEvent,
  policy: RestartBackoffPolicy,
): InstanceState {
  switch (event.type) {
    case 'running':
      return state.phase === 'starting' ? { ...state, phase: 'running', runningSince: event.at } : state;
    case 'health': {
      if (state.phase !== 'running' || !state.healthChecked) return state;
      if (event.status === 'healthy')
        return state.healthySince === null ? { ...state, healthySince: event.at } : state;
      const unhealthyReason =
        event.status === 'unhealthy'
          ? (state.unhealthyReason ?? event.message ?? 'health checks failed')
          : state.unhealthyReason;
      if (state.healthySince === null && unhealthyReason === state.unhealthyReason) return state;
      return { ...state, healthySince: null, unhealthyReason };
    }
    case 'process-exited':
      if (!isLive(state.phase)) return state;
      return onFailure(
        state,
        { process: event.process, exitCode: event.exitCode, message: event.message, at: event.at },
        policy,
        true,
      );
    case 'lost':
      if (!isLive(state.phase)) return state;
      return onFailure(
        state,
        { process: null, exitCode: null, message: event.reason, at: event.at },
        policy,
        false,
      );
    case 'launch-failed':
      if (state.phase !== 'starting') return state;
      return onFailure(
        state,
        { process: event.process, exitCode: null, message: event.message, at: event.at, launchFailed: true },
        policy,
        true,
      );
    case 'restarting':
      if (state.phase !== 'failed') return state;
      return {
        ...state,
        phase: 'starting',
        launchedAt: event.at,
        runningSince: null,
        healthySince: null,
        unhealthyReason: null,
        restartAt: null,
        restarts: state.restarts + 1,
      };
    case 'stop-requested':
      if (state.phase === 'stopping' || state.phase === 'stopped') return state;
      return { ...state, phase: 'stopping', stopReason: event.reason, restartAt: null, healthySince: null };
    case 'stopped':
      return state.phase === 'stopping' ? { ...state, phase: 'stopped', stoppedAt: event.at } : state;
  }
}

import {
  type HealthStatus,
  type InstanceEvent,
  type InstanceState,
  instanceTransition,
  type PipelineSpec,
  type RestartBackoffPolicy,
} from '@galley/core';
import type { GroupEvent } from '../backends/group-runner.js';
import type { InstanceRecord, LaunchRecord, ProcessRecord } from '../model/pipeline-records.js';

/**
 * What a group runner's event does to an instance: the process records of its current launch
 * change, and core `instanceTransition` moves the instance (running once every process runs,
 * health from the checked processes, failed or lost when a process ends by itself). Pure; events
 * may repeat or come late, and events of a launch that is not the instance's current one change
 * nothing.
 */
export interface EventEffect {
  record: InstanceRecord;
  /** Kill what is left of this launch (a process ended by itself, or the launch is not current). */
  kill: string | null;
  /** Launch the instance's current launch again under the same id (the backend confirmed it never started). */
  relaunch: boolean;
}

/** The instance's health from its checked processes: the worst status, with the process's words. */
export function launchHealth(
  launch: LaunchRecord,
  spec: PipelineSpec,
): { status: HealthStatus; message: string } | null {
  const checked = Object.values(spec.processes).filter((p) => p.health_check !== undefined);
  if (checked.length === 0) return null;
  for (const status of ['unhealthy', 'failing', 'pending'] as const) {
    const found = checked.find((p) => (launch.processes[p.id]?.health?.status ?? 'pending') === status);
    if (found) {
      const words = launch.processes[found.id]?.health?.message;
      return { status, message: `process ${found.id} is ${status}${words ? `: ${words}` : ''}` };
    }
  }
  return { status: 'healthy', message: 'all health checks pass' };
}

function withProcess(launch: LaunchRecord, name: string, patch: Partial<ProcessRecord>): LaunchRecord {
  const current = launch.processes[name];
  if (!current) return launch;
  return { ...launch, processes: { ...launch.processes, [name]: { ...current, ...patch } } };
}

/** Moves the instance through core; `undefined` events change nothing. */
function move(
  state: InstanceState,
  events: (InstanceEvent | undefined)[],
  backoff: RestartBackoffPolicy,
): InstanceState {
  let next = state;
  for (const e of events) if (e) next = instanceTransition(next, e, backoff);
  return next;
}

/** Whether a process of the launch has not ended. */
function hasLive(launch: LaunchRecord): boolean {
  return Object.values(launch.processes).some((p) => p.exit === null);
}

/** An absolute path quoted in a message (`mkdir '/data/pipelines/…'`) becomes its last part. */
function withoutPaths(message: string): string {
  return message.replace(/(['"])\/[^'"]*\/([^/'"]*)\1/g, '$1…/$2$1');
}

/**
 * Applies one event to the instance whose current launch it is about. `mayRelaunch` false: a
 * launch the backend confirms never started is not launched again (its spec cannot be served) but
 * ends as stopped before it started.
 */
export function applyGroupEvent(
  record: InstanceRecord,
  event: GroupEvent,
  spec: PipelineSpec,
  backoff: RestartBackoffPolicy,
  mayRelaunch = true,
): EventEffect {
  const launch = record.launch;
  const unchanged: EventEffect = { record, kill: null, relaunch: false };
  if (!launch || launch.launchId !== event.launchId) {
    // A launch this instance has moved past: anything of it still running must go.
    const live = event.type === 'process-state' && event.state === 'TASK_RUNNING';
    return { ...unchanged, kill: live ? event.launchId : null };
  }
  const at = event.at;
  let next = launch;
  let state = record.state;
  let kill: string | null = null;
  switch (event.type) {
    case 'waiting':
      if (launch.waitingReason === event.reason) return unchanged;
      next = { ...launch, waitingReason: event.reason };
      break;
    case 'placed': {
      const processes = { ...launch.processes };
      for (const [name, p] of Object.entries(processes))
        processes[name] = {
          ...p,
          ports: event.ports[name] ?? p.ports,
          agentId: event.agentId,
          updatedAt: at,
        };
      next = {
        ...launch,
        phase: 'placed',
        nodeId: event.nodeId,
        hostname: event.hostname,
        waitingReason: null,
        processes,
      };
      break;
    }
    case 'process-state': {
      const p = launch.processes[event.process];
      if (!p || p.exit !== null) return unchanged;
      if (p.state === event.state && event.handle === undefined) return unchanged;
      next = withProcess(launch, event.process, {
        state: event.state,
        updatedAt: at,
        ...(event.handle ? { handle: event.handle } : {}),
      });
      const allRunning = Object.values(next.processes).every((x) => x.state === 'TASK_RUNNING');
      if (allRunning) {
        const health = launchHealth(next, spec);
        state = move(
          state,
          [
            { type: 'running', at },
            health && health.status !== 'pending'
              ? { type: 'health', at, status: health.status, message: health.message }
              : undefined,
          ],
          backoff,
        );
      }
      break;
    }
    case 'process-health': {
      const p = launch.processes[event.process];
      if (!p || p.exit !== null) return unchanged;
      next = withProcess(launch, event.process, {
        health: { status: event.status, message: event.message },
        updatedAt: at,
      });
      const health = launchHealth(next, spec);
      if (health)
        state = move(
          state,
          [{ type: 'health', at, status: health.status, message: health.message }],
          backoff,
        );
      break;
    }
    case 'process-ended': {
      const p = launch.processes[event.process];
      if (!p || p.exit !== null) return unchanged;
      const { end } = event;
      // Unless the program exited by itself (its words end with its stderr), the words are Galley's
      // or the agent's: no host paths in them.
      const message = end.exitCode === null ? withoutPaths(end.message) : end.message;
      next = withProcess(launch, event.process, {
        state: end.state,
        exit: { exitCode: end.exitCode, message, hostFailure: end.hostFailure },
        updatedAt: at,
      });
      if (launch.killRequestedAt === null) {
        // An agent kills a whole task group when one of its processes fails its health checks, and
        // the group's other processes may report their end first: the group ended because of
        // the unhealthy process, so that is the exit the instance keeps.
        const sick = end.state === 'TASK_KILLED' ? unhealthyProcess(next) : null;
        // A launch that never got all its processes running failed as a launch: it backs off
        // (it would fail the same way at once), unlike a host lost under a running instance.
        const launchFailed = end.state === 'TASK_ERROR' || (end.hostFailure && state.phase === 'starting');
        state = move(
          state,
          [
            launchFailed
              ? {
                  type: 'launch-failed',
                  at,
                  process: event.process,
                  message: message.replace(/^launch failed: /, ''),
                }
              : end.hostFailure
                ? { type: 'lost', at, reason: `process ${event.process}: ${message}` }
                : {
                    type: 'process-exited',
                    at,
                    process: sick ?? event.process,
                    exitCode: sick ? null : end.exitCode,
                    message: sick ? 'killed after failing its health check' : end.message,
                  },
          ],
          backoff,
        );
        // A task group ends as a whole: what is left of it is stopped before any restart.
        if (hasLive(next)) {
          next = { ...next, killRequestedAt: at };
          kill = launch.launchId;
        }
      }
      break;
    }
    case 'absent': {
      if (!Object.values(launch.processes).every((p) => p.exit === null)) return unchanged;
      const live = mayRelaunch && state.phase === 'starting' && launch.killRequestedAt === null;
      if (live) return { ...unchanged, relaunch: true };
      // Stopped before it ever started: nothing to kill, its processes are over.
      const processes = { ...launch.processes };
      for (const [name, p] of Object.entries(processes))
        processes[name] = {
          ...p,
          state: 'TASK_KILLED',
          exit: { exitCode: null, message: 'stopped before it started', hostFailure: false },
          updatedAt: at,
        };
      next = { ...launch, processes };
      break;
    }
  }
  return { record: { ...record, state, launch: next, updatedAt: at }, kill, relaunch: false };
}

/** The process of `launch` whose health check the agent last judged failing, if any. */
function unhealthyProcess(launch: LaunchRecord): string | null {
  for (const [name, p] of Object.entries(launch.processes))
    if (p.health?.status === 'unhealthy' || p.health?.status === 'failing') return name;
  return null;
}

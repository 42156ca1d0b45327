import { CONFIGURATION_FAILURE, type AttemptOutcome } from '@galley/core';
import type { TaskStatus } from '@galley/mesos';

/**
 * What a Mesos task status update means for Galley's attempt (spec §4, and the recorded master's
 * behaviour: a command task's exit code is only in `message`, "Command exited with status N").
 * Pure: a function of the status alone.
 */
export type StatusMeaning =
  /** Nothing to record (STAGING, STARTING, KILLING, a health report while running…). */
  | { kind: 'progress' }
  /** The program runs (again: an agent that was unreachable came back). */
  | { kind: 'running' }
  /** The agent is partitioned: the task may still run; give it up only after a timeout. */
  | { kind: 'unreachable' }
  /** The attempt ended with this outcome. */
  | { kind: 'ended'; outcome: AttemptOutcome };

/** Reasons of TASK_FAILED that are the host's fault rather than the program's. */
const HOST_FAILURE_REASONS = new Set([
  'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_TERMINATED',
  'REASON_EXECUTOR_UNREGISTERED',
  'REASON_COMMAND_EXECUTOR_FAILED',
  'REASON_GC_ERROR',
  'REASON_IO_SWITCHBOARD_EXITED',
  'REASON_CONTAINER_PREEMPTED',
  'REASON_CONTAINER_UPDATE_FAILED',
  'REASON_AGENT_RESTARTED',
  'REASON_AGENT_REMOVED',
  'REASON_AGENT_DISCONNECTED',
  'REASON_AGENT_DRAINING',
  'REASON_INVALID_OFFERS',
  'REASON_RESOURCES_UNKNOWN',
]);

/** Short readable names of the states that are host failures. */
const HOST_FAILURE_STATES: Record<string, string> = {
  TASK_LOST: 'task lost',
  TASK_DROPPED: 'task dropped before it started',
  TASK_GONE: 'task gone',
  TASK_GONE_BY_OPERATOR: 'agent marked gone by the operator',
  TASK_UNKNOWN: 'task unknown to the master',
};

/** The exit code in a Mesos message (`Command exited with status 3`, `Container exited with status 3`); null if none. */
export function exitCodeOf(message: string | undefined): number | null {
  const m = /exited with status (-?\d+)/.exec(message ?? '');
  return m ? Number(m[1]) : null;
}

/** The signal in a Mesos message (`Command terminated with signal Killed`); null if none. */
export function signalOf(message: string | undefined): string | null {
  const m = /terminated with signal ([^\n]+)/.exec(message ?? '');
  return m ? m[1]!.trim() : null;
}

function describe(status: TaskStatus): string {
  const parts = [status.reason, status.message].filter((p): p is string => !!p);
  return parts.join(': ');
}

function hostFailure(reason: string, status: TaskStatus): StatusMeaning {
  const message = describe(status);
  return { kind: 'ended', outcome: { kind: 'host-failure', reason, ...(message ? { message } : {}) } };
}

/**
 * What the program's end says: an exit code, a signal, or (without either) its Mesos state. The
 * standard "Command exited with status N" is not repeated as a message; anything else is kept.
 */
function programEnd(status: TaskStatus, fallbackCode: number): StatusMeaning {
  const message = status.message;
  const code = exitCodeOf(message);
  const extra = message && !/^(Command|Container) exited with status -?\d+$/.test(message) ? { message } : {};
  if (code !== null) return { kind: 'ended', outcome: { kind: 'exited', exitCode: code, ...extra } };
  const signal = signalOf(message);
  if (signal !== null) return { kind: 'ended', outcome: { kind: 'killed', message: `signal ${signal}` } };
  return { kind: 'ended', outcome: { kind: 'exited', exitCode: fallbackCode, ...extra } };
}

/** Maps one status update (or reconciliation answer) to what it means for the attempt. */
export function meaningOf(status: TaskStatus): StatusMeaning {
  const reason = status.reason ?? '';
  switch (status.state) {
    case 'TASK_STAGING':
    case 'TASK_STARTING':
    case 'TASK_KILLING':
      return { kind: 'progress' };
    case 'TASK_RUNNING':
      return { kind: 'running' };
    case 'TASK_UNREACHABLE':
      return { kind: 'unreachable' };
    case 'TASK_FINISHED':
      return programEnd(status, 0);
    case 'TASK_FAILED':
      if (reason === 'REASON_CONTAINER_LIMITATION_MEMORY')
        return { kind: 'ended', outcome: { kind: 'killed', message: 'OOM: memory limit exceeded' } };
      if (reason === 'REASON_CONTAINER_LIMITATION_DISK' || reason === 'REASON_CONTAINER_LIMITATION')
        return {
          kind: 'ended',
          outcome: { kind: 'killed', message: describe(status) || 'resource limit exceeded' },
        };
      // The agent could not launch the container: the cluster's configuration, not the host
      // (container-failures.ts says which flag fixes it when the task is known).
      if (reason === 'REASON_CONTAINER_LAUNCH_FAILED')
        return {
          kind: 'ended',
          outcome: {
            kind: 'host-failure',
            reason: CONFIGURATION_FAILURE,
            message: `container launch failed: ${status.message || reason}`,
          },
        };
      if (HOST_FAILURE_REASONS.has(reason)) return hostFailure(launchOrHost(reason), status);
      return programEnd(status, 1);
    case 'TASK_KILLED':
      if (reason === 'REASON_AGENT_DRAINING') return hostFailure('agent draining', status);
      if (reason === 'REASON_FRAMEWORK_REMOVED') return hostFailure('framework removed', status);
      return { kind: 'ended', outcome: { kind: 'killed', message: killedMessage(status) } };
    case 'TASK_ERROR':
      return { kind: 'ended', outcome: { kind: 'rejected', message: describe(status) || 'invalid task' } };
    default: {
      const name = HOST_FAILURE_STATES[status.state];
      if (name === undefined) return { kind: 'progress' };
      if (reason === 'REASON_INVALID_OFFERS')
        return hostFailure('launch failed: the offers were no longer valid', status);
      return hostFailure(name, status);
    }
  }
}

function launchOrHost(reason: string): string {
  if (reason === 'REASON_INVALID_OFFERS') return 'launch failed: the offers were no longer valid';
  if (reason.startsWith('REASON_AGENT_')) return 'agent failure';
  return 'executor failure';
}

function killedMessage(status: TaskStatus): string {
  const signal = signalOf(status.message);
  if (signal !== null) return `signal ${signal}`;
  return describe(status) || 'killed';
}

/** True for the states Mesos considers terminal (resources released). */
export function isTerminalState(state: string): boolean {
  return (
    state === 'TASK_FINISHED' ||
    state === 'TASK_FAILED' ||
    state === 'TASK_KILLED' ||
    state === 'TASK_ERROR' ||
    state === 'TASK_LOST' ||
    state === 'TASK_DROPPED' ||
    state === 'TASK_GONE' ||
    state === 'TASK_GONE_BY_OPERATOR'
  );
}

import type { TaskStatus } from '@galley/mesos';
import type { GroupEvent, ProcessEnd } from '../group-runner.js';
import type { ProcessState } from '../../model/pipeline-records.js';
import { meaningOf } from './status.js';

/**
 * What a status update of one task of a pipeline launch means, as group events (the same reading
 * of Mesos states as for runs, `meaningOf`): STARTING/RUNNING/KILLING/UNREACHABLE as the
 * process's state, the agent's health verdict (`healthy`) as its health, and a terminal state as
 * its end — a host failure (lost, dropped, gone, unknown, agent or executor failure) or the
 * program's (exit code from "Command exited with status N"). Pure.
 */

const END_STATES: Record<string, ProcessState> = {
  TASK_FINISHED: 'TASK_FINISHED',
  TASK_FAILED: 'TASK_FAILED',
  TASK_KILLED: 'TASK_KILLED',
  TASK_ERROR: 'TASK_ERROR',
};

/** The ProcessEnd of a terminal update. */
export function endOfStatus(status: TaskStatus): ProcessEnd | null {
  const meaning = meaningOf(status);
  if (meaning.kind !== 'ended') return null;
  const o = meaning.outcome;
  const state = END_STATES[status.state] ?? 'TASK_LOST';
  switch (o.kind) {
    case 'exited':
      return {
        state,
        exitCode: o.exitCode,
        message: o.message ?? `exited with code ${o.exitCode}`,
        hostFailure: false,
      };
    case 'killed':
      return { state, exitCode: null, message: o.message ?? 'killed', hostFailure: false };
    case 'rejected':
      return { state: 'TASK_ERROR', exitCode: null, message: o.message, hostFailure: false };
    case 'host-failure':
      return {
        state,
        exitCode: null,
        message: o.message ? `${o.reason}: ${o.message}` : o.reason,
        hostFailure: true,
      };
  }
}

/** The events of one update of `process` of `launchId`, at `now`. */
export function groupEventsOf(
  status: TaskStatus,
  launchId: string,
  process: string,
  now: number,
): GroupEvent[] {
  const events: GroupEvent[] = [];
  const end = endOfStatus(status);
  if (status.healthy !== undefined && (end === null || status.healthy === false)) {
    const killedForHealth = end !== null && status.healthy === false;
    events.push({
      type: 'process-health',
      launchId,
      process,
      at: now,
      status: status.healthy ? 'healthy' : killedForHealth ? 'unhealthy' : 'failing',
      message: status.healthy ? 'the agent’s health check passes' : 'the agent’s health check fails',
    });
  }
  if (end) {
    events.push({ type: 'process-ended', launchId, process, at: now, end });
    return events;
  }
  const state: ProcessState | null =
    status.state === 'TASK_RUNNING'
      ? 'TASK_RUNNING'
      : status.state === 'TASK_STARTING'
        ? 'TASK_STARTING'
        : status.state === 'TASK_KILLING'
          ? 'TASK_KILLING'
          : status.state === 'TASK_UNREACHABLE'
            ? 'TASK_UNREACHABLE'
            : null;
  if (state) {
    const agentId = status.agent_id?.value;
    events.unshift({
      type: 'process-state',
      launchId,
      process,
      at: now,
      state,
      ...(agentId ? { handle: { agentId } } : {}),
    });
  }
  return events;
}

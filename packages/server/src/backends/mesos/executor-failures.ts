import type { AttemptOutcome } from '@galley/core';
import type { TaskStatus } from '@galley/mesos';

/**
 * A shared galley-executor that could not start on an agent (`--mesos-executor-command` not
 * found there, not executable, exits at once, or never subscribes): the agent ends every task it
 * queued for the executor itself, as a Mesos 1.12 agent does — TASK_FAILED with
 * REASON_EXECUTOR_TERMINATED ("Executor terminated"), REASON_EXECUTOR_REGISTRATION_TIMEOUT when
 * it never subscribed in `--executor_registration_timeout`, or REASON_CONTAINER_LAUNCH_FAILED when
 * its container could not be set up (a `--mesos-executor-uri` the fetcher could not get) — before any of them started, and no
 * update ever came from the executor. Such a task did not run: its attempt ends as a host failure
 * (retried per the run's policy), and the agent is learned to run Galley's runs under Mesos'
 * command executor from then on (`SharedExecutors.fallBack`), which `/clusters` shows with the
 * agent's message. An executor that did start and died later is not this: its tasks are host
 * failures too, and the next launch there starts a new executor.
 */

/** The reasons an agent gives tasks of an executor that ended or never subscribed. */
const EXECUTOR_ENDED = new Set([
  'REASON_EXECUTOR_TERMINATED',
  'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  // Its container could not be set up: the fetcher failed on `--mesos-executor-uri`, say.
  'REASON_CONTAINER_LAUNCH_FAILED',
]);

/** The host-failure reason of an attempt whose shared executor could not start. */
export const EXECUTOR_START_FAILED = 'executor failed to start';

/** What the backend knows of the task and its executor when the update arrives. */
export interface SharedTask {
  /** The shared executor it was launched under; null = its own command executor. */
  executorId: string | null;
  /** False until the task was reported starting or running. */
  started: boolean;
  /** True once any update came from that executor (it subscribed and ran something). */
  executorHeardFrom: boolean;
  agentId: string | null;
  hostname: string | null;
}

/** The executor-start failure a status reports, or null when it is not one. */
export function executorStartFailureOf(
  status: TaskStatus,
  task: SharedTask,
): { outcome: AttemptOutcome; why: string } | null {
  if (task.executorId === null || task.started || task.executorHeardFrom) return null;
  if (status.source === 'SOURCE_EXECUTOR') return null;
  const terminal = ['TASK_FAILED', 'TASK_LOST', 'TASK_GONE', 'TASK_DROPPED'].includes(status.state);
  if (!terminal || !EXECUTOR_ENDED.has(status.reason ?? '')) return null;
  const where = task.hostname || task.agentId || status.agent_id?.value || '?';
  const why = `${status.state} ${status.reason}: ${status.message || 'no message'}`;
  const message =
    `galley-executor could not start on agent ${where} (${why}); runs there use Mesos' command executor ` +
    `from now on — make --mesos-executor-command (and --mesos-executor-uri) work on that agent (server README, "The Mesos backend", Executors)`;
  return { outcome: { kind: 'host-failure', reason: EXECUTOR_START_FAILED, message }, why };
}

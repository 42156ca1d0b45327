/**
 * The data of a run's lifecycle: its status, the state the server stores, the events that move it
 * and the effects a transition asks the server to carry out.
 *
 * Times are milliseconds since the epoch. `null` means "not yet / not applicable".
 */

/**
 * Where a run is in its lifecycle (flotilla's statuses):
 * `QUEUED → PENDING → RUNNING → STOPPED`, and `NEEDS_RETRY → QUEUED` when an attempt failed in a way
 * the retry policy retries (by default: the host failed rather than the program).
 */
export type RunStatus = 'QUEUED' | 'PENDING' | 'RUNNING' | 'STOPPED' | 'NEEDS_RETRY';

/** Every status, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED', 'NEEDS_RETRY'];

/**
 * The state of one run, as the server stores it. Only `transition()` changes it.
 *
 * While a stop is pending on a PENDING or RUNNING run, `exitReason` already holds the stop's reason
 * (it becomes the run's final reason when the attempt ends).
 */
export interface RunState {
  status: RunStatus;
  /** Attempts launched so far (`launching` events accepted); equals `attemptIds.length`. */
  attemptCount: number;
  /** The current (latest) attempt, or null before the first launch. */
  attemptId: string | null;
  /**
   * Every attempt id ever launched for this run, oldest first (an extension of the README's first
   * sketch). It is what lets `transition` refuse to launch an attempt id a second time.
   */
  attemptIds: string[];
  /** Set only when the current attempt's program exited (outcome `exited`); null otherwise. */
  exitCode: number | null;
  /** Human-readable reason for STOPPED / NEEDS_RETRY (or the pending stop's reason). */
  exitReason: string | null;
  queuedAt: number;
  /** First RUNNING of the current attempt; reset by each launch. */
  startedAt: number | null;
  /** When the run reached STOPPED. */
  finishedAt: number | null;
  /** When a stop was first requested; null if nobody asked. */
  stopRequestedAt: number | null;
  /** NEEDS_RETRY: the earliest time it may go back to QUEUED. */
  retryAt: number | null;
  /** QUEUED: why placement could not place it (placement's reason), or null. */
  queuedReason: string | null;
}

/** How an attempt ended, as the backend saw it. */
export type AttemptOutcome =
  /** The program ran and exited with this code. */
  | { kind: 'exited'; exitCode: number; message?: string }
  /** The attempt was killed: after a stop, or by the host (e.g. out of memory). */
  | { kind: 'killed'; message?: string }
  /** The host failed the attempt: agent lost, task dropped or gone, launch failed. `reason` is short. */
  | { kind: 'host-failure'; reason: string; message?: string }
  /** The backend refused the spec itself (bad image name, bad resources): never retried. */
  | { kind: 'rejected'; message: string };

/** Something that happened to a run. Each may be delivered more than once and out of order. */
export type RunEvent =
  /** The run controller recorded (write-ahead) that it is launching this attempt: QUEUED → PENDING. */
  | { type: 'launching'; attemptId: string; at: number }
  /** The backend reports the attempt running: PENDING → RUNNING. */
  | { type: 'running'; attemptId: string; at: number }
  /** The attempt ended with this outcome. */
  | { type: 'ended'; attemptId: string; at: number; outcome: AttemptOutcome }
  /** A person or client asked to stop the run. */
  | { type: 'stop-requested'; at: number; reason?: string }
  /** The run controller's retry timer fired: NEEDS_RETRY → QUEUED once `at >= retryAt`. */
  | { type: 'retry-due'; at: number }
  /** Placement could not place the run now; the run stays QUEUED with this reason. */
  | { type: 'unplaceable'; at: number; reason: string };

/** Work a transition asks the server to carry out. */
export type RunEffect =
  /** Stop this launched attempt on its backend (kill is idempotent there). */
  | { type: 'kill'; attemptId: string }
  /** Wake the run controller at `at` (ms since epoch) to deliver `retry-due`. */
  | { type: 'schedule-retry'; at: number };

/** A newly accepted run: QUEUED, no attempts yet. `queuedAt` is ms since the epoch. */
export function newRunState(queuedAt: number): RunState {
  return {
    status: 'QUEUED',
    attemptCount: 0,
    attemptId: null,
    attemptIds: [],
    exitCode: null,
    exitReason: null,
    queuedAt,
    startedAt: null,
    finishedAt: null,
    stopRequestedAt: null,
    retryAt: null,
    queuedReason: null,
  };
}

/** True when the run has an attempt on a backend right now (PENDING or RUNNING). */
export function isInFlight(state: RunState): boolean {
  return state.status === 'PENDING' || state.status === 'RUNNING';
}

/**
 * True when a stop was requested and the current attempt has not ended yet: the run controller should
 * (re)send `kill` for `state.attemptId`. This is the level-triggered form of the `kill` effect, for
 * use after a restart or when a kill may have been lost.
 */
export function isStopPending(state: RunState): boolean {
  return isInFlight(state) && state.stopRequestedAt !== null;
}

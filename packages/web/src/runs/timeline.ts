import type { Run, RunEvent, RunStatus } from '../api/types.js';
import { toMillis } from '../format/time.js';

/** One step of the status timeline. `at` in ms; null when the step was not reached (or unknown). */
export interface TimelineStep {
  status: RunStatus;
  label: string;
  /** done: passed; current: the run is here now; upcoming: not yet; skipped: passed over. */
  state: 'done' | 'current' | 'upcoming' | 'skipped';
  at: number | null;
}

const ORDER: RunStatus[] = ['QUEUED', 'PENDING', 'RUNNING', 'STOPPED'];
const LABELS: Record<RunStatus, string> = {
  QUEUED: 'Queued',
  PENDING: 'Pending',
  RUNNING: 'Running',
  STOPPED: 'Stopped',
  NEEDS_RETRY: 'Needs retry',
};

/** The time the run last entered `status`, from its timeline; null when it never did. */
function lastEntered(events: readonly RunEvent[], status: RunStatus): number | null {
  let at: number | null = null;
  let previous: RunStatus | null = null;
  for (const e of events) {
    if (e.status === status && previous !== status) at = toMillis(e.at);
    previous = e.status;
  }
  return at;
}

/**
 * The QUEUED → PENDING → RUNNING → STOPPED steps of a run with their times, from the run and its
 * events (the latest attempt's times when it was retried). A NEEDS_RETRY run gets that step in
 * place of STOPPED. Steps a stopped run never reached are `skipped`.
 */
export function buildTimeline(run: Run, events: readonly RunEvent[]): TimelineStep[] {
  const steps: RunStatus[] =
    run.status === 'NEEDS_RETRY' ? ['QUEUED', 'PENDING', 'RUNNING', 'NEEDS_RETRY'] : ORDER;
  const times: Record<RunStatus, number | null> = {
    QUEUED: toMillis(run.queued_at) ?? lastEntered(events, 'QUEUED'),
    PENDING: lastEntered(events, 'PENDING'),
    RUNNING: toMillis(run.started_at) ?? lastEntered(events, 'RUNNING'),
    STOPPED: toMillis(run.finished_at) ?? lastEntered(events, 'STOPPED'),
    NEEDS_RETRY: lastEntered(events, 'NEEDS_RETRY'),
  };
  const currentIndex = steps.indexOf(run.status);
  return steps.map((status, i) => {
    let state: TimelineStep['state'];
    if (i === currentIndex) state = status === 'STOPPED' ? 'done' : 'current';
    else if (i > currentIndex) state = 'upcoming';
    else state = times[status] !== null ? 'done' : run.status === 'STOPPED' ? 'skipped' : 'done';
    return { status, label: LABELS[status], state, at: state === 'upcoming' ? null : times[status] };
  });
}

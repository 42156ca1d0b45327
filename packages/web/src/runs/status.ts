import type { Run, RunStatus } from '../api/types.js';

/** How a status is shown: its words and its colour family. */
export type Tone = 'neutral' | 'info' | 'warning' | 'success' | 'danger';

export interface StatusLook {
  label: string;
  tone: Tone;
  /** True while the run is still moving (animated dot). */
  live: boolean;
}

/**
 * How to show a run's status. STOPPED splits into Success (exit code 0), Stopped (a person asked)
 * and Failed (any other end), as flotilla's UI did.
 */
export function statusLook(run: Pick<Run, 'status' | 'exit_code' | 'stop_requested_at'>): StatusLook {
  switch (run.status) {
    case 'QUEUED':
      return { label: 'Queued', tone: 'neutral', live: true };
    case 'PENDING':
      return { label: 'Pending', tone: 'warning', live: true };
    case 'RUNNING':
      return { label: 'Running', tone: 'info', live: true };
    case 'NEEDS_RETRY':
      return { label: 'Needs retry', tone: 'warning', live: true };
    case 'STOPPED':
      if (run.exit_code === 0) return { label: 'Success', tone: 'success', live: false };
      if (run.stop_requested_at) return { label: 'Stopped', tone: 'neutral', live: false };
      return { label: 'Failed', tone: 'danger', live: false };
    default:
      return { label: String(run.status), tone: 'neutral', live: false };
  }
}

/** A status that has not reached STOPPED: the run may still change. */
export function isActive(status: RunStatus): boolean {
  return status !== 'STOPPED';
}

/**
 * Whether the stop button makes sense: the run has not stopped and no stop was asked for yet.
 * The server's answer stays the truth; this only greys the button out.
 */
export function isStoppable(run: Pick<Run, 'status' | 'stop_requested_at'>): boolean {
  return run.status !== 'STOPPED' && !run.stop_requested_at;
}

/** The owner of a run, wherever the server put it. */
export function runOwner(run: Pick<Run, 'owner_id' | 'run_tags' | 'env'>): string | undefined {
  return (
    run.owner_id ??
    run.run_tags?.owner_id ??
    run.env?.find((e) => e.name === 'GALLEY_RUN_OWNER_ID' || e.name === 'FLOTILLA_RUN_OWNER_ID')?.value
  );
}

/** True when `a` is older news than `b` about the same run (by `version`; unknown = not older). */
export function isOlderRun(a: Pick<Run, 'version'>, b: Pick<Run, 'version'> | undefined): boolean {
  return a.version !== undefined && b?.version !== undefined && a.version < b.version;
}

/** The newer of two copies of a run (the loaded one when versions are unknown or equal). */
export function newerRun<T extends Pick<Run, 'version'>>(current: T | undefined, loaded: T): T {
  return current && isOlderRun(loaded, current) ? current : loaded;
}

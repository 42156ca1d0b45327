import type { Run } from '../api/types.js';
import { statusLook } from '../runs/status.js';

/** A run's status as a coloured badge: Queued, Pending, Running, Success, Failed, Stopped. */
export function StatusBadge({ run }: { run: Pick<Run, 'status' | 'exit_code' | 'stop_requested_at'> }) {
  const look = statusLook(run);
  return (
    <span
      className={`badge badge-${look.tone}${look.live ? ' badge-running' : ''}`}
      data-status={run.status}
      title={run.status}
    >
      {look.label}
    </span>
  );
}
